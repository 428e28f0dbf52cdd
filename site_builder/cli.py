"""Command-line interface: `site-builder <command>` (also `python -m site_builder`).

The parser is assembled from `site_builder/commands/`, one module per command; this module only runs the chosen
command and turns the errors every command may raise into one line or a problem report, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from site_builder.problems import CatalogError, UsageError, print_report

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    from site_builder.commands import COMMANDS

    parser = argparse.ArgumentParser(prog="site-builder", description="Build the LLM model-catalog site.")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from site_builder.output import UnsafeOutputError

    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.run
    try:
        return handler(args)
    except (UsageError, UnsafeOutputError) as exc:
        print(f"site-builder {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except CatalogError as exc:
        print_report(exc.report)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away; nothing left to say.
        sys.stderr.close()
        return 0


def run() -> None:
    """The `site-builder` command: `main`, then an exit that skips tearing the interpreter down. A build holds a few
    hundred thousand objects, and freeing them one by one at exit took a tenth of a second of a two-second rebuild.
    Every file a command writes is closed when it returns; only the standard streams are left to flush."""
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):  # the reader went away, or a stream was closed (see main)
        pass
    os._exit(code)


if __name__ == "__main__":
    run()
