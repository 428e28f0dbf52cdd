"""Each engine's KV-cache budget at start-up, and the tokens it holds (what its start-up log reports)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from site_builder.engine import constants as C
from site_builder.engine.estimate import MemoryResult, Workload
from site_builder.engine.hardware import Setup
from site_builder.engine.memory import ModelFacts, kv_bytes, kv_share_per_gpu
from site_builder.records.framework import EngineClass


@dataclass(frozen=True)
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


def sglang_reserved_bytes(capacity_bytes: int, ranks: int) -> int:
    """SGLang's reserve for activations and CUDA graphs, by the GPU's memory and the parallel ranks."""
    gib = capacity_bytes / C.GIB
    fixed, per_rank = next((f, r) for below, f, r in C.SGLANG_RESERVED_GIB if gib < below)
    return int((fixed + per_rank * ranks) * C.GIB)


def kv_budget_bytes(budget: C.EngineBudget, setup: Setup, mem: MemoryResult, exact_bytes: int) -> int:
    """KV bytes per GPU the engine allocates under its default rule (never negative)."""
    total = setup.capacity_bytes or 0
    rest = mem.weights_bytes + mem.activations_bytes + mem.overhead_bytes
    if budget.rule == "of-total":
        room = budget.fraction * total - rest
    elif budget.rule == "of-free":
        room = budget.fraction * (total - rest)
    elif budget.rule == "sglang":
        room = total - sglang_reserved_bytes(total, setup.count) - mem.weights_bytes
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
) -> KvCapacity:
    """Tokens of KV cache the engine holds at its defaults: its budget over the bytes one token costs per GPU.

    llama.cpp and Ollama allocate exactly what the launch asks for (context x parallel slots), so their capacity is
    the workload's own; the servers size a pool from memory and hold as many tokens as the pool fits.
    """
    fid, budget = budget_for(framework_id, engine)
    share = kv_share_per_gpu(facts, setup.count)
    per_token = kv_bytes(facts, work.kv_precision, 1, 1) * share
    exact = math.ceil(kv_bytes(facts, work.kv_precision, work.context, work.concurrency) * share)
    room = kv_budget_bytes(budget, setup, mem, exact)
    per_sequence = math.ceil(kv_bytes(facts, work.kv_precision, work.context, 1) * share)
    if budget.rule == "exact":
        tokens, sequences = work.context * work.concurrency, work.concurrency
    else:
        tokens = int(room // per_token) if per_token > 0 else 0
        sequences = room // per_sequence if per_sequence > 0 else 0
    return KvCapacity(fid, room, tokens, sequences, budget.flag, budget.rule)
