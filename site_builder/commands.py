"""`estimate` and `recommend` on the command line: flags in, the engine's answer (site_builder/query.py) as JSON."""

from __future__ import annotations

import argparse
import json

from site_builder.query import EstimateQuery, estimate, query_catalog, recommend


def estimate_json(args: argparse.Namespace) -> str:
    q = EstimateQuery(
        model=args.model,
        gpu=args.gpu,
        gpus=args.gpus,
        precision=args.precision,
        kv_precision=args.kv_precision,
        context=args.context,
        concurrency=args.concurrency,
        prompt=args.prompt,
        output=args.output,
        framework=args.framework,
    )
    return json.dumps(estimate(query_catalog(args.catalog, args.model), q), indent=2, sort_keys=True)


def recommend_json(args: argparse.Namespace) -> str:
    out = recommend(query_catalog(args.catalog, args.model), args.model, args.limit)
    return json.dumps(out, indent=2, sort_keys=True)
