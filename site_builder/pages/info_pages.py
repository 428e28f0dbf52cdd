"""Methodology (generated from the engine's constants), about, API docs."""

from __future__ import annotations

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
from site_builder.pages.colours import CHART_REFERENCE_LINE
from site_builder.pages.labels import FIT_LABELS
from site_builder.paths import REPOSITORY


def _doc(text: str) -> str:
    """A docstring as one paragraph: its lines joined, indentation dropped."""
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def methodology_page(site: SiteAnalysis, base: str) -> dict[str, Any]:
    comps = site.comparisons
    table = [
        {
            "metric": r.metric,
            "n": r.count,
            "median": f"{r.median_ape:.0%}",
            "worst": f"{r.worst_ape:.0%}",
            "worst_id": r.worst_id,
        }
        for r in site.calibration
    ]
    speed = [
        c
        for c in comps
        if c.record.metric in SPEED_METRICS
        and c.record.metric in ("decode_tok_s", "prefill_tok_s", "aggregate_output_tok_s")
    ]
    chart = None
    if speed:
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
        chart = charts.chart(
            "chart-calibration",
            "Predicted vs measured (tokens/s, log scale)",
            data,
            {
                "xaxis": {"type": "log", "title": {"text": "measured"}},
                "yaxis": {"type": "log", "title": {"text": "engine"}},
                "height": charts.TALL_HEIGHT,
            },
        )
    return {
        "title": "Methodology: how every number is computed",
        "description": "Formulas, constants, fit thresholds, score weights and calibration of the sizing engine.",
        "params_doc": PARAMS_DOC or "",
        "precisions": [
            {
                "id": p.id,
                "label": p.label,
                "bits": f"{p.bits_per_weight:.3f}",
                "scope": p.scope,
                "compute": p.compute,
                "note": p.note,
            }
            for p in PRECISIONS.values()
        ],
        "kv_bytes": sorted(KV_BYTES.items()),
        "constants": [
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
        ],
        "efficiency": [
            {
                "engine": k,
                "memory": f"{v.memory:.2f}",
                "compute": f"{v.compute:.2f}",
                "overhead": f"{v.step_overhead_s * 1000:g} ms",
                "per_sequence": f"{v.per_sequence_s * 1000:g} ms",
                "moe_routing": f"{v.moe_token_layer_s * 1e6:g} µs",
            }
            for k, v in C.EFFICIENCY.items()
        ],
        "unfused_bytes": C.UNFUSED_SCORE_BYTES,
        "stack_per_sequence": "; ".join(
            f"{engine} on {vendor}: {value * 1e6:g} µs per sequence and layer"
            for (engine, vendor), value in C.STACK_PER_SEQUENCE_S.items()
        ),
        "fit_levels": [{"label": FIT_LABELS[k], "limit": f"≤ {v:.0%}"} for k, v in C.FIT_LEVELS]
        + [{"label": FIT_LABELS[FitLevel.NO_FIT], "limit": "> 100%"}],
        "score_weights": [
            {"part": k, "weight": f"{v:.0%}", "formula": score_parts_doc()[k]} for k, v in C.SCORE_WEIGHTS.items()
        ],
        "similarity": [{"part": k, "weight": f"{v:.0%}"} for k, v in SIMILARITY_WEIGHTS.items()],
        "quality": {"benchmarks": ", ".join(QUALITY_BENCHMARKS), "min": MIN_SCORES},
        "matrix_precisions": [PRECISIONS[p].label for p in MATRIX_PRECISIONS],
        "local_prompt": f"{C.LOCAL_PROMPT:,}",
        "hours": C.HOURS_PER_MONTH,
        "local_output": f"{C.LOCAL_OUTPUT:,}",
        "loaded_doc": _doc(loaded_latency_doc()),
        "gguf_doc": _doc(GGUF_DOC or ""),
        "step_budgets": ", ".join(
            f"{tokens:,} tokens below {limit:g} GiB" if limit != float("inf") else f"{tokens:,} tokens above"
            for limit, tokens in C.STEP_TOKEN_BUDGETS
        ),
        "local_step_tokens": f"{C.LOCAL_STEP_TOKENS:,}",
        "local_pipeline_tokens": f"{C.LOCAL_PIPELINE_TOKENS:,}",
        "max_prefill_load": f"{C.MAX_PREFILL_LOAD:g}",
        "budgets": [
            {"engine": k, "rule": b.rule, "fraction": f"{b.fraction:g}", "flag": b.flag, "source": b.source}
            for k, b in C.ENGINE_BUDGETS.items()
        ],
        "budget_rules": _doc(C.EngineBudget.__doc__ or ""),
        "sglang_reserved": "; ".join(
            (f"below {below:g} GiB: " if below != float("inf") else "above: ")
            + f"{fixed:g} GiB + {per_rank:g} GiB per rank"
            for below, fixed, per_rank in C.SGLANG_RESERVED_GIB
        ),
        "calibration": table,
        "categories": [
            {
                "category": r.category,
                "n": r.count,
                "median": f"{r.median_ape:.0%}" if r.median_ape is not None else "no records yet",
                "worst": f"{r.worst_ape:.0%}" if r.worst_ape is not None else "",
                "worst_id": r.worst_id or "",
            }
            for r in site.calibration_categories
        ],
        "long_context": f"{LONG_CONTEXT_TOKENS:,}",
        "min_results": MIN_RESULTS,
        "compared": len(comps),
        "records": len(site.catalog.benchmarks),
        "chart": chart,
        "charts": chart is not None,
    }


CONTRIBUTING = REPOSITORY / "CONTRIBUTING.md"


def contribute_page(base: str) -> dict[str, Any]:
    text = CONTRIBUTING.read_text(encoding="utf-8") if CONTRIBUTING.is_file() else "No contributing guide found."
    return {
        "title": "Contributing a model or GPU",
        "description": "How to add or correct a record by pull request: the repository's CONTRIBUTING.md.",
        "html": render_document(text),
        "charts": False,
    }


def about_page(base: str) -> dict[str, Any]:
    return {
        "title": "About and contributing",
        "description": "How the catalog is built and how to add a model or GPU.",
        "charts": False,
    }


def api_page(base: str) -> dict[str, Any]:
    return {
        "title": "JSON API",
        "description": "Versioned JSON files of every model, GPU and estimate.",
        "endpoints": [
            ("api/v1/models.json", "Every model: id, name, parameters, context, best setup"),
            ("api/v1/models/<id>.json", "One model: the record plus the engine's results"),
            ("api/v1/gpus.json", "Every GPU record"),
        ],
        "charts": False,
    }
