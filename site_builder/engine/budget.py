"""Each engine's KV-cache budget at start-up, and the tokens it holds (what its start-up log reports)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from site_builder.engine import constants as C
from site_builder.engine.estimate import MemoryResult, Workload
from site_builder.engine.hardware import Setup
from site_builder.engine.memory import ModelFacts, activation_per_token, kv_bytes, kv_share_per_gpu, sampler_bytes
from site_builder.records.framework import EngineClass


@dataclass(frozen=True, slots=True)
class KvCapacity:
    framework: str  # the engine whose rule applies
    bytes_per_gpu: int
    tokens: int  # across all sequences
    sequences: int  # sequences of the workload's context the pool holds (llama.cpp: the slots it was launched with)
    flag: str
    rule: str


def budget_for(framework_id: str | None, engine: EngineClass) -> tuple[str, C.EngineBudget]:
    fid = framework_id if framework_id in C.ENGINE_BUDGETS else C.CLASS_BUDGET[engine]
    return fid, C.ENGINE_BUDGETS[fid]


def sglang_reserved_bytes(capacity_bytes: float, ranks: int) -> int:
    """SGLang's reserve for activations and CUDA graphs, by the GPU's memory and the parallel ranks."""
    gib = capacity_bytes / C.GIB
    fixed, per_rank = next((f, r) for below, f, r in C.SGLANG_RESERVED_GIB if gib < below)
    return int((fixed + per_rank * ranks) * C.GIB)


@dataclass(frozen=True)
class Launch:
    """Launch flags that differ from the engine's defaults. The site estimates defaults; a calibration record states
    what its source launched with (a memory share, or the token batch the engine profiles or warms up with)."""

    memory_fraction: float | None = None  # vLLM --gpu-memory-utilization, SGLang --mem-fraction-static, ...
    batch_tokens: int | None = None  # vLLM's profiled max_num_batched_tokens, TGI's --max-batch-prefill-tokens


DEFAULT_LAUNCH = Launch()


def vllm_batch_defaults(setup: Setup) -> tuple[int, int]:
    """(max_num_batched_tokens, max_num_seqs) vLLM's OpenAI server picks for this GPU."""
    gib = (setup.capacity_bytes or 0) / C.GIB
    small_by_name = any(word in setup.base.id for word in C.VLLM_SMALL_BATCH_GPUS)
    return C.VLLM_LARGE_BATCH if gib >= C.VLLM_LARGE_BATCH_MIN_GIB and not small_by_name else C.VLLM_SMALL_BATCH


def moe_workspace_per_token(facts: ModelFacts, gpus: int) -> float:
    """Bytes per token the fused-MoE kernels add beyond the generic activation term.

    vLLM's fused experts hold, per token and routed expert, one buffer of max(2N, K) 16-bit values (the gate/up output,
    reused for the down projection's unreduced output) and one of N (the activated product), N being the expert's
    intermediate size on this rank and K the hidden size (vllm/model_executor/layers/fused_moe, intermediate_cache13 and
    intermediate_cache2); the generic term already counts 3N per routed expert.
    """
    s = facts.shape
    if not s.is_moe:
        return 0.0
    n = s.expert_ffn / gpus
    return s.experts_per_token * max(max(2 * n, s.hidden) + n - 3 * n, 0.0) * 2


def profiled_peak_bytes(facts: ModelFacts, setup: Setup, tokens: int, sequences: int) -> int:
    """The activation peak of a start-up profile: one forward pass of `tokens` tokens, then the sampler over
    `sequences` sequences. The forward pass's buffers are freed before sampling: the peak is the larger of the two."""
    per_token = activation_per_token(facts, setup.count) + moe_workspace_per_token(facts, setup.count)
    return math.ceil(max(tokens * per_token, sampler_bytes(facts, sequences, C.VLLM_SAMPLER_FP32_COPIES)))


def server_non_torch_bytes(setup: Setup) -> int:
    """Runtime memory outside PyTorch's allocator per GPU (CUDA context, cuBLAS, and NCCL once ranks talk), as vLLM's
    profile counts it and SGLang's free-memory probe after loading sees it."""
    one, parallel = C.SERVER_NON_TORCH_BYTES
    return one if setup.count == 1 else parallel


