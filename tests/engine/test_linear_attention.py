"""Linear-attention and state-space hybrids: parameters, fixed per-sequence state, importer.

Expected numbers are written out from the checkpoints' tensor shapes (see tests/data/hf-configs-linear/SOURCES.md)
or from the publishers' stated counts, never taken from the engine.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from record_support import record_of

from site_builder.engine.memory import ModelFacts, kv_bytes, kv_bytes_per_token, weight_bytes
from site_builder.engine.params import count_params, linear_mixer_params, shape_of
from site_builder.engine.precision import PRECISIONS
from site_builder.hfimport import HfConfigError, architecture_from_config, native_precision
from site_builder.records import Architecture, ModelRecord
from site_builder.records.model import LinearAttention

DATA = Path(__file__).resolve().parents[1] / "data" / "hf-configs-linear"
CATALOG = Path(__file__).resolve().parents[2] / "catalog" / "models"


def config(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text())
    return data


def model(arch: Architecture, vision: int | None = None) -> ModelRecord:
    return record_of(arch, vision)


def imported(name: str, vision: int | None = None) -> ModelRecord:
    return model(architecture_from_config(config(name)), vision)


def facts(m: ModelRecord) -> ModelFacts:
    return ModelFacts(m.architecture, shape_of(m.architecture), count_params(m), m.context_window)


def linear_block(arch: Architecture) -> LinearAttention:
    assert arch.linear_attention is not None
    return arch.linear_attention


# --- one token mixer of each kind, from the tensor shapes the checkpoints list ----------------------


def test_gated_deltanet_layer_matches_qwen3_next_tensors() -> None:
    # Qwen3-Next-80B-A3B, one linear_attn block: A_log [32], conv1d [8192,1,4], dt_bias [32], in_proj_ba [64,2048],
    # in_proj_qkvz [12288,2048], norm [128], out_proj [2048,4096].
    expected = 32 + 8192 * 4 + 32 + 64 * 2048 + 12288 * 2048 + 128 + 2048 * 4096
    la = linear_block(imported("Qwen--Qwen3-Next-80B-A3B-Instruct").architecture)
    assert linear_mixer_params(la, 2048) == expected


def test_kimi_delta_attention_layer_matches_kimi_linear_tensors() -> None:
    # Kimi-Linear-48B-A3B, one KDA block: q/k/v_proj [4096,2304] each, q/k/v_conv1d [4096,1,4] each, A_log [1,1,32,1],
    # dt_bias [4096], f_a_proj [128,2304], f_b_proj [4096,128], g_a_proj [128,2304], g_b_proj [4096,128],
    # b_proj [32,2304], o_norm [128], o_proj [2304,4096].
    expected = (
        3 * 4096 * 2304 + 3 * 4096 * 4 + 32 + 4096 + 2 * (128 * 2304 + 4096 * 128) + 32 * 2304 + 128 + 2304 * 4096
    )
    la = linear_block(imported("moonshotai--Kimi-Linear-48B-A3B-Instruct").architecture)
    assert linear_mixer_params(la, 2304) == expected


def test_mamba2_layer_by_hand() -> None:
    # Nemotron-3-Nano: 64 heads of 64 (inner width 4096), 8 groups of state 128, kernel 4, conv bias, no proj bias.
    # in_proj makes z and x (2 x 4096), B and C (2 x 8 x 128) and dt (64); the conv runs over x, B, C (6144 channels);
    # dt_bias, A_log and D per head; a gated norm over 4096; out_proj 4096 -> 2688.
    hidden, inner, bc, heads = 2688, 4096, 2 * 8 * 128, 64
    expected = hidden * (2 * inner + bc + heads) + (inner + bc) * 4 + (inner + bc) + 3 * heads + inner + inner * hidden
    la = linear_block(imported("nvidia--NVIDIA-Nemotron-3-Nano-30B-A3B-BF16").architecture)
    assert linear_mixer_params(la, hidden) == expected


# --- whole checkpoints --------------------------------------------------------------------------------


def test_kimi_linear_equals_checkpoint_element_count() -> None:
    # All BF16/FP32 tensors, no MTP: the element count is the parameter count.
    assert count_params(imported("moonshotai--Kimi-Linear-48B-A3B-Instruct")).total == 49_122_681_728


def qwen35_vision_tower() -> int:
    """Qwen3.5-35B-A3B's vision tower from its vision_config (27 blocks, width 1152, MLP 4304, patch 16x16x2)."""
    width, mlp, depth = 1152, 4304, 27
    patch = width * 3 * 2 * 16 * 16 + width
    positions = 2304 * width
    block = 2 * 2 * width + (width * 3 * width + 3 * width) + (width * width + width) + 2 * width * mlp + mlp + width
    merged = 4 * width  # spatial_merge_size 2 -> four patches per token
    merger = 2 * width + merged * merged + merged + merged * 2048 + 2048
    return patch + positions + depth * block + merger


