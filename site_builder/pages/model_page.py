"""The model page (/models/<id>/): every section of the product guide, from the engine's results."""

from __future__ import annotations

from typing import Any

from site_builder.engine import constants as C
from site_builder.engine.calibrate import Comparison
from site_builder.engine.errorbars import ErrorBars, hardware_class
from site_builder.engine.money import api_usd_per_request, breakeven_share, self_usd_per_request
from site_builder.engine.plan import MATRIX_PRECISIONS, Candidate, full_load
from site_builder.engine.precision import PRECISIONS
from site_builder.pages import charts
from site_builder.pages import format as F
from site_builder.pages.calculator import calculator_view, preset_query
from site_builder.pages.figures import Fig, engine, measured, stated
from site_builder.pages.matrix_cells import cell_label, cell_preset, shorter_fit
from site_builder.pages.site import ModelData, SiteData, compare_slug
from site_builder.pages.throughput_latency import throughput_latency_chart
from site_builder.records import BenchmarkRecord, ModelRecord

CAPABILITY_LABELS = {
    "chat": "Chat",
    "tool-use": "Tool use",
    "vision": "Vision",
    "code": "Code",
    "math": "Math",
    "reasoning": "Reasoning",
    "multilingual": "Multilingual",
    "structured-output": "Structured output",
    "long-context": "Long context",
}
FIT_ORDER = ["no-fit", "very-tight", "tight", "moderate", "good", "excellent"]


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


LINEAR_KIND_LABEL = {
    "gated_deltanet": "Gated DeltaNet",
    "kimi_delta": "Kimi delta attention",
    "mamba2": "Mamba-2 state-space",
}


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
        f" on {attention} of {len(mixers)} layers; {LINEAR_KIND_LABEL[la.kind]} layers{parallel} on {linear}, "
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


def setup_label(c: Candidate) -> str:
    return f"{c.setup.label} · {c.precision.label} · {c.framework.name if c.framework else c.engine}"


def deploy_slug(c: Candidate) -> str:
    # A local runtime's row (ONNX Runtime GenAI on a CPU) names its runtime: a server may use the same setup and format.
    if c.engine == "local" and c.framework is not None:
        return f"{c.setup.id}-{c.precision.id}-{c.framework.id}"
    return f"{c.setup.id}-{c.precision.id}"


def work_note(c: Candidate) -> str:
    w = c.workload
    return (
        f"{w.concurrency} concurrent requests, {w.prompt:,}-token prompts, {w.output:,}-token answers, "
        f"{c.precision.label} weights, 16-bit KV cache, {c.framework.name if c.framework else c.engine} "
        f"({c.engine} efficiency factors)"
    )


def _breakeven(md: ModelData) -> list[dict[str, Any]]:
    """Per recommended setup: dollars per request at the stated load and at full load, against the cheapest API."""
    if not md.api_prices:
        return []
    an = md.analysis
    w = an.serve_workload
    prov, ap = min(
        md.api_prices,
        key=lambda t: api_usd_per_request(t[1].input_usd_per_mtok, t[1].output_usd_per_mtok, w.prompt, w.output),
    )
    api = api_usd_per_request(ap.input_usd_per_mtok, ap.output_usd_per_mtok, w.prompt, w.output)
    api_note = (
        f"{prov.name}, as of {ap.as_of}: {w.prompt:,} input tokens at {F.usd(ap.input_usd_per_mtok)}/M plus "
        f"{w.output:,} output tokens at {F.usd(ap.output_usd_per_mtok)}/M"
    )
    rows = []
    for c in an.recommendations:
        if c.cost is None or c.speed is None or not c.speed.output_tokens_per_s or w.output < 1:
            continue
        hourly = c.cost.price_per_hour_usd
        stated_cost = self_usd_per_request(hourly, c.speed.output_tokens_per_s, w.output)
        full = full_load(an.facts, c)
        full_tps = full.speed.output_tokens_per_s if full else None
        busy = self_usd_per_request(hourly, full_tps, w.output) if full_tps else None
        share = breakeven_share(busy, api) if busy is not None else None
        if busy is None:
            verdict = engine("unknown", "no throughput estimate at full load")
        elif share is None:
            verdict = engine(
                "never",
                "The API is cheaper even when the GPUs are busy all month: at full load a request costs "
                f"{F.usd_request(busy)} self-hosted against {F.usd_request(api)} from the API",
            )
        else:
            verdict = engine(
                F.percent(share),
                "Self-hosting costs the same per request as the cheapest API when the GPUs are busy at full load "
                "this share of the month (rent is paid whether or not they are)",
            )
        rows.append(
            {
                "label": setup_label(c),
                "self": engine(
                    F.usd_request(stated_cost),
                    f"{F.usd(hourly)}/h ÷ requests per hour at {w.concurrency} concurrent users",
                ),
                "busy": engine(
                    F.usd_request(busy) if busy is not None else "unknown",
                    f"{full.concurrency} concurrent users, the throughput-optimal load that fits" if full else "",
                ),
                "api": engine(F.usd_request(api), api_note),
                "utilization": verdict,
            }
        )
    return rows


