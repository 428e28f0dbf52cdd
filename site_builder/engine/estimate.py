"""One estimate: a model on a GPU setup at a precision and workload -> memory, fit, speed and cost."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from site_builder.engine import constants as C
from site_builder.engine.fit import FitLevel
from site_builder.engine.hardware import Setup
from site_builder.engine.memory import (
    ModelFacts,
    activation_bytes,
    attended_tokens,
    indexer_flops,
    kv_bytes,
    kv_bytes_per_token,
    kv_read_bytes,
    kv_share_per_gpu,
    kv_share_varies,
    overhead_bytes,
    prefill_attended_tokens,
    weight_bytes,
    weight_bytes_per_gpu,
)
from site_builder.engine.precision import KV_BYTES, Precision, compute_rate_for
from site_builder.records.framework import EngineClass


@dataclass(frozen=True, slots=True)
class Workload:
    context: int  # tokens held per sequence (prompt + output for serving)
    concurrency: int
    prompt: int
    output: int
    kv_precision: str = "fp16"
    fused_attention: bool = True  # flash attention; False: the scores go through memory (llama-bench before 2025)
    # Every sequence decodes the same token at the same position (llama-batched-bench's synthetic batches), so a MoE
    # layer routes the whole batch to one token's experts; real users' tokens spread over the experts.
    identical_sequences: bool = False

    @property
    def decode_context(self) -> int:
        """Average context over the answer: the prompt plus half the output."""
        return self.prompt + self.output // 2


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
class SpeedResult:
    decode_tokens_per_s: float  # pure decode steps of the running batch, no prefill interleaved
    output_tokens_per_s: float | None
    itl_ms: float  # at the workload's concurrency: decode step with other users' prefill chunks interleaved
    ttft_ms: float | None  # at the workload's concurrency: waiting for a slot, for the prefill queue, own chunks
    ttft_idle_ms: float | None  # one prompt on an otherwise idle server
    queue_ms: float  # part of ttft_ms spent waiting for a free slot (more users than fit)
    batch: int  # sequences decoding together: the concurrency, or the slots that fit if fewer
    step_bound: Literal["memory", "compute"]
    step_time_s: float
    step_floor_s: float  # bytes / peak bandwidth and flops / peak: nothing may beat it
    prefill_time_s: float | None
    prefill_floor_s: float | None
    bytes_per_step: float
    flops_per_step: float
    compute_rate: str | None


@dataclass(frozen=True, slots=True)
class CostResult:
    price_per_hour_usd: float  # whole setup
    price_sources: int
    cost_per_month_usd: float
    cost_per_million_tokens_usd: float | None


def fit_level(ratio: float) -> FitLevel:
    for level, limit in C.FIT_LEVELS:
        if ratio <= limit:
            return level
    return FitLevel.NO_FIT


def memory(
    facts: ModelFacts, prec: Precision, setup: Setup, work: Workload, engine: EngineClass
) -> MemoryResult | None:
    usable = setup.usable_bytes
    if usable is None:
        return None
    n = setup.count
    batched = engine == "batched-server"
    weights = weight_bytes_per_gpu(facts, prec, n)
    share = kv_share_per_gpu(facts, n, work.context)
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
        max_context=_max_context(facts, work, n, free),
        max_concurrency=_max_concurrency(facts, work, share, usable - weights - over, batched, n),
    )


def _max_context(facts: ModelFacts, work: Workload, gpus: int, free: int) -> int:
    """Largest context (up to the model's window) whose KV for `concurrency` sequences fits in `free`."""

    def fits(ctx: int) -> bool:
        share = kv_share_per_gpu(facts, gpus, ctx)
        return kv_bytes(facts, work.kv_precision, ctx, work.concurrency) * share <= free

    if free <= 0 or not fits(1):
        return 0
    lo, hi = 1, facts.context_window
    if fits(hi):
        return hi
    near = _context_near(facts, work, gpus, free)
    if near is not None:
        found = _last_fitting(fits, near, lo, hi)
        if found is not None:
            return found
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    return lo


def _context_near(facts: ModelFacts, work: Workload, gpus: int, free: int) -> int | None:
    """Where the KV cache of `concurrency` sequences fills `free`, solved for directly where the cache is one
    product of the context (one cache group; a rank's share the same at any context); None elsewhere.

    There `fits` is monotonic in the context (every operation in it is), so the largest context that fits is
    the one the bisection finds: this only saves its steps. Rounding may leave the answer a token or two off.
    """
    line = facts.kv_line
    if line is None or kv_share_varies(facts, gpus):
        return None
    window, per_token = line
    per_token_bytes = per_token * KV_BYTES[work.kv_precision]
    if per_token_bytes <= 0:
        return None
    share = kv_share_per_gpu(facts, gpus)
    tokens = (free / share / work.concurrency - facts.linear_state_bytes) / per_token_bytes
    if window is not None and tokens >= window:
        return None  # beyond the window the cache stops growing: nothing to solve
    return int(max(tokens, 1))


def _last_fitting(fits: Callable[[int], bool], near: int, lo: int, hi: int, steps: int = 16) -> int | None:
    """The largest context in [lo, hi) that fits, found by stepping from `near`, given that `lo` fits, `hi` does not
    and `fits` is monotonic; None when it is more than `steps` tokens away (then the caller bisects)."""
    ctx = min(max(near, lo), hi - 1)
    for _ in range(steps):
        if not fits(ctx):
            ctx -= 1
        elif fits(ctx + 1):
            ctx += 1
        else:
            return ctx
    return None


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


def _experts_touched_fraction(facts: ModelFacts, tokens: float) -> float:
    """Expected share of a layer's experts that `tokens` tokens route to, under uniform routing."""
    s = facts.shape
    if not s.is_moe:
        return 1.0
    miss: float = (1 - s.experts_per_token / s.experts) ** tokens
    return 1 - miss


def bytes_read_per_step(
    facts: ModelFacts, prec: Precision, setup: Setup, work: Workload, tokens: float, shards: int | None = None
) -> float:
    """Weights the step must stream from memory (per GPU) plus the batch's KV cache.

    `shards` is how many GPUs split the work of one step (tensor parallel: all of them; a layer-split
    pipeline runs its GPUs one after another, so a step streams the whole model: 1).
    """
    n = setup.count if shards is None else shards
    kv_reads = unfused_kv_reads(facts, work, setup.base.vendor)
    return _bytes_read(
        facts,
        prec,
        n,
        work.kv_precision,
        work.decode_context,
        work.concurrency,
        work.identical_sequences,
        tokens,
        kv_reads,
    )


def _bytes_read(
    facts: ModelFacts,
    prec: Precision,
    n: int,
    kv_precision: str,
    decode_context: int,
    concurrency: int,
    identical_sequences: bool,
    tokens: float,
    kv_reads: float = 1.0,
) -> float:
    """bytes_read_per_step over `n` shards, from the workload figures it reads (a decode step asks it for every
    batch size, so it takes them without building a Workload for each)."""
    p = facts.params
    whole = weight_bytes(facts, prec)
    # The embedding table is only gathered (one row per token), unless it doubles as the LM head.
    table = 0 if facts.arch.tie_word_embeddings else p.embedding * (whole / p.total)
    expert_bytes = p.experts * (whole / p.total)
    # A vision tower runs on images, not on every token: a decode or text-prefill step never reads it.
    tower = p.vision * (whole / p.total)
    touched = _experts_touched_fraction(facts, 1 if identical_sequences else tokens)
    weights = (whole - table - tower - expert_bytes * (1 - touched)) / n
    kv_share = kv_share_per_gpu(facts, n, decode_context)
    kv = kv_read_bytes(facts, kv_precision, decode_context, concurrency) * kv_share
    return weights + kv * kv_reads


def unfused_kv_reads(facts: ModelFacts, work: Workload, vendor: str) -> float:
    """How many times a decode step reads each cached K and V row from memory. Fused (flash) attention reads it once.
    Without it, llama.cpp multiplies K by Q with ggml_mul_mat, which broadcasts each KV head over the query heads of its
    group (ggml-org/llama.cpp src/llama-graph.cpp, build_attn_mha, commit 434f71a). Metal's matrix-vector kernels
    stream the broadcast rows again for every query head, so on Apple GPUs a grouped-query layer reads its cache
    heads / kv_heads times: the catalog's llama-bench runs slow from tg512 to tg8192 by that much (Llama 3 8B and 70B
    on M2 Ultra and M3 Max, f16 and Q4_K_M alike), while the CUDA runs of the same sweep (RTX 3090/4080/4090) slow by
    one read (the GPU's L2 cache serves the repeats)."""
    s = facts.shape
    if work.fused_attention or vendor != "apple" or s.is_mla or s.kv_heads <= 0:
        return 1.0
    return s.heads / s.kv_heads


def flops_per_token(facts: ModelFacts, context: int) -> float:
    """2 FLOPs per active weight plus attention over `context` cached tokens (scores and weighted sum; sparse and
    compressed attention over what they select, plus their indexers)."""
    s = facts.shape
    a = facts.arch
    qk_dim = ((a.qk_nope_head_dim or 0) + (a.qk_rope_head_dim or 0)) if s.is_mla else s.head_dim
    v_dim = a.v_head_dim or s.head_dim
    attn = 2 * s.heads * attended_tokens(facts, context) * (qk_dim + v_dim)
    return 2 * facts.params.active + attn + indexer_flops(facts, context)


def _link(setup: Setup) -> tuple[float, float]:
    """(latency per call, bytes/s one way) of the setup's GPU link; only called for multi-GPU setups with one."""
    bw, kind = setup.link_bytes_s, setup.link_kind
    if bw is None or kind is None:
        raise ValueError(f"{setup.base.id} has no recorded GPU link; multi-GPU speed is not estimated")
    return C.ALLREDUCE_LATENCY_S[kind], bw


def _allreduce_s(setup: Setup, layers: int, tokens: float, hidden: int) -> float:
    n = setup.count
    if n == 1:
        return 0.0
    latency, bw = _link(setup)
    size = tokens * hidden * 2
    one = latency + 2 * (n - 1) / n * size / bw
    return 2 * layers * one


def is_pipeline(setup: Setup, engine: EngineClass) -> bool:
    """llama.cpp-style runtimes split layers across GPUs (one after another), not tensors."""
    return engine == "local" and setup.count > 1


def _link_s(setup: Setup, layers: int, tokens: float, hidden: int, pipeline: bool) -> float:
    if pipeline:
        # Activations cross each layer boundary once: (n - 1) hops of tokens x hidden x 2 bytes.
        latency, bw = _link(setup)
        return (setup.count - 1) * (latency + tokens * hidden * 2 / bw)
    return _allreduce_s(setup, layers, tokens, hidden)


def per_sequence_step_s(
    setup: Setup, engine: EngineClass, layers: int, assume: C.Assumptions = C.DEFAULT_ASSUMPTIONS
) -> float:
    """Seconds each running sequence adds to a decode step beyond its bytes and FLOPs (sampling, scheduling, its
    attention launch), for this engine class on this vendor's GPUs; a vendor stack's term is paid in each layer."""
    extra = assume.stack_per_sequence_s.get((engine, setup.base.vendor), 0.0) * layers
    return assume.efficiency[engine].per_sequence_s + extra


def step_token_budget(setup: Setup, engine: EngineClass) -> int:
    """Tokens one scheduler step carries: the engine's chunked-prefill budget for this GPU's memory."""
    if engine == "local":
        return C.LOCAL_STEP_TOKENS
    return _server_step_tokens(setup.capacity_bytes or 0)


@functools.cache  # a handful of memory sizes, asked for every step of every estimate
def _server_step_tokens(capacity_bytes: int) -> int:
    gib = capacity_bytes / C.GIB
    return next(tokens for limit, tokens in C.STEP_TOKEN_BUDGETS if gib < limit)


class _Step:
    """What one step of a setup costs; `time(decode, prefill, prefill_flops)` prices a step that carries `decode`
    running sequences and `prefill` prompt tokens together (chunked prefill).

    The figures every step of the setup shares are worked out once, here: a speed estimate prices several steps.
    """

    __slots__ = (
        "assume",
        "bw",
        "decode_token_flops",
        "eff",
        "engine",
        "facts",
        "kv_reads",
        "peak",
        "per_sequence_s",
        "pipeline",
        "prec",
        "prompt_flops",
        "setup",
        "shards",
        "work",
    )

    def __init__(
        self,
        facts: ModelFacts,
        prec: Precision,
        setup: Setup,
        work: Workload,
        engine: EngineClass,
        bw: float,
        peak: float | None,
        assume: C.Assumptions = C.DEFAULT_ASSUMPTIONS,
    ) -> None:
        self.facts, self.prec, self.setup, self.work, self.engine = facts, prec, setup, work, engine
        self.bw, self.peak, self.assume = bw, peak, assume
        self.eff: C.Efficiency = assume.efficiency[engine]
        self.pipeline = is_pipeline(setup, engine)
        self.shards = 1 if self.pipeline else setup.count
        self.per_sequence_s = per_sequence_step_s(setup, engine, facts.shape.layers, assume)
        self.kv_reads = unfused_kv_reads(facts, work, setup.base.vendor)
        self.decode_token_flops = flops_per_token(facts, work.decode_context)
        # FLOPs of prefilling one prompt of the workload (only asked for when there is a prompt).
        self.prompt_flops = _prefill_flops(facts, work.prompt) if work.prompt else 0.0

    def parts(self, decode: int, prefill: float, prefill_flops: float) -> tuple[float, float, float]:
        """(bytes, flops, fixed seconds) of a step with `decode` running sequences and `prefill` prompt tokens."""
        w = self.work
        tokens = max(decode + prefill, 1)
        bytes_step = _bytes_read(
            self.facts,
            self.prec,
            self.shards,
            w.kv_precision,
            w.decode_context,
            decode,
            w.identical_sequences,
            tokens,
            self.kv_reads,
        )
        flops = (decode * self.decode_token_flops + prefill_flops) / self.shards
        link = _link_s(self.setup, self.facts.shape.layers, tokens, self.facts.shape.hidden, self.pipeline)
        # The first sequence's sampling and launches are in the per-step overhead; each further one adds its own.
        per_sequence = max(decode - 1, 0) * self.per_sequence_s
        routing = decode * self.facts.shape.moe_layers * self.eff.moe_token_layer_s
        return bytes_step, flops, link + self.eff.step_overhead_s + per_sequence + routing

    def time(self, decode: int, prefill: float, prefill_flops: float) -> float:
        eff = self.eff
        bytes_step, flops, fixed = self.parts(decode, prefill, prefill_flops)
        comp = flops / (self.peak * eff.compute) if self.peak else 0.0
        return max(bytes_step / (self.bw * eff.memory), comp) + fixed


def speed(
    facts: ModelFacts,
    prec: Precision,
    setup: Setup,
    work: Workload,
    engine: EngineClass,
    slots: int | None = None,
    assume: C.Assumptions = C.DEFAULT_ASSUMPTIONS,
) -> SpeedResult | None:
    """Decode, prefill and latency at the workload's concurrency.

    `slots` is how many sequences the engine can hold at once (KV capacity); more users than that wait in a queue.
    """
    bw = setup.bandwidth_bytes_s
    if bw is None or (setup.count > 1 and not setup.splittable):
        return None
    pipeline = is_pipeline(setup, engine)
    shards = 1 if pipeline else setup.count
    rate = compute_rate_for(prec, setup.base)
    peak = setup.peak_flops(rate) if rate else None
    b = max(1, min(work.concurrency, slots)) if slots else work.concurrency
    stepper = _Step(facts, prec, setup, work, engine, bw, peak, assume)
    eff = stepper.eff

    bytes_step, flops_step, fixed = stepper.parts(b, 0, 0.0)
    mem_t = bytes_step / (bw * eff.memory)
    comp_t = flops_step / (peak * eff.compute) if peak else 0.0
    step = max(mem_t, comp_t) + fixed  # stepper.time(b, 0, 0.0), from the parts already in hand
    floor = max(bytes_step / bw, flops_step / peak if peak else 0.0)

    prefill_t: float | None = None
    prefill_floor: float | None = None
    batch_prefill_t: float | None = None
    if peak and work.prompt > 0:
        one = stepper.prompt_flops
        prefill_t, prefill_floor = _prefill(facts, prec, setup, work, 1, shards, pipeline, engine, bw, peak, eff, one)
        batch_prefill_t = (
            prefill_t
            if b == 1
            else _prefill(facts, prec, setup, work, b, shards, pipeline, engine, bw, peak, eff, one)[0]
        )
    elif work.prompt == 0:
        prefill_t = prefill_floor = batch_prefill_t = 0.0

    output_tps: float | None = None
    if batch_prefill_t is not None and work.output > 0:
        output_tps = b * work.output / (batch_prefill_t + work.output * step)
    itl, ttft_loaded, queue = _loaded_latency(stepper, b, step, prefill_t is not None)
    return SpeedResult(
        decode_tokens_per_s=b / step,
        output_tokens_per_s=output_tps,
        itl_ms=itl * 1000,
        ttft_ms=None if ttft_loaded is None else ttft_loaded * 1000,
        ttft_idle_ms=None if prefill_t is None else prefill_t * 1000,
        queue_ms=queue * 1000,
        batch=b,
        step_bound="compute" if comp_t > mem_t else "memory",
        step_time_s=step,
        step_floor_s=floor,
        prefill_time_s=prefill_t,
        prefill_floor_s=prefill_floor,
        bytes_per_step=bytes_step,
        flops_per_step=flops_step,
        compute_rate=rate,
    )


def loaded_latency_doc() -> str:
    """The loaded-latency model as the methodology page states it."""
    return _loaded_latency.__doc__ or ""


def _loaded_latency(stepper: _Step, batch: int, step: float, prefill_known: bool) -> tuple[float, float | None, float]:
    """(ITL, TTFT, slot wait) in seconds for `work.concurrency` users of a continuously batched server.

    Steady state of a closed loop: each of the batch's other sequences brings `prompt` prefill tokens every `output`
    decode steps, so a decode step also carries k = (batch - 1) x prompt / output prefill tokens (ITL). A new prompt
    goes through in chunks of what the step budget leaves after the running decodes (room = budget - (batch - 1)
    tokens); chunks of earlier prompts go first, an M/D/1 wait of load / (2 (1 - load)) own-prefill times, with
    load = k / room. Users beyond the slots wait for one to free (Little's law: (users / slots - 1) request times).
    """
    work = stepper.work
    prompt, output = work.prompt, work.output
    room = max(step_token_budget(stepper.setup, stepper.engine) - (batch - 1), 1)
    others = (batch - 1) * prompt / output if output > 0 else 0.0
    others = min(others, room)
    per_prompt_token = stepper.prompt_flops / prompt if prompt else 0.0
    itl = stepper.time(batch, others, others * per_prompt_token) if batch > 1 and others > 0 else step
    if not prefill_known:
        return itl, None, 0.0
    if prompt == 0:
        own = 0.0
    else:
        chunks = math.ceil(prompt / room)
        chunk_tokens = prompt / chunks
        own = chunks * stepper.time(batch - 1, chunk_tokens, stepper.prompt_flops / chunks)
    load = min(others / room, C.MAX_PREFILL_LOAD)
    ttft = own * (1 + load / (2 * (1 - load)))
    queue = 0.0
    if work.concurrency > batch:
        request = ttft + max(output - 1, 0) * itl
        queue = request * (work.concurrency / batch - 1)
    return itl, queue + ttft, queue


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
    eff: C.Efficiency,
    prompt_flops: float,
) -> tuple[float, float]:
    """Time (and physical floor) to prefill `requests` prompts, batched in chunks of the framework's batch.

    Each chunk streams the weights once; FLOPs scale with every prompt token (`prompt_flops` per prompt).
    """
    tokens = requests * work.prompt
    chunk = step_token_budget(setup, engine)
    chunks = math.ceil(tokens / chunk)
    flops = requests * prompt_flops / shards
    # Chunks split the prompt tokens evenly (a scheduler fills each step to the budget; the average is what counts).
    per_chunk_tokens = tokens / chunks
    weights = _bytes_read(facts, prec, shards, work.kv_precision, 0, 1, False, per_chunk_tokens)  # no KV yet
    pbytes = chunks * weights
    # Unfused attention's score traffic runs in its own memory-bound kernels between the matmuls: it adds, not overlaps.
    scores = requests * unfused_score_bytes(facts, work) / shards
    # A layer split's GPUs overlap on different micro-batches: the work's wall time shrinks by the pipeline's share.
    share = pipeline_share(chunks, math.ceil(tokens / C.LOCAL_PIPELINE_TOKENS), setup.count) if pipeline else 1.0
    floor = max(flops / peak, (pbytes + scores) / bw) * share
    per_chunk = _link_s(setup, facts.shape.layers, per_chunk_tokens, facts.shape.hidden, pipeline)
    seconds = max(flops / (peak * eff.compute), pbytes / (bw * eff.memory)) + scores / (bw * eff.memory)
    seconds *= share
    seconds += chunks * (per_chunk + eff.step_overhead_s)
    return seconds, floor