def test_qwen35_equals_checkpoint_element_count() -> None:
    m = imported("Qwen--Qwen3.5-35B-A3B", vision=qwen35_vision_tower())
    # Language model + MTP layer + vision tower, all BF16 (A_log and the gated norms in FP32).
    assert count_params(m).total == 35_951_822_704


def test_dense_qwen35_27b_equals_checkpoint_element_count() -> None:
    # Dense Gated DeltaNet model; its vision merger projects to 5120 instead of 2048.
    vision = qwen35_vision_tower() - (2048 * 4608 + 2048) + (5120 * 4608 + 5120)
    assert count_params(imported("Qwen--Qwen3.5-27B", vision=vision)).total == 27_781_427_952


def fp8_block_scales(rows: int, cols: int) -> int:
    return -(-rows // 128) * -(-cols // 128)


def test_minimax_m27_equals_checkpoint_less_fp8_scales() -> None:
    # 62 layers; 256 experts of three 1536x3072 matrices; q 6144x3072, k and v 1024x3072, o 3072x6144 (all FP8).
    experts = 62 * 256 * (2 * fp8_block_scales(1536, 3072) + fp8_block_scales(3072, 1536))
    attention = 62 * (fp8_block_scales(6144, 3072) + 2 * fp8_block_scales(1024, 3072) + fp8_block_scales(3072, 6144))
    m = imported("MiniMaxAI--MiniMax-M2.7")
    assert count_params(m).total == 228_703_644_928 - experts - attention


def test_kimi_k25_packed_int4_count() -> None:
    # Kimi K2.5 = Kimi K2's text model + MoonViT (27 blocks of width 1152, MLP 4304, 14x14 patches, 64x64 positions)
    # + a patch-merger projector (LayerNorm 1152, 4608 -> 4608 -> 7168). Its routed experts are int4, eight to an
    # int32, with one BF16 scale per 32 weights and a 2-element shape tensor per matrix.
    width, mlp = 1152, 4304
    block = 2 * width * mlp + mlp + width + 2 * 2 * width + width * width + width + 3 * width * width + 3 * width
    vision = 27 * block + 2 * width + 64 * 64 * width + width + width * 3 * 14 * 14
    projector = 2 * width + 4608 * 4608 + 4608 + 7168 * 4608 + 7168
    text = count_params(imported("moonshotai--Kimi-K2-Instruct"))
    per_matrix = 7168 * 2048
    matrices = 60 * 384 * 3
    packed = matrices * (per_matrix // 8 + per_matrix // 32 + 2)
    assert text.experts == matrices * per_matrix
    assert text.total - text.experts + vision + projector + packed == 170_738_182_128


def test_kimi_k25_int4_experts_weights_match_the_published_files() -> None:
    # The files hold int4 routed experts (4 bits + a bf16 scale per 32) and everything else in bf16: 554.30 GiB.
    # Plain group-128 int4 on every linear layer would undercount them by about a tenth.
    files = yaml.safe_load((DATA.parent / "checkpoint_files.yaml").read_text())["checkpoints"]
    k25 = next(c for c in files if c["hf_repo"] == "moonshotai/Kimi-K2.5")
    on_disk = k25["gib"] * 2**30
    kimi = facts(imported("moonshotai--Kimi-K2.5", vision=471_143_920))
    engine = weight_bytes(kimi, PRECISIONS["int4-experts"])
    assert abs(engine - on_disk) < 0.02 * on_disk
    assert weight_bytes(kimi, PRECISIONS["int4"]) < 0.92 * on_disk
    # By hand: 60 MoE layers x 384 experts x 3 matrices of 2048 x 7168, at 4.5 bits; the rest at 2 bytes.
    experts = 60 * 384 * 3 * 2048 * 7168
    assert engine == math.ceil(experts * 4.5 / 8 + (kimi.params.total - experts) * 2)


def test_kimi_k2_within_fp8_scales_of_checkpoint() -> None:
    # FP8 block scales of every quantized matrix (attention in 61 layers, dense MLP in layer 0, 60 MoE layers of
    # 384 routed + 1 shared expert). What is left unexplained is under 4,000 elements of 1.03e12.
    attention = 61 * (
        fp8_block_scales(1536, 7168)
        + fp8_block_scales(12288, 1536)
        + fp8_block_scales(576, 7168)
        + fp8_block_scales(16384, 512)
        + fp8_block_scales(7168, 8192)
    )
    dense = 3 * fp8_block_scales(18432, 7168)
    experts = 60 * 385 * 3 * fp8_block_scales(2048, 7168)
    counted = count_params(imported("moonshotai--Kimi-K2-Instruct")).total
    assert abs(1_026_470_731_056 - attention - dense - experts - counted) < 4_000


def test_nemotron3_nano_matches_stated_total_and_active() -> None:
    # NVIDIA: 31.6B total, 3.2B active (3.6B including embeddings).
    p = count_params(imported("nvidia--NVIDIA-Nemotron-3-Nano-30B-A3B-BF16"))
    assert round(p.total / 1e8) == 316
    assert round(p.active / 1e8) == 32
    assert round((p.active + p.embedding) / 1e8) == 36


def test_nemotron_h_56b_by_hand() -> None:
    # NVIDIA: 54 Mamba-2, 54 MLP and 10 attention layers. Mamba-2: 256 heads of 64 (inner 16384), 8 groups of state
    # 256, conv kernel 4 with bias; MLP: squared ReLU, 8192 -> 32768 -> 8192; attention: 64 query and 8 KV heads of 128.
    arch = architecture_from_config(config("nvidia--Nemotron-H-56B-Base-8K"))
    mixers = linear_block(arch).layer_mixers
    assert (mixers.count("linear"), mixers.count("none"), mixers.count("attention")) == (54, 54, 10)
    h, inner, bc, heads = 8192, 256 * 64, 2 * 8 * 256, 256
    mamba = h * (2 * inner + bc + heads) + (inner + bc) * 5 + 3 * heads + inner + inner * h + h
    mlp = 2 * h * 32768 + h
    attention = h * (64 * 128 + 2 * 8 * 128) + 64 * 128 * h + h
    embeddings = 2 * 131072 * h + h
    assert count_params(model(arch)).total == 54 * mamba + 54 * mlp + 10 * attention + embeddings
    assert abs(count_params(model(arch)).total - 56e9) < 0.01 * 56e9  # the model card's "56B model parameters"


def test_qwen3_next_stated_total_and_mtp_layer() -> None:
    # "80B total, 3B activated" for the main model; the checkpoint adds one MTP layer (mtp.* tensors): a gated
    # full-attention layer, 512 experts + shared expert + gates, three norms and a 4096->2048 fc; no embedding copy.
    p = count_params(imported("Qwen--Qwen3-Next-80B-A3B-Instruct"))
    attention = 8192 * 2048 + 2 * 512 * 2048 + 2048 * 4096 + 2 * 256
    moe = 513 * 3 * 512 * 2048 + 512 * 2048 + 2048
    assert p.mtp == attention + moe + 2 * 2048 + 3 * 2048 + 2048 * 4096
    assert 79.5e9 < p.total - p.mtp < 80.5e9
    assert 3.0e9 < p.active < 4.0e9


# --- memory: KV only for attention layers, a fixed state for the rest --------------------------------


def test_only_attention_layers_keep_a_kv_cache() -> None:
    qwen = facts(imported("Qwen--Qwen3-Next-80B-A3B-Instruct"))
    assert kv_bytes_per_token(qwen, "fp16") == 12 * 2 * 2 * 256 * 2  # 12 of 48 layers, 2 KV heads of 256
    nemotron = facts(imported("nvidia--NVIDIA-Nemotron-3-Nano-30B-A3B-BF16"))
    assert kv_bytes_per_token(nemotron, "fp16") == 6 * 2 * 2 * 128 * 2  # six '*' blocks
    kimi = facts(imported("moonshotai--Kimi-Linear-48B-A3B-Instruct"))
    assert kv_bytes_per_token(kimi, "fp16") == 7 * (512 + 64) * 2  # 7 MLA layers: latent + rope key


def test_fixed_state_per_sequence_by_hand() -> None:
    # Qwen3-Next: 36 Gated DeltaNet layers, each a 32 x 128 x 128 state (16-bit) and a conv window of 3 inputs over
    # 8192 channels (16-bit).
    qwen = facts(imported("Qwen--Qwen3-Next-80B-A3B-Instruct"))
    assert qwen.linear_state_bytes == 36 * (32 * 128 * 128 * 2 + 8192 * 3 * 2)
    # Qwen3.5 keeps the recurrent state in float32 (mamba_ssm_dtype).
    qwen35 = facts(imported("Qwen--Qwen3.5-35B-A3B"))
    assert qwen35.linear_state_bytes == 30 * (32 * 128 * 128 * 4 + 8192 * 3 * 2)
    # Nemotron-3-Nano: 23 Mamba-2 blocks, 64 heads x 64 x state 128 in float32, conv over 6144 channels.
    nemotron = facts(imported("nvidia--NVIDIA-Nemotron-3-Nano-30B-A3B-BF16"))
    assert nemotron.linear_state_bytes == 23 * (64 * 64 * 128 * 4 + 6144 * 3 * 2)
    # Kimi Linear: 20 KDA layers, 32 heads of 128 x 128, three convs of 4096 channels.
    kimi = facts(imported("moonshotai--Kimi-Linear-48B-A3B-Instruct"))
    assert kimi.linear_state_bytes == 20 * (32 * 128 * 128 * 2 + 3 * 4096 * 3 * 2)


@pytest.mark.parametrize(
    "name",
    ["Qwen--Qwen3-Next-80B-A3B-Instruct", "nvidia--NVIDIA-Nemotron-3-Nano-30B-A3B-BF16"],
)
def test_state_does_not_grow_with_context(name: str) -> None:
    f = facts(imported(name))
    per_token = kv_bytes_per_token(f, "fp16")
    for context in (1_000, 100_000):
        assert kv_bytes(f, "fp16", context, 1) == per_token * context + f.linear_state_bytes
    # Concurrency multiplies the whole per-sequence cache, state included.
    assert kv_bytes(f, "fp16", 4096, 8) == 8 * (per_token * 4096 + f.linear_state_bytes)


def test_hybrid_cache_is_a_fraction_of_an_all_attention_twin() -> None:
    m = imported("Qwen--Qwen3-Next-80B-A3B-Instruct")
    twin = model(m.architecture.model_copy(update={"linear_attention": None}))
    hybrid, full = facts(m), facts(twin)
    # At 256K tokens 12 of 48 layers cache K and V; the fixed state is small beside that.
    ratio = kv_bytes(hybrid, "fp16", 262_144, 1) / kv_bytes(full, "fp16", 262_144, 1)
    assert 0.25 < ratio < 0.26


def test_linear_mixer_weights_are_quantized_like_attention() -> None:
    f = facts(imported("Qwen--Qwen3-Next-80B-A3B-Instruct"))
    p = f.params
    saved = weight_bytes(f, PRECISIONS["bf16"]) - weight_bytes(f, PRECISIONS["fp8"])
    # FP8 saves one byte on every decoder linear weight, the Gated DeltaNet projections included.
    assert saved >= p.linear_mixer + p.attention + p.experts + p.shared_experts


# --- importer -----------------------------------------------------------------------------------------


def test_importer_reads_each_layout() -> None:
    qwen = linear_block(imported("Qwen--Qwen3-Next-80B-A3B-Instruct").architecture)
    assert qwen.layer_mixers == (["linear"] * 3 + ["attention"]) * 12
    assert (qwen.kind, qwen.num_heads, qwen.num_key_heads, qwen.attention_output_gate) == (
        "gated_deltanet",
        32,
        16,
        True,
    )
    kimi = linear_block(imported("moonshotai--Kimi-Linear-48B-A3B-Instruct").architecture)
    # full_attn_layers [4, 8, ..., 24, 27] are 1-based.
    assert [i for i, kind in enumerate(kimi.layer_mixers) if kind == "attention"] == [3, 7, 11, 15, 19, 23, 26]
    nemotron = imported("nvidia--NVIDIA-Nemotron-3-Nano-30B-A3B-BF16").architecture
    block = linear_block(nemotron)
    assert block.mixer_only_layers and nemotron.norms_per_layer == 1 and not nemotron.gated_mlp
    assert (block.layer_mixers.count("linear"), block.layer_mixers.count("attention")) == (23, 6)


def base_config(**extra: Any) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "model_type": "llama",
        "hidden_size": 64,
        "num_hidden_layers": 4,
        "num_attention_heads": 4,
        "intermediate_size": 128,
        "vocab_size": 100,
        "max_position_embeddings": 256,
    }
    cfg.update(extra)
    return cfg


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"model_type": "jamba", "mamba_d_state": 16}, "mamba_d_state"),
        ({"model_type": "minimax_m2", "attn_type_list": [0, 0, 0, 1]}, "attn_type_list"),
        ({"model_type": "mystery", "layer_types": ["linear_attention"] * 4}, "layer_types"),
        ({"model_type": "mystery", "linear_attn_config": {"num_heads": 4}}, "linear_attn_config"),
    ],
)
def test_unknown_linear_layers_are_refused_by_name(extra: dict[str, Any], field: str) -> None:
    with pytest.raises(HfConfigError, match=f"`{field}`"):
        architecture_from_config(base_config(**extra))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("mla_use_output_gate", True),
        ("routed_expert_hidden_size", 3584),
        ("linear_attn_config.use_full_rank_gate", True),
    ],
)
def test_kimi_k3_style_additions_are_refused_by_name(field: str, value: object) -> None:
    # Kimi K3 reuses the kimi_linear text config with these extra weights.
    cfg = config("moonshotai--Kimi-Linear-48B-A3B-Instruct")
    if "." in field:
        outer, inner = field.split(".")
        cfg[outer] = {**cfg[outer], inner: value}
    else:
        cfg[field] = value
    with pytest.raises(HfConfigError, match=f"`{field}`"):
        architecture_from_config(cfg)


