"""Lightning attention (MiniMax-Text-01, MiniMax-M1): parameters, fixed per-sequence state, importer.

The layer's tensors are those of the MiniMax modelling code (qkv_proj, output_gate, norm, out_proj; the decay
rates are buffers). No unmodified config.json of a release was found in a citable public source, so the importer
is exercised with a small synthetic config and the full-size shape is written out from the model card and checked
against its stated totals.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from test_linear_attention import facts
from test_linear_attention import model as record

from site_builder.engine.memory import kv_bytes, kv_bytes_per_token
from site_builder.engine.params import count_params, linear_mixer_params
from site_builder.hfimport import HfConfigError, architecture_from_config
from site_builder.records import Architecture, ModelRecord
from site_builder.records.model import LinearAttention


def small_config(**extra: Any) -> dict[str, Any]:
    """Three lightning layers, then one softmax layer; 4 heads of 16, 2 KV heads, 4 experts of width 32, top-2."""
    cfg: dict[str, Any] = {
        "model_type": "minimax_text_01",
        "architectures": ["MiniMaxText01ForCausalLM"],
        "hidden_size": 64,
        "num_hidden_layers": 4,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": 16,
        "intermediate_size": 32,
        "num_local_experts": 4,
        "num_experts_per_tok": 2,
        "vocab_size": 100,
        "max_position_embeddings": 1024,
        "attn_type_list": [0, 0, 0, 1],
        "shared_intermediate_size": 0,
        "tie_word_embeddings": False,
    }
    cfg.update(extra)
    return cfg


def small() -> ModelRecord:
    return record(architecture_from_config(small_config()))


def test_importer_maps_attn_type_list() -> None:
    la = small().architecture.linear_attention
    assert la is not None
    assert la.kind == "lightning"
    assert la.layer_mixers == ["linear", "linear", "linear", "attention"]
    assert (la.num_heads, la.key_head_dim, la.value_head_dim, la.conv_kernel) == (4, 16, 16, 0)


def test_lightning_layer_by_hand() -> None:
    # qkv_proj [3 x 64, 64], output_gate [64, 64], norm [64], out_proj [64, 64]: inner width 4 heads x 16 = 64.
    la = LinearAttention(
        kind="lightning", layer_mixers=["linear"], num_heads=4, key_head_dim=16, value_head_dim=16, conv_kernel=0
    )
    assert linear_mixer_params(la, 64) == 3 * 64 * 64 + 64 * 64 + 64 + 64 * 64


def test_small_model_total_and_active_by_hand() -> None:
    lightning_layer = 3 * 64 * 64 + 64 * 64 + 64 + 64 * 64
    softmax_layer = 64 * 64 + 2 * 64 * 32 + 64 * 64  # q, k and v with 2 KV heads of 16, o
    expert = 3 * 64 * 32
    per_layer_ffn = 4 * expert + 64 * 4  # four experts and the router
    norms = 4 * 2 * 64 + 64  # two per layer, and the final norm
    embedding = lm_head = 100 * 64
    total = embedding + lm_head + 3 * lightning_layer + softmax_layer + 4 * per_layer_ffn + norms
    p = count_params(small())
    assert p.total == total
    # Active: no input embedding, two of the four experts in each layer.
    assert p.active == total - embedding - 4 * 2 * expert


def test_state_is_fixed_and_only_the_softmax_layer_caches() -> None:
    f = facts(small())
    # Three lightning layers, each 4 heads x 16 x 16 numbers of 16-bit state, and no convolution window.
    assert f.linear_state_bytes == 3 * 4 * 16 * 16 * 2
    # One softmax layer: K and V, 2 heads of 16, 16-bit.
    assert kv_bytes_per_token(f, "fp16") == 2 * 2 * 16 * 2
    for context in (1_000, 100_000):
        assert kv_bytes(f, "fp16", context, 1) == 128 * context + 3 * 4 * 16 * 16 * 2


def minimax_text_01() -> Architecture:
    """The shape the MiniMax-Text-01 model card states: 80 layers, a softmax layer after every 7 lightning layers,
    64 heads of 128, hidden 6144, 32 experts of 9216 with top-2 routing, vocabulary 200,064. The card does not give
    the KV heads of the softmax layers; with 8 the total rounds to the stated 456B, with 64 (no GQA) it would be
    456.97B, so the check below also pins that figure."""
    return architecture_from_config(
        {
            "model_type": "minimax_text_01",
            "hidden_size": 6144,
            "num_hidden_layers": 80,
            "num_attention_heads": 64,
            "num_key_value_heads": 8,
            "head_dim": 128,
            "intermediate_size": 9216,
            "num_local_experts": 32,
            "num_experts_per_tok": 2,
            "vocab_size": 200_064,
            "max_position_embeddings": 1_000_000,
            "attn_type_list": [1 if (i + 1) % 8 == 0 else 0 for i in range(80)],
        }
    )


def test_minimax_text_01_matches_stated_total_and_active() -> None:
    p = count_params(record(minimax_text_01()))
    # Stated: 456B total, 45.9B activated per token (MiniMax-AI/MiniMax-01, MiniMax-Text-01-Model-Card.md).
    assert abs(p.total - 456e9) < 0.5e9
    # The card's active figure leaves out the LM head as well as the embedding; the engine counts the head.
    assert abs(p.active - p.lm_head - 45.9e9) < 0.05e9
    assert p.lm_head == 200_064 * 6144


@pytest.mark.parametrize(
    ("kind", "kernel"),
    [("lightning", 4), ("gated_deltanet", 0)],
)
def test_conv_kernel_must_match_the_kind(kind: str, kernel: int) -> None:
    with pytest.raises(ValidationError, match="conv_kernel"):
        LinearAttention.model_validate(
            {
                "kind": kind,
                "layer_mixers": ["linear"],
                "num_heads": 4,
                "key_head_dim": 16,
                "value_head_dim": 16,
                "conv_kernel": kernel,
            }
        )


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"attn_type_list": [0, 0, 2, 1]}, "attn_type_list"),
        ({"attn_type_list": [0, 1]}, "attn_type_list"),
        ({"shared_intermediate_size": 512}, "shared_intermediate_size"),
        ({"model_type": "minimax_m2"}, "attn_type_list"),
    ],
)
def test_what_the_engine_cannot_count_is_refused_by_name(extra: dict[str, Any], field: str) -> None:
    with pytest.raises(HfConfigError, match=f"`{field}`"):
        architecture_from_config(small_config(**extra))
