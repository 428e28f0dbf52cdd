"""Which GPU counts a model can be split over by tensor parallelism."""

from __future__ import annotations

from site_builder.records.model import Architecture


def tensor_parallel_problem(arch: Architecture, gpus: int) -> str | None:
    """Why `gpus` ranks cannot shard this model's attention, or None when they can.

    vLLM and SGLang shard attention by heads: the query heads must divide evenly over the ranks, and the
    key/value heads must either divide evenly or be replicated a whole number of times (ranks % kv == 0).
    MLA keeps one latent shared by all heads, so only the query heads matter there.
    """
    if gpus == 1:
        return None
    heads = arch.num_attention_heads
    kv = arch.num_key_value_heads or heads
    if gpus > heads or heads % gpus:
        return f"{gpus} GPUs cannot split {heads} attention heads evenly"
    if arch.kv_lora_rank is None and (kv % gpus if kv >= gpus else gpus % kv):
        return f"{gpus} GPUs cannot split or replicate {kv} key/value heads evenly"
    return None
