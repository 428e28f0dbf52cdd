"""The analysis stage: every engine result the pages need, computed once per build.

Pages only arrange what this stage computed: no module under `pages/` calls an engine evaluation function
(tests/site/test_stage_boundaries.py checks the imports).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from dataclasses import dataclass, field
from typing import Any

from site_builder.catalog import Catalog
from site_builder.engine.budget import KvCapacity, kv_capacity
from site_builder.engine.calibrate import Comparison, MetricError, compare_all, summarize
from site_builder.engine.errorbars import CategoryError, ErrorBars, error_bars, summarize_categories
from site_builder.engine.estimate import Workload
from site_builder.engine.hardware import Setup, make_setup
from site_builder.engine.launch import LaunchSettings, budget_setting, launch_settings
from site_builder.engine.memory import ModelFacts
from site_builder.engine.money import FullLoad, breakeven_share, cheapest_api, self_usd_per_request
from site_builder.engine.plan import (
    MATRIX_PRECISIONS,
    Analysis,
    Candidate,
    analyse,
    evaluate,
    evaluate_on,
    full_load,
)
from site_builder.engine.precision import PRECISIONS, supported_on
from site_builder.engine.quality import QualityIndex, quality_index
from site_builder.engine.similar import Similar, similar_all
from site_builder.engine.sweep import SweepPoint, concurrency_sweep
from site_builder.engine_cache import EngineCache, default_dir
from site_builder.problems import UsageError
from site_builder.query import EstimateQuery, estimate
from site_builder.records import BenchmarkRecord, FamilyRecord, FrameworkRecord, GpuRecord, ModelRecord
from site_builder.records.provider import ApiPrice, ProviderRecord

# Concurrencies a deployment page tabulates: one user, then loads a batching server is commonly sized for.
DEPLOY_CONCURRENCIES = (1, 8, 32, 64, 128)


@dataclass(frozen=True, slots=True)
class DeployVariant:
    concurrency: int
    result: Candidate  # the deploy page's setup, framework and format at this concurrency


@dataclass(frozen=True, slots=True)
class DeployAnalysis:
    """What a deployment page shows beyond its candidate: launch limits, other loads, the engine's KV pool."""

    candidate: Candidate
    max_len: int  # --max-model-len: the longest single sequence that fits beside the weights
    variants: tuple[DeployVariant, ...]  # loads that could be evaluated, in DEPLOY_CONCURRENCIES order
    capacity: KvCapacity
    # The frameworks the page gives a command for, in page order, with their launch flags' values for this setup.
    launch: tuple[tuple[FrameworkRecord, LaunchSettings], ...]
    budget_value: float | None  # the setup's own framework's memory-budget setting, where it is computed


@dataclass(frozen=True, slots=True)
class BreakevenRow:
    """One recommended setup's dollars per request at the stated load and at its throughput-optimal load."""

    candidate: Candidate
    usd_per_hour: float
    usd_per_request: float
    full: FullLoad | None
    busy_usd_per_request: float | None
    share: float | None  # of the month at full load for self-hosting to match the API; None: never


@dataclass(frozen=True)
class Breakeven:
    """The cheapest API for the serving workload against each recommended setup."""

    provider: ProviderRecord
    price: ApiPrice
    api_usd_per_request: float
    rows: tuple[BreakevenRow, ...]


@dataclass(frozen=True)
class CalculatorDefault:
    """The calculator's first answer on a model page: `estimate --json` (unrounded) for the page's serving workload
    on its best-scoring setup, or the engine's refusal."""

    query: EstimateQuery
    result: dict[str, Any] | None
    error: str = ""


@dataclass(frozen=True)
class GpuAnalysis:
    setup: Setup  # the record as one unit (a bundle: all its GPUs)
    supported: frozenset[str]  # MATRIX_PRECISIONS the hardware runs
    supported_all: frozenset[str]  # every precision the hardware runs


