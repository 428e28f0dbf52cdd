"""Command-line interface: `site-builder <command>` (also `python -m site_builder`).

The parser is assembled from `site_builder/commands/`, one module per command; this module only runs the chosen
command and turns the errors every command may raise into one line or a problem report, never a traceback.
"""

from __future__ import annotations

import argparse
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


if __name__ == "__main__":
    sys.exit(main())
