"""Qwen3.5 small models, DeepSeek-R1-Distill-Qwen-7B, DeepSeek-OCR and MiMo-V2.5-Pro: imported configs against their
checkpoints.

The expected totals are the safetensors element counts printed in the public model reports the configs come from
(see tests/data/hf-configs-more/SOURCES.md); the vision-tower sizes are written out from the tensor shapes in the
same reports. None of these numbers is taken from the engine.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from site_builder.engine.memory import ModelFacts, kv_bytes, kv_bytes_per_token
from site_builder.engine.params import count_params, shape_of
from site_builder.hfimport import HfConfigError, architecture_from_config, import_hf_config
from site_builder.records import ModelRecord

DATA = Path(__file__).resolve().parents[1] / "data" / "hf-configs-more"
CATALOG = Path(__file__).resolve().parents[2] / "catalog" / "models"


def config(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text())
    return data


def record(model_id: str) -> ModelRecord:
    return ModelRecord.model_validate(yaml.safe_load((CATALOG / f"{model_id}.yaml").read_text()))


def qwen35_vision_by_hand(depth: int, width: int, ffn: int, out: int) -> int:
    """Tensor shapes of the Qwen3.5 ViT as the reports list them (all with biases, LayerNorm with bias)."""
    block = (3 * width * width + 3 * width) + (width * width + width) + 2 * ffn * width + ffn + width + 4 * width
    merged = 4 * width  # 2x2 spatial merge
    merger = 2 * width + merged * merged + merged + out * merged + out
    patch_embed = width * 3 * 2 * 16 * 16 + width  # Conv3d(3, width, kernel (2, 16, 16)) with bias
    position_table = 2304 * width
    return depth * block + merger + patch_embed + position_table


def deepseek_ocr_encoder_by_hand() -> int:
    """DeepEncoder as the DeepSeek-OCR listing shows it: SAM ViT-B, CLIP ViT-L/14, the linear projector and the two
    learned separator vectors (image_newline, view_seperator) the decoder reads between image tiles."""
    sam_block = (2304 * 768 + 2304) + (768 * 768 + 768) + (3072 * 768 + 3072) + (768 * 3072 + 768) + 4 * 768
    rel_pos = 8 * 2 * 27 * 64 + 4 * 2 * 127 * 64  # windowed blocks [27, 64], global blocks 2, 5, 8, 11 [127, 64]
    neck = 256 * 768 + 2 * 2 * 256 + 256 * 256 * 9  # 1x1 conv, two LayerNorms, 3x3 conv
    downsample = 512 * 256 * 9 + 1024 * 512 * 9  # net_2, net_3
    sam = 12 * sam_block + rel_pos + neck + downsample + (768 * 3 * 16 * 16 + 768) + 64 * 64 * 768
    clip_block = (3072 * 1024 + 3072) + (1024 * 1024 + 1024) + (4096 * 1024 + 4096) + (1024 * 4096 + 1024) + 4 * 1024
    clip = (
        24 * clip_block + 1024 + 1024 * 3 * 14 * 14 + 257 * 1024 + 2 * 1024
    )  # class token, patches, positions, pre-LN
    return sam + clip + (1280 * 2048 + 1280) + 2 * 1280


# (catalog id, saved config, checkpoint element count from the report, vision tower by hand or None)
CHECKPOINTS = [
    ("deepseek-r1-distill-qwen-7b", "deepseek-ai--DeepSeek-R1-Distill-Qwen-7B", 7_615_616_512, None),
    ("qwen3.5-0.8b-base", "Qwen--Qwen3.5-0.8B-Base", 873_438_784, qwen35_vision_by_hand(12, 768, 3072, 1024)),
    ("qwen3.5-4b", "Qwen--Qwen3.5-4B", 4_659_865_088, qwen35_vision_by_hand(24, 1024, 4096, 2560)),
    ("deepseek-ocr", "deepseek-ai--DeepSeek-OCR", 3_336_106_240, deepseek_ocr_encoder_by_hand()),
]


@pytest.mark.parametrize(("model_id", "cfg", "elements", "vision"), CHECKPOINTS, ids=[c[0] for c in CHECKPOINTS])
def test_record_matches_checkpoint_elements(model_id: str, cfg: str, elements: int, vision: int | None) -> None:
    m = record(model_id)
    # The record's architecture is what the importer makes of the saved config, untouched.
    assert m.architecture == architecture_from_config(config(cfg))
    assert (m.vision.params if m.vision else None) == vision
    # BF16 checkpoints without scale tensors: the element count is the parameter count, MTP layer included.
    assert count_params(m).total == elements


def test_deepseek_ocr_decoder_by_hand() -> None:
    # 12 layers of 10-head MHA (head_dim 128), layer 0 dense (6848), layers 1-11: 64 experts of 896, 6 routed, and
    # two shared experts fused into one 1792-wide MLP; untied 129,280-row embedding and head.
    h = 1280
    layers = 12 * (2 * h + 4 * h * h) + 3 * 6848 * h + 11 * (64 * 3 * 896 * h + 64 * h + 3 * 1792 * h)
    decoder = 2 * 129280 * h + layers + h
    m = record("deepseek-ocr")
    counted = count_params(m)
    assert counted.total - counted.vision == decoder
    assert m.architecture.kv_lora_rank is None  # use_mla false: plain MHA, K and V cached per head
    assert decoder + deepseek_ocr_encoder_by_hand() == 3_336_106_240


def test_qwen35_0_8b_vision_tower_by_hand() -> None:
    # Written out from the listing: 12 blocks of qkv [2304,768]+[2304], proj [768,768]+[768], fc1 [3072,768]+[3072],
    # fc2 [768,3072]+[768], two LayerNorms [768]x2; merger norm 2x[768], fc1 [3072,3072]+[3072], fc2 [1024,3072]
    # +[1024]; patch_embed [768,3,2,16,16]+[768]; pos_embed [2304,768].
    blocks = 12 * (2304 * 768 + 2304 + 768 * 768 + 768 + 3072 * 768 + 3072 + 768 * 3072 + 768 + 4 * 768)
    merger = 2 * 768 + 3072 * 3072 + 3072 + 1024 * 3072 + 1024
    assert qwen35_vision_by_hand(12, 768, 3072, 1024) == blocks + merger + 768 * 1536 + 768 + 2304 * 768


def test_qwen35_small_models_cache_only_their_attention_layers() -> None:
    # One full-attention layer in four: 0.8B has 6 of 24, 4B has 8 of 32 (layers 3, 7, 11, ...).
    for model_id, attention_layers in (("qwen3.5-0.8b-base", 6), ("qwen3.5-4b", 8)):
        la = record(model_id).architecture.linear_attention
        assert la is not None
        assert la.layer_mixers.count("attention") == attention_layers
        assert [i for i, kind in enumerate(la.layer_mixers) if kind == "attention"][:2] == [3, 7]


def test_qwen35_4b_kv_and_fixed_state_by_hand() -> None:
    m = record("qwen3.5-4b")
    f = ModelFacts(m.architecture, shape_of(m.architecture), count_params(m), m.context_window)
    # 8 attention layers x (K and V) x 4 KV heads x 256 x 2 bytes.
    assert kv_bytes_per_token(f, "fp16") == 8 * 2 * 4 * 256 * 2
    # 24 Gated DeltaNet layers, each 32 value heads x 128 x 128 of FP32 state, plus a 3-step conv window over
    # q, k (16 heads x 128 each) and v (32 x 128) in 16 bits.
    assert f.linear_state_bytes == 24 * (32 * 128 * 128 * 4 + (2 * 16 * 128 + 32 * 128) * 3 * 2)


# --- MiMo-V2.5-Pro: values narrower than keys, sinks only on sliding layers, dense MTP layers ----------------

MIMO_PRO_ELEMENTS = 1_023_244_718_976  # safetensors element count of the FP8 checkpoint, scales included


def mimo_pro_listing() -> tuple[int, int, int]:
    """(main model, MTP layers, FP8 scale tensors) written out from the report's tensor shapes."""
    h, vocab, layers = 6144, 152576, 70
    qkv = (128 * 192 + 8 * 192 + 8 * 128) * h  # fused q, k (192 wide) and v (128 wide): [27136, 6144]
    o_proj = h * 128 * 128  # [6144, 16384]: 128 heads of 128-wide values
    per_layer = 2 * h + qkv + o_proj
    sinks = 60 * 128  # attention_sink_bias [128] on the 60 sliding-window layers only
    dense_ffn = 3 * 16384 * h  # layer 0
    moe = 69 * (384 * 3 * 2048 * h + 384 * h + 384)  # experts, router [384, 6144], e_score_correction_bias
    main = 2 * vocab * h + layers * per_layer + sinks + dense_ffn + moe + h
    # Each MTP layer: eh_proj [6144, 12288], five norms, a dense FFN, attention with its sinks; no embedding copy.
    mtp = 3 * (h * 2 * h + 5 * h + 3 * 16384 * h + 128 + o_proj + qkv)
    # weight_scale_inv per 128 x 128 block (float32): qkv [216, 48] in 73 layers, dense FFNs [48, 128] + 2 x [128, 48]
    # in 4, experts [48, 16] + 2 x [16, 48].
    scales = 73 * 216 * 48 + 4 * (48 * 128 + 2 * 128 * 48) + 69 * 384 * (48 * 16 + 2 * 16 * 48)
    return main, mtp, scales