@dataclass(frozen=True)
class ModelResults:
    """One model's engine results that read only its record and the GPU and framework records: what the engine
    result cache keeps across builds."""

    analysis: Analysis
    deploys: tuple[DeployAnalysis, ...]  # one per deployment page, in page order
    sweeps: tuple[tuple[Candidate, tuple[SweepPoint, ...]], ...]
    full_loads: tuple[FullLoad | None, ...]  # one per recommendation: its throughput-optimal load (break-even)
    gpu_rows: dict[str, str]  # gpu_rows_digests: GPU id -> what that GPU's page shows of the model


@dataclass(frozen=True)
class ModelData:
    record: ModelRecord
    analysis: Analysis
    quality: QualityIndex | None
    similar: tuple[Similar, ...]
    benchmarks: tuple[Comparison | BenchmarkRecord, ...]
    api_prices: tuple[tuple[ProviderRecord, ApiPrice], ...]
    deploys: tuple[DeployAnalysis, ...] = ()  # one per deployment page, in page order
    breakeven: Breakeven | None = None
    calculator: CalculatorDefault | None = None
    # Each recommended setup with the engine's estimates as its users double (the throughput-latency chart).
    sweeps: tuple[tuple[Candidate, tuple[SweepPoint, ...]], ...] = ()
    full_loads: tuple[FullLoad | None, ...] = ()  # one per recommendation
    gpu_rows: dict[str, str] = field(default_factory=dict)  # gpu_rows_digests: what each GPU's page shows of it

    @property
    def facts(self) -> ModelFacts:
        return self.analysis.facts

    @property
    def best(self) -> Candidate | None:
        return self.analysis.recommendations[0] if self.analysis.recommendations else None


@dataclass
class SiteAnalysis:
    catalog: Catalog
    models: dict[str, ModelData] = field(default_factory=dict)
    comparisons: list[Comparison] = field(default_factory=list)
    gpu_analyses: dict[str, GpuAnalysis] = field(default_factory=dict)

    @functools.cached_property
    def error_bars(self) -> ErrorBars:
        """Calibration residuals by metric, engine class and hardware class, for the speed figures' error bars."""
        return error_bars(self.comparisons, self.gpus, self.frameworks)

    @functools.cached_property
    def calibration(self) -> tuple[MetricError, ...]:
        """The engine's error against the measured benchmarks, per metric."""
        return tuple(summarize(self.comparisons))

    @functools.cached_property
    def calibration_categories(self) -> tuple[CategoryError, ...]:
        """The engine's error per workload category (long context, MoE, quantized ...)."""
        models = {k: v.record for k, v in self.models.items()}
        return tuple(summarize_categories(self.comparisons, models, self.gpus, self.frameworks))

    @functools.cached_property
    def gpus(self) -> dict[str, GpuRecord]:
        return {k: v.record for k, v in sorted(self.catalog.gpus.items())}

    @functools.cached_property
    def frameworks(self) -> dict[str, FrameworkRecord]:
        return {k: v.record for k, v in sorted(self.catalog.frameworks.items())}

    @functools.cached_property
    def families(self) -> dict[str, FamilyRecord]:
        return {k: v.record for k, v in sorted(self.catalog.families.items())}

    def compare_pairs(self) -> list[tuple[str, str]]:
        pairs = set()
        for mid, md in self.models.items():
            for s in md.similar:
                pairs.add(tuple(sorted((mid, s.model.id))))
        return sorted(pairs)  # type: ignore[arg-type]


def compare_slug(a: str, b: str) -> str:
    x, y = sorted((a, b))
    return f"{x}-vs-{y}"


def deploy_setups(an: Analysis) -> list[Candidate]:
    """The setups that get a deployment page: the recommendations, the smallest single GPU, the best multi-GPU
    setup and the local runtimes' rows."""
    setups = list(an.recommendations)
    setups += [c for c in (an.min_single_gpu, an.best_multi_gpu) if c and c not in setups]
    return setups + list(an.local_runtimes)


