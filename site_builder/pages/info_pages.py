"""Methodology (generated from the engine's constants), about, contributing, API docs, search and 404."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from site_builder.analysis import SiteAnalysis
from site_builder.engine import constants as C
from site_builder.engine.calibrate import SPEED_METRICS
from site_builder.engine.errorbars import LONG_CONTEXT_TOKENS, MIN_RESULTS
from site_builder.engine.estimate import loaded_latency_doc
from site_builder.engine.fit import FitLevel
from site_builder.engine.gguf import __doc__ as GGUF_DOC
from site_builder.engine.params import __doc__ as PARAMS_DOC
from site_builder.engine.plan import MATRIX_PRECISIONS, score_parts_doc
from site_builder.engine.precision import KV_BYTES, PRECISIONS
from site_builder.engine.quality import MIN_SCORES, QUALITY_BENCHMARKS
from site_builder.engine.similar import SIMILARITY_WEIGHTS
from site_builder.markdown_render import render_document
from site_builder.pages import charts
from site_builder.pages.base import TextPage
from site_builder.pages.colours import CHART_REFERENCE_LINE
from site_builder.pages.labels import FIT_LABELS
from site_builder.paths import REPOSITORY


def _doc(text: str) -> str:
    """A docstring as one paragraph: its lines joined, indentation dropped."""
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


@dataclass(frozen=True)
class PrecisionRow:
    id: str
    label: str
    bits: str
    scope: str
    compute: str
    note: str


@dataclass(frozen=True)
class EfficiencyRow:
    """One framework class's efficiency factors and per-step costs."""

    engine: str
    memory: str
    compute: str
    overhead: str
    per_sequence: str
    moe_routing: str


@dataclass(frozen=True)
class LocalSaturation:
    """The local runtimes' fitted per-sequence costs and the aggregate throughput they flatten towards."""

    per_sequence: str
    moe_routing: str
    dense_ceiling: str  # tokens/s at any batch, dense model
    moe_ceiling: str  # the same for a MOE_EXAMPLE_LAYERS-layer MoE
    moe_layers: int


# The MoE model the methodology's saturation example names (gpt-oss 20B has 24 layers), and the 126 layers of
# Llama 3.1 405B in its ROCm example.
MOE_EXAMPLE_LAYERS = 24
ROCM_EXAMPLE_LAYERS = 126


def _local_saturation() -> LocalSaturation:
    eff = C.EFFICIENCY["local"]
    moe = 1 / (eff.per_sequence_s + MOE_EXAMPLE_LAYERS * eff.moe_token_layer_s)
    return LocalSaturation(
        per_sequence=f"{eff.per_sequence_s * 1e3:g} ms",
        moe_routing=f"{eff.moe_token_layer_s * 1e6:g} µs",
        dense_ceiling=f"{round(1 / eff.per_sequence_s, -2):,.0f}" if eff.per_sequence_s else "unbounded",
        moe_ceiling=f"{round(moe, -2):,.0f}",
        moe_layers=MOE_EXAMPLE_LAYERS,
    )


@dataclass(frozen=True)
class FitLevelRow:
    label: str
    limit: str


@dataclass(frozen=True)
class ScoreWeightRow:
    part: str
    weight: str
    formula: str


@dataclass(frozen=True)
class SimilarityRow:
    part: str
    weight: str


@dataclass(frozen=True)
class QualityRule:
    """Which benchmarks the quality index averages, and how many of them a model needs to be rated."""

    benchmarks: str
    min: int


@dataclass(frozen=True)
class BudgetRow:
    """One engine's KV-cache sizing rule at start-up."""

    engine: str
    rule: str
    fraction: str
    flag: str
    source: str


@dataclass(frozen=True)
class ErrorRow:
    """The engine's error against the measured records of one metric or one category."""

    group: str  # the metric or the category
    n: int
    median: str
    worst: str
    worst_id: str