def test_mimo_pro_listing_adds_up_to_the_reported_element_count() -> None:
    assert sum(mimo_pro_listing()) == MIMO_PRO_ELEMENTS


def test_mimo_pro_record_matches_checkpoint() -> None:
    m = record("mimo-v2.5-pro")
    assert m.architecture == architecture_from_config(config("XiaomiMiMo--MiMo-V2.5-Pro"))
    main, mtp, _ = mimo_pro_listing()
    counted = count_params(m)
    assert counted.total - counted.mtp == main
    assert counted.mtp == mtp
    # "1.02T total / 42B active" (SGLang cookbook); 42B counts the embedding row a token reads.
    assert 41.5e9 < counted.active + counted.embedding < 42.5e9


def test_mimo_pro_sinks_sit_on_sliding_layers_only() -> None:
    arch = record("mimo-v2.5-pro").architecture
    on_all = arch.model_copy(update={"attention_sinks_sliding_only": False})
    m = record("mimo-v2.5-pro")
    # Sinks on the 10 global layers too would add one logit per head (128) to each.
    assert count_params(m.model_copy(update={"architecture": on_all})).total - count_params(m).total == 10 * 128


def test_mimo_pro_kv_cache_by_hand() -> None:
    m = record("mimo-v2.5-pro")
    f = ModelFacts(m.architecture, shape_of(m.architecture), count_params(m), m.context_window)
    per_layer = 8 * (192 + 128) * 2  # 8 KV heads, keys 192 and values 128 wide, 16-bit
    assert kv_bytes_per_token(f, "fp16") == 70 * per_layer
    # 10 global layers keep all 100,000 tokens; the 60 sliding layers keep their last 128.
    assert kv_bytes(f, "fp16", 100_000, 1) == per_layer * (10 * 100_000 + 60 * 128)


