"""`site-builder calibrate`: the engine's error against every measured benchmark record."""

from __future__ import annotations

import argparse
from pathlib import Path

from site_builder.commands.common import Subparsers, add_catalog


def register(sub: Subparsers[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("calibrate", help="compare the engine with every measured benchmark record")
    add_catalog(p)
    p.add_argument("--fit", action="store_true", help="also search efficiency factors that fit best")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from site_builder.engine.calibrate import calibrate_command

    return calibrate_command(Path(args.catalog), args.fit)
