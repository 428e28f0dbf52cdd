"""import-hf-config on real configs of Hunyuan-A13B, ERNIE 4.5 and Mistral NeMo (copies in tests/data/hf-configs):
the record it writes counts the parameters that hand arithmetic over the same config gives."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from record_support import with_facts

from site_builder.engine.params import count_params
from site_builder.hfimport import HfConfigError, import_hf_config
from site_builder.records import ModelRecord

CONFIGS = Path(__file__).resolve().parents[1] / "data" / "hf-configs"


def config(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CONFIGS / f"{name}.json").read_text(encoding="utf-8"))
    return data


def imported(name: str, model_id: str) -> ModelRecord:
    repo = name.replace("--", "/", 1)
    return ModelRecord.model_validate(with_facts(yaml.safe_load(import_hf_config(config(name), model_id, None, repo))))


def test_hunyuan_per_layer_moe_lists_become_one_value_each() -> None:
    m = imported("tencent--Hunyuan-A13B-Instruct", "hunyuan-a13b-instruct")
    a = m.architecture
    assert (a.num_experts, a.num_experts_per_tok, a.n_shared_experts, a.moe_intermediate_size) == (64, 8, 1, 3072)
    assert a.qk_norm and a.tie_word_embeddings
    assert (m.family, m.organization) == ("hunyuan", "Tencent (Hunyuan team)")


def test_hunyuan_a13b_count_by_hand() -> None:
    h, layers, vocab, ffn = 4096, 32, 128167, 3072
    q_width, kv_width, head_dim = 32 * 128, 8 * 128, 128
    attention = h * q_width + 2 * h * kv_width + q_width * h + 2 * head_dim  # q, k, v, o and the q/k head norms
    experts = (64 + 1) * 3 * h * ffn  # 64 routed experts and the shared one, each a gated MLP
    per_layer = attention + experts + h * 64 + 2 * h  # router and the two RMSNorms
    total = vocab * h + layers * per_layer + h  # tied embedding, final norm
    active = vocab * h + layers * (attention + (8 + 1) * 3 * h * ffn + h * 64 + 2 * h) + h
    counted = count_params(imported("tencent--Hunyuan-A13B-Instruct", "hunyuan-a13b-instruct"))
    assert (counted.total, counted.active) == (total, active)
    assert abs(total - 80e9) / 80e9 < 0.01  # "a total of 80 billion parameters"
    assert abs(active - 13e9) / 13e9 < 0.03  # "13 billion active parameters"


def test_per_layer_moe_values_that_differ_are_refused_by_name() -> None:
    cfg = config("tencent--Hunyuan-A13B-Instruct")
    cfg["moe_topk"] = [8] * 31 + [4]
    with pytest.raises(HfConfigError, match="moe_topk differs between layers"):
        import_hf_config(cfg, "x", None, "tencent/x")


def test_ernie_4_5_dense_keeps_its_wide_attention() -> None:
    m = imported("baidu--ERNIE-4.5-0.3B-Base-PT", "ernie-4.5-0.3b-base")
    assert (m.family, m.organization, m.architecture.head_dim) == ("ernie", "Baidu", 128)
    h, q_width, kv_width = 1024, 16 * 128, 2 * 128  # 16 heads of 128 are twice the residual width
    per_layer = h * q_width + 2 * h * kv_width + q_width * h + 3 * h * 3072 + 2 * h
    total = 103424 * h + 18 * per_layer + h
    assert count_params(m).total == total
    assert abs(total - 0.36e9) / 0.36e9 < 0.005  # "Params | 0.36B"


def test_mistral_nemo_count_by_hand() -> None:
    m = imported("mistralai--Mistral-Nemo-Base-2407", "mistral-nemo-base-2407")
    h, q_width, kv_width = 5120, 32 * 128, 8 * 128
    per_layer = h * q_width + 2 * h * kv_width + q_width * h + 3 * h * 14336 + 2 * h
    total = 2 * 131072 * h + 40 * per_layer + h  # untied embedding and head
    assert count_params(m).total == total
    assert abs(total - 12e9) / 12e9 < 0.03  # "a 12B model"


@pytest.mark.parametrize(
    ("name", "layers", "width", "heads", "kv_heads", "ffn", "stated"),
    [
        ("allenai--OLMo-2-1124-7B", 32, 4096, 32, 32, 11008, 7e9),
        ("allenai--OLMo-2-1124-13B", 40, 5120, 40, 40, 13824, 13e9),
        ("allenai--OLMo-2-0325-32B", 64, 5120, 40, 8, 27648, 32e9),
    ],
)
def test_olmo2_counts_within_its_qk_norm_approximation(
    name: str, layers: int, width: int, heads: int, kv_heads: int, ffn: int, stated: float
) -> None:
    m = imported(name, "olmo-2")
    assert (m.family, m.architecture.qk_norm, m.native_precision) == ("olmo", True, "fp32")
    q_width, kv_width = heads * 128, kv_heads * 128
    # OLMo 2's q/k norms scale every channel of the projections (q_width + kv_width); post-attention and post-MLP norms.
    per_layer = (
        width * q_width + 2 * width * kv_width + q_width * width + 3 * width * ffn + q_width + kv_width + 2 * width
    )
    exact = 2 * 100352 * width + layers * per_layer + width
    counted = count_params(m).total
    # The engine keeps one q and one k scale per head dimension (2 x 128), so it is short by the rest, per layer.
    assert exact - counted == layers * (q_width + kv_width - 2 * 128)
    assert (exact - counted) / exact < 1e-4
    assert abs(counted - stated) / stated < 0.06  # "7B", "13B", "32B": stated to the nearest billion
