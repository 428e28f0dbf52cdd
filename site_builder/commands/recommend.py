"""`site-builder recommend`: the ranked GPU setups for a model's serving workload, as JSON."""

from __future__ import annotations

import argparse

from site_builder.commands.common import Subparsers, add_catalog


def register(sub: Subparsers[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("recommend", help="ranked GPU setups for a model as JSON")
    p.add_argument("--model", required=True)
    add_catalog(p)
    p.add_argument("--limit", type=int, default=10)
    p.add_argument("--json", action="store_true", help="JSON output (the only format)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import json

    from site_builder.query import recommend, recommend_catalog

    out = recommend(recommend_catalog(args.catalog, args.model), args.model, args.limit)
    print(json.dumps(out, indent=2, sort_keys=True))
    return 0
