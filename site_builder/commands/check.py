"""`site-builder check`: every problem in the catalog at once, as `path:line:col: field: message` on stdout."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from site_builder.commands.common import Subparsers, add_catalog

if TYPE_CHECKING:
    from site_builder.problems import Report


def register(sub: Subparsers[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("check", help="validate the catalog and report every problem")
    add_catalog(p)
    p.add_argument("--strict", action="store_true", help="treat warnings as errors")
    p.add_argument("--github", action="store_true", help="print GitHub Actions annotations")
    p.add_argument("--list-rules", action="store_true", help="list every rule's id, severity and description")
    p.add_argument("--json", action="store_true", help="print the problems as JSON, each with its rule's id")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.list_rules:
        list_rules()
        return 0
    from site_builder.problems import Report, print_report
    from site_builder.validate import validate_catalog

    report = Report()
    validate_catalog(Path(args.catalog), report)
    failed = report.fails(args.strict)
    if args.json:
        print_json(report, failed)
        return 1 if failed else 0
    # The report is what `check` was asked for, so it goes to stdout (pipeable); the exit status says pass/fail.
    print_report(report, github=args.github, stream=sys.stdout)
    if not failed:
        print(f"{args.catalog}: valid")
    return 1 if failed else 0


def print_json(report: Report, failed: bool) -> None:
    """Every problem with its rule's id ("" for a schema or file problem found while loading)."""
    import dataclasses
    import json

    problems = [dataclasses.asdict(p) for p in report.sorted()]
    print(json.dumps({"valid": not failed, "problems": problems}, indent=2))


def list_rules() -> None:
    from site_builder.rules import RULES

    width = max(map(len, RULES))
    for r in sorted(RULES.values(), key=lambda r: r.id):
        print(f"{r.id:<{width}}  {r.severity.value:<7}  {r.description}")