def speed_fig(text: str, note: str, c: Candidate, key: str, bars: ErrorBars | None) -> Fig:
    """A speed figure whose note carries the engine's measured error for this metric, engine and hardware."""
    bar = bars.lookup(key, c.engine, hardware_class(c.setup.base)) if bars else None
    tail = bar.text if bar else "no measured results bound this figure's error yet"
    return engine(text, f"{note}; {tail}" if note else tail)


def candidate_view(c: Candidate, base: str, model_id: str, bars: ErrorBars | None = None) -> dict[str, Any]:
    s, cost = c.speed, c.cost
    note = work_note(c)
    return {
        "label": c.setup.label,
        "gpu_href": f"{base}gpus/{c.setup.record.id}/",
        "precision": c.precision.label,
        "gpus": c.setup.count,
        "framework": c.framework.name if c.framework else "unknown",
        "score": engine(f"{c.score}/100", "Weighted score; see the methodology page."),
        "throughput": speed_fig(
            F.tokens_per_s(s.output_tokens_per_s if s else None), note, c, "output_tokens_per_s", bars
        ),
        "itl": speed_fig(F.ms(s.itl_ms if s else None), note, c, "itl_ms", bars),
        "ttft": speed_fig(
            F.ms(s.ttft_ms if s else None),
            f"{c.workload.concurrency} users at once: waiting for earlier prompts' prefill chunks, then its own; "
            f"{F.ms(s.ttft_idle_ms if s else None)} on an idle server",
            c,
            "ttft_ms",
            bars,
        ),
        "bound": s.step_bound if s else "unknown",
        "month": engine(
            F.usd_month(cost.cost_per_month_usd if cost else None),
            (f"median of {cost.price_sources} sourced hourly prices × {c.setup.count} GPU(s) × {C.HOURS_PER_MONTH} h")
            if cost
            else "No sourced price for this GPU",
        ),
        "per_million": engine(
            F.usd(cost.cost_per_million_tokens_usd if cost else None),
            "Cost per hour ÷ output tokens per hour at the stated workload",
        ),
        "memory": engine(
            f"{F.gib(c.memory.total_bytes)} of {F.gib(c.memory.usable_bytes)} per GPU",
            f"Fit level: {C.FIT_LABELS[c.memory.fit_level]}",
        ),
        "deploy_href": f"{base}deploy/{model_id}/{deploy_slug(c)}/",
        "preset_href": f"{base}models/{model_id}/?{preset_query(c)}#calculator",
        "note": note,
    }


