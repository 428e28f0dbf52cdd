"""Memory: weights per precision, KV cache, activations and runtime overhead, per GPU of a setup."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from site_builder.engine import constants as C
from site_builder.engine.gguf import gguf_weight_bytes
from site_builder.engine.params import (
    SPARSE_COMPRESS_RATIO,
    ParamCount,
    Shape,
    compress_ratio,
    has_indexer,
    layer_attention_dims,
    layer_mixer,
)
from site_builder.engine.precision import KV_BYTES, PRECISIONS, Precision
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
    def kv_groups(self) -> tuple[tuple[int | None, float], ...]:
        """(window in tokens, None for the whole context; cached elements per token) over all layers, summed per
        window: what one token adds to the cache, and for how many tokens each part is kept. A compressed cache
        adds a fraction of an entry per token."""
        elements: dict[int | None, float] = {}
        for window, per_token in _layer_caches(self.arch, self.shape):
            elements[window] = elements.get(window, 0) + per_token
        return tuple(sorted(elements.items(), key=lambda item: (item[0] is None, item[0] or 0)))

    @functools.cached_property
    def weight_bytes_by_precision(self) -> dict[str, int]:
        """weight_bytes memoised by precision id (filled as asked): every setup of the model asks again."""
        return {}

    @functools.cached_property
    def activation_bytes_by_load(self) -> dict[tuple[bool, int, int], int]:
        """activation_bytes memoised by (batched, sampled sequences, GPUs), filled as asked."""
        return {}

    @functools.cached_property
    def attended_layers(self) -> tuple[tuple[int | None, int, float], ...]:
        return tuple(_attended_layers(self))

    @functools.cached_property
    def sparse_read_elements(self) -> dict[int, float]:
        """kv_read_bytes's cache elements per sequence of sparse attention, memoised by context, filled as asked."""
        return {}

    @functools.cached_property
    def kv_line(self) -> tuple[int | None, float] | None:
        """The only (window, elements per token) group of kv_groups, when there is exactly one: the cache is then
        one product of the context (capped at the window), what the engine's searches solve for directly."""
        return self.kv_groups[0] if len(self.kv_groups) == 1 else None

    @functools.cached_property
    def uniform_kv_heads(self) -> bool:
        """Every cached layer has the same KV heads and widths, so a rank's share of the cache is one ratio."""
        a = self.arch
        return (
            a.num_global_key_value_heads is None and a.global_head_dim is None and a.sliding_num_key_value_heads is None
        )

    @functools.cached_property
    def kv_layer_widths(self) -> tuple[tuple[int, int | None, int], ...]:
        """Per layer that owns a cache: (elements per token, window or None, KV heads), for kv_share_per_gpu."""
        a, s = self.arch, self.shape
        windows = layer_windows(a)
        widths = []
        for i in range(s.layers - (a.num_kv_shared_layers or 0)):
            d = layer_attention_dims(a, s, i)
            widths.append((d.kv_heads * (d.head_dim + d.v_head_dim), windows[i], d.kv_heads))
        return tuple(widths)

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
        conv = channels * max(la.conv_kernel - 1, 0) * SIXTEEN_BIT  # lightning attention: no convolution
        return layers * (recurrent + conv)


def quantizable_params(p: ParamCount, prec: Precision, shape: Shape, arch: Architecture) -> int:
    """Parameters stored in the precision's compressed form; the rest stay 16-bit."""
    if prec.scope == "all":
        return p.total
    copies = 0 if arch.mtp_shares_embeddings else 2 * shape.vocab * shape.hidden
    mtp_linear = max(p.mtp - copies, 0) if p.mtp else 0
    if prec.scope == "experts" and shape.is_moe:
        return p.experts
    return p.transformer_linear + mtp_linear


def weight_bytes(facts: ModelFacts, prec: Precision) -> int:
    """Bytes of the whole model's weights in this precision (a GGUF format: its real tensor-type mix)."""
    if PRECISIONS.get(prec.id) is not prec:  # not a catalog format (a test's own): its id may not name it
        return _weight_bytes(facts, prec)
    memo = facts.weight_bytes_by_precision
    known = memo.get(prec.id)
    if known is None:
        known = memo[prec.id] = _weight_bytes(facts, prec)
    return known


