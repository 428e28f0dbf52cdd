"""`estimate` and `recommend`: the engine's results for one setup, or the ranked setups, as JSON."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from site_builder.catalog import Catalog, load_catalog
from site_builder.cli import UsageError
from site_builder.engine.estimate import Workload, cost, memory, speed
from site_builder.engine.hardware import make_setup
from site_builder.engine.plan import analyse, choose_framework, engine_class_for, facts_of
from site_builder.engine.precision import KV_BYTES, PRECISIONS, supported_on
from site_builder.problems import CatalogError, Report


def _catalog(path: str, model: str) -> Catalog:
    """Just the records a query reads (the model, every GPU and framework), schema-checked as in a build;
    reading the whole catalog took most of a query's time. `check` validates the rest."""
    report = Report()
    catalog = load_catalog(Path(path), report, only={"models": {model}, "gpus": None, "frameworks": None})
    if report.errors:
        raise CatalogError(report)
    return catalog


def _num(v: float | None, digits: int = 3) -> float | None:
    return None if v is None else round(v, digits)


def estimate(args: argparse.Namespace) -> dict[str, Any]:
    cat = _catalog(args.catalog, args.model)
    if args.model not in cat.models:
        raise UsageError(f"unknown model {args.model!r}")
    if args.gpu not in cat.gpus:
        raise UsageError(f"unknown GPU {args.gpu!r}")
    model = cat.models[args.model].record
    gpus = {k: v.record for k, v in cat.gpus.items()}
    frameworks = {k: v.record for k, v in cat.frameworks.items()}
    pid = args.precision or model.native_precision
    if pid not in PRECISIONS:
        raise UsageError(f"unknown precision {pid!r} (one of {', '.join(PRECISIONS)})")
    if args.kv_precision not in KV_BYTES:
        raise UsageError(f"unknown KV precision {args.kv_precision!r} (one of {', '.join(KV_BYTES)})")
    if args.gpus < 1:
        raise UsageError("--gpus must be at least 1")
    gpu = gpus[args.gpu]
    prec = PRECISIONS[pid]
    if not supported_on(prec, gpu):
        raise UsageError(f"{gpu.short_name} cannot run {prec.label} weights")
    per = gpu.bundle.count if gpu.bundle else 1
    setup = make_setup(gpu, gpus, max(1, args.gpus // per))
    prompt = args.prompt if args.prompt is not None else 512
    output = args.output if args.output is not None else 256
    context = args.context if args.context is not None else prompt + output
    if context < 1 or prompt < 0 or output < 0:
        raise UsageError("--context must be positive; --prompt and --output not negative")
    if context > model.context_window:
        raise UsageError(f"--context {context} exceeds the model's context window ({model.context_window})")
    if args.framework:
        fw = frameworks.get(args.framework)
        if fw is None:
            raise UsageError(f"unknown framework {args.framework!r}")
    else:
        fw = choose_framework(model, prec, setup.base, frameworks)
    engine = engine_class_for(prec, setup.base, fw)
    facts = facts_of(model)
    probe = Workload(context, 1, prompt, output, args.kv_precision)
    if args.concurrency == "max":
        m1 = memory(facts, prec, setup, probe, engine)
        concurrency = m1.max_concurrency if m1 else 0
        if concurrency < 1:
            raise UsageError("not even one sequence of that context fits")
    else:
        try:
            concurrency = int(args.concurrency)
        except ValueError:
            raise UsageError("--concurrency takes a whole number or 'max'") from None
        if concurrency < 1:
            raise UsageError("--concurrency must be at least 1")
    work = Workload(context, concurrency, prompt, output, args.kv_precision)
    mem = memory(facts, prec, setup, work, engine)
    if mem is None:
        raise UsageError(f"{gpu.short_name} has no memory size in the catalog")
    spd = speed(facts, prec, setup, work, engine)
    cst = cost(setup, spd)
    return {
        "model": model.id,
        "gpu": gpu.id,
        "gpus": setup.count,
        "precision": prec.id,
        "kv_precision": args.kv_precision,
        "framework": fw.id if fw else None,
        "engine_class": engine,
        "context": context,
        "concurrency": concurrency,
        "prompt": prompt,
        "output": output,
        "params_total": facts.params.total,
        "params_active": facts.params.active,
        "weights_bytes": mem.weights_bytes,
        "weights_bytes_total": mem.weights_bytes_total,
        "kv_cache_bytes_per_token": mem.kv_cache_bytes_per_token,
        "kv_cache_bytes": mem.kv_cache_bytes,
        "activations_bytes": mem.activations_bytes,
        "overhead_bytes": mem.overhead_bytes,
        "total_bytes": mem.total_bytes,
        "usable_bytes": mem.usable_bytes,
        "fits": mem.fits,
        "fit_level": mem.fit_level,
        "max_context": mem.max_context,
        "max_concurrency": mem.max_concurrency,
        "decode_tokens_per_s": _num(spd.decode_tokens_per_s if spd else None),
        "output_tokens_per_s": _num(spd.output_tokens_per_s if spd else None),
        "itl_ms": _num(spd.itl_ms if spd else None),
        "ttft_ms": _num(spd.ttft_ms if spd else None),
        "step_bound": spd.step_bound if spd else None,
        "price_per_hour_usd": _num(cst.price_per_hour_usd if cst else None, 4),
        "cost_per_month_usd": _num(cst.cost_per_month_usd if cst else None, 2),
        "cost_per_million_tokens_usd": _num(cst.cost_per_million_tokens_usd if cst else None, 4),
    }


def estimate_json(args: argparse.Namespace) -> str:
    return json.dumps(estimate(args), indent=2, sort_keys=True)


def recommend_json(args: argparse.Namespace) -> str:
    cat = _catalog(args.catalog, args.model)
    if args.model not in cat.models:
        raise UsageError(f"unknown model {args.model!r}")
    model = cat.models[args.model].record
    an = analyse(model, {k: v.record for k, v in cat.gpus.items()}, {k: v.record for k, v in cat.frameworks.items()})
    w = an.serve_workload
    setups: list[dict[str, Any]] = []
    out = {
        "model": model.id,
        "workload": {"concurrency": w.concurrency, "prompt": w.prompt, "output": w.output},
        "setups": setups,
    }
    for c in an.candidates[: args.limit]:
        setups.append(
            {
                "gpu": c.setup.record.id,
                "gpus": c.setup.count,
                "precision": c.precision.id,
                "framework": c.framework.id if c.framework else None,
                "score": c.score,
                "fit_level": c.memory.fit_level,
                "total_bytes": c.memory.total_bytes,
                "output_tokens_per_s": _num(c.speed.output_tokens_per_s if c.speed else None),
                "itl_ms": _num(c.speed.itl_ms if c.speed else None),
                "cost_per_month_usd": _num(c.cost.cost_per_month_usd if c.cost else None, 2),
                "cost_per_million_tokens_usd": _num(c.cost.cost_per_million_tokens_usd if c.cost else None, 4),
            }
        )
    return json.dumps(out, indent=2, sort_keys=True)