@dataclass(frozen=True)
class MethodologyPage:
    title: str
    description: str
    params_doc: str
    precisions: tuple[PrecisionRow, ...]
    kv_bytes: tuple[tuple[str, float], ...]
    constants: tuple[tuple[str, str], ...]  # label, value with its unit
    efficiency: tuple[EfficiencyRow, ...]
    unfused_bytes: int
    stack_per_sequence: str
    stack_example: str  # the ROCm per-sequence cost of a 126-layer model (Llama 3.1 405B), per step
    local_saturation: LocalSaturation
    fit_levels: tuple[FitLevelRow, ...]
    score_weights: tuple[ScoreWeightRow, ...]
    similarity: tuple[SimilarityRow, ...]
    quality: QualityRule
    matrix_precisions: tuple[str, ...]
    local_prompt: str
    hours: int
    local_output: str
    loaded_doc: str
    gguf_doc: str
    step_budgets: str
    local_step_tokens: str
    local_pipeline_tokens: str
    max_prefill_load: str
    budgets: tuple[BudgetRow, ...]
    budget_rules: str
    sglang_reserved: str
    calibration: tuple[ErrorRow, ...]  # by metric
    categories: tuple[ErrorRow, ...]
    long_context: str
    min_results: int
    compared: int
    records: int
    chart: dict[str, Any] | None
    charts: bool


def _calibration_rows(site: SiteAnalysis) -> tuple[ErrorRow, ...]:
    return tuple(
        ErrorRow(r.metric, r.count, f"{r.median_ape:.0%}", f"{r.worst_ape:.0%}", r.worst_id) for r in site.calibration
    )


def _category_rows(site: SiteAnalysis) -> tuple[ErrorRow, ...]:
    return tuple(
        ErrorRow(
            group=r.category,
            n=r.count,
            median=f"{r.median_ape:.0%}" if r.median_ape is not None else "no records yet",
            worst=f"{r.worst_ape:.0%}" if r.worst_ape is not None else "",
            worst_id=r.worst_id or "",
        )
        for r in site.calibration_categories
    )


def _calibration_chart(site: SiteAnalysis) -> dict[str, Any] | None:
    """Predicted against measured speed, one trace per metric, with the line where they agree."""
    speed = [
        c
        for c in site.comparisons
        if c.record.metric in SPEED_METRICS
        and c.record.metric in ("decode_tok_s", "prefill_tok_s", "aggregate_output_tok_s")
    ]
    if not speed:
        return None
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "markers",
            "name": metric.replace("_", " "),
            "x": [round(c.record.value, charts.DIGITS) for c in speed if c.record.metric == metric],
            "y": [round(c.predicted, charts.DIGITS) for c in speed if c.record.metric == metric],
            "text": [c.record.id for c in speed if c.record.metric == metric],
            "hoverinfo": "text+x+y",
        }
        for metric in sorted({c.record.metric for c in speed})
    ]
    lo = min(min(c.record.value, c.predicted) for c in speed)
    hi = max(max(c.record.value, c.predicted) for c in speed)
    data.append(
        {
            "type": "scatter",
            "mode": "lines",
            "name": "prediction = measurement",
            "x": [lo, hi],
            "y": [lo, hi],
            "line": {"dash": "dot", "color": CHART_REFERENCE_LINE},
        }
    )
    return charts.chart(
        "chart-calibration",
        "Predicted vs measured (tokens/s, log scale)",
        data,
        {
            "xaxis": {"type": "log", "title": {"text": "measured"}},
            "yaxis": {"type": "log", "title": {"text": "engine"}},
            "height": charts.TALL_HEIGHT,
        },
    )


def _precision_rows() -> tuple[PrecisionRow, ...]:
    return tuple(
        PrecisionRow(p.id, p.label, f"{p.bits_per_weight:.3f}", p.scope, p.compute, p.note) for p in PRECISIONS.values()
    )