def _measured_rows(md: ModelData, site: SiteData, base: str) -> list[dict[str, Any]]:
    rows = []
    gpus = site.gpus
    for item in md.benchmarks:
        rec: BenchmarkRecord = item.record if isinstance(item, Comparison) else item
        predicted = item.predicted if isinstance(item, Comparison) else None
        gpu = gpus.get(rec.gpu or "")
        w = rec.workload
        rows.append(
            {
                "metric": rec.metric.replace("_", " "),
                "setup": f"{rec.gpu_count}× {gpu.short_name if gpu else (rec.gpu or 'unstated GPU')}",
                "precision": PRECISIONS[rec.precision].label if rec.precision else "not stated",
                "framework": site.frameworks[rec.framework].name
                if rec.framework in site.frameworks
                else (rec.framework or "—"),
                "workload": ", ".join(
                    x
                    for x in [
                        f"batch {w.concurrency}" if w.concurrency else "",
                        f"prompt {w.prompt_tokens:,}" if w.prompt_tokens is not None else "",
                        f"output {w.output_tokens:,}" if w.output_tokens is not None else "",
                    ]
                    if x
                )
                or "not stated",
                "measured": measured(f"{rec.value:,.2f} {rec.unit}", f"{rec.source.quote}", rec.source.url),
                "estimate": engine(f"{predicted:,.2f}", "Engine estimate for the same setup and workload")
                if predicted is not None
                else None,
                "diff": f"{(predicted - rec.value) / rec.value:+.0%}" if predicted is not None else "—",
                "kind": "random weights" if rec.kind == "random-weights" else "measured",
                "date": rec.date or "undated",
            }
        )
    return rows


def matrix_view(md: ModelData, base: str) -> dict[str, Any]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in md.analysis.matrix:
        rec = row.setup.record
        key = rec.architecture if rec.segment not in ("cpu",) else "CPU only"
        groups.setdefault(key, []).append(
            {
                "label": row.setup.label,
                "href": f"{base}gpus/{rec.id}/",
                "memory": F.gib(row.setup.capacity_bytes * row.setup.count if row.setup.capacity_bytes else None, 0),
                "cells": [
                    {
                        "level": c.level,
                        "label": cell_label(c),
                        "href": cell_preset(md.record.id, row.setup, c, base),
                        "title": (
                            f"{F.gib(c.total_bytes)} needed of {F.gib(c.usable_bytes)} usable per GPU"
                            + (f"; one sequence of up to {c.max_context:,} tokens fits" if shorter_fit(c) else "")
                            if c.total_bytes is not None
                            else "GPU cannot run this precision"
                            if c.level == "n/a"
                            else "memory unknown"
                        ),
                    }
                    for c in row.cells
                ],
            }
        )
    # By vendor, then newest generation first (latest release year among its GPUs); CPU profiles last.
    vendors = ("nvidia", "amd", "intel", "apple", "cpu")
    rank: dict[str, tuple[int, int]] = {}
    for row in md.analysis.matrix:
        rec = row.setup.record
        key = rec.architecture if rec.segment != "cpu" else "CPU only"
        year = max(row.setup.base.release_year or 0, rec.release_year or 0)
        vendor, best = rank.get(key, (vendors.index(rec.vendor), 0))
        rank[key] = (vendor, max(best, year))
    ordered = sorted(groups.items(), key=lambda kv: (rank[kv[0]][0], -rank[kv[0]][1], kv[0]))
    w = md.analysis.fit_workload
    cols = [PRECISIONS[p].label for p in MATRIX_PRECISIONS]
    return {
        "columns": cols,
        "groups": [{"name": name, "rows": rows} for name, rows in ordered],
        "share": F.percent(md.analysis.fit_share),
        "cells": md.analysis.fit_cells,
        "gpu_count": len(md.analysis.matrix),
        "workload": f"one sequence of {w.context:,} tokens, 16-bit KV cache",
        "legend": [{"level": lv, "label": C.FIT_LABELS[lv]} for lv in FIT_ORDER],
    }


def _parts(c: Candidate) -> dict[str, int]:
    mem = c.memory
    return {
        "Weights": mem.weights_bytes,
        "KV cache": mem.kv_cache_bytes,
        "Activations": mem.activations_bytes,
        "Runtime overhead": mem.overhead_bytes,
    }


SEGMENT_LABELS = {
    "consumer": "Consumer GPU",
    "workstation": "Workstation GPU",
    "apple-silicon": "Mac (unified memory)",
    "cpu": "CPU only",
}


