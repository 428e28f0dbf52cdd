"""Parameter counts against hand arithmetic and exact checkpoint counts (safetensors metadata)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from site_builder.engine.params import count_params
from site_builder.records import ModelRecord

ROOT = Path(__file__).resolve().parents[2]


def load(model_id: str) -> ModelRecord:
    return ModelRecord.model_validate(yaml.safe_load((ROOT / "catalog" / "models" / f"{model_id}.yaml").read_text()))


def test_llama_31_8b_by_hand() -> None:
    h, layers, v, ffn, kv = 4096, 32, 128256, 14336, 8 * 128
    attention = h * h + 2 * h * kv + h * h
    mlp = 3 * h * ffn
    norms = 2 * h
    expected = layers * (attention + mlp + norms) + h + 2 * v * h  # final norm, embedding, untied head
    assert expected == 8_030_261_248  # the checkpoint's count (issue #3)
    assert count_params(load("llama-3.1-8b")).total == expected


def test_mixtral_matches_checkpoint_and_active_share() -> None:
    counted = count_params(load("mixtral-8x7b"))
    assert counted.total == 46_702_792_704
    h, ffn = 4096, 14336
    # Two of eight experts per token: active = total - 6 experts' MLPs per layer - the embedding table.
    inactive = 32 * 6 * 3 * h * ffn
    assert counted.active == counted.total - inactive - 32000 * h


def test_internlm_20b_by_hand() -> None:
    h, layers, v, ffn = 5120, 60, 103168, 13824
    expected = layers * (4 * h * h + 3 * h * ffn + 2 * h) + h + 2 * v * h
    assert count_params(load("internlm-20b")).total == expected


def test_deepseek_v3_counts_mtp_and_published_total() -> None:
    counted = count_params(load("deepseek-v3"))
    # README: 671B main model + 14B MTP module = 685B on Hugging Face.
    assert 670.5e9 < counted.total - counted.mtp < 671.5e9
    assert 13e9 < counted.mtp < 14.5e9
    assert 36e9 < counted.active < 38e9  # "37B activated"


def test_gpt_oss_20b_active_matches_published() -> None:
    counted = count_params(load("gpt-oss-20b"))
    assert 20.8e9 < counted.total < 21.0e9
    assert abs(counted.active - 3.6e9) / 3.6e9 < 0.01  # "3.6B active parameters"


def _checkpoints() -> list[dict[str, object]]:
    data = yaml.safe_load((ROOT / "tests" / "data" / "checkpoint_params.yaml").read_text())
    return list(data["checkpoints"])


@pytest.mark.parametrize("entry", _checkpoints(), ids=lambda e: str(e["hf_repo"]))
def test_within_a_tenth_of_a_percent_of_checkpoint(entry: dict[str, object]) -> None:
    models = [load(p.stem) for p in sorted((ROOT / "catalog" / "models").glob("*.yaml"))]
    [model] = [m for m in models if m.hf_repo == entry["hf_repo"]]
    counted = count_params(model).total
    expected = int(str(entry["params"]))
    assert abs(counted - expected) / expected < 0.001, (counted, expected)


def test_every_reference_config_has_a_catalog_model(reference: Path) -> None:
    repos = {load(p.stem).hf_repo for p in (ROOT / "catalog" / "models").glob("*.yaml")}
    for cfg in sorted((reference / "hf-configs").glob("*.json")):
        json.loads(cfg.read_text())
        assert cfg.stem.replace("--", "/", 1) in repos, cfg.name


def test_r1_distill_llama_8b_keeps_the_llama_31_8b_weights_shape() -> None:
    # DeepSeek fine-tuned Llama-3.1-8B without changing its shapes, so the count is the base checkpoint's
    # 8,030,261,248 (tests/data/checkpoint_params.yaml); third-party overviews state "8.03B".
    [base] = [e for e in _checkpoints() if e["hf_repo"] == "meta-llama/Llama-3.1-8B"]
    assert count_params(load("deepseek-r1-distill-llama-8b")).total == int(str(base["params"]))
