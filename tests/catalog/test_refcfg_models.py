"""Current Qwen, Mistral, Phi and SmolLM records: imported from their real configs, counted exactly.

The configs in tests/data/refcfg_configs/ are unchanged copies of the published config.json files (see
SOURCES.md there). Element counts are sums of safetensors `numel()` of all-BF16 checkpoints, so they are
the checkpoints' exact parameter counts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from record_support import with_facts

from site_builder.engine.params import count_params
from site_builder.hfimport import architecture_from_config, hf_repo_from_path, import_hf_config
from site_builder.records import Architecture, ModelRecord

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "tests" / "data" / "refcfg_configs"
CONFIG_FILES = sorted(CONFIGS.glob("*.json"))

# From SOURCES.md: (hf_repo, checkpoint element count).
ELEMENT_COUNTS = {
    "Qwen/Qwen3-30B-A3B-Instruct-2507": 30_532_122_624,
    "Qwen/Qwen3-Coder-30B-A3B-Instruct": 30_532_122_624,
    "Qwen/QwQ-32B": 32_763_876_352,
    "Qwen/Qwen2.5-Coder-7B-Instruct": 7_615_616_512,
    "Qwen/Qwen2.5-1.5B-Instruct": 1_543_714_304,
    "Qwen/Qwen2.5-VL-7B-Instruct": 8_292_166_656,
    "Qwen/Qwen3-VL-8B-Instruct": 8_767_123_696,
    "Qwen/Qwen3-VL-30B-A3B-Instruct": 31_070_754_032,
    "Qwen/Qwen3-VL-235B-A22B-Instruct": 235_670_022_896,
}


def config(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CONFIGS / name).read_text())
    return data


def model_by_repo(repo: str) -> ModelRecord:
    for path in sorted((ROOT / "catalog" / "models").glob("*.yaml")):
        record = ModelRecord.model_validate(yaml.safe_load(path.read_text()))
        if record.hf_repo.lower() == repo.lower():
            return record
    raise AssertionError(f"no catalog model has hf_repo {repo}")


@pytest.mark.parametrize("path", CONFIG_FILES, ids=lambda p: p.stem)
def test_catalog_architecture_is_the_imported_config(path: Path) -> None:
    repo = hf_repo_from_path(path)
    assert repo is not None
    imported = architecture_from_config(json.loads(path.read_text()))
    record = model_by_repo(repo).architecture
    differing = [name for name in Architecture.model_fields if getattr(imported, name) != getattr(record, name)]
    assert not differing, f"{repo}: catalog differs from config.json in {differing}"


@pytest.mark.parametrize("path", CONFIG_FILES, ids=lambda p: p.stem)
def test_imported_vision_tower_is_the_catalog_tower(path: Path) -> None:
    repo = hf_repo_from_path(path)
    assert repo is not None
    record = ModelRecord.model_validate(
        with_facts(yaml.safe_load(import_hf_config(json.loads(path.read_text()), "m", None, repo)))
    )
    catalog = model_by_repo(repo)
    assert (record.vision.params if record.vision else None) == (catalog.vision.params if catalog.vision else None)


def test_a_vision_tower_without_a_counter_asks_for_the_figure() -> None:
    cfg = config("Qwen--Qwen3-VL-4B-Instruct.json") | {"model_type": "some_new_vl"}
    text = import_hf_config(cfg, "m", None, "org/m")
    assert "# vision: {name: ..., params: ...}  # no vision-tower counter for model_type 'some_new_vl'" in text
    assert yaml.safe_load(text).get("vision") is None


def test_a_malformed_vision_config_is_named_and_left_to_the_contributor() -> None:
    cfg = config("Qwen--Qwen3-VL-4B-Instruct.json")
    broken = cfg | {"vision_config": {**cfg["vision_config"], "depth": "27"}}
    text = import_hf_config(broken, "m", None, "org/m")
    assert "vision_config.depth is missing or not an integer" in text


@pytest.mark.parametrize(("repo", "elements"), sorted(ELEMENT_COUNTS.items()))
def test_total_equals_the_checkpoint_element_count(repo: str, elements: int) -> None:
    assert count_params(model_by_repo(repo)).total == elements


def test_fp8_checkpoint_is_the_bf16_count_plus_one_scale_per_128x128_block() -> None:
    """Qwen3-30B-A3B-Thinking-2507-FP8 stores 30,533,947,392 elements: weights plus block scales."""
    model = model_by_repo("Qwen/Qwen3-30B-A3B-Thinking-2507")
    a = model.architecture
    h, experts = a.hidden_size, a.num_experts or 0
    q, kv, expert_ffn = a.num_attention_heads * 128, (a.num_key_value_heads or 0) * 128, a.moe_intermediate_size or 0

    def blocks(rows: int, cols: int) -> int:
        return -(-rows // 128) * -(-cols // 128)

    attention = blocks(q, h) + 2 * blocks(kv, h) + blocks(h, q)
    expert = 2 * blocks(expert_ffn, h) + blocks(h, expert_ffn)
    scales = a.num_hidden_layers * (attention + experts * expert)
    assert count_params(model).total + scales == 30_533_947_392


# --- vision towers, by hand from vision_config ----------------------------------------------------


def qwen3_vl_tower(v: dict[str, Any]) -> int:
    """Qwen3-VL ViT + patch merger + one DeepStack merger per listed ViT depth, weights and biases."""
    h, ffn = int(v["hidden_size"]), int(v["intermediate_size"])
    out, merge = int(v["out_hidden_size"]), int(v["spatial_merge_size"])
    kernel = int(v["in_channels"]) * int(v["temporal_patch_size"]) * int(v["patch_size"]) ** 2
    patch = kernel * h + h  # Conv3d with bias
    positions = int(v["num_position_embeddings"]) * h
    norms = 2 * 2 * h  # two LayerNorms, weight and bias
    qkv = h * 3 * h + 3 * h  # fused, with bias
    attention_out = h * h + h
    mlp = (h * ffn + ffn) + (ffn * h + h)  # plain GELU MLP, both linears with bias
    block = norms + qkv + attention_out + mlp
    wide = h * merge * merge  # 2x2 neighbouring patches concatenated

    def merger(norm_width: int) -> int:
        return 2 * norm_width + wide * wide + wide + wide * out + out

    deepstack = len(v["deepstack_visual_indexes"]) * merger(wide)  # these normalise after the shuffle
    return patch + positions + int(v["depth"]) * block + merger(h) + deepstack


def pixtral_tower_and_projector(cfg: dict[str, Any]) -> int:
    """Pixtral encoder (RMSNorm, bias-free) + Mistral 3 projector: norm, 2x2 patch merger, two linears."""
    v, text_width = cfg["vision_config"], int(cfg["text_config"]["hidden_size"])
    h, ffn = int(v["hidden_size"]), int(v["intermediate_size"])
    patch = int(v["num_channels"]) * int(v["patch_size"]) ** 2 * h  # Conv2d without bias
    layer = 2 * h + 4 * h * h + 3 * h * ffn  # two RMSNorms, q/k/v/o, gated MLP
    merge = int(cfg["spatial_merge_size"])
    assert cfg["multimodal_projector_bias"] is False
    projector = h + h * merge * merge * h + h * text_width + text_width * text_width
    return patch + h + int(v["num_hidden_layers"]) * layer + projector  # `h`: ln_pre


VL_CONFIGS = {
    "Qwen/Qwen3-VL-2B-Instruct": "Qwen--Qwen3-VL-2B-Instruct.json",
    "Qwen/Qwen3-VL-4B-Instruct": "Qwen--Qwen3-VL-4B-Instruct.json",
    "Qwen/Qwen3-VL-8B-Instruct": "Qwen--Qwen3-VL-8B-Instruct.json",
    "Qwen/Qwen3-VL-32B-Instruct": "Qwen--Qwen3-VL-32B-Instruct.json",
    "Qwen/Qwen3-VL-32B-Thinking": "Qwen--Qwen3-VL-32B-Thinking.json",
    "Qwen/Qwen3-VL-30B-A3B-Instruct": "Qwen--Qwen3-VL-30B-A3B-Instruct.json",
    "Qwen/Qwen3-VL-235B-A22B-Instruct": "Qwen--Qwen3-VL-235B-A22B-Instruct.json",
}


@pytest.mark.parametrize("repo", [r for r in VL_CONFIGS if r in ELEMENT_COUNTS])
def test_qwen3_vl_tower_arithmetic_closes_the_checkpoint_count(repo: str) -> None:
    """Checkpoint elements minus the language model leave exactly the hand-counted tower."""
    model = model_by_repo(repo)
    counted = count_params(model)
    language_model = counted.total - counted.vision
    tower = qwen3_vl_tower(config(VL_CONFIGS[repo])["vision_config"])
    assert ELEMENT_COUNTS[repo] - language_model == tower


@pytest.mark.parametrize("repo", sorted(VL_CONFIGS))
def test_qwen3_vl_records_carry_the_hand_counted_tower(repo: str) -> None:
    vision = model_by_repo(repo).vision
    assert vision is not None
    assert vision.params == qwen3_vl_tower(config(VL_CONFIGS[repo])["vision_config"])


def test_qwen3_vl_8b_tower_by_hand() -> None:
    # depth 27, width 1152, MLP 4304, 2304 positions, 16x16x2 patches, 2x2 merge to 4096, 3 DeepStack mergers.
    h, f, wide, out = 1152, 4304, 4608, 4096
    patch = 3 * 2 * 16 * 16 * h + h
    block = 4 * h + (3 * h * h + 3 * h) + (h * h + h) + (2 * h * f + f + h)
    merger = 2 * h + wide * wide + wide + wide * out + out
    deep = 3 * (2 * wide + wide * wide + wide + wide * out + out)
    assert qwen3_vl_tower(config("Qwen--Qwen3-VL-8B-Instruct.json")["vision_config"]) == (
        patch + 2304 * h + 27 * block + merger + deep
    )


def test_qwen2_5_vl_7b_tower_by_hand() -> None:
    """Bias-free Conv3d patches, 32 blocks (2 RMSNorms, qkv and proj with bias, SwiGLU with biases), merger."""
    v = config("Qwen--Qwen2.5-VL-7B-Instruct.json")["vision_config"]
    assert (v["hidden_size"], v["intermediate_size"], v["depth"], v["out_hidden_size"]) == (1280, 3420, 32, 3584)
    h, f, wide, out = 1280, 3420, 1280 * 4, 3584
    patch = 3 * 2 * 14 * 14 * h
    block = 2 * h + (3 * h * h + 3 * h) + (h * h + h) + 2 * (h * f + f) + (f * h + h)
    merger = h + (wide * wide + wide) + (wide * out + out)
    tower = patch + 32 * block + merger
    vision = model_by_repo("Qwen/Qwen2.5-VL-7B-Instruct").vision
    assert vision is not None and vision.params == tower


def test_mistral_small_3_1_vision_record_is_the_pixtral_count() -> None:
    cfg = config("mistralai--Mistral-Small-3.1-24B-Instruct-2503.json")
    vision = model_by_repo("mistralai/Mistral-Small-3.1-24B-Instruct-2503").vision
    assert vision is not None and vision.params == pixtral_tower_and_projector(cfg)
    # Pixtral-12B's encoder is described as about 400M parameters; the projector adds ~36M here.
    assert 0.40e9 < vision.params < 0.45e9


# --- importer mappings these configs needed -------------------------------------------------------


def imported(name: str) -> dict[str, Any]:
    path = CONFIGS / name
    data: dict[str, Any] = yaml.safe_load(import_hf_config(config(name), "m", None, hf_repo_from_path(path)))
    return data


def test_qwen3_vl_text_has_qk_norm_and_the_outer_tying() -> None:
    small = imported("Qwen--Qwen3-VL-4B-Instruct.json")
    assert small["family"] == "qwen"
    assert small["architecture"]["qk_norm"] is True
    assert small["architecture"]["tie_word_embeddings"] is True  # set on the outer config only in 2B/4B/8B files
    moe = imported("Qwen--Qwen3-VL-30B-A3B-Instruct.json")["architecture"]
    assert moe["model_type"] == "qwen3_vl_moe_text" and moe["qk_norm"] is True
    assert moe["tie_word_embeddings"] is False


def test_outer_tying_does_not_override_an_inner_value() -> None:
    inner = {
        "model_type": "qwen3_vl_text",
        "hidden_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 128,
        "vocab_size": 100,
        "max_position_embeddings": 512,
        "tie_word_embeddings": False,
    }
    arch = architecture_from_config({"model_type": "qwen3_vl", "tie_word_embeddings": True, "text_config": inner})
    assert arch.tie_word_embeddings is False


def test_smollm3_ties_by_default_and_has_its_own_family() -> None:
    record = imported("HuggingFaceTB--SmolLM3-3B.json")
    assert "tie_word_embeddings" not in config("HuggingFaceTB--SmolLM3-3B.json")
    assert record["architecture"]["tie_word_embeddings"] is True
    assert record["family"] == "smollm" and record["organization"] == "Hugging Face"
    # 36 layers x (attention 2048x(2048+2x512+2048) + MLP 3x2048x11008 + 2 norms) + tied 128256x2048 + final norm.
    h, layers = 2048, 36
    expected = layers * (h * (2 * h + 2 * 512) + 3 * h * 11008 + 2 * h) + 128256 * h + h
    assert count_params(model_by_repo("HuggingFaceTB/SmolLM3-3B")).total == expected


def test_qwen2_5_vl_has_qkv_bias_and_mrope_is_not_a_context_extension() -> None:
    record = imported("Qwen--Qwen2.5-VL-7B-Instruct.json")
    assert record["family"] == "qwen"
    assert record["architecture"]["qkv_bias"] is True
    assert config("Qwen--Qwen2.5-VL-7B-Instruct.json")["rope_scaling"]["rope_type"] == "mrope"
    assert "rope_scaling" not in record["architecture"]


def test_qwen3_coder_zero_shared_expert_width_means_none() -> None:
    assert config("Qwen--Qwen3-Coder-480B-A35B-Instruct.json")["shared_expert_intermediate_size"] == 0
    arch = imported("Qwen--Qwen3-Coder-480B-A35B-Instruct.json")["architecture"]
    assert "shared_expert_intermediate_size" not in arch and "n_shared_experts" not in arch
    assert (arch["num_experts"], arch["num_experts_per_tok"], arch["moe_intermediate_size"]) == (160, 8, 2560)
