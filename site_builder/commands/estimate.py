"""`site-builder estimate`: one setup's memory, fit, speed and cost as JSON."""

from __future__ import annotations

import argparse

from site_builder.commands.common import Subparsers


def register(sub: Subparsers[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("estimate", help="memory, fit, speed and cost of one setup as JSON")
    p.add_argument("--model", required=True)
    p.add_argument("--gpu", required=True)
    p.add_argument("--gpus", type=int, default=1, help="number of GPUs (tensor parallel)")
    p.add_argument("--precision", default=None, help="bf16, fp8, awq-int4, q4_k_m... (default: native)")
    p.add_argument("--kv-precision", default=None, help="fp16, fp8... (default: the recipe's, usually 16-bit)")
    p.add_argument("--context", type=int, default=None, help="tokens per sequence (default: prompt+output)")
    p.add_argument("--concurrency", default="1", help="concurrent sequences, or 'max'")
    p.add_argument("--prompt", type=int, default=None)
    p.add_argument("--output", type=int, default=None)
    p.add_argument("--framework", default=None)
    p.add_argument("--catalog", default="catalog")
    p.add_argument("--json", action="store_true", help="JSON output (the only format)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import json

    from site_builder.query import EstimateQuery, estimate, estimate_inputs

    query = EstimateQuery(
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
    catalog, bars = estimate_inputs(args.catalog, query.model, query.gpu)
    print(json.dumps(estimate(catalog, query, bars), indent=2, sort_keys=True))
    return 0