def _local_view(
    c: Candidate, base: str, model_id: str, with_deploy: bool, bars: ErrorBars | None = None
) -> dict[str, Any]:
    s = c.speed
    note = (
        f"single stream, {c.precision.label}, {c.framework.name if c.framework else c.engine} "
        f"({c.engine} efficiency factors)"
    )
    return {
        "label": c.setup.label,
        "href": f"{base}gpus/{c.setup.record.id}/",
        "segment": SEGMENT_LABELS.get(c.setup.record.segment, c.setup.record.segment),
        "precision": c.precision.label,
        "framework": c.framework.name if c.framework else "—",
        "deploy_href": f"{base}deploy/{model_id}/{deploy_slug(c)}/" if with_deploy else None,
        "speed": speed_fig(F.tokens_per_s(s.decode_tokens_per_s if s else None), note, c, "decode_tokens_per_s", bars),
        "ttft": speed_fig(
            F.ms(s.ttft_ms if s else None),
            "compute rate unknown" if s and s.ttft_ms is None else note,
            c,
            "ttft_ms",
            bars,
        ),
        "memory": engine(
            f"{F.gib(c.memory.total_bytes)} of {F.gib(c.memory.usable_bytes)}",
            f"fit: {C.FIT_LABELS[c.memory.fit_level]}",
        ),
    }


def _license_fig(m: ModelRecord) -> Fig:
    """The short license id on the card; its full name and source in the note."""
    if m.license is None:
        return stated_fig(m, "license", "unknown")
    note, href = source_note(m, "license")
    commercial = {True: "commercial use allowed", False: "no commercial use", None: "commercial use not stated"}
    text = f"{m.license.name} ({commercial[m.license.commercial_use]})" + (f". Source: {note}" if note else "")
    return stated(m.license.id, text, href or m.license.url)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def brief(md: ModelData) -> str:
    m, a = md.record, md.analysis
    p = md.facts.params
    kind = "mixture-of-experts" if md.facts.shape.is_moe else "dense"
    text = (
        f"{m.name} is a {kind} model from {m.organization} with {F.params(p.total)} parameters"
        + (f" ({F.params(p.active)} active per token)" if md.facts.shape.is_moe else "")
        + f" and a {m.context_window:,}-token context window, using {_lower_first(attention_kind(m))}. "
    )
    fp16 = next((r for r in a.precision_rows if r.precision.id in ("bf16", "fp16")), None)
    if fp16:
        text += f"Its weights take {F.gib(fp16.weights_bytes)} at 16-bit"
        q4 = next((r for r in a.precision_rows if r.precision.id in ("awq-int4", "q4_k_m", "int4", "mxfp4")), None)
        text += f" and {F.gib(q4.weights_bytes)} at {q4.precision.label}. " if q4 else ". "
    text += f"Each token of context costs {a.kv_bytes_per_token:,} bytes of 16-bit KV cache"
    state = md.facts.linear_state_bytes
    text += f", plus {state / 2**20:,.1f} MiB of fixed state per sequence in its linear layers. " if state else ". "
    b = md.best
    if b and b.speed and b.cost:
        text += (
            f"For {b.workload.concurrency} concurrent users, the best-scoring setup is {b.setup.label} at "
            f"{b.precision.label} with {b.framework.name if b.framework else 'a batched server'}: about "
            f"{F.tokens_per_s(b.speed.output_tokens_per_s)} for {F.usd_month(b.cost.cost_per_month_usd)}."
        )
    return text


