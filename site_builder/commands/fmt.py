"""`site-builder fmt`: rewrite records in canonical key order and style, comments kept."""

from __future__ import annotations

import argparse
from pathlib import Path

from site_builder.commands.common import Subparsers, add_catalog


def register(sub: Subparsers[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("fmt", help="rewrite records in canonical key order and style")
    add_catalog(p)
    p.add_argument("--check", action="store_true", help="only report files that are not formatted")
    p.add_argument("paths", nargs="*")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from site_builder.fmt import FmtOptions, fmt_command

    return fmt_command(FmtOptions(Path(args.catalog), tuple(Path(p) for p in args.paths), args.check))
