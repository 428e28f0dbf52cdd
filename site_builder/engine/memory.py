"""Memory: weights per precision, KV cache, activations and runtime overhead, per GPU of a setup."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from site_builder.engine import constants as C
from site_builder.engine.params import ParamCount, Shape, layer_kv_heads, layer_mixer
from site_builder.engine.precision import KV_BYTES, Precision
from site_builder.records.model import Architecture

SIXTEEN_BIT = 2


@dataclass(frozen=True)
class ModelFacts:
    """Everything about a model the engine derives once and reuses for every setup."""

    arch: Architecture
    shape: Shape
    params: ParamCount
    context_window: int

    @functools.cached_property
    def windowed_layers(self) -> tuple[tuple[int, int], ...]:
        """(window in tokens, number of layers) for layers whose KV cache is capped (sliding or chunked)."""
        counts: dict[int, int] = {}
        for window in _layer_windows(self.arch):
            if window is not None:
                counts[window] = counts.get(window, 0) + 1
        return tuple(sorted(counts.items()))

    @functools.cached_property
    def kv_layers(self) -> int:
        """Layers that keep a KV cache: every softmax-attention layer; linear and SSM layers keep a fixed state."""
        return sum(layer_mixer(self.arch, i) in ("attention", "parallel") for i in range(self.shape.layers))

    @functools.cached_property
    def linear_state_bytes(self) -> int:
        """Recurrent and convolution state of one sequence over all linear-attention / SSM layers.

        It does not grow with context: per layer, heads x key_head_dim x value_head_dim numbers of recurrent state
        (in the state's own dtype) plus the last conv_kernel - 1 inputs of every convolution channel (16-bit).
        """
        la = self.arch.linear_attention
        if la is None:
            return 0
        layers = sum(layer_mixer(self.arch, i) in ("linear", "parallel") for i in range(self.shape.layers))
        recurrent = la.num_heads * la.key_head_dim * la.value_head_dim * la.state_dtype_bytes
        channels = 2 * (la.num_key_heads or la.num_heads) * la.key_head_dim + la.num_heads * la.value_head_dim
        conv = channels * (la.conv_kernel - 1) * SIXTEEN_BIT
        return layers * (recurrent + conv)


def quantizable_params(p: ParamCount, prec: Precision, shape: Shape) -> int:
    """Parameters stored in the precision's compressed form; the rest stay 16-bit."""
    if prec.scope == "all":
        return p.total
    mtp_linear = max(p.mtp - 2 * shape.vocab * shape.hidden, 0) if p.mtp else 0
    if prec.scope == "experts" and shape.is_moe:
        return p.experts
    return p.transformer_linear + mtp_linear


def weight_bytes(facts: ModelFacts, prec: Precision) -> int:
    """Bytes of the whole model's weights in this precision."""
    p = facts.params
    q = quantizable_params(p, prec, facts.shape)
    return math.ceil(q * prec.bytes_per_weight + (p.total - q) * SIXTEEN_BIT)


def replicated_bytes(facts: ModelFacts) -> int:
    """Weights every tensor-parallel rank keeps whole: norms and MoE routers."""
    return (facts.params.norms + facts.params.router) * SIXTEEN_BIT


def weight_bytes_per_gpu(facts: ModelFacts, prec: Precision, gpus: int) -> int:
    whole = weight_bytes(facts, prec)
    rep = replicated_bytes(facts)
    return math.ceil((whole - rep) / gpus) + rep


def _layer_windows(arch: Architecture) -> list[int | None]:
    """Per KV-caching layer, the most tokens its KV cache holds (None: the whole context)."""
    if arch.linear_attention:
        kinds = arch.linear_attention.layer_mixers
        return [arch.sliding_window for kind in kinds if kind in ("attention", "parallel")]
    if arch.layer_types:
        caps = {"sliding_attention": arch.sliding_window, "chunked_attention": arch.attention_chunk_size}
        return [caps.get(kind) for kind in arch.layer_types]
    return [arch.sliding_window] * arch.num_hidden_layers


def kv_bytes_per_token_per_layer(facts: ModelFacts, kv_precision: str, windowed: bool = False) -> float:
    """One token's cache in one layer; `windowed` asks for a sliding-window layer's, which differs only where those
    layers have their own KV-head count (MiMo-V2.5; no model with one also has chunked layers)."""
    b = KV_BYTES[kv_precision]
    a, s = facts.arch, facts.shape
    if s.is_mla:
        # MLA caches one compressed latent plus the shared rope key per token and layer, not K and V per head.
        return ((a.kv_lora_rank or 0) + (a.qk_rope_head_dim or 0)) * b
    # K is head_dim wide, V v_head_dim where the values are narrower (MiMo-V2).
    return layer_kv_heads(a, s, windowed) * (s.head_dim + (a.v_head_dim or s.head_dim)) * b


def kv_bytes_per_token(facts: ModelFacts, kv_precision: str) -> int:
    """K and V of one token across all attention layers, before any sliding-window cap."""
    capped = sum(n for _, n in facts.windowed_layers)
    whole = (facts.kv_layers - capped) * kv_bytes_per_token_per_layer(facts, kv_precision)
    return math.ceil(whole + capped * kv_bytes_per_token_per_layer(facts, kv_precision, windowed=True))


def kv_bytes(facts: ModelFacts, kv_precision: str, context: int, concurrency: int) -> int:
    """KV cache of `concurrency` sequences of `context` tokens; sliding-window and chunked layers keep only their
    window (a chunked layer never looks further back than the start of its chunk). Linear-attention and SSM
    layers add their fixed per-sequence state instead, whatever the context (kept in its own dtype)."""
    capped = sum(n for _, n in facts.windowed_layers)
    whole = (facts.kv_layers - capped) * context * kv_bytes_per_token_per_layer(facts, kv_precision)
    window_tokens = sum(n * min(context, w) for w, n in facts.windowed_layers)
    windowed = window_tokens * kv_bytes_per_token_per_layer(facts, kv_precision, windowed=True)
    return math.ceil((whole + windowed + facts.linear_state_bytes) * concurrency)


def kv_share_per_gpu(facts: ModelFacts, gpus: int) -> float:
    """Fraction of the KV cache one tensor-parallel rank holds.

    KV heads are split across ranks; with fewer KV heads than ranks each head is replicated. MLA's latent
    is shared by all heads, so every rank keeps all of it.
    """
    if facts.shape.is_mla or gpus == 1:
        return 1.0
    heads = facts.shape.kv_heads
    return math.ceil(heads / gpus) / heads


def activation_bytes(facts: ModelFacts, batched: bool, concurrency: int, gpus: int) -> int:
    s = facts.shape
    tokens = C.SERVER_BATCH_TOKENS if batched else C.LOCAL_BATCH_TOKENS
    ffn = s.dense_ffn if not s.is_moe else max(s.dense_ffn if s.dense_layers else 0, s.experts_per_token * s.expert_ffn)
    per_token = (C.ACT_FFN_FACTOR * ffn / gpus + C.ACT_HIDDEN_FACTOR * s.hidden) * SIXTEEN_BIT
    sampled = min(concurrency, C.MAX_SAMPLED_SEQUENCES)
    sampler = sampled * s.vocab * 4 * C.SAMPLER_FP32_COPIES
    return math.ceil(tokens * per_token + sampler)


def overhead_bytes(batched: bool) -> int:
    return C.RUNTIME_OVERHEAD_BYTES if batched else C.LOCAL_RUNTIME_OVERHEAD_BYTES