def analyse_deploy(
    m: ModelRecord, facts: ModelFacts, c: Candidate, frameworks: dict[str, FrameworkRecord]
) -> DeployAnalysis:
    single = evaluate(
        m, facts, c.setup, c.precision, Workload(m.context_window, 1, 0, 0, c.workload.kv_precision), frameworks
    )
    max_len = single.memory.max_context if single and single.memory.max_context else m.context_window
    variants = []
    for conc in DEPLOY_CONCURRENCIES:
        w = Workload(c.workload.context, conc, c.workload.prompt, c.workload.output, c.workload.kv_precision)
        # The candidate's own runtime: a local runtime's page must not switch to the preferred server.
        v = (
            evaluate_on(m, facts, c.setup, c.precision, w, c.framework)
            if c.framework
            else evaluate(m, facts, c.setup, c.precision, w, frameworks)
        )
        if v is not None:
            variants.append(DeployVariant(conc, v))
    cap = kv_capacity(facts, c.setup, c.workload, c.memory, c.framework.id if c.framework else None, c.engine)
    launch = []
    for fw in deploy_frameworks(m, c, frameworks):
        settings = launch_settings(facts, c.precision, c.setup, c.workload, fw.id, fw.engine_class)
        if settings is not None:
            launch.append((fw, settings))
    budget = budget_setting(c.framework.id if c.framework else None, c.engine, c.setup)
    return DeployAnalysis(c, min(max_len, m.context_window), tuple(variants), cap, tuple(launch), budget)


def deploy_frameworks(m: ModelRecord, c: Candidate, frameworks: dict[str, FrameworkRecord]) -> list[FrameworkRecord]:
    """The frameworks a deployment page gives a command for: a local runtime's row (an ONNX export for a CPU) is about
    that runtime; a server's page lists every framework of the model that runs this format on this vendor."""
    ids = [c.framework.id] if c.engine == "local" and c.framework else m.frameworks
    found = (frameworks.get(fid) for fid in ids)
    return [
        fw for fw in found if fw is not None and c.precision.id in fw.precisions and c.setup.base.vendor in fw.vendors
    ]


def analyse_sweeps(an: Analysis) -> tuple[tuple[Candidate, tuple[SweepPoint, ...]], ...]:
    found = ((c, concurrency_sweep(an.facts, c.precision, c.setup, c.workload, c.engine)) for c in an.recommendations)
    return tuple((c, points) for c, points in found if points)


def breakeven_ready(c: Candidate, w: Workload) -> bool:
    """Whether a recommended setup gets a break-even row: it has a price, a speed and an answer to produce."""
    return c.cost is not None and c.speed is not None and bool(c.speed.output_tokens_per_s) and w.output >= 1


def analyse_full_loads(an: Analysis) -> tuple[FullLoad | None, ...]:
    return tuple(full_load(an.facts, c) if breakeven_ready(c, an.serve_workload) else None for c in an.recommendations)


def analyse_breakeven(
    an: Analysis, prices: tuple[tuple[ProviderRecord, ApiPrice], ...], full_loads: tuple[FullLoad | None, ...]
) -> Breakeven | None:
    w = an.serve_workload
    # The calculator's answer (query.estimate) picks the same API: the same function, ties by provider id.
    found = cheapest_api(sorted(prices, key=lambda t: t[0].id), w.prompt, w.output)
    if found is None:
        return None
    prov, ap, api = found
    rows = []
    for c, full in zip(an.recommendations, full_loads, strict=True):
        if not breakeven_ready(c, w):
            continue
        assert c.cost is not None and c.speed is not None and c.speed.output_tokens_per_s  # breakeven_ready
        hourly = c.cost.price_per_hour_usd
        full_tps = full.speed.output_tokens_per_s if full else None
        busy = self_usd_per_request(hourly, full_tps, w.output) if full_tps else None
        share = breakeven_share(busy, api) if busy is not None else None
        rows.append(
            BreakevenRow(
                c, hourly, self_usd_per_request(hourly, c.speed.output_tokens_per_s, w.output), full, busy, share
            )
        )
    return Breakeven(prov, ap, api, tuple(rows))


def analyse_gpu(g: GpuRecord, gpus: dict[str, GpuRecord]) -> GpuAnalysis:
    setup = make_setup(g, gpus)
    supported_all = frozenset(p for p, prec in PRECISIONS.items() if supported_on(prec, setup.base))
    return GpuAnalysis(setup, supported_all & frozenset(MATRIX_PRECISIONS), supported_all)


