"""Qwen3.5 small models and DeepSeek-R1-Distill-Qwen-7B: imported configs against their checkpoints.

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

from site_builder.engine.memory import ModelFacts, kv_bytes_per_token
from site_builder.engine.params import count_params, shape_of
from site_builder.hfimport import architecture_from_config
from site_builder.records import ModelRecord

DATA = Path(__file__).resolve().parent / "data" / "hf-configs-more"
CATALOG = Path(__file__).resolve().parents[1] / "catalog" / "models"


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


# (catalog id, saved config, checkpoint element count from the report, ViT depth/width/ffn/out or None)
CHECKPOINTS = [
    ("deepseek-r1-distill-qwen-7b", "deepseek-ai--DeepSeek-R1-Distill-Qwen-7B", 7_615_616_512, None),
    ("qwen3.5-0.8b-base", "Qwen--Qwen3.5-0.8B-Base", 873_438_784, (12, 768, 3072, 1024)),
    ("qwen3.5-4b", "Qwen--Qwen3.5-4B", 4_659_865_088, (24, 1024, 4096, 2560)),
]


@pytest.mark.parametrize(("model_id", "cfg", "elements", "vit"), CHECKPOINTS, ids=[c[0] for c in CHECKPOINTS])
def test_record_matches_checkpoint_elements(
    model_id: str, cfg: str, elements: int, vit: tuple[int, int, int, int] | None
) -> None:
    m = record(model_id)
    # The record's architecture is what the importer makes of the saved config, untouched.
    assert m.architecture == architecture_from_config(config(cfg))
    if vit is None:
        assert m.vision is None
    else:
        assert m.vision is not None
        assert m.vision.params == qwen35_vision_by_hand(*vit)
    # BF16 checkpoints without scale tensors: the element count is the parameter count, MTP layer included.
    assert count_params(m).total == elements


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
