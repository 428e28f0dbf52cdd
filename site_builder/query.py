"""One question to the engine, as `site-builder estimate` and `recommend` ask it: typed queries in, the JSON answer's
dict out. The CLI prints these dicts and the build puts the same dicts on the calculator's default answer, so the
site, the browser engine (tested for parity) and the CLI give one answer."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeGuard

from site_builder.catalog import KINDS, Catalog, Located, load_catalog
from site_builder.engine.budget import kv_capacity
from site_builder.engine.estimate import Workload, cost, memory, speed
from site_builder.engine.hardware import make_setup
from site_builder.engine.money import (
    breakeven_share,
    cheapest_api,
    model_api_prices,
    self_usd_per_request,
    throughput_optimal,
)
from site_builder.engine.parallel import tensor_parallel_problem
from site_builder.engine.plan import Candidate, analyse, choose_framework, engine_class_for, facts_of
from site_builder.engine.precision import KV_BYTES, PRECISIONS, default_kv_precision, supported_on
from site_builder.problems import CatalogError, Report, UsageError
from site_builder.records import ModelRecord
from site_builder.yamlsafe import LoadedYaml

# `estimate`'s error bars and launch settings are imported where it uses them: `recommend` starts without them.
if TYPE_CHECKING:
    from site_builder.engine.errorbars import ErrorBars
    from site_builder.query_cache import QueryCache

    BarsEntry = tuple[tuple[str, ...], str, ErrorBars]  # the measured models' ids, the key of their files, the bars


@dataclass(frozen=True)
class EstimateQuery:
    """`site-builder estimate`'s flags; None means the flag's default (documented in `estimate`)."""

    model: str
    gpu: str
    gpus: int = 1
    precision: str | None = None
    kv_precision: str | None = None
    context: int | None = None
    concurrency: str = "1"  # a whole number, or "max"
    prompt: int | None = None
    output: int | None = None
    framework: str | None = None


def query_catalog(path: str, model: str, on_read: Callable[[Path, bytes], None] | None = None) -> Catalog:
    """Just the records a query reads, schema-checked as in a build: the model, every GPU, framework, provider and
    benchmark, and the models the benchmarks measured (the error bars come from all of those, exactly as on the
    site). Reading the whole catalog took most of a query's time; `check` validates the rest. `on_read` sees each
    file's bytes (`load_catalog`)."""
    root = Path(path)
    report = Report()
    benchmarks = load_catalog(root, report, only={"benchmarks": None}, on_read=on_read).benchmarks
    measured = {b.record.model for b in benchmarks.values() if b.record.model}
    wanted: dict[str, set[str] | None] = {
        "models": {model} | measured,
        "gpus": None,
        "frameworks": None,
        "providers": None,
    }
    catalog = load_catalog(root, report, only=wanted, on_read=on_read)
    catalog.benchmarks = benchmarks  # read once: they name the models to read
    if report.errors:
        raise CatalogError(report)
    return catalog


# The kinds the error bars are computed from, all of each (besides the models the benchmarks measured).
BAR_KINDS = ("benchmarks", "gpus", "frameworks")
# Kinds each query reads whole, from the query cache when their files are as stored.
ESTIMATE_TABLES = ("frameworks", "providers")
RECOMMEND_TABLES = ("gpus", "frameworks")
NO_POSITIONS = LoadedYaml(data=None)  # a stored record's `source` (see _store_tables)