# The performance chart and table show the best-scoring setups only: past a dozen bars the labels overlap.
PERFORMANCE_ROWS = 12


def shown_setups(an: Analysis) -> Analysis:
    """The analysis with only the ranked setups that something of the site reads, in rank order: the first, the
    performance rows, the recommendations, each precision's best, the smallest single GPU and the best multi-GPU
    setup. Those read from the shorter list are what they are from the whole ranking (each is the first, or the
    least, of its kind, and nothing ranked before it is dropped); a model ranks about 185 setups, most never shown,
    and they were half of what the engine cache loads per build."""
    fast = [c for c in an.candidates if c.speed and c.speed.output_tokens_per_s][:PERFORMANCE_ROWS]
    firsts = (an.candidates[:1], an.recommendations, fast, (r.best for r in an.precision_rows))
    kept = {id(c) for group in firsts for c in group if c is not None}
    kept |= {id(c) for c in (an.min_single_gpu, an.best_multi_gpu) if c is not None}
    return dataclasses.replace(an, candidates=tuple(c for c in an.candidates if id(c) in kept))


def gpu_rows_digests(m: ModelRecord, an: Analysis) -> dict[str, str]:
    """What each GPU's page shows of this model, hashed per GPU id: its name and formats, the serving workload, its
    compatibility-matrix cells on that GPU (precision, fit level and the longest context that fits, which a "fits up
    to 5K tokens" cell links to) and its fastest setup there as the page prints it (the precision, tokens/s to one
    decimal and to a whole number). Not the exact byte counts and speeds, which the page rounds away: an edit that
    moves them without changing what a GPU page prints re-renders no GPU page, and a release date, licence or scores
    edit none at all (incremental builds key each GPU page on its GPU's digests)."""
    shown = (m.name, m.precisions, an.serve_workload)
    rows = an.matrix_by_gpu
    found = {}
    for gid in rows.keys() | an.single.keys():
        row = rows.get(gid)
        cells = (row.setup.id, [(c.precision, c.level, c.max_context) for c in row.cells]) if row else None
        best = an.single.get(gid)
        tps = best.speed.output_tokens_per_s if best and best.speed else None
        printed = (f"{tps:.1f}", f"{tps:.0f}") if tps is not None else None
        found[gid] = _digest(shown, cells, (best.precision.id, printed) if best else None)
    return found


def model_results(m: ModelRecord, gpus: dict[str, GpuRecord], frameworks: dict[str, FrameworkRecord]) -> ModelResults:
    an = analyse(m, gpus, frameworks)
    deploys = tuple(analyse_deploy(m, an.facts, c, frameworks) for c in deploy_setups(an))
    return ModelResults(shown_setups(an), deploys, analyse_sweeps(an), analyse_full_loads(an), gpu_rows_digests(m, an))


