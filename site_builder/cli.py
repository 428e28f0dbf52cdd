"""Command-line interface: `site-builder <command>` (also `python -m site_builder`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from site_builder.problems import CatalogError, Report

Handler = Callable[[argparse.Namespace], int]


class UsageError(Exception):
    """A bad option or unknown id: printed as one line, exit 1."""


def print_report(report: Report, *, github: bool = False, stream: TextIO | None = None) -> None:
    out = stream or sys.stderr
    for problem in report.sorted():
        print(problem.github_annotation() if github else problem.format(), file=out)
    if report.problems:
        print(report.summary(), file=out)


def cmd_check(args: argparse.Namespace) -> int:
    from site_builder.validate import validate_catalog

    if args.list_rules:
        from site_builder.rules import RULES

        for r in sorted(RULES.values(), key=lambda r: r.id):
            print(f"{r.id:<{max(map(len, RULES))}}  {r.severity.value:<7}  {r.description}")
        return 0

    report = Report()
    validate_catalog(Path(args.catalog), report)
    # The report is what `check` was asked for, so it goes to stdout (pipeable); the exit status says pass/fail.
    print_report(report, github=args.github, stream=sys.stdout)
    failed = report.fails(args.strict)
    if not failed:
        print(f"{args.catalog}: valid")
    return 1 if failed else 0


def cmd_build(args: argparse.Namespace) -> int:
    from site_builder.build import build_site

    result = build_site(
        Path(args.catalog), Path(args.out), base_url=args.base_url, strict=args.strict, search=not args.no_search
    )
    print_report(result.report)
    return 0 if result.ok else 1


def cmd_serve(args: argparse.Namespace) -> int:
    from site_builder.serve import serve

    return serve(Path(args.catalog), Path(args.out), port=args.port, once=args.once)


def cmd_estimate(args: argparse.Namespace) -> int:
    from site_builder.commands import estimate_json

    print(estimate_json(args))
    return 0


def cmd_recommend(args: argparse.Namespace) -> int:
    from site_builder.commands import recommend_json

    print(recommend_json(args))
    return 0


def cmd_import_hf_config(args: argparse.Namespace) -> int:
    from site_builder.hfimport import import_hf_config_command

    return import_hf_config_command(args)


def cmd_schema(args: argparse.Namespace) -> int:
    from site_builder.schema_export import schema_command

    return schema_command(args)


def cmd_new(args: argparse.Namespace) -> int:
    from site_builder.scaffold import new_command

    return new_command(args)


def cmd_fmt(args: argparse.Namespace) -> int:
    from site_builder.fmt import fmt_command

    return fmt_command(args)


def cmd_calibrate(args: argparse.Namespace) -> int:
    from site_builder.engine.calibrate import calibrate_command

    return calibrate_command(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="site-builder", description="Build the LLM model-catalog site.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("check", help="validate the catalog and report every problem")
    p.add_argument("--catalog", default="catalog")
    p.add_argument("--strict", action="store_true", help="treat warnings as errors")
    p.add_argument("--github", action="store_true", help="print GitHub Actions annotations")
    p.add_argument("--list-rules", action="store_true", help="list every rule's id, severity and description")
    p.set_defaults(handler=cmd_check)

    p = sub.add_parser("build", help="build the site into --out, atomically")
    p.add_argument("--catalog", default="catalog")
    p.add_argument("--out", default="_site")
    p.add_argument(
        "--base-url",
        default=None,
        help="URL path or absolute URL the site is served from (default: site.toml's base_url)",
    )
    p.add_argument("--strict", action="store_true", help="fail on warnings too")
    p.add_argument("--no-search", action="store_true", help="skip the Pagefind search index")
    p.set_defaults(handler=cmd_build)

    p = sub.add_parser("serve", help="build, serve on 127.0.0.1 and rebuild on change")
    p.add_argument("--catalog", default="catalog")
    p.add_argument("--out", default="_site")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--once", action="store_true", help="build and serve without watching (for tests)")
    p.set_defaults(handler=cmd_serve)

    p = sub.add_parser("estimate", help="memory, fit, speed and cost of one setup as JSON")
    p.add_argument("--model", required=True)
    p.add_argument("--gpu", required=True)
    p.add_argument("--gpus", type=int, default=1, help="number of GPUs (tensor parallel)")
    p.add_argument("--precision", default=None, help="bf16, fp8, awq-int4, q4_k_m... (default: native)")
    p.add_argument("--kv-precision", default="fp16")
    p.add_argument("--context", type=int, default=None, help="tokens per sequence (default: prompt+output)")
    p.add_argument("--concurrency", default="1", help="concurrent sequences, or 'max'")
    p.add_argument("--prompt", type=int, default=None)
    p.add_argument("--output", type=int, default=None)
    p.add_argument("--framework", default=None)
    p.add_argument("--catalog", default="catalog")
    p.add_argument("--json", action="store_true", help="JSON output (the only format)")
    p.set_defaults(handler=cmd_estimate)

    p = sub.add_parser("recommend", help="ranked GPU setups for a model as JSON")
    p.add_argument("--model", required=True)
    p.add_argument("--catalog", default="catalog")
    p.add_argument("--limit", type=int, default=10)
    p.add_argument("--json", action="store_true", help="JSON output (the only format)")
    p.set_defaults(handler=cmd_recommend)

    p = sub.add_parser("import-hf-config", help="write a model record from a Hugging Face config.json")
    p.add_argument("config", help="path to config.json")
    p.add_argument("--id", required=True)
    p.add_argument("--name", default=None)
    p.add_argument("--hf-repo", default=None)
    p.add_argument("-o", "--output", default=None, help="file to write (default: stdout)")
    p.set_defaults(handler=cmd_import_hf_config)

    p = sub.add_parser("schema", help="write JSON Schema files for every record kind")
    p.add_argument("--out", default="catalog/schema")
    p.add_argument("--check", action="store_true", help="fail if the files on disk are out of date")
    p.set_defaults(handler=cmd_schema)

    p = sub.add_parser("new", help="scaffold a new record with every field")
    p.add_argument("kind", choices=["model", "gpu"])
    p.add_argument("--id", required=True)
    p.add_argument("--from-hf-config", default=None)
    p.add_argument("--hf-repo", default=None, help="Hugging Face repo id (org/name) of a new model")
    p.add_argument("--name", default=None, help="display name of a new model")
    p.add_argument("--force", action="store_true", help="add a model even if its hf_repo is already in the catalog")
    p.add_argument("--catalog", default="catalog")
    p.set_defaults(handler=cmd_new)

    p = sub.add_parser("fmt", help="rewrite records in canonical key order and style")
    p.add_argument("--catalog", default="catalog")
    p.add_argument("--check", action="store_true", help="only report files that are not formatted")
    p.add_argument("paths", nargs="*")
    p.set_defaults(handler=cmd_fmt)

    p = sub.add_parser("calibrate", help="compare the engine with every measured benchmark record")
    p.add_argument("--catalog", default="catalog")
    p.add_argument("--fit", action="store_true", help="also search efficiency factors that fit best")
    p.set_defaults(handler=cmd_calibrate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from site_builder.output import UnsafeOutputError

    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
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
