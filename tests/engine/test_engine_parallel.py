"""Tensor-parallel splits: only GPU counts a serving engine would start are estimated or recommended."""

from __future__ import annotations

from pathlib import Path

import pytest

from site_builder.catalog import Catalog
from site_builder.engine.parallel import tensor_parallel_problem
from site_builder.engine.plan import analyse
from site_builder.problems import Report
from site_builder.validate import validate_catalog

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return validate_catalog(ROOT / "catalog", Report())


# Heads from each model's config.json: (query heads, KV heads).
@pytest.mark.parametrize(
    ("model", "gpus", "ok"),
    [
        ("internlm-20b", 8, True),  # 40 / 8 = 5 query and KV heads per GPU
        ("internlm-20b", 3, False),  # 40 / 3 is no whole number
        ("qwen2.5-7b", 4, True),  # 28 / 4 = 7 query heads, 4 KV heads one each
        ("qwen2.5-7b", 8, False),  # 28 / 8 = 3.5
        ("llama-3.1-8b", 16, True),  # 32 / 16 = 2; 8 KV heads each replicated twice
        ("llama-3.1-8b", 64, False),  # more GPUs than query heads
    ],
)
def test_splits_follow_the_head_counts(catalog: Catalog, model: str, gpus: int, ok: bool) -> None:
    arch = catalog.models[model].record.architecture
    assert (tensor_parallel_problem(arch, gpus) is None) is ok


def test_no_recommended_setup_splits_heads_unevenly(catalog: Catalog) -> None:
    """Qwen2.5-7B's 28 heads do not split over 8 GPUs: no candidate or matrix cell may use 8 (or 16) of them."""
    gpus = {k: v.record for k, v in catalog.gpus.items()}
    frameworks = {k: v.record for k, v in catalog.frameworks.items()}
    model = catalog.models["qwen2.5-7b"].record
    analysis = analyse(model, gpus, frameworks)
    counts = {c.setup.count for c in analysis.candidates}
    assert all(28 % n == 0 for n in counts), counts
    for row in analysis.matrix:
        if 28 % row.setup.count:
            assert all(cell.level == "n/a" for cell in row.cells), row.setup.id