def test_nemotron_with_dense_and_moe_blocks_is_refused() -> None:
    cfg = config("nvidia--NVIDIA-Nemotron-3-Nano-30B-A3B-BF16")
    cfg["hybrid_override_pattern"] = "M-E*" * 13
    with pytest.raises(HfConfigError, match="hybrid_override_pattern"):
        architecture_from_config(cfg)


def test_gated_deltanet_needs_its_dimensions() -> None:
    cfg = config("Qwen--Qwen3-Next-80B-A3B-Instruct")
    del cfg["linear_num_value_heads"]
    with pytest.raises(HfConfigError, match="linear_num_value_heads"):
        architecture_from_config(cfg)


def mamba_config(model_type: str, heads: int, width: int, state: int, **extra: Any) -> dict[str, Any]:
    """A small config in the `mamba_*` spelling of Granite 4.0 and Falcon-H1 (one group, kernel 4)."""
    mamba = {"mamba_n_heads": heads, "mamba_d_head": width, "mamba_n_groups": 1, "mamba_d_state": state}
    return base_config(model_type=model_type, mamba_d_conv=4, **mamba, **extra)


def test_granite_hybrid_mapping_by_hand() -> None:
    # A small Granite-4.0-style config: layers alternate mamba and attention; 4 experts of 32 plus a 48-wide shared MLP.
    cfg = mamba_config(
        "granitemoehybrid",
        8,
        16,
        32,
        intermediate_size=32,
        shared_intermediate_size=48,
        num_local_experts=4,
        num_experts_per_tok=2,
        layer_types=["mamba", "attention", "mamba", "mamba"],
        mamba_conv_bias=True,
        mamba_proj_bias=False,
        tie_word_embeddings=True,
    )
    m = model(architecture_from_config(cfg))
    p = count_params(m)
    h, inner, bc, heads = 64, 128, 2 * 32, 8
    mamba = h * (2 * inner + bc + heads) + (inner + bc) * 5 + 3 * heads + inner + inner * h
    attention = 4 * h * h
    experts = 4 * 3 * h * 32
    shared = 3 * h * 48
    router = 4 * h
    norms = 4 * 2 * h + h
    assert p.total == 100 * h + 3 * mamba + attention + 4 * (experts + shared + router) + norms