def _weight_bytes(facts: ModelFacts, prec: Precision) -> int:
    if prec.family == "gguf":
        return gguf_weight_bytes(facts.params, facts.shape, prec.id)
    p = facts.params
    q = quantizable_params(p, prec, facts.shape, facts.arch)
    return math.ceil(q * prec.bytes_per_weight + (p.total - q) * SIXTEEN_BIT)


def replicated_bytes(facts: ModelFacts) -> int:
    """Weights every tensor-parallel rank keeps whole: norms and MoE routers."""
    return (facts.params.norms + facts.params.router) * SIXTEEN_BIT


def weight_bytes_per_gpu(facts: ModelFacts, prec: Precision, gpus: int) -> int:
    whole = weight_bytes(facts, prec)
    rep = replicated_bytes(facts)
    return math.ceil((whole - rep) / gpus) + rep


def layer_windows(arch: Architecture) -> list[int | None]:
    """Per layer, the most tokens its KV cache holds (None: the whole context)."""
    if arch.layer_types:
        caps = {"sliding_attention": arch.sliding_window, "chunked_attention": arch.attention_chunk_size}
        return [caps.get(kind) for kind in arch.layer_types]
    return [arch.sliding_window] * arch.num_hidden_layers


def _compressed_layer_caches(
    arch: Architecture, shape: Shape, index: int, window: int | None
) -> list[tuple[int | None, float]]:
    """DeepSeek V4: the sliding window of raw entries (one KV head serves as key and value), one entry per
    `ratio` tokens over the whole context, and for sparse layers one indexer key per `ratio` tokens."""
    ratio = compress_ratio(arch, index)
    width = shape.kv_heads * shape.head_dim
    caches: list[tuple[int | None, float]] = [(window, width)]
    if ratio:
        caches.append((None, width / ratio))
    if has_indexer(arch, index):
        caches.append((None, (arch.index_head_dim or 0) / SPARSE_COMPRESS_RATIO))
    return caches


def _layer_caches(arch: Architecture, shape: Shape) -> list[tuple[int | None, float]]:
    """Per layer and per cache it keeps, (window, elements per token).

    MLA caches one compressed latent plus the shared rope key, not K and V per head. A DSA indexer layer also
    caches one indexer key per token, over the whole context. The last `num_kv_shared_layers` layers read an
    earlier layer's cache and add none.
    """
    windows = layer_windows(arch)
    own = shape.layers - (arch.num_kv_shared_layers or 0)
    caches: list[tuple[int | None, float]] = []
    for i in range(own):
        if layer_mixer(arch, i) not in ("attention", "parallel"):
            continue  # a linear-attention or SSM layer: a fixed state, not a per-token cache
        if arch.compress_ratios is not None:
            caches.extend(_compressed_layer_caches(arch, shape, i, windows[i]))
            continue
        if shape.is_mla:
            caches.append((windows[i], (arch.kv_lora_rank or 0) + (arch.qk_rope_head_dim or 0)))
        else:
            d = layer_attention_dims(arch, shape, i)
            caches.append((windows[i], d.kv_heads * (d.head_dim + d.v_head_dim)))  # K, and V (maybe narrower)
        if has_indexer(arch, i):
            caches.append((None, arch.index_head_dim or 0))
    return caches


def kv_bytes_per_token(facts: ModelFacts, kv_precision: str) -> int:
    """What one token adds to the cache across all attention layers (K and V, MLA latent, indexer keys), before
    any sliding-window cap. Linear-attention and SSM layers keep a fixed state instead (see kv_bytes)."""
    return math.ceil(sum(n for _, n in facts.kv_groups) * KV_BYTES[kv_precision])


def kv_bytes(facts: ModelFacts, kv_precision: str, context: int, concurrency: int) -> int:
    """KV cache of `concurrency` sequences of `context` tokens; sliding-window and chunked layers keep only their
    window (a chunked layer never looks further back than the start of its chunk). Linear-attention and SSM
    layers add their fixed per-sequence state instead, whatever the context (kept in its own dtype)."""
    line = facts.kv_line
    if line is not None:  # the sum below over its single group: 0 + the one product, exactly
        w, n = line
        elements = n * (context if w is None else min(context, w))
    else:
        elements = sum(n * (context if w is None else min(context, w)) for w, n in facts.kv_groups)
    return math.ceil((elements * KV_BYTES[kv_precision] + facts.linear_state_bytes) * concurrency)