def estimate_inputs(path: str, model: str, gpu: str) -> tuple[Catalog, ErrorBars]:
    """What `estimate` reads: `query_catalog`'s records and `catalog_error_bars`. Where the query cache holds the
    error bars of this catalog's exact benchmark, GPU, framework and measured model files, only the model and the
    GPU are read (the frameworks and providers come validated from the cache); otherwise everything is read as
    `query_catalog` reads it and the results are stored."""
    from site_builder.query_cache import QueryCache, record_paths

    root = Path(path)
    cache = QueryCache(root)
    found = _cached_estimate_inputs(cache, root, model, gpu)
    if found is not None:
        return found
    read: dict[Path, bytes] = {}
    catalog = query_catalog(path, model, on_read=_digests_into(read))
    bars = catalog_error_bars(catalog)
    _store_tables(cache, root, catalog, read, ("gpus", *ESTIMATE_TABLES))  # `recommend` reads every GPU
    keys = [_read_key(read, _read_of_kind(root, kind, read)) for kind in BAR_KINDS]
    measured = tuple(sorted({b.record.model for b in catalog.benchmarks.values() if b.record.model}))
    measured_files = [p for p in record_paths(root, "models", measured) if p in read]  # the files it read
    entry: BarsEntry = (measured, _read_key(read, measured_files), bars)
    cache.put("error-bars", "/".join(keys), entry)
    return catalog, bars


def _cached_estimate_inputs(cache: QueryCache, root: Path, model: str, gpu: str) -> tuple[Catalog, ErrorBars] | None:
    from site_builder.query_cache import files_key, kind_key, record_paths

    keys = [kind_key(root, kind) for kind in BAR_KINDS]
    if None in keys:
        return None
    entry = cache.get("error-bars", "/".join(str(k) for k in keys))
    if not _is_bars_entry(entry):
        return None
    measured, models_key, bars = entry
    if files_key([p for p in record_paths(root, "models", measured) if p.is_file()]) != models_key:
        return None
    tables = {kind: _table(cache.get(f"records-{kind}", kind_key(root, kind))) for kind in ESTIMATE_TABLES}
    report = Report()
    catalog = load_catalog(root, report, only={"models": {model}, "gpus": {gpu}})
    bundle = catalog.gpus[gpu].record.bundle if gpu in catalog.gpus else None
    if bundle:  # the GPU a bundle is made of
        catalog.gpus.update(load_catalog(root, report, only={"gpus": {bundle.gpu}}).gpus)
    if report.errors or None in tables.values():
        return None  # read everything: the full load reports the problems as it always has
    _use_tables(catalog, tables)
    return catalog, bars


def recommend_catalog(path: str, model: str) -> Catalog:
    """What `recommend` reads: the model, every GPU and framework; the GPUs and frameworks from the query cache
    where their files are as stored (and stored there when they are read)."""
    from site_builder.query_cache import QueryCache, kind_key

    root = Path(path)
    cache = QueryCache(root)
    tables = {kind: _table(cache.get(f"records-{kind}", kind_key(root, kind))) for kind in RECOMMEND_TABLES}
    missing: dict[str, set[str] | None] = {kind: None for kind, table in tables.items() if table is None}
    report = Report()
    read: dict[Path, bytes] = {}
    catalog = load_catalog(root, report, only={"models": {model}, **missing}, on_read=_digests_into(read))
    if report.errors:
        raise CatalogError(report)
    _use_tables(catalog, tables)
    _store_tables(cache, root, catalog, read, tuple(missing))
    return catalog


def _use_tables(catalog: Catalog, tables: dict[str, dict[str, Located[Any]] | None]) -> None:
    """Put the kinds found in the query cache into a catalog that did not read them."""
    for kind, table in tables.items():
        if table is not None:
            setattr(catalog, kind, table)


def _digests_into(read: dict[Path, bytes]) -> Callable[[Path, bytes], None]:
    from site_builder.query_cache import file_digest

    def note(path: Path, raw: bytes) -> None:
        read[path] = file_digest(raw)

    return note


def _read_of_kind(root: Path, kind: str, read: dict[Path, bytes]) -> list[Path]:
    """The files of one kind the loader read, in its order."""
    folder = root / KINDS[kind].folder
    return [p for p in read if p.parent == folder]


def _read_key(read: dict[Path, bytes], paths: list[Path]) -> str:
    from site_builder.query_cache import key_of

    return key_of((p, read[p]) for p in paths)


