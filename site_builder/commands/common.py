"""What the command modules share: the subparsers type and the options several commands take."""

from __future__ import annotations

import argparse

Subparsers = argparse._SubParsersAction  # argparse names no public type for it


def add_catalog(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--catalog", default="catalog")
