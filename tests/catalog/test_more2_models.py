"""Models added from verbatim public configs: the engine's count of each record equals the element count its
checkpoint was published with, and Ministral 3's Pixtral tower is counted under its own config type."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from record_support import with_facts

from site_builder.engine.params import count_params
from site_builder.hfimport import import_hf_config
from site_builder.records import ModelRecord

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = Path(__file__).resolve().parents[1] / "data" / "more2-configs"


def record(model_id: str) -> ModelRecord:
    data: dict[str, Any] = yaml.safe_load((ROOT / "catalog" / "models" / f"{model_id}.yaml").read_text("utf-8"))
    return ModelRecord.model_validate(data)


# Total elements ("参数总量") of the safetensors listings in gogongxt/python scripts/models/*.md at commit
# ec9962697819add8f24ce1b180cf98ca6a53c40f; the other new records only have rounded stated figures.
PUBLISHED_ELEMENTS = {
    "qwen2-0.5b-instruct": 494_032_768,
    "qwen2-7b-instruct": 7_615_616_512,
    "qwen2.5-3b-instruct": 3_085_938_688,
    "qwen2.5-7b-instruct": 7_615_616_512,
    "qwen2.5-72b-instruct": 72_706_203_648,
    "llama-3-8b-instruct": 8_030_261_248,
    "llama-3.1-8b-instruct": 8_030_261_248,
    "llama-3.2-3b-instruct": 3_212_749_824,
}


@pytest.mark.parametrize(("model_id", "elements"), sorted(PUBLISHED_ELEMENTS.items()))
def test_count_equals_the_published_checkpoint_elements(model_id: str, elements: int) -> None:
    m = record(model_id)
    assert count_params(m).total == elements
    assert m.stated_params is not None and (m.stated_params.total, m.stated_params.exact) == (elements, True)


def test_deepseek_v2_lite_chat_counts_its_published_elements() -> None:
    # scripts/deepseek_v2_lite_chat.md at d881ab7320b88d41b6239eaaab141d3a4e56dd5b; the record states the README's
    # rounded 16B / 2.4B because the schema's one `exact` flag would also make 2.4B active exact.
    assert count_params(record("deepseek-v2-lite-chat")).total == 15_706_484_224


def test_qwen2_7b_instruct_by_hand() -> None:
    h, q_width, kv_width, ffn, layers, vocab = 3584, 28 * 128, 4 * 128, 18944, 28, 152064
    attention = h * q_width + q_width + 2 * (h * kv_width + kv_width) + q_width * h  # q/k/v carry biases
    per_layer = attention + 3 * h * ffn + 2 * h
    total = 2 * vocab * h + layers * per_layer + h  # untied embedding and head, final norm
    assert count_params(record("qwen2-7b-instruct")).total == total == 7_615_616_512


def ministral_3() -> ModelRecord:
    cfg = json.loads((CONFIGS / "mistralai--Ministral-3-3B-2512.json").read_text("utf-8"))
    text = import_hf_config(cfg, "ministral-3-3b", None, "mistralai/Ministral-3-3B-Instruct-2512-BF16")
    return ModelRecord.model_validate(with_facts(yaml.safe_load(text)))


def test_ministral_3_is_a_mistral_with_its_pixtral_tower_counted() -> None:
    m = ministral_3()
    assert (m.family, m.organization, m.architecture.model_type) == ("mistral", "Mistral AI", "ministral3")
    assert m.vision is not None and m.architecture.tie_word_embeddings


def test_ministral_3_3b_by_hand() -> None:
    h, q_width, kv_width, ffn = 3072, 32 * 128, 8 * 128, 9216
    decoder = 131072 * h + 26 * (h * q_width + 2 * h * kv_width + q_width * h + 3 * h * ffn + 2 * h) + h
    v, v_ffn = 1024, 4096
    # Pixtral: bias-free 14x14 patch conv over 3 channels, a pre-norm, 24 RMSNorm blocks with a gated MLP;
    # then the projector's norm, the 2x2 patch merger and two bias-free linears into the decoder's width.
    encoder = 3 * 14 * 14 * v + v + 24 * (2 * v + 4 * v * v + 3 * v * v_ffn)
    projector = v + 4 * v * v + v * h + h * h
    counted = count_params(ministral_3())
    assert (counted.total, counted.vision) == (decoder + encoder + projector, encoder + projector)
    assert abs(decoder - 3.4e9) / 3.4e9 < 0.01  # "3.4B Language Model"
    assert abs(encoder + projector - 0.4e9) / 0.4e9 < 0.06  # "0.4B Vision Encoder"
    assert abs(counted.total - 3.85e9) / 3.85e9 < 0.001  # Ollama lists the F16 build at 3.85B


def test_ministral_3_record_matches_its_import() -> None:
    catalog, imported = record("ministral-3-3b-instruct-2512"), ministral_3()
    assert catalog.architecture == imported.architecture
    assert catalog.vision is not None and imported.vision is not None
    assert catalog.vision.params == imported.vision.params


def test_aya_23_8b_by_hand() -> None:
    h, q_width, kv_width, ffn = 4096, 32 * 128, 8 * 128, 14336
    # Command layers: one bias-free LayerNorm feeds attention and the gated MLP in parallel.
    per_layer = h * q_width + 2 * h * kv_width + q_width * h + 3 * h * ffn + h
    total = 256000 * h + 32 * per_layer + h  # embedding shared with the output head, final norm
    assert count_params(record("aya-23-8b")).total == total
    assert abs(total - 8e9) / 8e9 < 0.01  # "Model Size: 8 billion parameters"


def test_gemma_3_1b_by_hand() -> None:
    h, q_width, kv_width, head_dim, ffn = 1152, 4 * 256, 1 * 256, 256, 6912
    attention = h * q_width + 2 * h * kv_width + q_width * h + 2 * head_dim  # q/k/v/o and the q/k head norms
    per_layer = attention + 3 * h * ffn + 4 * h  # norms before and after both attention and MLP
    total = 262144 * h + 26 * per_layer + h  # embedding shared with the output head, final norm
    m = record("gemma-3-1b")
    assert count_params(m).total == total
    assert abs(total - 1e9) / 1e9 < 0.001  # "ranging in scale from 1 to 27 billion parameters"
    layer_types = m.architecture.layer_types or []
    assert [i for i, kind in enumerate(layer_types) if kind == "full_attention"] == [5, 11, 17, 23]


def test_gemma_2_2b_it_by_hand() -> None:
    h, q_width, kv_width, ffn = 2304, 8 * 256, 4 * 256, 9216
    per_layer = h * q_width + 2 * h * kv_width + q_width * h + 3 * h * ffn + 4 * h  # four norms, no q/k norms
    total = 256000 * h + 26 * per_layer + h  # embedding shared with the output head, final norm
    m = record("gemma-2-2b-it")
    assert count_params(m).total == total
    assert abs(total - 2.6e9) / 2.6e9 < 0.01  # "The 2.6B parameter version of Gemma 2"
    layer_types = m.architecture.layer_types or []
    assert layer_types[:2] == ["sliding_attention", "full_attention"] and len(layer_types) == 26


@pytest.mark.parametrize(
    ("model_id", "width", "layers", "heads", "kv_heads", "ffn", "stated"),
    [("smollm2-360m-instruct", 960, 32, 15, 5, 2560, 360e6), ("smollm2-135m-instruct", 576, 30, 9, 3, 1536, 135e6)],
)
def test_smollm2_by_hand(
    model_id: str, width: int, layers: int, heads: int, kv_heads: int, ffn: int, stated: float
) -> None:
    q_width, kv_width = heads * 64, kv_heads * 64
    per_layer = width * q_width + 2 * width * kv_width + q_width * width + 3 * width * ffn + 2 * width
    total = 49152 * width + layers * per_layer + width  # embedding shared with the output head, final norm
    assert count_params(record(model_id)).total == total
    assert abs(total - stated) / stated < 0.01  # "135M, 360M, and 1.7B parameters"
