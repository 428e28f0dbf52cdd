"""GGUF files as llama.cpp writes them: each tensor class at the type its quantization mix gives it.

llama-quantize does not store every tensor at the named type. In the K-quant "M" mixes the attention value
projection and the FFN down projection of about half the layers (the first and last eighth, and every third layer
between) move up to Q6_K; the output head is Q6_K in every mix below Q8_0; 1-D tensors (norms) and MoE routers stay
F32; the token embedding takes the mix's base type (or the head's, when the two are tied). A vision tower ships in a
separate 16-bit projector file. Bits per weight are the block layouts of ggml: Q4_0 18 bytes per 32 weights, Q8_0 34
per 32, Q4_K 144 per 256, Q5_K 176 per 256, Q6_K 210 per 256.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from site_builder.engine.params import ParamCount, Shape

TYPE_BITS: dict[str, float] = {
    "q4_0": 18 * 8 / 32,
    "q8_0": 34 * 8 / 32,
    "q4_k": 144 * 8 / 256,
    "q5_k": 176 * 8 / 256,
    "q6_k": 210 * 8 / 256,
    "f16": 16.0,
    "f32": 32.0,
}


@dataclass(frozen=True)
class Mix:
    base: str  # type of every 2-D tensor not named below
    output: str  # the LM head (and a tied embedding)
    more_bits: str | None  # attn_v and ffn_down on the "use more bits" layers; None: no promotion


MIXES: dict[str, Mix] = {
    "q4_k_m": Mix("q4_k", "q6_k", "q6_k"),
    "q5_k_m": Mix("q5_k", "q6_k", "q6_k"),
    "q6_k": Mix("q6_k", "q6_k", None),
    "q8_0": Mix("q8_0", "q8_0", None),
    "q4_0": Mix("q4_0", "q6_k", None),
}


def use_more_bits(layer: int, layers: int) -> bool:
    """llama.cpp's layer choice for the M mixes: the first and last eighth, and every third layer in between."""
    # Integer division, as llama.cpp's C code does it.
    return layer < layers // 8 or layer >= 7 * layers // 8 or (layer - layers // 8) % 3 == 2


@functools.cache  # a pure function of one small int, asked for every setup of every model
def promoted_share(layers: int) -> float:
    return sum(use_more_bits(i, layers) for i in range(layers)) / layers if layers else 0.0


def gguf_weight_bytes(p: ParamCount, s: Shape, mix_id: str) -> int:
    """Bytes of the model's weights in the GGUF mix `mix_id`, tensor class by tensor class."""
    mix = MIXES[mix_id]
    bits = TYPE_BITS
    # Value projection (MLA has none of this shape) and the down third of every gate/up/down triplet.
    v_proj = 0 if s.is_mla else s.layers * s.hidden * s.kv_heads * s.head_dim
    down = (p.dense_mlp + p.experts + p.shared_experts) // 3
    promotable = v_proj + down if mix.more_bits else 0
    share = promoted_share(s.layers)
    promoted = promotable * share
    head = p.lm_head if p.lm_head else p.embedding
    embedding = p.embedding if p.lm_head else 0  # tied: the table is the head, counted once
    base = p.attention + p.dense_mlp + p.experts + p.shared_experts + p.mtp - promoted
    total_bits = (
        base * bits[mix.base]
        + promoted * bits[mix.more_bits or mix.base]
        + head * bits[mix.output]
        + embedding * bits[mix.base]
        + (p.norms + p.router) * bits["f32"]
        + p.vision * bits["f16"]
    )
    return math.ceil(total_bits / 8)
