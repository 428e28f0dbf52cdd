"""The page head: title, key facts and the one-paragraph brief."""

from __future__ import annotations

from dataclasses import dataclass

from site_builder.analysis import ModelData, SiteAnalysis
from site_builder.engine.plan import PER_TOKEN_KV
from site_builder.pages import format as F
from site_builder.pages.figures import Fig, engine, stated
from site_builder.pages.labels import kv_cache_label
from site_builder.pages.model.common import attention_kind, source_note, stated_fig
from site_builder.records import FamilyRecord, ModelRecord

# Precisions the brief quotes: the 16-bit size, then the first 4-bit format the catalog lists for the model.
SIXTEEN_BIT = ("bf16", "fp16")
FOUR_BIT = ("awq-int4", "q4_k_m", "int4", "mxfp4")
MIB = 2**20


@dataclass(frozen=True)
class Header:
    family: FamilyRecord | None
    kind: str
    params_total: Fig
    params_active: Fig
    context: Fig
    release: Fig
    license: Fig
    quality: Fig | None
    best_gpu: str | None
    brief: str


def header(md: ModelData, site: SiteAnalysis) -> Header:
    m, p = md.record, md.facts.params
    return Header(
        family=site.families.get(m.family),
        kind="MoE" if md.facts.shape.is_moe else "Dense",
        params_total=engine(F.params(p.total), f"{p.total:,} parameters counted from the architecture"),
        params_active=engine(
            F.params(p.active),
            f"{p.active:,}; excludes the input-embedding lookup"
            + (" and the vision tower, which encodes images rather than every token" if p.vision else ""),
        ),
        context=stated_fig(m, "context_window", f"{m.context_window:,} tokens"),
        release=stated_fig(m, "release_date", str(m.release_date) if m.release_date else "unknown"),
        license=license_fig(m),
        quality=quality_fig(md),
        best_gpu=md.best.setup.label if md.best else None,
        brief=brief(md),
    )


def quality_fig(md: ModelData) -> Fig | None:
    if not md.quality:
        return None
    return engine(
        f"{md.quality.value:.1f}",
        "Mean of: " + "; ".join(f"{s.benchmark} {s.value} ({s.setting})" for s in md.quality.inputs),
    )


def license_fig(m: ModelRecord) -> Fig:
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
    fp16 = next((r for r in a.precision_rows if r.precision.id in SIXTEEN_BIT), None)
    if fp16:
        text += f"Its weights take {F.gib(fp16.weights_bytes)} at 16-bit"
        q4 = next((r for r in a.precision_rows if r.precision.id in FOUR_BIT), None)
        text += f" and {F.gib(q4.weights_bytes)} at {q4.precision.label}. " if q4 else ". "
    text += f"Each token of context costs {a.kv_bytes_per_token:,} bytes of {kv_cache_label(PER_TOKEN_KV)}"
    state = md.facts.linear_state_bytes
    text += f", plus {state / MIB:,.1f} MiB of fixed state per sequence in its linear layers. " if state else ". "
    b = md.best
    if b and b.speed and b.cost:
        text += (
            f"For {b.workload.concurrency} concurrent users, the best-scoring setup is {b.setup.label} at "
            f"{b.precision.label} with {b.framework.name if b.framework else 'a batched server'}: about "
            f"{F.tokens_per_s(b.speed.output_tokens_per_s)} for {F.usd_month(b.cost.cost_per_month_usd)}."
        )
    return text
