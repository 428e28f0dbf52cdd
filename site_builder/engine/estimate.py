"""One estimate: a model on a GPU setup at a precision and workload -> memory, fit, speed and cost."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from site_builder.engine import constants as C
from site_builder.engine.hardware import Setup
from site_builder.engine.memory import (
    ModelFacts,
    activation_bytes,
    kv_bytes,
    kv_bytes_per_token,
    kv_share_per_gpu,
    overhead_bytes,
    weight_bytes,
    weight_bytes_per_gpu,
)
from site_builder.engine.precision import Precision, compute_rate_for
from site_builder.records.framework import EngineClass

FitLevel = Literal["no-fit", "very-tight", "tight", "moderate", "good", "excellent"]


@dataclass(frozen=True)
class Workload:
    context: int  # tokens held per sequence (prompt + output for serving)
    concurrency: int
    prompt: int
    output: int
    kv_precision: str = "fp16"

    @property
    def decode_context(self) -> int:
        """Average context over the answer: the prompt plus half the output."""
        return self.prompt + self.output // 2


@dataclass(frozen=True)
class MemoryResult:
    weights_bytes_total: int
    weights_bytes: int  # per GPU
    kv_cache_bytes_per_token: int  # whole model, 16-bit or the chosen KV precision, before window caps
    kv_cache_bytes: int  # per GPU, for the workload
    activations_bytes: int
    overhead_bytes: int
    total_bytes: int
    usable_bytes: int
    fits: bool
    fit_level: FitLevel
    max_context: int
    max_concurrency: int


@dataclass(frozen=True)
class SpeedResult:
    decode_tokens_per_s: float
    output_tokens_per_s: float | None
    itl_ms: float
    ttft_ms: float | None
    step_bound: Literal["memory", "compute"]
    step_time_s: float
    step_floor_s: float  # bytes / peak bandwidth and flops / peak: nothing may beat it
    prefill_time_s: float | None
    prefill_floor_s: float | None
    bytes_per_step: float
    flops_per_step: float
    compute_rate: str | None


@dataclass(frozen=True)
class CostResult:
    price_per_hour_usd: float  # whole setup
    price_sources: int
    cost_per_month_usd: float
    cost_per_million_tokens_usd: float | None


def fit_level(ratio: float) -> FitLevel:
    level: FitLevel
    for level, limit in C.FIT_LEVELS:  # type: ignore[assignment]
        if ratio <= limit:
            return level
    return "no-fit"


def memory(
    facts: ModelFacts, prec: Precision, setup: Setup, work: Workload, engine: EngineClass
) -> MemoryResult | None:
    usable = setup.usable_bytes
    if usable is None:
        return None
    n = setup.count
    batched = engine == "batched-server"
    weights = weight_bytes_per_gpu(facts, prec, n)
    share = kv_share_per_gpu(facts, n)
    kv = int(kv_bytes(facts, work.kv_precision, work.context, work.concurrency) * share)
    act = activation_bytes(facts, batched, work.concurrency, n)
    over = overhead_bytes(batched)
    total = weights + kv + act + over
    free = usable - weights - act - over
    return MemoryResult(
        weights_bytes_total=weight_bytes(facts, prec),
        weights_bytes=weights,
        kv_cache_bytes_per_token=kv_bytes_per_token(facts, work.kv_precision),
        kv_cache_bytes=kv,
        activations_bytes=act,
        overhead_bytes=over,
        total_bytes=total,
        usable_bytes=usable,
        fits=total <= usable,
        fit_level=fit_level(total / usable),
        max_context=_max_context(facts, work, share, free),
        max_concurrency=_max_concurrency(facts, work, share, usable - weights - over, batched, n),
    )


def _max_context(facts: ModelFacts, work: Workload, share: float, free: int) -> int:
    """Largest context (up to the model's window) whose KV for `concurrency` sequences fits in `free`."""

    def fits(ctx: int) -> bool:
        return kv_bytes(facts, work.kv_precision, ctx, work.concurrency) * share <= free

    if free <= 0 or not fits(1):
        return 0
    lo, hi = 1, facts.context_window
    if fits(hi):
        return hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    return lo


def _max_concurrency(facts: ModelFacts, work: Workload, share: float, room: int, batched: bool, gpus: int) -> int:
    """Most sequences of `work.context` tokens that fit in `room` (usable memory less weights and overhead).

    Each sequence needs its KV cache; the first MAX_SAMPLED_SEQUENCES also need their sampler buffers, which
    grow with the batch, so they are counted per sequence rather than at the workload's concurrency.
    """
    fixed = activation_bytes(facts, batched, 0, gpus)
    sampler = activation_bytes(facts, batched, 1, gpus) - fixed
    per_kv = math.ceil(kv_bytes(facts, work.kv_precision, work.context, 1) * share)
    room -= fixed
    if room <= 0 or per_kv <= 0:
        return 0
    sampled = int(room // (per_kv + sampler))
    cap = C.MAX_SAMPLED_SEQUENCES
    if sampled <= cap:
        return sampled
    return cap + int((room - cap * (per_kv + sampler)) // per_kv)


def _experts_touched_fraction(facts: ModelFacts, tokens: int) -> float:
    """Expected share of a layer's experts that `tokens` tokens route to, under uniform routing."""
    s = facts.shape
    if not s.is_moe:
        return 1.0
    miss = (1 - s.experts_per_token / s.experts) ** tokens
    return 1 - miss


def bytes_read_per_step(
    facts: ModelFacts, prec: Precision, setup: Setup, work: Workload, tokens: int, shards: int | None = None
) -> float:
    """Weights the step must stream from memory (per GPU) plus the batch's KV cache.

    `shards` is how many GPUs split the work of one step (tensor parallel: all of them; a layer-split
    pipeline runs its GPUs one after another, so a step streams the whole model: 1).
    """
    p = facts.params
    n = setup.count if shards is None else shards
    whole = weight_bytes(facts, prec)
    # The embedding table is only gathered (one row per token), unless it doubles as the LM head.
    table = 0 if facts.arch.tie_word_embeddings else p.embedding * (whole / p.total)
    expert_bytes = p.experts * (whole / p.total)
    touched = _experts_touched_fraction(facts, tokens)
    weights = (whole - table - expert_bytes * (1 - touched)) / n
    kv = kv_bytes(facts, work.kv_precision, work.decode_context, work.concurrency) * kv_share_per_gpu(facts, n)
    return weights + kv


def flops_per_token(facts: ModelFacts, context: int) -> float:
    """2 FLOPs per active weight plus attention over `context` cached tokens (scores and weighted sum)."""
    s = facts.shape
    a = facts.arch
    qk_dim = ((a.qk_nope_head_dim or 0) + (a.qk_rope_head_dim or 0)) if s.is_mla else s.head_dim
    v_dim = a.v_head_dim or s.head_dim
    attn = 2 * facts.kv_layers * s.heads * context * (qk_dim + v_dim)
    return 2 * facts.params.active + attn


def _allreduce_s(setup: Setup, layers: int, tokens: int, hidden: int) -> float:
    n = setup.count
    if n == 1:
        return 0.0
    size = tokens * hidden * 2
    one = C.ALLREDUCE_LATENCY_S + 2 * (n - 1) / n * size / setup.link_bytes_s
    return 2 * layers * one


def is_pipeline(setup: Setup, engine: EngineClass) -> bool:
    """llama.cpp-style runtimes split layers across GPUs (one after another), not tensors."""
    return engine == "local" and setup.count > 1


def _link_s(setup: Setup, layers: int, tokens: int, hidden: int, pipeline: bool) -> float:
    if pipeline:
        # Activations cross each layer boundary once: (n - 1) hops of tokens x hidden x 2 bytes.
        return (setup.count - 1) * (C.ALLREDUCE_LATENCY_S + tokens * hidden * 2 / setup.link_bytes_s)
    return _allreduce_s(setup, layers, tokens, hidden)


def speed(facts: ModelFacts, prec: Precision, setup: Setup, work: Workload, engine: EngineClass) -> SpeedResult | None:
    bw = setup.bandwidth_bytes_s
    if bw is None:
        return None
    eff = C.EFFICIENCY[engine]
    pipeline = is_pipeline(setup, engine)
    shards = 1 if pipeline else setup.count
    rate = compute_rate_for(prec, setup.base)
    peak = setup.peak_flops(rate) if rate else None
    b = work.concurrency
    layers, hidden = facts.shape.layers, facts.shape.hidden

    bytes_step = bytes_read_per_step(facts, prec, setup, work, b, shards)
    flops_step = b * flops_per_token(facts, work.decode_context) / shards
    mem_t = bytes_step / (bw * eff.memory)
    comp_t = flops_step / (peak * eff.compute) if peak else 0.0
    step = max(mem_t, comp_t) + _link_s(setup, layers, b, hidden, pipeline) + eff.step_overhead_s
    floor = max(bytes_step / bw, flops_step / peak if peak else 0.0)

    prefill_t: float | None = None
    prefill_floor: float | None = None
    batch_prefill_t: float | None = None
    if peak and work.prompt > 0:
        prefill_t, prefill_floor = _prefill(facts, prec, setup, work, 1, shards, pipeline, engine, bw, peak)
        batch_prefill_t, _ = _prefill(facts, prec, setup, work, b, shards, pipeline, engine, bw, peak)
    elif work.prompt == 0:
        prefill_t = prefill_floor = batch_prefill_t = 0.0

    output_tps: float | None = None
    if batch_prefill_t is not None and work.output > 0:
        output_tps = b * work.output / (batch_prefill_t + work.output * step)
    return SpeedResult(
        decode_tokens_per_s=b / step,
        output_tokens_per_s=output_tps,
        itl_ms=step * 1000,
        ttft_ms=None if prefill_t is None else prefill_t * 1000,
        step_bound="compute" if comp_t > mem_t else "memory",
        step_time_s=step,
        step_floor_s=floor,
        prefill_time_s=prefill_t,
        prefill_floor_s=prefill_floor,
        bytes_per_step=bytes_step,
        flops_per_step=flops_step,
        compute_rate=rate,
    )


def _prefill(
    facts: ModelFacts,
    prec: Precision,
    setup: Setup,
    work: Workload,
    requests: int,
    shards: int,
    pipeline: bool,
    engine: EngineClass,
    bw: float,
    peak: float,
) -> tuple[float, float]:
    """Time (and physical floor) to prefill `requests` prompts, batched in chunks of the framework's batch.

    Each chunk streams the weights once; FLOPs scale with every prompt token.
    """
    eff = C.EFFICIENCY[engine]
    tokens = requests * work.prompt
    chunk = C.SERVER_BATCH_TOKENS if engine == "batched-server" else C.LOCAL_BATCH_TOKENS
    chunks = math.ceil(tokens / chunk)
    flops = requests * _prefill_flops(facts, work.prompt) / shards
    weights = bytes_read_per_step(
        facts, prec, setup, Workload(0, 1, 0, 0, work.kv_precision), min(tokens, chunk), shards
    )
    pbytes = chunks * weights
    floor = max(flops / peak, pbytes / bw)
    per_chunk = _link_s(setup, facts.shape.layers, min(tokens, chunk), facts.shape.hidden, pipeline)
    seconds = max(flops / (peak * eff.compute), pbytes / (bw * eff.memory)) + chunks * (per_chunk + eff.step_overhead_s)
    return seconds, floor


def _prefill_flops(facts: ModelFacts, prompt: int) -> float:
    """Matmuls for every prompt token plus causal attention (each token attends to those before it)."""
    s = facts.shape
    a = facts.arch
    qk_dim = ((a.qk_nope_head_dim or 0) + (a.qk_rope_head_dim or 0)) if s.is_mla else s.head_dim
    v_dim = a.v_head_dim or s.head_dim
    attn = 2 * facts.kv_layers * s.heads * (prompt * (prompt + 1) / 2) * (qk_dim + v_dim)
    return 2 * facts.params.active * prompt + attn


def cost(setup: Setup, spd: SpeedResult | None) -> CostResult | None:
    price = setup.price_per_gpu_hour()
    if price is None:
        return None
    per_gpu, sources = price
    hourly = per_gpu * setup.count
    per_million = None
    if spd is not None and spd.output_tokens_per_s:
        per_million = hourly / (spd.output_tokens_per_s * 3600) * 1e6
    return CostResult(
        price_per_hour_usd=hourly,
        price_sources=sources,
        cost_per_month_usd=hourly * C.HOURS_PER_MONTH,
        cost_per_million_tokens_usd=per_million,
    )