def _constants() -> tuple[tuple[str, str], ...]:
    return (
        ("Capacity unit", f"{C.CAPACITY_UNIT_BYTES:,} bytes per marketed GB"),
        ("Usable share of GPU memory", f"{C.USABLE_FRACTION:.0%}"),
        ("Runtime overhead, batched servers", f"{C.RUNTIME_OVERHEAD_BYTES / C.GIB:.2f} GiB per GPU"),
        ("Runtime overhead, local runtimes", f"{C.LOCAL_RUNTIME_OVERHEAD_BYTES / C.GIB:.2f} GiB per GPU"),
        ("Activation batch, batched servers", f"{C.SERVER_BATCH_TOKENS:,} tokens"),
        ("Activation batch, local runtimes", f"{C.LOCAL_BATCH_TOKENS:,} tokens"),
        ("Sampled sequences (max)", str(C.MAX_SAMPLED_SEQUENCES)),
        ("Activation per token", f"({C.ACT_FFN_FACTOR} × FFN ÷ TP + {C.ACT_HIDDEN_FACTOR} × hidden) × 2 bytes"),
        ("Sampler", f"{C.SAMPLER_FP32_COPIES} fp32 copies of the logits per sampled sequence"),
        ("GPU link (none recorded)", "no multi-GPU estimate: tensor parallel needs a recorded link"),
        (
            "All-reduce latency by link",
            ", ".join(f"{k} {v * 1e6:g} µs" for k, v in C.ALLREDUCE_LATENCY_S.items()),
        ),
        ("Hours per month", str(C.HOURS_PER_MONTH)),
        ("Matrix workload", f"one sequence of min({C.FIT_CONTEXT:,}, context window) tokens"),
        (
            "Serving workload",
            f"{C.SERVE_CONCURRENCY} concurrent requests, {C.SERVE_PROMPT:,}-token prompts, "
            f"{C.SERVE_OUTPUT:,}-token answers",
        ),
        ("GPU counts tried", ", ".join(map(str, C.GPU_COUNTS))),
    )


def _efficiency_rows() -> tuple[EfficiencyRow, ...]:
    return tuple(
        EfficiencyRow(
            engine=k,
            memory=f"{v.memory:.2f}",
            compute=f"{v.compute:.2f}",
            overhead=f"{v.step_overhead_s * 1000:g} ms",
            per_sequence=f"{v.per_sequence_s * 1000:g} ms",
            moe_routing=f"{v.moe_token_layer_s * 1e6:g} µs",
        )
        for k, v in C.EFFICIENCY.items()
    )


def _fit_levels() -> tuple[FitLevelRow, ...]:
    return (
        *(FitLevelRow(FIT_LABELS[k], f"≤ {v:.0%}") for k, v in C.FIT_LEVELS),
        FitLevelRow(FIT_LABELS[FitLevel.NO_FIT], "> 100%"),
    )


def _budget_rows() -> tuple[BudgetRow, ...]:
    return tuple(BudgetRow(k, b.rule, f"{b.fraction:g}", b.flag, b.source) for k, b in C.ENGINE_BUDGETS.items())


def _step_budgets() -> str:
    return ", ".join(
        f"{tokens:,} tokens below {limit:g} GiB" if limit != float("inf") else f"{tokens:,} tokens above"
        for limit, tokens in C.STEP_TOKEN_BUDGETS
    )


def _sglang_reserved() -> str:
    return "; ".join(
        (f"below {below:g} GiB: " if below != float("inf") else "above: ")
        + f"{fixed:g} GiB + {per_rank:g} GiB per rank"
        for below, fixed, per_rank in C.SGLANG_RESERVED_GIB
    )