def model_page(md: ModelData, site: SiteData, base: str) -> dict[str, Any]:
    m, an, facts = md.record, md.analysis, md.facts
    a, p = m.architecture, facts.params
    s = facts.shape
    recs = [candidate_view(c, base, m.id, site.error_bars) for c in an.recommendations]
    arch_rows = [
        ("Type", engine("Mixture of experts" if s.is_moe else "Dense")),
        ("Total parameters", engine(f"{p.total:,}", "Counted from the architecture; see methodology")),
        ("Active parameters per token", engine(f"{p.active:,}", "Excludes the input-embedding lookup")),
        ("Layers", stated_fig(m, "architecture", str(a.num_hidden_layers))),
        ("Hidden size", stated_fig(m, "architecture", f"{a.hidden_size:,}")),
        ("Attention heads", stated_fig(m, "architecture", str(a.num_attention_heads))),
        ("KV heads", stated_fig(m, "architecture", str(s.kv_heads))),
        ("Head dimension", stated_fig(m, "architecture", str(s.head_dim))),
        ("Attention", stated_fig(m, "architecture", attention_kind(m))),
        ("Vocabulary", stated_fig(m, "architecture", f"{a.vocab_size:,}")),
        (
            "FFN size",
            stated_fig(m, "architecture", f"{a.intermediate_size:,}" + (" (dense layers)" if s.is_moe else "")),
        ),
    ]
    if s.is_moe:
        arch_rows.append(
            (
                "Experts",
                stated_fig(
                    m,
                    "architecture",
                    f"{s.experts} routed, {s.experts_per_token} per token"
                    + (f", {a.n_shared_experts} shared" if a.n_shared_experts else "")
                    + f", expert FFN {s.expert_ffn:,}, {s.moe_layers} MoE layers",
                ),
            )
        )
    if m.vision:
        arch_rows.append(("Vision tower", stated_fig(m, "vision", f"{m.vision.name}, {m.vision.params:,} parameters")))
    if m.audio:
        arch_rows.append(("Audio encoder", stated_fig(m, "audio", f"{m.audio.name}, {m.audio.params:,} parameters")))
    memory_rows = [
        {"label": f"{r.precision.label} weights", "fig": engine(F.gib(r.weights_bytes), r.precision.note)}
        for r in an.precision_rows
    ]
    best = md.best
    vram = None
    if best:
        mem = best.memory
        parts = _parts(best)
        vram = {
            "setup": setup_label(best),
            "note": work_note(best) + " — per GPU",
            "rows": [{"label": k, "fig": engine(F.gib(v), "per GPU")} for k, v in parts.items()],
            "total": engine(F.gib(mem.total_bytes)),
            "usable": engine(
                F.gib(mem.usable_bytes), f"{F.gib(best.setup.capacity_bytes)} × {best.setup.usable_fraction:.0%} usable"
            ),
            "chart": charts.stacked(
                f"chart-vram-{m.id}",
                "Memory per GPU for the recommended setups, against usable memory",
                [f"{c.setup.label} {c.precision.label}" for c in an.recommendations],
                {k: [_parts(c)[k] / F.GIB for c in an.recommendations] for k in parts},
                "GiB",
                [c.memory.usable_bytes / F.GIB for c in an.recommendations],
            ),
        }
    tput = [c for c in an.candidates if c.speed and c.speed.output_tokens_per_s][:12]
    throughput_chart = (
        charts.bar(
            f"chart-throughput-{m.id}",
            "Output tokens/s by setup",
            [f"{c.setup.label} {c.precision.label}" for c in tput],
            [c.speed.output_tokens_per_s or 0 for c in tput if c.speed],
            "output tokens/s",
            [work_note(c) for c in tput],
        )
        if tput
        else None
    )
    prec_rows = []
    for r in an.precision_rows:
        c = r.best
        prec_rows.append(
            {
                "label": r.precision.label,
                "weights": engine(F.gib(r.weights_bytes), r.precision.note),
                "setup": setup_label(c) if c else "no setup fits the serving workload",
                "per_gpu": engine(F.gib(c.memory.weights_bytes)) if c else None,
                "throughput": engine(
                    F.tokens_per_s(c.speed.output_tokens_per_s if c and c.speed else None), work_note(c) if c else ""
                ),
            }
        )
    prec_chart = charts.bar(
        f"chart-precision-{m.id}",
        "Weights by precision",
        [r.precision.label for r in an.precision_rows],
        [r.weights_bytes / F.GIB for r in an.precision_rows],
        "GiB",
        [r.precision.note for r in an.precision_rows],
    )
    api_rows = [
        {
            "provider": prov.name,
            "href": prov.url,
            "input": stated(F.usd(ap.input_usd_per_mtok), f"as of {ap.as_of}", ap.source),
            "output": stated(F.usd(ap.output_usd_per_mtok), f"as of {ap.as_of}", ap.source),
            "note": ap.note or "",
        }
        for prov, ap in md.api_prices
    ]
    breakeven = _breakeven(md)
    quality = None
    if md.quality:
        quality = engine(
            f"{md.quality.value:.1f}",
            "Mean of: " + "; ".join(f"{s.benchmark} {s.value} ({s.setting})" for s in md.quality.inputs),
        )
    similar = [
        {
            "name": s.model.name,
            "href": f"{base}models/{s.model.id}/",
            "compare": f"{base}compare/{compare_slug(m.id, s.model.id)}/",
            "relations": ", ".join(s.relations).capitalize(),
            "params": F.params(site.models[s.model.id].facts.params.total),
            "kind": "MoE" if site.models[s.model.id].facts.shape.is_moe else "dense",
            "score": f"{s.score:.2f}",
        }
        for s in md.similar
    ]
    min_single = an.min_single_gpu
    multi = an.best_multi_gpu
    faq = _faq(md, an, best)
    return {
        "model": m,
        "title": f"{m.name}: GPU requirements, VRAM, speed and cost",
        "description": f"What it takes to self-host {m.name}: memory at every precision, which GPUs it fits, "
        f"throughput and cost per million tokens.",
        "family": site.families.get(m.family),
        "kind": "MoE" if s.is_moe else "Dense",
        "params_total": engine(F.params(p.total), f"{p.total:,} parameters counted from the architecture"),
        "params_active": engine(
            F.params(p.active),
            f"{p.active:,}; excludes the input-embedding lookup"
            + (" and the vision tower, which encodes images rather than every token" if p.vision else ""),
        ),
        "context": stated_fig(m, "context_window", f"{m.context_window:,} tokens"),
        "release": stated_fig(m, "release_date", str(m.release_date) if m.release_date else "unknown"),
        "license": _license_fig(m),
        "quality": quality,
        "best_gpu": best.setup.label if best else None,
        "brief": brief(md),
        "arch_rows": arch_rows,
        "memory_rows": memory_rows,
        "kv_per_token": engine(
            f"{an.kv_bytes_per_token:,} bytes",
            "2 × layers × KV heads × head dim × 2 bytes (MLA: latent + rope key per layer)",
        ),
        "kv_per_token_fp8": engine(f"{an.kv_bytes_per_token_fp8:,} bytes", "FP8 KV cache"),
        "kv_context": engine(F.gib(best.memory.kv_cache_bytes) if best else "unknown", work_note(best) if best else ""),
        "activation": engine(
            F.gib(best.memory.activations_bytes) if best else "unknown",
            "Activation buffer for the framework's batch of tokens plus sampler logits",
        ),
        "matrix": matrix_view(md, base),
        "recommendations": recs,
        "serve_note": work_note(best) if best else "",
        "api_rows": api_rows,
        "breakeven": breakeven,
        "min_single": candidate_view(min_single, base, m.id, site.error_bars) if min_single else None,
        "multi": candidate_view(multi, base, m.id, site.error_bars) if multi else None,
        "throughput_chart": throughput_chart,
        "latency_chart": throughput_latency_chart(md),
        "local_rows": [_local_view(c, base, m.id, c in an.local_runtimes, site.error_bars) for c in an.local],
        "local_note": (
            f"One user, {an.local[0].workload.prompt:,}-token prompt, {an.local[0].workload.output:,}-token answer; "
            "the fastest format that fits each device"
            + (
                f"; {' and '.join(sorted({c.framework.name for c in an.local_runtimes if c.framework}))} rows show "
                "that runtime's own format on every CPU profile it runs on and on the smallest GPU or Mac that holds it"
                if an.local_runtimes
                else ""
            )
        )
        if an.local
        else "",
        "throughput_rows": [candidate_view(c, base, m.id, site.error_bars) | {"label": setup_label(c)} for c in tput],
        "vram": vram,
        "prec_rows": prec_rows,
        "prec_chart": prec_chart,
        "capabilities": [
            {"id": cap, "label": label, "has": cap in m.capabilities} for cap, label in CAPABILITY_LABELS.items()
        ],
        "frameworks": [
            {
                "name": site.frameworks[f].name if f in site.frameworks else f,
                "href": site.frameworks[f].url if f in site.frameworks else None,
            }
            for f in m.frameworks
        ],
        "precisions": [{"label": PRECISIONS[x].label, "native": x == m.native_precision} for x in m.precisions],
        "measured": _measured_rows(md, site, base),
        "similar": similar,
        "faq": faq,
        "scores": [
            {"benchmark": sc.benchmark, "value": stated(f"{sc.value}", sc.setting, sc.source), "setting": sc.setting}
            for sc in m.scores
        ],
        "sources": m.sources,
        "charts": True,
        "calculator": calculator_view(md, site, base),
    }