def test_compressed_tensors_int4_is_the_native_precision() -> None:
    # Kimi K2.5's quantization_config: compressed-tensors, one config group of 4-bit int weights.
    assert native_precision(config("moonshotai--Kimi-K2.5")) == "int4-experts"


def test_compressed_tensors_int4_on_every_linear_layer_is_plain_int4() -> None:
    # The same group of 4-bit weights without an ignore list for attention and shared experts quantizes them all.
    cfg = config("moonshotai--Kimi-K2.5")
    for part in (cfg, cfg["text_config"]):
        if "quantization_config" in part:
            part["quantization_config"]["ignore"] = ["lm_head"]
    assert native_precision(cfg) == "int4"


@pytest.mark.parametrize(
    ("name", "model_id"),
    [
        ("Qwen--Qwen3-Next-80B-A3B-Instruct", "qwen3-next-80b-a3b-instruct"),
        ("Qwen--Qwen3.5-35B-A3B", "qwen3.5-35b-a3b"),
        ("Qwen--Qwen3.5-27B", "qwen3.5-27b"),
        ("moonshotai--Kimi-Linear-48B-A3B-Instruct", "kimi-linear-48b-a3b-instruct"),
        ("MiniMaxAI--MiniMax-M2.7", "minimax-m2.7"),
        ("moonshotai--Kimi-K2-Instruct", "kimi-k2-instruct"),
        ("moonshotai--Kimi-K2.5", "kimi-k2.5"),
        ("nvidia--NVIDIA-Nemotron-3-Nano-30B-A3B-BF16", "nemotron-3-nano-30b-a3b"),
    ],
)
def test_catalog_record_matches_its_config(name: str, model_id: str) -> None:
    record = ModelRecord.model_validate(yaml.safe_load((CATALOG / f"{model_id}.yaml").read_text()))
    assert record.architecture == architecture_from_config(config(name))


