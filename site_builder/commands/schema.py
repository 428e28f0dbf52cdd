"""`site-builder schema`: JSON Schema files for editors, one per record kind."""

from __future__ import annotations

import argparse
from pathlib import Path

from site_builder.commands.common import Subparsers


def register(sub: Subparsers[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("schema", help="write JSON Schema files for every record kind")
    p.add_argument("--out", default="catalog/schema")
    p.add_argument("--check", action="store_true", help="fail if the files on disk are out of date")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from site_builder.schema_export import SchemaOptions, schema_command

    return schema_command(SchemaOptions(Path(args.out), args.check))