# --- configs the engine cannot count exactly are refused by field name ----------------------------------------


def laguna_by_hand(h: int, layers: int, sliding_heads: int, ffn: int, expert_ffn: int, top_k: int) -> tuple[int, int]:
    """(total, active) of a Laguna: global layers (every fourth from 0) with 48 query heads, sliding layers with
    `sliding_heads`, 8 KV heads of 128, per-head q/k norms, a per-head output gate (hidden -> heads), a dense
    first layer, 256 experts plus one ungated shared expert of the expert width, a router with a selection bias,
    untied 100,352-row embedding and LM head."""
    vocab, hd = 100352, 128
    total = 2 * vocab * h + h
    active_experts = 0
    for i in range(layers):
        heads = 48 if i % 4 == 0 else sliding_heads
        total += h * heads * hd * 2 + 2 * h * 8 * hd + h * heads + 2 * hd + 2 * h
        if i == 0:
            total += 3 * ffn * h
        else:
            total += 256 * 3 * expert_ffn * h + 3 * expert_ffn * h + 256 * h + 256
            active_experts += top_k * 3 * expert_ffn * h
    routed = (layers - 1) * 256 * 3 * expert_ffn * h
    return total, total - routed + active_experts - vocab * h


@pytest.mark.parametrize(
    ("model_id", "cfg", "shape", "stated"),
    [
        ("laguna-xs.2", "poolside--Laguna-XS.2-FP8", (2048, 40, 64, 8192, 512, 8), (33.35e9, 33.45e9)),
    ],
)
def test_laguna_by_hand_and_against_stated_totals(
    model_id: str, cfg: str, shape: tuple[int, int, int, int, int, int], stated: tuple[float, float]
) -> None:
    m = record(model_id)
    assert m.architecture == architecture_from_config(config(cfg))
    total, active = laguna_by_hand(*shape)
    counted = count_params(m)
    assert (counted.total, counted.active) == (total, active)
    # SGLang states 33.4B for XS.2, the model card 118B for S 2.1: a gate per channel instead of per head would
    # add 2048 x 127 x (10 x 48 + 30 x 64) = 0.62B to XS.2 and fall outside "33.4B".
    assert stated[0] <= total <= stated[1]