def methodology_page(site: SiteAnalysis, base: str) -> MethodologyPage:
    chart = _calibration_chart(site)
    return MethodologyPage(
        title="Methodology: how every number is computed",
        description="Formulas, constants, fit thresholds, score weights and calibration of the sizing engine.",
        params_doc=PARAMS_DOC or "",
        precisions=_precision_rows(),
        kv_bytes=tuple(sorted(KV_BYTES.items())),
        constants=_constants(),
        efficiency=_efficiency_rows(),
        unfused_bytes=C.UNFUSED_SCORE_BYTES,
        stack_per_sequence="; ".join(
            f"{engine} on {vendor}: {value * 1e6:g} µs per sequence and layer"
            for (engine, vendor), value in C.STACK_PER_SEQUENCE_S.items()
        ),
        stack_example=f"{C.STACK_PER_SEQUENCE_S[('batched-server', 'amd')] * ROCM_EXAMPLE_LAYERS * 1e3:.1f} ms",
        local_saturation=_local_saturation(),
        fit_levels=_fit_levels(),
        score_weights=tuple(ScoreWeightRow(k, f"{v:.0%}", score_parts_doc()[k]) for k, v in C.SCORE_WEIGHTS.items()),
        similarity=tuple(SimilarityRow(k, f"{v:.0%}") for k, v in SIMILARITY_WEIGHTS.items()),
        quality=QualityRule(", ".join(QUALITY_BENCHMARKS), MIN_SCORES),
        matrix_precisions=tuple(PRECISIONS[p].label for p in MATRIX_PRECISIONS),
        local_prompt=f"{C.LOCAL_PROMPT:,}",
        hours=C.HOURS_PER_MONTH,
        local_output=f"{C.LOCAL_OUTPUT:,}",
        loaded_doc=_doc(loaded_latency_doc()),
        gguf_doc=_doc(GGUF_DOC or ""),
        step_budgets=_step_budgets(),
        local_step_tokens=f"{C.LOCAL_STEP_TOKENS:,}",
        local_pipeline_tokens=f"{C.LOCAL_PIPELINE_TOKENS:,}",
        max_prefill_load=f"{C.MAX_PREFILL_LOAD:g}",
        budgets=_budget_rows(),
        budget_rules=_doc(C.EngineBudget.__doc__ or ""),
        sglang_reserved=_sglang_reserved(),
        calibration=_calibration_rows(site),
        categories=_category_rows(site),
        long_context=f"{LONG_CONTEXT_TOKENS:,}",
        min_results=MIN_RESULTS,
        compared=len(site.comparisons),
        records=len(site.catalog.benchmarks),
        chart=chart,
        charts=chart is not None,
    )


CONTRIBUTING = REPOSITORY / "CONTRIBUTING.md"


@dataclass(frozen=True)
class ContributePage:
    title: str
    description: str
    html: str  # CONTRIBUTING.md rendered and sanitized
    charts: bool = False


def contribute_page(base: str) -> ContributePage:
    text = CONTRIBUTING.read_text(encoding="utf-8") if CONTRIBUTING.is_file() else "No contributing guide found."
    return ContributePage(
        title="Contributing a model or GPU",
        description="How to add or correct a record by pull request: the repository's CONTRIBUTING.md.",
        html=render_document(text),
    )


def about_page(base: str) -> TextPage:
    return TextPage("About and contributing", "How the catalog is built and how to add a model or GPU.")


@dataclass(frozen=True)
class Endpoint:
    path: str  # under the site's base
    contents: str


@dataclass(frozen=True)
class ApiPage:
    title: str
    description: str
    endpoints: tuple[Endpoint, ...]
    charts: bool = False


def api_page(base: str) -> ApiPage:
    return ApiPage(
        title="JSON API",
        description="Versioned JSON files of every model, GPU and estimate.",
        endpoints=(
            Endpoint("api/v1/models.json", "Every model: id, name, parameters, context, best setup"),
            Endpoint("api/v1/models/<id>.json", "One model: the record plus the engine's results"),
            Endpoint("api/v1/gpus.json", "Every GPU record"),
        ),
    )


def search_page() -> TextPage:
    return TextPage("Search", "Search the catalog.")


def not_found_page() -> TextPage:
    return TextPage("Page not found", "This page does not exist.")
