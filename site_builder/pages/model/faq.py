"""Frequently asked questions, answered from the engine's results, and their schema.org FAQPage JSON-LD."""

from __future__ import annotations

from dataclasses import dataclass

from site_builder.analysis import ModelData
from site_builder.engine.estimate import CostResult, SpeedResult
from site_builder.engine.plan import PER_TOKEN_KV, Candidate
from site_builder.pages import format as F
from site_builder.pages.labels import kv_cache_label
from site_builder.render import script_json


@dataclass(frozen=True)
class Question:
    q: str
    a: str


def faq(md: ModelData) -> tuple[Question, ...]:
    m = md.record
    out = [_vram(md)]
    best = md.best
    if best and best.speed and best.cost:
        out += [_best_gpu(md, best, best.speed, best.cost), _cost(md, best, best.cost)]
    else:
        out.append(
            Question(
                f"What is the best GPU for {m.name}?",
                "No priced GPU setup in the catalog fits the serving workload; see the compatibility matrix.",
            )
        )
    own = _own_computer(md)
    if own:
        out.append(own)
    out.append(_one_gpu(md))
    return tuple(out)


def _vram(md: ModelData) -> Question:
    m, an, best = md.record, md.analysis, md.best
    weights = "; ".join(f"{F.gib(r.weights_bytes)} at {r.precision.label}" for r in an.precision_rows)
    return Question(
        f"How much VRAM does {m.name} need?",
        f"The weights alone take {weights}. On top of that, every token of context holds "
        f"{an.kv_bytes_per_token:,} bytes of {kv_cache_label(PER_TOKEN_KV)}, and a serving framework needs an "
        f"activation buffer and runtime memory."
        + (
            f" For {best.workload.concurrency} concurrent requests of {best.workload.context:,} tokens on "
            f"{best.setup.label} at {best.precision.label}, the engine estimates "
            f"{F.gib(best.memory.total_bytes)} per GPU."
            if best
            else ""
        ),
    )


def _best_gpu(md: ModelData, best: Candidate, speed: SpeedResult, cost: CostResult) -> Question:
    return Question(
        f"What is the best GPU for {md.record.name}?",
        f"For {best.workload.concurrency} concurrent requests ({best.workload.prompt:,}-token prompts, "
        f"{best.workload.output:,}-token answers), the highest-scoring setup is {best.setup.label} at "
        f"{best.precision.label}: about {F.tokens_per_s(speed.output_tokens_per_s)} of output, "
        f"{F.ms(speed.itl_ms)} between tokens, {F.usd_month(cost.cost_per_month_usd)} "
        f"({F.usd(cost.cost_per_million_tokens_usd)} per million output tokens).",
    )


def _cost(md: ModelData, best: Candidate, cost: CostResult) -> Question:
    api = md.api_prices
    return Question(
        f"How much does it cost to run {md.record.name}?",
        f"Self-hosted on {best.setup.label}, about {F.usd(cost.cost_per_million_tokens_usd)} "
        f"per million output tokens when the GPUs are kept busy at the stated workload, or "
        f"{F.usd_month(cost.cost_per_month_usd)} for the GPUs alone."
        + (
            f" The cheapest listed API charges {F.usd(api[0][1].output_usd_per_mtok)} "
            f"per million output tokens ({api[0][0].name}, as of {api[0][1].as_of})."
            if api
            else " No API prices are known for this model."
        ),
    )


def _own_computer(md: ModelData) -> Question | None:
    an = md.analysis
    cpu = [c for c in an.local if c.setup.record.segment == "cpu" and c.speed]
    personal = [c for c in an.local if c.setup.record.segment != "cpu" and c.speed]
    if not cpu and not personal:
        return None
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
    return Question(f"Can I run {md.record.name} on my own computer or a CPU?", " ".join(parts))


def _one_gpu(md: ModelData) -> Question:
    single = md.analysis.min_single_gpu
    return Question(
        f"Can {md.record.name} run on one GPU?",
        f"Yes: the smallest single GPU that fits the serving workload is {single.setup.label} at "
        f"{single.precision.label}."
        if single
        else "Not at the serving workload: it needs several GPUs with tensor parallelism.",
    )


def faq_jsonld(questions: tuple[Question, ...]) -> str:
    """schema.org FAQPage markup, so search engines can show the answers."""
    data = {
        "@context": "https://schema.org",
        "@type": "FAQPage",
        "mainEntity": [
            {"@type": "Question", "name": f.q, "acceptedAnswer": {"@type": "Answer", "text": f.a}} for f in questions
        ],
    }
    return script_json(data)
