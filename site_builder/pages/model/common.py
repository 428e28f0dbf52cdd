"""Helpers every model-page section shares: how a setup is named, its workload note, sourced figures."""

from __future__ import annotations

from dataclasses import dataclass

from site_builder.engine import constants as C
from site_builder.engine.errorbars import ErrorBars
from site_builder.engine.plan import Candidate
from site_builder.pages import format as F
from site_builder.pages.calculator import calculator_href, preset_flags
from site_builder.pages.figures import Fig, engine, stated
from site_builder.pages.labels import FIT_LABELS, LINEAR_KIND_LABELS, kv_cache_label
from site_builder.records import ModelRecord


def attention_kind(m: ModelRecord) -> str:
    a = m.architecture
    if a.kv_lora_rank:
        kind = "Multi-head latent attention (MLA)"
    else:
        kv = a.num_key_value_heads or a.num_attention_heads
        kind = (
            "Multi-head attention (MHA)"
            if kv == a.num_attention_heads
            else "Multi-query attention (MQA)"
            if kv == 1
            else "Grouped-query attention (GQA)"
        )
    if a.attention_chunk_size and a.layer_types:
        n = sum(t == "chunked_attention" for t in a.layer_types)
        kind += (
            f", chunked local attention ({a.attention_chunk_size:,}-token chunks) on {n} of {len(a.layer_types)} layers"
        )
    kind += linear_layers_note(m)
    if a.sliding_window:
        if a.layer_types:
            n = sum(t == "sliding_attention" for t in a.layer_types)
            kind += f", sliding window of {a.sliding_window:,} tokens on {n} of {len(a.layer_types)} layers"
        else:
            kind += f", sliding window of {a.sliding_window:,} tokens"
    return kind


def linear_layers_note(m: ModelRecord) -> str:
    """Which layers are linear-attention / SSM mixers (they keep a fixed state, no KV cache)."""
    la = m.architecture.linear_attention
    if la is None:
        return ""
    mixers = la.layer_mixers
    attention = sum(k in ("attention", "parallel") for k in mixers)
    linear = sum(k in ("linear", "parallel") for k in mixers)
    parallel = " in parallel with attention" if "parallel" in mixers else ""
    return (
        f" on {attention} of {len(mixers)} layers; {LINEAR_KIND_LABELS[la.kind]} layers{parallel} on {linear}, "
        "with a fixed per-sequence state instead of a KV cache"
    )


def source_note(m: ModelRecord, field: str) -> tuple[str, str | None]:
    for s in m.sources:
        if field in s.supports or any(x.startswith(field + ".") for x in s.supports):
            return (s.title or s.url), s.url
    return ("", None)


def stated_fig(m: ModelRecord, field: str, text: str) -> Fig:
    note, href = source_note(m, field)
    return stated(text, f"Source: {note}" if note else "Stated in the record; no source names this field.", href)


def runtime_name(c: Candidate) -> str:
    return c.framework.name if c.framework else c.engine


def setup_label(c: Candidate) -> str:
    return f"{c.setup.label} · {c.precision.label} · {runtime_name(c)}"


def deploy_slug(c: Candidate) -> str:
    # A local runtime's row (ONNX Runtime GenAI on a CPU) names its runtime: a server may use the same setup and format.
    if c.engine == "local" and c.framework is not None:
        return f"{c.setup.id}-{c.precision.id}-{c.framework.id}"
    return f"{c.setup.id}-{c.precision.id}"


def deploy_href(c: Candidate, base: str, model_id: str) -> str:
    return f"{base}deploy/{model_id}/{deploy_slug(c)}/"


def work_note(c: Candidate) -> str:
    w = c.workload
    return (
        f"{w.concurrency} concurrent requests, {w.prompt:,}-token prompts, {w.output:,}-token answers, "
        f"{c.precision.label} weights, {kv_cache_label(w.kv_precision)}, {runtime_name(c)} "
        f"({c.engine} efficiency factors)"
    )


def speed_fig(text: str, note: str, c: Candidate, key: str, bars: ErrorBars | None) -> Fig:
    """A speed figure whose note carries the engine's measured error for this metric, engine and hardware."""
    bar = bars.lookup_gpu(key, c.engine, c.setup.base) if bars else None
    tail = bar.text if bar else "no measured results bound this figure's error yet"
    return engine(text, f"{note}; {tail}" if note else tail)


@dataclass(frozen=True)
class CandidateView:
    """One setup's card or table row: speed, cost and memory at the serving workload, each with its note."""

    label: str
    gpu_href: str
    precision: str
    gpus: int
    framework: str
    score: Fig
    throughput: Fig
    itl: Fig
    ttft: Fig
    bound: str
    month: Fig
    per_million: Fig
    memory: Fig
    deploy_href: str
    preset_href: str  # the calculator, preset to this setup
    note: str


def candidate_view(
    c: Candidate, base: str, model_id: str, bars: ErrorBars | None = None, label: str | None = None
) -> CandidateView:
    """`label` names the row (default: the setup's label)."""
    s, cost = c.speed, c.cost
    note = work_note(c)
    return CandidateView(
        label=c.setup.label if label is None else label,
        gpu_href=f"{base}gpus/{c.setup.record.id}/",
        precision=c.precision.label,
        gpus=c.setup.count,
        framework=c.framework.name if c.framework else "unknown",
        score=engine(f"{c.score}/100", "Weighted score; see the methodology page."),
        throughput=speed_fig(
            F.tokens_per_s(s.output_tokens_per_s if s else None), note, c, "output_tokens_per_s", bars
        ),
        itl=speed_fig(F.ms(s.itl_ms if s else None), note, c, "itl_ms", bars),
        ttft=speed_fig(
            F.ms(s.ttft_ms if s else None),
            f"{c.workload.concurrency} users at once: waiting for earlier prompts' prefill chunks, then its own; "
            f"{F.ms(s.ttft_idle_ms if s else None)} on an idle server",
            c,
            "ttft_ms",
            bars,
        ),
        bound=s.step_bound if s else "unknown",
        month=engine(
            F.usd_month(cost.cost_per_month_usd if cost else None),
            (f"median of {cost.price_sources} sourced hourly prices × {c.setup.count} GPU(s) × {C.HOURS_PER_MONTH} h")
            if cost
            else "No sourced price for this GPU",
        ),
        per_million=engine(
            F.usd(cost.cost_per_million_tokens_usd if cost else None),
            "Cost per hour ÷ output tokens per hour at the stated workload",
        ),
        memory=engine(
            f"{F.gib(c.memory.total_bytes)} of {F.gib(c.memory.usable_bytes)} per GPU",
            f"Fit level: {FIT_LABELS[c.memory.fit_level]}",
        ),
        deploy_href=deploy_href(c, base, model_id),
        preset_href=calculator_href(base, model_id, preset_flags(c)),
        note=note,
    )


@dataclass(frozen=True)
class Row:
    """A labelled figure: one line of a key/value table or one memory card."""

    label: str
    fig: Fig