def engine_peak_bytes(fid: str, facts: ModelFacts, setup: Setup, mem: MemoryResult, launch: Launch) -> int:
    """The activation peak the engine measures at start-up before it sizes its KV pool: vLLM's profile run, TGI's
    warm-up prefill; the others reserve the engine's generic activation buffer."""
    if fid == "vllm":
        tokens, seqs = vllm_batch_defaults(setup)
        tokens = launch.batch_tokens or tokens
        return profiled_peak_bytes(facts, setup, tokens, min(seqs, tokens))
    if fid == "tgi":
        # The warm-up is one request: its logits are the last token's only.
        return profiled_peak_bytes(facts, setup, launch.batch_tokens or C.TGI_PREFILL_TOKENS, 1)
    return mem.activations_bytes


def visible_bytes(setup: Setup) -> float:
    """The memory an engine sees on each GPU: its capacity less what the driver keeps."""
    return (setup.capacity_bytes or 0) * (1 - C.DRIVER_RESERVED_FRACTION)


def kv_budget_bytes(
    budget: C.EngineBudget,
    setup: Setup,
    mem: MemoryResult,
    exact_bytes: int,
    peak_bytes: int,
    warmup_kv_bytes: int = 0,
    fraction: float | None = None,
    overhead_bytes: int | None = None,
) -> int:
    """KV bytes per GPU the engine allocates under its rule (never negative).

    `peak_bytes` is the activation peak the engine reserves, `warmup_kv_bytes` the KV of TGI's warm-up batch, and
    `fraction` a launch's memory share in place of the engine's default, `overhead_bytes` the runtime memory the
    engine itself measures in place of the fit check's figure.
    """
    total = visible_bytes(setup)
    share = budget.fraction if fraction is None else fraction
    rest = mem.weights_bytes + peak_bytes + (mem.overhead_bytes if overhead_bytes is None else overhead_bytes)
    if budget.rule == "of-total":
        room = share * total - rest
    elif budget.rule == "of-free":
        room = share * (total - rest)
    elif budget.rule == "tgi":
        room = C.TGI_WIGGLE_ROOM * (share * total - rest - warmup_kv_bytes) + warmup_kv_bytes
    elif budget.rule == "sglang":
        # The static share holds what is in use after loading (weights, CUDA context, NCCL) and the KV pool.
        reserved = sglang_reserved_bytes(total, setup.count) if fraction is None else (1 - fraction) * total
        room = total - reserved - mem.weights_bytes - server_non_torch_bytes(setup)
    elif budget.rule == "working-set":
        room = mem.usable_bytes - rest
    else:
        room = exact_bytes
    return max(int(room), 0)


def kv_capacity(
    facts: ModelFacts,
    setup: Setup,
    work: Workload,
    mem: MemoryResult,
    framework_id: str | None,
    engine: EngineClass,
    launch: Launch = DEFAULT_LAUNCH,
) -> KvCapacity:
    """Tokens of KV cache the engine holds at its defaults: its budget over the bytes one token costs per GPU.

    llama.cpp and Ollama allocate exactly what the launch asks for (context x parallel slots), so their capacity is
    the workload's own; the servers size a pool from memory and hold as many tokens as the pool fits.
    """
    fid, budget = budget_for(framework_id, engine)
    share = kv_share_per_gpu(facts, setup.count)
    per_token = kv_bytes(facts, work.kv_precision, 1, 1) * share
    exact = math.ceil(kv_bytes(facts, work.kv_precision, work.context, work.concurrency) * share)
    peak = engine_peak_bytes(fid, facts, setup, mem, launch)
    warmup = math.ceil((launch.batch_tokens or C.TGI_PREFILL_TOKENS) * per_token) if budget.rule == "tgi" else 0
    overhead = server_non_torch_bytes(setup) if fid == "vllm" else None
    room = kv_budget_bytes(budget, setup, mem, exact, peak, warmup, launch.memory_fraction, overhead)
    per_sequence = math.ceil(kv_bytes(facts, work.kv_precision, work.context, 1) * share)
    if budget.rule == "exact":
        tokens, sequences = work.context * work.concurrency, work.concurrency
    else:
        tokens = int(room // per_token) if per_token > 0 else 0
        sequences = room // per_sequence if per_sequence > 0 else 0
    return KvCapacity(fid, room, tokens, sequences, budget.flag, budget.rule)
