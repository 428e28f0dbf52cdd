"""The model page (/models/<id>/): every section of the product guide, from the engine's results."""

from __future__ import annotations

from typing import Any

from site_builder.engine import constants as C
from site_builder.engine.calibrate import Comparison
from site_builder.engine.plan import MATRIX_PRECISIONS, Candidate
from site_builder.engine.precision import PRECISIONS
from site_builder.pages import charts
from site_builder.pages import format as F
from site_builder.pages.figures import Fig, engine, measured, stated
from site_builder.pages.site import ModelData, SiteData, compare_slug
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
    if a.sliding_window:
        if a.layer_types:
            n = sum(t == "sliding_attention" for t in a.layer_types)
            kind += f", sliding window of {a.sliding_window:,} tokens on {n} of {len(a.layer_types)} layers"
        else:
            kind += f", sliding window of {a.sliding_window:,} tokens"
    return kind


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
    return f"{c.setup.id}-{c.precision.id}"


def work_note(c: Candidate) -> str:
    w = c.workload
    return (
        f"{w.concurrency} concurrent requests, {w.prompt:,}-token prompts, {w.output:,}-token answers, "
        f"{c.precision.label} weights, 16-bit KV cache, {c.framework.name if c.framework else c.engine} "
        f"({c.engine} efficiency factors)"
    )


def candidate_view(c: Candidate, base: str, model_id: str) -> dict[str, Any]:
    s, cost = c.speed, c.cost
    note = work_note(c)
    return {
        "label": c.setup.label,
        "gpu_href": f"{base}gpus/{c.setup.record.id}/",
        "precision": c.precision.label,
        "gpus": c.setup.count,
        "framework": c.framework.name if c.framework else "unknown",
        "score": engine(f"{c.score}/100", "Weighted score; see the methodology page."),
        "throughput": engine(F.tokens_per_s(s.output_tokens_per_s if s else None), note),
        "itl": engine(F.ms(s.itl_ms if s else None), note),
        "ttft": engine(F.ms(s.ttft_ms if s else None), f"One {c.workload.prompt:,}-token prompt on an idle server"),
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
                        "label": C.FIT_LABELS.get(c.level, c.level),
                        "title": (
                            f"{F.gib(c.total_bytes)} needed of {F.gib(c.usable_bytes)} usable per GPU"
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


def _local_view(c: Candidate, base: str) -> dict[str, Any]:
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
        "speed": engine(F.tokens_per_s(s.decode_tokens_per_s if s else None), note),
        "ttft": engine(F.ms(s.ttft_ms if s else None), "compute rate unknown" if s and s.ttft_ms is None else note),
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
    text += f"Each token of context costs {a.kv_bytes_per_token:,} bytes of 16-bit KV cache. "
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
    recs = [candidate_view(c, base, m.id) for c in an.recommendations]
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
    breakeven = []
    if md.api_prices:
        cheapest = md.api_prices[0][1].output_usd_per_mtok
        for c in an.recommendations:
            if c.cost and c.cost.cost_per_million_tokens_usd and cheapest > 0:
                util = c.cost.cost_per_million_tokens_usd / cheapest
                breakeven.append(
                    {
                        "label": setup_label(c),
                        "self": F.usd(c.cost.cost_per_million_tokens_usd),
                        "api": F.usd(cheapest),
                        "utilization": engine(
                            F.percent(min(util, 9.99)),
                            "Self-hosting costs the same per token as the cheapest API "
                            "when the GPUs are busy this share of the time",
                        ),
                    }
                )
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
        "params_active": engine(F.params(p.active), f"{p.active:,}; excludes the input-embedding lookup"),
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
        "min_single": candidate_view(min_single, base, m.id) if min_single else None,
        "multi": candidate_view(multi, base, m.id) if multi else None,
        "throughput_chart": throughput_chart,
        "local_rows": [_local_view(c, base) for c in an.local],
        "local_note": (
            f"One user, {an.local[0].workload.prompt:,}-token prompt, {an.local[0].workload.output:,}-token answer; "
            "the fastest format that fits each device"
        )
        if an.local
        else "",
        "throughput_rows": [candidate_view(c, base, m.id) | {"label": setup_label(c)} for c in tput],
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