def _faq(md: ModelData, an: Any, best: Candidate | None) -> list[dict[str, str]]:
    m = md.record
    weights = "; ".join(f"{F.gib(r.weights_bytes)} at {r.precision.label}" for r in an.precision_rows)
    out = [
        {
            "q": f"How much VRAM does {m.name} need?",
            "a": (
                f"The weights alone take {weights}. On top of that, every token of context holds "
                f"{an.kv_bytes_per_token:,} bytes of 16-bit KV cache, and a serving framework needs an activation "
                f"buffer and runtime memory."
                + (
                    f" For {best.workload.concurrency} concurrent requests of {best.workload.context:,} tokens on "
                    f"{best.setup.label} at {best.precision.label}, the engine estimates "
                    f"{F.gib(best.memory.total_bytes)} per GPU."
                    if best
                    else ""
                )
            ),
        }
    ]
    if best and best.speed and best.cost:
        out.append(
            {
                "q": f"What is the best GPU for {m.name}?",
                "a": (
                    f"For {best.workload.concurrency} concurrent requests ({best.workload.prompt:,}-token prompts, "
                    f"{best.workload.output:,}-token answers), the highest-scoring setup is {best.setup.label} at "
                    f"{best.precision.label}: about {F.tokens_per_s(best.speed.output_tokens_per_s)} of output, "
                    f"{F.ms(best.speed.itl_ms)} between tokens, {F.usd_month(best.cost.cost_per_month_usd)} "
                    f"({F.usd(best.cost.cost_per_million_tokens_usd)} per million output tokens)."
                ),
            }
        )
        out.append(
            {
                "q": f"How much does it cost to run {m.name}?",
                "a": (
                    f"Self-hosted on {best.setup.label}, about {F.usd(best.cost.cost_per_million_tokens_usd)} "
                    f"per million output tokens when the GPUs are kept busy at the stated workload, or "
                    f"{F.usd_month(best.cost.cost_per_month_usd)} for the GPUs alone."
                    + (
                        f" The cheapest listed API charges {F.usd(md.api_prices[0][1].output_usd_per_mtok)} "
                        f"per million output tokens ({md.api_prices[0][0].name}, as of {md.api_prices[0][1].as_of})."
                        if md.api_prices
                        else " No API prices are known for this model."
                    )
                ),
            }
        )
    else:
        out.append(
            {
                "q": f"What is the best GPU for {m.name}?",
                "a": "No priced GPU setup in the catalog fits the serving workload; see the compatibility matrix.",
            }
        )
    cpu = [c for c in an.local if c.setup.record.segment == "cpu" and c.speed]
    personal = [c for c in an.local if c.setup.record.segment != "cpu" and c.speed]
    if cpu or personal:
        parts = []
        if personal:
            top = personal[0]
            parts.append(
                f"On {top.setup.label} at {top.precision.label}, one user gets about "
                f"{F.tokens_per_s(top.speed.decode_tokens_per_s if top.speed else None)}."
            )
        if cpu:
            best_cpu = max(cpu, key=lambda c: c.speed.decode_tokens_per_s if c.speed else 0)
            parts.append(
                f"CPU only: about {F.tokens_per_s(best_cpu.speed.decode_tokens_per_s if best_cpu.speed else None)}"
                f" on {best_cpu.setup.label} at {best_cpu.precision.label} (memory bandwidth bound)."
            )
        out.append({"q": f"Can I run {m.name} on my own computer or a CPU?", "a": " ".join(parts)})
    out.append(
        {
            "q": f"Can {m.name} run on one GPU?",
            "a": (
                f"Yes: the smallest single GPU that fits the serving workload is {an.min_single_gpu.setup.label} at "
                f"{an.min_single_gpu.precision.label}."
                if an.min_single_gpu
                else "Not at the serving workload: it needs several GPUs with tensor parallelism."
            ),
        }
    )
    return out