def test_falcon_h1_with_ambiguous_mixer_width_is_refused() -> None:
    # 24 heads of 64 (1536) against mamba_expand 2 x hidden 1024 (2048), and no mamba_d_ssm to settle it.
    cfg = mamba_config("falcon_h1", 24, 64, 128, hidden_size=1024, mamba_expand=2)
    with pytest.raises(HfConfigError, match="mamba_d_ssm"):
        architecture_from_config(cfg)


def test_falcon_h1_parallel_layers_by_hand() -> None:
    # Every layer runs attention and Mamba-2 side by side, then a gated MLP; two norms per layer, untied head.
    cfg = mamba_config(
        "falcon_h1",
        6,
        16,
        8,
        num_key_value_heads=2,
        head_dim=16,
        mamba_d_ssm=96,
        mamba_rms_norm=True,
        projectors_bias=False,
    )
    m = model(architecture_from_config(cfg))
    h, inner, bc, heads = 64, 96, 2 * 8, 6
    attention = h * 4 * 16 + 2 * h * 2 * 16 + 4 * 16 * h
    mamba = h * (2 * inner + bc + heads) + (inner + bc) * 5 + 3 * heads + inner + inner * h
    mlp = 3 * h * 128
    layer = attention + mamba + mlp + 2 * h
    f = facts(m)
    assert count_params(m).total == 2 * 100 * h + 4 * layer + h
    assert kv_bytes_per_token(f, "fp16") == 4 * 2 * 2 * 16 * 2  # every layer caches K and V
    assert f.linear_state_bytes == 4 * (6 * 8 * 16 * 2 + (inner + bc) * 3 * 2)
