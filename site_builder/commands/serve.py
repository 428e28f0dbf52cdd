"""`site-builder serve`: build, serve on 127.0.0.1 and rebuild what an edit affects."""

from __future__ import annotations

import argparse
from pathlib import Path

from site_builder.commands.common import Subparsers, add_catalog


def register(sub: Subparsers[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("serve", help="build, serve on 127.0.0.1 and rebuild on change")
    add_catalog(p)
    p.add_argument("--out", default="_site")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--once", action="store_true", help="build and serve without watching (for tests)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from site_builder.serve import serve

    return serve(Path(args.catalog), Path(args.out), port=args.port, once=args.once)
