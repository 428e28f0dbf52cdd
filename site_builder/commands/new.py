"""`site-builder new`: scaffold a model or GPU record with every field."""

from __future__ import annotations

import argparse
from pathlib import Path

from site_builder.commands.common import Subparsers, add_catalog


def register(sub: Subparsers[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("new", help="scaffold a new record with every field")
    p.add_argument("kind", choices=["model", "gpu"])
    p.add_argument("--id", required=True)
    p.add_argument("--from-hf-config", default=None)
    p.add_argument("--hf-repo", default=None, help="Hugging Face repo id (org/name) of a new model")
    p.add_argument("--name", default=None, help="display name of a new model")
    p.add_argument("--force", action="store_true", help="add a model even if its hf_repo is already in the catalog")
    add_catalog(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from site_builder.scaffold import NewOptions, new_command

    config = Path(args.from_hf_config) if args.from_hf_config else None
    options = NewOptions(args.kind, args.id, Path(args.catalog), config, args.hf_repo, args.name, args.force)
    return new_command(options)