def _digest(*parts: object) -> str:
    """What else a stored result reads, for its cache key: dataclass and record reprs print every value exactly."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def analyse_site(catalog: Catalog, previous: SiteAnalysis | None = None) -> SiteAnalysis:
    """Run the engine over the catalog. With `previous` (the preview server's last build), a model whose
    record, GPUs and frameworks are all unchanged keeps its results instead of being recomputed."""
    gpus = {k: v.record for k, v in sorted(catalog.gpus.items())}
    frameworks = {k: v.record for k, v in sorted(catalog.frameworks.items())}
    models = {k: v.record for k, v in sorted(catalog.models.items())}
    benches = [v.record for v in catalog.benchmarks.values()]
    comparisons = compare_all(benches, models, gpus, frameworks)
    by_model: dict[str, list[Comparison | BenchmarkRecord]] = {}
    compared = {c.record.id for c in comparisons}
    for c in comparisons:
        by_model.setdefault(c.record.model or "", []).append(c)
    for b in sorted(benches, key=lambda r: r.id):
        if b.model and b.id not in compared:
            by_model.setdefault(b.model, []).append(b)
    prices: dict[str, list[tuple[ProviderRecord, ApiPrice]]] = {}
    for p in sorted(catalog.providers.values(), key=lambda x: x.record.id):
        for ap in p.record.api_prices:
            prices.setdefault(ap.model, []).append((p.record, ap))

    reusable = previous is not None and previous.gpus == gpus and previous.frameworks == frameworks
    kept: dict[str, ModelResults] = {}
    for mid, m in models.items():
        old = previous.models.get(mid) if previous is not None and reusable else None
        if old is not None and old.record == m:
            kept[mid] = ModelResults(old.analysis, old.deploys, old.sweeps, old.full_loads, old.gpu_rows)
    site = SiteAnalysis(catalog=catalog, comparisons=comparisons)
    # The calculator's answer also reads the error bars (every benchmark) and the API prices: both in its key.
    extra = _digest(sorted(site.error_bars.cells.items()), [p.record for _, p in sorted(catalog.providers.items())])
    # Models not kept from the preview server's last build come from the engine result cache, or are computed; a
    # model computed is also given its calculator answer, stored for the pass below (no second round of workers).
    engine = EngineCache(default_dir(catalog.root), gpus, frameworks)

    def compute(m: ModelRecord) -> ModelResults:
        r = model_results(m, gpus, frameworks)
        if engine.folder is not None:
            engine.store(m, calculator_default(m, r.analysis, site), extra=extra)
        return r

    todo = {mid: m for mid, m in models.items() if mid not in kept}
    results = {**kept, **engine.compute_all(todo, compute, ModelResults)}
    qualities = {mid: quality_index(m) for mid, m in models.items()}
    triples = {mid: (m, results[mid].analysis.facts, qualities[mid]) for mid, m in models.items()}
    similar = similar_all(triples)
    for mid, m in models.items():
        r = results[mid]
        api_prices = tuple(sorted(prices.get(mid, []), key=lambda t: t[1].output_usd_per_mtok))
        site.models[mid] = ModelData(
            record=m,
            analysis=r.analysis,
            quality=qualities[mid],
            similar=similar[mid],
            benchmarks=tuple(by_model.get(mid, [])),
            api_prices=api_prices,
            deploys=r.deploys,
            breakeven=analyse_breakeven(r.analysis, api_prices, r.full_loads),
            sweeps=r.sweeps,
            full_loads=r.full_loads,
            gpu_rows=r.gpu_rows,
        )

    def calc(m: ModelRecord) -> CalculatorDefault:
        return calculator_default(m, site.models[m.id].analysis, site)

    answers = engine.compute_all(models, calc, CalculatorDefault, extra=extra)
    site.models = {mid: dataclasses.replace(md, calculator=answers[mid]) for mid, md in site.models.items()}
    site.gpu_analyses = {gid: analyse_gpu(g, gpus) for gid, g in gpus.items()}
    return site


# The calculator opens on this GPU when a model has no setup of its own to show.
FALLBACK_GPU = "h100-sxm"


def calculator_query(m: ModelRecord, an: Analysis, gpus: dict[str, GpuRecord]) -> EstimateQuery:
    """The page's serving workload on its best-scoring setup (or its smallest single GPU, or an H100)."""
    w = an.serve_workload
    best = an.recommendations[0] if an.recommendations else None
    c = best or an.min_single_gpu or (an.candidates[0] if an.candidates else None)
    gpu, count, precision = (c.setup.record.id, c.setup.count, c.precision.id) if c else (FALLBACK_GPU, 1, None)
    return EstimateQuery(
        model=m.id,
        gpu=gpu if gpu in gpus else next(iter(gpus)),
        gpus=count,
        precision=precision or m.native_precision,
        kv_precision=c.workload.kv_precision if c else w.kv_precision,
        context=w.context,
        concurrency=str(w.concurrency),
        prompt=w.prompt,
        output=w.output,
    )


def calculator_default(m: ModelRecord, an: Analysis, site: SiteAnalysis) -> CalculatorDefault:
    q = calculator_query(m, an, site.gpus)
    try:
        return CalculatorDefault(q, estimate(site.catalog, q, site.error_bars, rounded=False))
    except UsageError as err:
        return CalculatorDefault(q, None, str(err))
