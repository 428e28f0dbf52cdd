"""`site-builder import-hf-config`: a model record from a Hugging Face config.json."""

from __future__ import annotations

import argparse
from pathlib import Path

from site_builder.commands.common import Subparsers


def register(sub: Subparsers[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("import-hf-config", help="write a model record from a Hugging Face config.json")
    p.add_argument("config", help="path to config.json")
    p.add_argument("--id", required=True)
    p.add_argument("--name", default=None)
    p.add_argument("--hf-repo", default=None)
    p.add_argument("-o", "--output", default=None, help="file to write (default: stdout)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from site_builder.hfimport import ImportOptions, import_hf_config_command

    output = Path(args.output) if args.output else None
    return import_hf_config_command(ImportOptions(Path(args.config), args.id, args.name, args.hf_repo, output))