def test_laguna_kv_cache_counts_kv_heads_not_query_heads() -> None:
    m = record("laguna-xs.2")
    f = ModelFacts(m.architecture, shape_of(m.architecture), count_params(m), m.context_window)
    per_layer = 8 * 128 * 2 * 2  # 8 KV heads of 128, K and V, 16-bit
    assert kv_bytes_per_token(f, "fp16") == 40 * per_layer
    assert kv_bytes(f, "fp16", 10_000, 1) == per_layer * (10 * 10_000 + 30 * 512)


def test_per_layer_heads_off_the_sliding_split_are_refused() -> None:
    cfg = config("poolside--Laguna-XS.2-FP8")
    heads = [48 if i % 4 == 0 else 64 for i in range(40)]
    heads[1] = 56  # one sliding layer out of step with the others
    with pytest.raises(HfConfigError, match=r"num_attention_heads_per_layer: query-head counts \(48, 56, 64\)"):
        architecture_from_config({**cfg, "num_attention_heads_per_layer": heads})


def test_laguna_unknown_gate_is_refused() -> None:
    with pytest.raises(HfConfigError, match="gating: 'per-token'"):
        architecture_from_config({**config("poolside--Laguna-XS.2-FP8"), "gating": "per-token"})


def test_mimo_sliding_layers_with_their_own_head_width_are_refused() -> None:
    # Only the KV-head count may differ between sliding and global layers; a different width may not.
    cfg = {**config("XiaomiMiMo--MiMo-V2.5-Pro"), "swa_head_dim": 128}
    with pytest.raises(HfConfigError, match=r"swa_head_dim \(128\) differs from head_dim \(192\)"):
        architecture_from_config(cfg)


def test_mimo_moe_flags_other_than_a_leading_dense_run_are_refused() -> None:
    cfg = config("XiaomiMiMo--MiMo-V2.5-Pro")
    flags = [0] + [1] * 68 + [0]
    with pytest.raises(HfConfigError, match="moe_layer_freq"):
        architecture_from_config({**cfg, "moe_layer_freq": flags})


def test_deepseek_ocr_kv_cache_by_hand() -> None:
    m = record("deepseek-ocr")
    f = ModelFacts(m.architecture, shape_of(m.architecture), count_params(m), m.context_window)
    assert kv_bytes_per_token(f, "fp16") == 12 * 2 * 10 * 128 * 2  # 12 layers, K and V, 10 heads of 128, 16-bit


def test_deepseek_vl_v2_with_mla_is_refused() -> None:
    with pytest.raises(HfConfigError, match="use_mla"):
        architecture_from_config({**config("deepseek-ai--DeepSeek-OCR"), "use_mla": True})


# --- MiMo-V2.5: sliding layers with twice the KV heads of the global ones, vision and audio encoders -----------

MIMO_ELEMENTS = 310_775_040_000