def kv_share_per_gpu(facts: ModelFacts, gpus: int, context: int | None = None) -> float:
    """Fraction of the KV cache one tensor-parallel rank holds, at `context` tokens (default: the model's window).

    KV heads are split across ranks; with fewer KV heads than ranks each head is replicated. MLA's latent
    (and a DSA indexer's keys) are shared by all heads, so every rank keeps all of it. Where layers differ in
    KV heads (Gemma 4's global layers), each layer's cache is weighted by what it holds at that context.
    """
    s = facts.shape
    if s.is_mla or gpus == 1:
        return 1.0
    if facts.uniform_kv_heads:
        return math.ceil(s.kv_heads / gpus) / s.kv_heads  # every layer has the same heads
    tokens_at = context or facts.context_window
    held = whole = 0.0
    for width, window, kv_heads in facts.kv_layer_widths:
        size = width * (tokens_at if window is None else min(tokens_at, window))
        whole += size
        held += size * math.ceil(kv_heads / gpus) / kv_heads
    return held / whole if whole else 1.0


def kv_share_varies(facts: ModelFacts, gpus: int) -> bool:
    """Whether kv_share_per_gpu depends on the context (layers with different KV heads split over ranks)."""
    return not (facts.shape.is_mla or gpus == 1 or facts.uniform_kv_heads)


def activation_per_token(facts: ModelFacts, gpus: int) -> float:
    """Activation bytes one token of a forward pass holds on one GPU (the MLP's buffers split across ranks)."""
    s = facts.shape
    ffn = s.dense_ffn if not s.is_moe else max(s.dense_ffn if s.dense_layers else 0, s.experts_per_token * s.expert_ffn)
    return (C.ACT_FFN_FACTOR * ffn / gpus + C.ACT_HIDDEN_FACTOR * s.hidden) * SIXTEEN_BIT


def sampler_bytes(facts: ModelFacts, sequences: int, copies: float = C.SAMPLER_FP32_COPIES) -> float:
    """The sampler's fp32 logits, probabilities and log-probabilities for `sequences` sequences."""
    return sequences * facts.shape.vocab * 4 * copies


def activation_bytes(facts: ModelFacts, batched: bool, concurrency: int, gpus: int) -> int:
    sampled = min(concurrency, C.MAX_SAMPLED_SEQUENCES)
    memo = facts.activation_bytes_by_load
    key = (batched, sampled, gpus)
    known = memo.get(key)
    if known is None:
        tokens = C.SERVER_BATCH_TOKENS if batched else C.LOCAL_BATCH_TOKENS
        known = memo[key] = math.ceil(tokens * activation_per_token(facts, gpus) + sampler_bytes(facts, sampled))
    return known


def overhead_bytes(batched: bool) -> int:
    return C.RUNTIME_OVERHEAD_BYTES if batched else C.LOCAL_RUNTIME_OVERHEAD_BYTES


# --- what a decode step reads and attends to, for sparse and compressed attention ---------------------------
#
# Dense, sliding and chunked layers keep the engine's long-standing assumption that a query attends to every
# cached token, so their speed estimates are unchanged. A DeepSeek-sparse-attention layer attends only to the
# `index_topk` tokens its indexer picks (but the indexer scores every cached key); a DeepSeek V4 layer attends to
# its window, plus either the top-k of its 4x-compressed entries (scored by its indexer) or all of its entries
# compressed `ratio` times.


def _capped_sum(n: int, cap: float) -> float:
    """sum over t = 1..n of min(t, cap): what causal attention over a capped span adds up to during a prefill."""
    if n <= cap:
        return n * (n + 1) / 2
    c = math.floor(cap)
    return c * (c + 1) / 2 + (n - c) * cap


