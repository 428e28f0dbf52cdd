"""`estimate` and `recommend`: the engine's results for one setup, or the ranked setups, as JSON."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from site_builder.catalog import Catalog, load_catalog
from site_builder.cli import UsageError
from site_builder.engine.budget import kv_capacity
from site_builder.engine.calibrate import compare_all
from site_builder.engine.errorbars import SPEED_KEYS, ErrorBars, error_bars, hardware_class
from site_builder.engine.estimate import Workload, cost, memory, speed
from site_builder.engine.hardware import make_setup
from site_builder.engine.launch import budget_setting
from site_builder.engine.money import (
    breakeven_share,
    cheapest_api,
    model_api_prices,
    self_usd_per_request,
    throughput_optimal,
)
from site_builder.engine.parallel import tensor_parallel_problem
from site_builder.engine.plan import analyse, choose_framework, engine_class_for, facts_of
from site_builder.engine.precision import KV_BYTES, PRECISIONS, supported_on
from site_builder.problems import CatalogError, Report
from site_builder.records import ModelRecord


def _catalog(path: str, model: str) -> Catalog:
    """Just the records a query reads, schema-checked as in a build: the model, every GPU, framework, provider and
    benchmark, and the models the benchmarks measured (the error bars come from all of those, exactly as on the
    site). Reading the whole catalog took most of a query's time; `check` validates the rest."""
    root = Path(path)
    report = Report()
    benchmarks = load_catalog(root, report, only={"benchmarks": None}).benchmarks
    measured = {b.record.model for b in benchmarks.values() if b.record.model}
    wanted: dict[str, set[str] | None] = {
        "models": {model} | measured,
        "gpus": None,
        "frameworks": None,
        "providers": None,
    }
    catalog = load_catalog(root, report, only=wanted)
    catalog.benchmarks = benchmarks  # read once: they name the models to read
    if report.errors:
        raise CatalogError(report)
    return catalog


def _num(v: float | None, digits: int = 3) -> float | None:
    return None if v is None else round(v, digits)


def _error_keys(cat: Catalog, engine: str, hardware: str) -> dict[str, Any]:
    """`<key>_error_pct` for each speed key: the median |error| of the calibration residuals that match (percent)."""
    models = {k: v.record for k, v in cat.models.items()}
    gpus = {k: v.record for k, v in cat.gpus.items()}
    frameworks = {k: v.record for k, v in cat.frameworks.items()}
    comps = compare_all([v.record for v in cat.benchmarks.values()], models, gpus, frameworks)
    return bar_keys(error_bars(comps, gpus, frameworks), engine, hardware)


def bar_keys(bars: ErrorBars, engine: str, hardware: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in SPEED_KEYS:
        bar = bars.lookup(key, engine, hardware)
        out[f"{key}_error_pct"] = _num(bar.pct * 100, 1) if bar else None
        out[f"{key}_error_results"] = bar.count if bar else 0
    return out


def tensor_parallel_check(model: ModelRecord, n: int) -> None:
    """Refuse a GPU count the serving engines cannot split the model over."""
    problem = tensor_parallel_problem(model.architecture, n)
    if problem:
        raise UsageError(f"--gpus {n}: {model.id}: {problem} (tensor parallel)")


def _unrounded(v: float | None, digits: int = 3) -> float | None:
    return v


def estimate(
    args: argparse.Namespace, cat: Catalog | None = None, bars: ErrorBars | None = None, *, rounded: bool = True
) -> dict[str, Any]:
    """The answer of `estimate --json`. The build passes the catalog and error bars it already holds, and asks for
    unrounded floats (the calculator's data-value attributes)."""
    num = _num if rounded else _unrounded
    cat = _catalog(args.catalog, args.model) if cat is None else cat
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
    if args.gpus % per:
        raise UsageError(f"{gpu.short_name} is a bundle of {per} GPUs: --gpus must be a multiple of {per}")
    tensor_parallel_check(model, args.gpus)
    setup = make_setup(gpu, gpus, max(1, args.gpus // per))
    if setup.count > 1 and not setup.splittable:
        raise UsageError(
            f"{gpu.short_name} has no recorded GPU-to-GPU link (kind and bandwidth): a multi-GPU estimate would "
            "have to guess one"
        )
    prompt = args.prompt if args.prompt is not None else 512
    output = args.output if args.output is not None else 256
    context = args.context if args.context is not None else prompt + output
    if context < 1 or prompt < 0 or output < 0:
        raise UsageError("--context must be positive; --prompt and --output not negative")
    if context < prompt + output:
        defaults = " (the defaults)" if args.prompt is None and args.output is None else ""
        raise UsageError(f"--context {context} is shorter than --prompt + --output ({prompt} + {output}{defaults})")
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
    spd = speed(facts, prec, setup, work, engine, slots=mem.max_concurrency or None)
    cst = cost(setup, spd)
    cap = kv_capacity(facts, setup, work, mem, fw.id if fw else None, engine)
    full = throughput_optimal(facts, prec, setup, work, engine, cap.sequences)
    full_tps = full.speed.output_tokens_per_s if full else None
    hourly = cst.price_per_hour_usd if cst else None
    busy = self_usd_per_request(hourly, full_tps, output) if hourly and full_tps and output else None
    api = cheapest_api(model_api_prices((p.record for p in cat.providers.values()), model.id), prompt, output)
    return {
        "cost_per_request_usd": num(
            self_usd_per_request(hourly, spd.output_tokens_per_s, output)
            if hourly and spd and spd.output_tokens_per_s and output
            else None,
            6,
        ),
        "full_load_concurrency": full.concurrency if full else None,
        "cost_per_request_full_load_usd": num(busy, 6),
        "api_provider": api[0].id if api else None,
        "api_cost_per_request_usd": num(api[1] if api else None, 6),
        "breakeven_utilization": num(breakeven_share(busy, api[1]) if busy and api else None, 4),
        **(
            _error_keys(cat, engine, hardware_class(setup.base))
            if bars is None
            else bar_keys(bars, engine, hardware_class(setup.base))
        ),
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
        "kv_cache_capacity_tokens": cap.tokens,
        "kv_cache_capacity_flag": cap.flag,
        "kv_cache_capacity_sequences": cap.sequences,
        "kv_cache_capacity_setting": budget_setting(fw.id if fw else None, engine, setup),
        "decode_tokens_per_s": num(spd.decode_tokens_per_s if spd else None),
        "output_tokens_per_s": num(spd.output_tokens_per_s if spd else None),
        "itl_ms": num(spd.itl_ms if spd else None),
        "per_user_tokens_per_s": num(1000 / spd.itl_ms if spd and spd.itl_ms else None),
        "ttft_ms": num(spd.ttft_ms if spd else None),
        "ttft_idle_ms": num(spd.ttft_idle_ms if spd else None),
        "queue_ms": num(spd.queue_ms if spd else None),
        "step_bound": spd.step_bound if spd else None,
        "price_per_hour_usd": num(cst.price_per_hour_usd if cst else None, 4),
        "cost_per_month_usd": num(cst.cost_per_month_usd if cst else None, 2),
        "cost_per_million_tokens_usd": num(cst.cost_per_million_tokens_usd if cst else None, 4),
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