def mimo_listing() -> tuple[int, int, int, int, int]:
    """(main model, MTP layers, vision tower, audio encoder, FP8 scales) written out from the report's shapes."""
    h, vocab = 4096, 152576
    qkv_global = (64 * 192 + 4 * 192 + 4 * 128) * h  # [13568, 4096] on layers 0, 5, 11, ..., 41, 47
    qkv_sliding = (64 * 192 + 8 * 192 + 8 * 128) * h  # [14848, 4096] on the other 39 and the MTP layers
    o_proj = h * 64 * 128
    moe = 47 * (256 * 3 * 2048 * h + 256 * h + 256)
    main = 2 * vocab * h + 9 * qkv_global + 39 * (qkv_sliding + 64) + 48 * (o_proj + 2 * h) + 3 * 16384 * h + moe + h
    mtp = 3 * (h * 2 * h + 5 * h + 3 * 16384 * h + 64 + o_proj + qkv_sliding)
    block = (3072 * 1280 + 3072) + (1280 * 2048 + 1280) + 3 * 4608 * 1280 + 2 * 4608 + 1280 + 2 * 1280
    vision = 28 * block + 24 * 32 + 1280 + 5120 * 5120 + 4096 * 5120 + 1280 * 3 * 2 * 16 * 16
    # Six local layers (q/k/v with bias, o, SwiGLU 4096, two norms), a final norm, a 2-layer projector and 20
    # speech-token embedding tables of [1280, 1024].
    audio = 6 * (2 * 1024 + 3 * 1024 * 4096 + 4 * 1024 * 1024 + 3 * 1024) + 1024 + 2 * 16384 * 4096 + 20 * 1280 * 1024
    scales = 9 * 108 * 32 + 39 * 116 * 32 + 4 * (32 * 128 + 2 * 128 * 32) + 47 * 256 * 3 * 512 + 3 * 116 * 32
    return main, mtp, vision, audio, scales


def test_mimo_listing_adds_up_to_the_reported_element_count() -> None:
    assert sum(mimo_listing()) == MIMO_ELEMENTS


def test_mimo_record_matches_checkpoint() -> None:
    m = record("mimo-v2.5")
    assert m.architecture == architecture_from_config(config("XiaomiMiMo--MiMo-V2.5"))
    assert m.architecture.sliding_num_key_value_heads == 8
    main, mtp, vision, audio, _ = mimo_listing()
    assert (m.vision.params if m.vision else 0, m.audio.params if m.audio else 0) == (vision, audio)
    counted = count_params(m)
    assert counted.mtp == mtp
    assert counted.total == main + mtp + vision + audio
    # Model card: 729M ViT, 261M audio encoder, 329M MTP, "310B total / 15B activated".
    assert round(vision / 1e6) == 729 and round(audio / 1e6) == 261 and round(mtp / 3e6) == 329


def test_mimo_kv_cache_by_hand() -> None:
    m = record("mimo-v2.5")
    f = ModelFacts(m.architecture, shape_of(m.architecture), count_params(m), m.context_window)
    width = (192 + 128) * 2  # one KV head: a 192-wide key and a 128-wide value, 16-bit
    assert kv_bytes_per_token(f, "fp16") == 9 * 4 * width + 39 * 8 * width
    # 9 global layers keep all 50,000 tokens with 4 KV heads; 39 sliding layers keep 128 with 8.
    assert kv_bytes(f, "fp16", 50_000, 2) == 2 * (9 * 50_000 * 4 * width + 39 * 128 * 8 * width)


def test_new_model_types_get_their_family_and_organization() -> None:
    mimo = import_hf_config(config("XiaomiMiMo--MiMo-V2.5-Pro"), "m", None, "XiaomiMiMo/MiMo-V2.5-Pro")
    laguna = import_hf_config(config("poolside--Laguna-XS.2-FP8"), "l", None, "poolside/Laguna-XS.2-FP8")
    ocr = import_hf_config(config("deepseek-ai--DeepSeek-OCR"), "o", None, "deepseek-ai/DeepSeek-OCR")
    assert "family: mimo " in mimo and "organization: Xiaomi " in mimo
    assert "family: laguna " in laguna and "organization: Poolside " in laguna
    assert "family: deepseek " in ocr