def _attended_layers(facts: ModelFacts) -> list[tuple[int | None, int, float]]:
    """Per layer (window, top-k or 0, compression ratio or 0): how a query at position t picks what it attends to."""
    a = facts.arch
    windows = layer_windows(a)
    topk = a.index_topk or 0
    out: list[tuple[int | None, int, float]] = []
    for i in range(facts.shape.layers):
        if a.compress_ratios is not None:
            ratio = compress_ratio(a, i)
            out.append((windows[i], topk if ratio == SPARSE_COMPRESS_RATIO else 0, ratio))
        elif a.index_n_heads:
            out.append((None, topk, 0))  # every layer attends sparsely; shared-index layers reuse the selection
        else:
            out.append((None, 0, 0))
    return out


def attended_tokens(facts: ModelFacts, context: int) -> float:
    """Tokens (or compressed entries) one query attends to, summed over layers, at `context` cached tokens."""
    if facts.arch.compress_ratios is None and not facts.arch.index_n_heads:
        return float(facts.kv_layers * context)
    compressed = facts.arch.compress_ratios is not None
    total = 0.0
    for window, topk, ratio in facts.attended_layers:
        if compressed:  # V4: the raw window plus compressed entries (all of them, or the indexer's top-k)
            entries = context / ratio if ratio else 0.0
            total += min(context, window or context) + (min(entries, topk) if topk else entries)
        else:
            total += min(context, topk) if topk else context
    return total


def prefill_attended_tokens(facts: ModelFacts, prompt: int) -> float:
    """attended_tokens summed over the prompt's positions (causal: position t sees t tokens)."""
    if facts.arch.compress_ratios is None and not facts.arch.index_n_heads:
        return facts.kv_layers * prompt * (prompt + 1) / 2
    compressed_model = facts.arch.compress_ratios is not None
    total = 0.0
    for window, topk, ratio in facts.attended_layers:
        if compressed_model:
            raw = _capped_sum(prompt, window or prompt)
            compressed = prompt * (prompt + 1) / (2 * ratio) if ratio else 0.0
            if ratio and topk:  # min(t / ratio, topk) summed: capped once t reaches ratio * topk
                compressed = _capped_sum(prompt, ratio * topk) / ratio
            total += raw + compressed
        else:
            total += _capped_sum(prompt, topk) if topk else prompt * (prompt + 1) / 2
    return total


def indexer_flops(facts: ModelFacts, context: int) -> float:
    """FLOPs of the lightning indexers for one query: every indexer head scores every key it can select from
    (V4: the 4x-compressed keys)."""
    a = facts.arch
    if not a.index_n_heads:
        return 0.0
    per_key = 2 * a.index_n_heads * (a.index_head_dim or 0)
    keys = 0.0
    for i in range(facts.shape.layers):
        if has_indexer(a, i):
            keys += context / SPARSE_COMPRESS_RATIO if a.compress_ratios is not None else context
    return per_key * keys


def kv_read_bytes(facts: ModelFacts, kv_precision: str, context: int, concurrency: int) -> float:
    """KV-cache bytes one decode step reads for `concurrency` sequences: the whole cache, except that sparse
    attention reads only the selected entries (plus every indexer key, which the indexer scores)."""
    a = facts.arch
    if a.compress_ratios is None and not a.index_n_heads:
        return float(kv_bytes(facts, kv_precision, context, concurrency))
    b = KV_BYTES[kv_precision]
    memo = facts.sparse_read_elements
    elements = memo.get(context)
    if elements is None:
        elements = memo[context] = _sparse_read_elements(facts, context)
    return elements * b * concurrency


def _sparse_read_elements(facts: ModelFacts, context: int) -> float:
    a, s = facts.arch, facts.shape
    elements = 0.0
    for i, (window, topk, ratio) in enumerate(facts.attended_layers):
        if a.compress_ratios is not None:
            width = s.kv_heads * s.head_dim
            elements += min(context, window or context) * width
            if ratio:
                entries = context / ratio
                elements += (min(entries, topk) if topk else entries) * width
        else:
            width = (a.kv_lora_rank or 0) + (a.qk_rope_head_dim or 0) if s.is_mla else 2 * s.kv_heads * s.head_dim
            elements += min(context, topk) * width if topk else context * width
        if has_indexer(a, i):
            keys = context / SPARSE_COMPRESS_RATIO if a.compress_ratios is not None else context
            elements += keys * (a.index_head_dim or 0)
    return elements