def _store_tables(
    cache: QueryCache, root: Path, catalog: Catalog, read: dict[Path, bytes], kinds: Sequence[str]
) -> None:
    """Store whole kinds of a load that reported no error, keyed by the bytes it parsed. Without the positions of
    their values: a stored record is a valid one, so a query reports no problem in it, and the positions were most
    of what it took to read a record back."""
    for kind in kinds:
        table = {rid: replace(located, source=NO_POSITIONS) for rid, located in catalog.table(kind).items()}
        cache.put(f"records-{kind}", _read_key(read, _read_of_kind(root, kind, read)), table)


def _table(value: object) -> dict[str, Located[Any]] | None:
    if isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, Located) for k, v in value.items()):
        return value
    return None


def _is_bars_entry(value: object) -> TypeGuard[BarsEntry]:
    from site_builder.engine.errorbars import ErrorBars

    return (
        isinstance(value, tuple)
        and len(value) == 3
        and isinstance(value[0], tuple)
        and all(isinstance(m, str) for m in value[0])
        and isinstance(value[1], str)
        and isinstance(value[2], ErrorBars)
    )


def _num(v: float | None, digits: int = 3) -> float | None:
    return None if v is None else round(v, digits)


def catalog_error_bars(cat: Catalog) -> ErrorBars:
    """The calibration residuals of the catalog's benchmark records, by metric, engine class and hardware class."""
    from site_builder.engine.calibrate import compare_all  # a query served from the query cache needs no calibration
    from site_builder.engine.errorbars import error_bars

    models = {k: v.record for k, v in cat.models.items()}
    gpus = {k: v.record for k, v in cat.gpus.items()}
    frameworks = {k: v.record for k, v in cat.frameworks.items()}
    comps = compare_all([v.record for v in cat.benchmarks.values()], models, gpus, frameworks)
    return error_bars(comps, gpus, frameworks)


def bar_keys(bars: ErrorBars, engine: str, hardware: str) -> dict[str, Any]:
    from site_builder.engine.errorbars import SPEED_KEYS

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


