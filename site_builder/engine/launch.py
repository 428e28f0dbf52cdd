"""What a launch command must say for the engine to hold the estimated load: the values of each engine's own flags.

The deployment pages print these; `estimate --json` reports the same memory-budget value and pool size, so a
command on the site and the CLI never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from site_builder.engine.budget import budget_for, kv_capacity, sglang_reserved_bytes, visible_bytes
from site_builder.engine.estimate import MemoryResult, Workload, memory
from site_builder.engine.hardware import Setup
from site_builder.engine.memory import ModelFacts
from site_builder.engine.precision import Precision
from site_builder.records.framework import EngineClass


def budget_setting(framework_id: str | None, engine: EngineClass, setup: Setup) -> float | None:
    """The value of the engine's memory-budget flag under which the engine plans its KV pool.

    vLLM/TGI (share of total memory) and TensorRT-LLM/LMDeploy (share of what the weights leave free) use their
    default fraction; SGLang's --mem-fraction-static is the static share its heuristic derives from the memory it
    sees (that memory less its reserve, over that memory: the base kv_budget_bytes sizes the pool on). llama.cpp,
    Ollama and MLX size the cache in tokens or by the OS limit, so they have no fraction (None).
    """
    _, budget = budget_for(framework_id, engine)
    if budget.rule in ("of-total", "of-free", "tgi"):
        return budget.fraction
    total = visible_bytes(setup)
    if budget.rule == "sglang" and total:
        return round((total - sglang_reserved_bytes(total, setup.count)) / total, 3)
    return None


@dataclass(frozen=True, slots=True)
class LaunchSettings:
    framework: str  # whose rule sized the KV pool
    tensor_parallel: int
    max_model_len: int  # longest single sequence that fits beside the weights (at most the model's window)
    context_window: int
    kv_tokens: int  # tokens the KV pool holds at these settings
    sequences: int  # sequences of the workload's context that pool holds: the batch limit (llama.cpp: its slots)
    budget_flag: str
    budget_rule: str
    budget_value: float | None  # see budget_setting


def launch_settings(
    facts: ModelFacts,
    prec: Precision,
    setup: Setup,
    work: Workload,
    framework_id: str | None,
    engine: EngineClass,
) -> LaunchSettings | None:
    """The flags' values for serving `work` with this framework (None when the GPU has no memory size)."""
    mem: MemoryResult | None = memory(facts, prec, setup, work, engine)
    single = memory(facts, prec, setup, Workload(facts.context_window, 1, 0, 0, work.kv_precision), engine)
    if mem is None or single is None:
        return None
    cap = kv_capacity(facts, setup, work, mem, framework_id, engine)
    return LaunchSettings(
        framework=cap.framework,
        tensor_parallel=setup.count,
        max_model_len=single.max_context or facts.context_window,
        context_window=facts.context_window,
        kv_tokens=cap.tokens,
        sequences=cap.sequences,
        budget_flag=cap.flag,
        budget_rule=cap.rule,
        budget_value=budget_setting(framework_id, engine, setup),
    )
