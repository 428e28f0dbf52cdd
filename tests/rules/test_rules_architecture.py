"""Architecture rules: for each, a record that passes and one that breaks it, with the exact line `check` prints."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rule_support import at, model_data, run, start

Where = Callable[[Path], str]


def value(prefix: str) -> Where:
    return lambda path: at(path, prefix)


def item(needle: str) -> Where:
    return lambda path: start(path, needle)


# A field the record leaves out is reported at the nearest value that is there: the architecture mapping, which
# starts at its first key.
ARCHITECTURE = item("model_type:")
MOE = {"num_local_experts": 8, "num_experts_per_tok": 2}
MLA = {"kv_lora_rank": 512, "qk_rope_head_dim": 64, "qk_nope_head_dim": 128}
INDEXER = {"index_n_heads": 64, "index_head_dim": 128}

# (rule, architecture of the good record, of the bad record, where the problem is, field and message)
CASES: list[tuple[str, dict[str, Any], dict[str, Any], Where, str]] = [
    (
        "architecture.kv-heads-divide-heads",
        {"num_key_value_heads": 8},
        {"num_key_value_heads": 5},  # 32 heads: 5 does not divide them
        value("num_key_value_heads: "),
        "architecture.num_key_value_heads: must divide num_attention_heads (32), got 5",
    ),
    (
        "architecture.head-dim-derivable",
        {"hidden_size": 4100, "head_dim": 128},
        {"hidden_size": 4100},  # 4100 / 32 = 128.125
        ARCHITECTURE,
        "architecture.head_dim: required: hidden_size (4100) is not divisible by num_attention_heads (32)",
    ),
    (
        "architecture.layer-types-cover-layers",
        {"layer_types": ["full_attention"] * 32},
        {"layer_types": ["full_attention"] * 31},
        item("- full_attention"),
        "architecture.layer_types: has 31 entries, expected num_hidden_layers (32)",
    ),
    (
        "architecture.chunk-size-set",
        {"layer_types": ["chunked_attention"] * 32, "attention_chunk_size": 8192},
        {"layer_types": ["chunked_attention"] * 32},
        ARCHITECTURE,
        "architecture.attention_chunk_size: required when layer_types has chunked_attention layers",
    ),
    (
        "architecture.sliding-window-set",
        {"layer_types": ["sliding_attention", "full_attention"] * 16, "sliding_window": 4096},
        {"layer_types": ["sliding_attention", "full_attention"] * 16},
        ARCHITECTURE,
        "architecture.sliding_window: required when layer_types has sliding_attention layers",
    ),
    (
        "architecture.one-expert-count",
        MOE,
        MOE | {"num_experts": 8},
        value("  num_experts: "),
        "architecture.num_experts: set only one routed-expert count (also num_local_experts)",
    ),
    (
        "architecture.experts-per-token-set",
        MOE,
        {"num_local_experts": 8},
        ARCHITECTURE,
        "architecture.num_experts_per_tok: required for a mixture-of-experts model",
    ),
    (
        "architecture.experts-per-token-within-count",
        MOE | {"num_experts_per_tok": 8},
        MOE | {"num_experts_per_tok": 9},
        value("num_experts_per_tok: "),
        "architecture.num_experts_per_tok: must not exceed the expert count (8)",
    ),
    (
        "architecture.mla-complete",
        MLA,
        MLA | {"qk_nope_head_dim": None},
        value("kv_lora_rank: "),
        "architecture.kv_lora_rank: MLA needs kv_lora_rank, qk_rope_head_dim and qk_nope_head_dim",
    ),
    (
        "architecture.compress-ratios-cover-layers",
        {"compress_ratios": [0] * 32},
        {"compress_ratios": [0] * 30},
        item("- 0"),
        "architecture.compress_ratios: has 30 entries, expected num_hidden_layers (32) "
        "or that plus the MTP layers (32)",
    ),
    (
        "architecture.compress-ratios-not-negative",
        {"compress_ratios": [0] * 32},
        {"compress_ratios": [0] * 31 + [-1]},
        item("- 0"),
        "architecture.compress_ratios: ratios must be 0 or positive",
    ),
    (
        "architecture.indexer-layers-in-range",
        INDEXER | {"indexer_layers": [0, 31]},
        INDEXER | {"indexer_layers": [0, 32]},  # layers are numbered from 0: 32 is one past the last
        item("- 0"),
        "architecture.indexer_layers: layer indices must lie in 0..31",
    ),
    (
        "architecture.indexer-dims-set",
        INDEXER | {"indexer_layers": [0]},
        {"indexer_layers": [0]},
        ARCHITECTURE,
        "architecture.index_n_heads: an indexer needs index_n_heads and index_head_dim",
    ),
    (
        "architecture.kv-shared-layers-below-layers",
        {"num_kv_shared_layers": 31},
        {"num_kv_shared_layers": 32},
        value("num_kv_shared_layers: "),
        "architecture.num_kv_shared_layers: must be below num_hidden_layers (32): some layer has to compute K and V",
    ),
]


@pytest.mark.parametrize(("rule_id", "good", "bad", "where", "tail"), CASES, ids=[c[0] for c in CASES])
def test_rule(rule_id: str, good: dict[str, Any], bad: dict[str, Any], where: Where, tail: str, tmp_path: Path) -> None:
    assert run(rule_id, tmp_path / "good", {"models/m.yaml": model_data(**good)}) == []
    lines = run(rule_id, tmp_path / "bad", {"models/m.yaml": model_data(**bad)})
    assert lines == [f"{where(tmp_path / 'bad' / 'models' / 'm.yaml')}: {tail}"]