def estimate(cat: Catalog, q: EstimateQuery, bars: ErrorBars | None = None, *, rounded: bool = True) -> dict[str, Any]:
    """The answer of `estimate --json`. The build passes the error bars it already holds, and asks for unrounded
    floats (the calculator's data-value attributes)."""
    from site_builder.engine.errorbars import hardware_class
    from site_builder.engine.launch import budget_setting

    num = _num if rounded else _unrounded
    if q.model not in cat.models:
        raise UsageError(f"unknown model {q.model!r}")
    if q.gpu not in cat.gpus:
        raise UsageError(f"unknown GPU {q.gpu!r}")
    model = cat.models[q.model].record
    gpus = {k: v.record for k, v in cat.gpus.items()}
    frameworks = {k: v.record for k, v in cat.frameworks.items()}
    pid = q.precision or model.native_precision
    if pid not in PRECISIONS:
        raise UsageError(f"unknown precision {pid!r} (one of {', '.join(PRECISIONS)})")
    if q.kv_precision is not None and q.kv_precision not in KV_BYTES:
        raise UsageError(f"unknown KV precision {q.kv_precision!r} (one of {', '.join(KV_BYTES)})")
    if q.gpus < 1:
        raise UsageError("--gpus must be at least 1")
    gpu = gpus[q.gpu]
    prec = PRECISIONS[pid]
    if not supported_on(prec, gpu):
        raise UsageError(f"{gpu.short_name} cannot run {prec.label} weights")
    per = gpu.bundle.count if gpu.bundle else 1
    if q.gpus % per:
        raise UsageError(f"{gpu.short_name} is a bundle of {per} GPUs: --gpus must be a multiple of {per}")
    tensor_parallel_check(model, q.gpus)
    setup = make_setup(gpu, gpus, max(1, q.gpus // per))
    if setup.count > 1 and not setup.splittable:
        raise UsageError(
            f"{gpu.short_name} has no recorded GPU-to-GPU link (kind and bandwidth): a multi-GPU estimate would "
            "have to guess one"
        )
    prompt = q.prompt if q.prompt is not None else 512
    output = q.output if q.output is not None else 256
    context = q.context if q.context is not None else prompt + output
    if context < 1 or prompt < 0 or output < 0:
        raise UsageError("--context must be positive; --prompt and --output not negative")
    if context < prompt + output:
        defaults = " (the defaults)" if q.prompt is None and q.output is None else ""
        raise UsageError(f"--context {context} is shorter than --prompt + --output ({prompt} + {output}{defaults})")
    if context > model.context_window:
        raise UsageError(f"--context {context} exceeds the model's context window ({model.context_window})")
    if q.framework:
        fw = frameworks.get(q.framework)
        if fw is None:
            raise UsageError(f"unknown framework {q.framework!r}")
    else:
        fw = choose_framework(model, prec, setup.base, frameworks)
    engine = engine_class_for(prec, setup.base, fw)
    facts = facts_of(model)
    kvp = q.kv_precision or default_kv_precision(prec, setup.base.id, fw.id if fw else None)
    probe = Workload(context, 1, prompt, output, kvp)
    if q.concurrency == "max":
        m1 = memory(facts, prec, setup, probe, engine)
        concurrency = m1.max_concurrency if m1 else 0
        if concurrency < 1:
            raise UsageError("not even one sequence of that context fits")
    else:
        try:
            concurrency = int(q.concurrency)
        except ValueError:
            raise UsageError("--concurrency takes a whole number or 'max'") from None
        if concurrency < 1:
            raise UsageError("--concurrency must be at least 1")
    work = Workload(context, concurrency, prompt, output, kvp)
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
        "api_cost_per_request_usd": num(api[2] if api else None, 6),
        "breakeven_utilization": num(breakeven_share(busy, api[2]) if busy and api else None, 4),
        **bar_keys(catalog_error_bars(cat) if bars is None else bars, engine, hardware_class(setup.base)),
        "model": model.id,
        "gpu": gpu.id,
        "gpus": setup.count,
        "precision": prec.id,
        "kv_precision": kvp,
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
        "fit_level": mem.fit_level.value,
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


def setup_json(c: Candidate) -> dict[str, Any]:
    """One ranked setup: the API's recommendations and `recommend --json` print this, unrounded."""
    return {
        "gpu": c.setup.record.id,
        "gpus": c.setup.count,
        "precision": c.precision.id,
        "framework": c.framework.id if c.framework else None,
        "score": c.score,
        "total_bytes_per_gpu": c.memory.total_bytes,
        "fit_level": c.memory.fit_level.value,
        "output_tokens_per_s": c.speed.output_tokens_per_s if c.speed else None,
        "itl_ms": c.speed.itl_ms if c.speed else None,
        "ttft_ms": c.speed.ttft_ms if c.speed else None,
        "ttft_idle_ms": c.speed.ttft_idle_ms if c.speed else None,
        "cost_per_month_usd": c.cost.cost_per_month_usd if c.cost else None,
        "cost_per_million_tokens_usd": c.cost.cost_per_million_tokens_usd if c.cost else None,
    }


def recommend(cat: Catalog, model_id: str, limit: int) -> dict[str, Any]:
    """The ranked setups of `recommend --json`, in the JSON API's setup shape."""
    if model_id not in cat.models:
        raise UsageError(f"unknown model {model_id!r}")
    model = cat.models[model_id].record
    an = analyse(model, {k: v.record for k, v in cat.gpus.items()}, {k: v.record for k, v in cat.frameworks.items()})
    w = an.serve_workload
    out = {
        "model": model.id,
        "workload": {"concurrency": w.concurrency, "prompt": w.prompt, "output": w.output},
        "setups": [setup_json(c) for c in an.candidates[:limit]],
    }
    return out