def pipeline_share(micro_batches: int, calls: int, stages: int) -> float:
    """Share of the one-GPU-after-another time a layer-split prefill takes when its micro-batches pipeline.

    Each of `stages` GPUs holds 1/stages of the layers, so a micro-batch spends T/stages on each (T: its time through
    the whole model). A call of m micro-batches fills and drains the pipeline: (m + stages - 1) x T/stages instead of
    m x T. Summed over the calls: (micro_batches + calls x (stages - 1)) / (micro_batches x stages). One micro-batch
    (a prompt of at most 512 tokens) gains nothing; many approach 1/stages, limited by the fill of each call.
    """
    if micro_batches <= 0 or stages <= 1:
        return 1.0
    return (micro_batches + calls * (stages - 1)) / (micro_batches * stages)


def unfused_score_bytes(facts: ModelFacts, work: Workload) -> float:
    """Memory traffic of one prompt's attention scores when attention is not fused: every score a query computes
    (heads x the tokens it attends to, summed over the prompt) is written, soft-maxed and read back in fp32."""
    if work.fused_attention:
        return 0.0
    return facts.shape.heads * prefill_attended_tokens(facts, work.prompt) * C.UNFUSED_SCORE_BYTES


def _prefill_flops(facts: ModelFacts, prompt: int) -> float:
    """Matmuls for every prompt token plus causal attention (each token attends to those before it)."""
    s = facts.shape
    a = facts.arch
    qk_dim = ((a.qk_nope_head_dim or 0) + (a.qk_rope_head_dim or 0)) if s.is_mla else s.head_dim
    v_dim = a.v_head_dim or s.head_dim
    attn = 2 * s.heads * prefill_attended_tokens(facts, prompt) * (qk_dim + v_dim)
    indexers = indexer_flops(facts, 1) * prompt * (prompt + 1) / 2  # linear in the keys each position scores
    return 2 * facts.params.active * prompt + attn + indexers


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
