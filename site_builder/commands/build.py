"""`site-builder build`: validate, compute and write the site atomically."""

from __future__ import annotations

import argparse
from pathlib import Path

from site_builder.commands.common import Subparsers, add_catalog


def register(sub: Subparsers[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("build", help="build the site into --out, atomically")
    add_catalog(p)
    p.add_argument("--out", default="_site")
    p.add_argument(
        "--base-url",
        default=None,
        help="URL path or absolute URL the site is served from (default: site.toml's base_url)",
    )
    p.add_argument("--strict", action="store_true", help="fail on warnings too")
    p.add_argument("--no-search", action="store_true", help="skip the Pagefind search index")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from site_builder.build import build_site
    from site_builder.problems import print_report

    result = build_site(
        Path(args.catalog), Path(args.out), base_url=args.base_url, strict=args.strict, search=not args.no_search
    )
    print_report(result.report)
    return 0 if result.ok else 1
