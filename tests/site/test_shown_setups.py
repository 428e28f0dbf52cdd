"""The site keeps only the ranked setups something reads (analysis.shown_setups); what the pages read of the short
list is what they would read of the whole ranking."""

from __future__ import annotations

from pathlib import Path

import pytest

from site_builder.analysis import PERFORMANCE_ROWS, shown_setups
from site_builder.catalog import Catalog, load_catalog
from site_builder.engine.plan import Analysis, Candidate, analyse
from site_builder.problems import Report


@pytest.fixture(scope="module")
def analyses() -> list[Analysis]:
    catalog: Catalog = load_catalog(Path("catalog"), Report())
    gpus = {k: v.record for k, v in catalog.gpus.items()}
    frameworks = {k: v.record for k, v in catalog.frameworks.items()}
    wanted = ("qwen2.5-7b", "llama-3.1-8b", "deepseek-v3", "qwen3-30b-a3b", "internlm-20b", "gpt-oss-20b")
    return [analyse(catalog.models[mid].record, gpus, frameworks) for mid in wanted]


def _fast(candidates: tuple[Candidate, ...]) -> list[Candidate]:
    return [c for c in candidates if c.speed and c.speed.output_tokens_per_s][:PERFORMANCE_ROWS]


def test_what_the_site_reads_is_unchanged(analyses: list[Analysis]) -> None:
    for full in analyses:
        short = shown_setups(full)
        assert len(short.candidates) < len(full.candidates) / 3, "most ranked setups are never shown"
        assert short.candidates[0] is full.candidates[0]
        assert short.min_single_gpu is full.min_single_gpu and short.best_multi_gpu is full.best_multi_gpu
        assert _fast(short.candidates) == _fast(full.candidates)
        assert short.recommendations == full.recommendations
        assert [r.best for r in short.precision_rows] == [r.best for r in full.precision_rows]
        order = {id(c): i for i, c in enumerate(full.candidates)}
        assert [order[id(c)] for c in short.candidates] == sorted(order[id(c)] for c in short.candidates)
