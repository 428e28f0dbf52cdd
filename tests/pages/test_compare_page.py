"""The compare page says which workload each column's speed and cost were estimated for."""

from __future__ import annotations

from pathlib import Path

import pytest

from site_builder.analysis import SiteAnalysis, analyse_site
from site_builder.catalog import load_catalog
from site_builder.engine.plan import Candidate
from site_builder.pages.detail_pages import compare_page
from site_builder.problems import Report


@pytest.fixture(scope="module")
def site() -> SiteAnalysis:
    return analyse_site(load_catalog(Path("catalog"), Report()))


def _best(site: SiteAnalysis, mid: str) -> Candidate:
    best = site.models[mid].best
    assert best is not None
    return best


def _setup_of(site: SiteAnalysis, mid: str) -> tuple[str, str]:
    return _best(site, mid).precision.label, _best(site, mid).workload.kv_precision


def test_each_model_s_own_precision_is_named_where_the_best_setups_differ(site: SiteAnalysis) -> None:
    pairs = [(a, b) for a, b in site.compare_pairs() if site.models[a].best and site.models[b].best]
    differ = [(a, b) for a, b in pairs if _setup_of(site, a)[0] != _setup_of(site, b)[0]]
    assert differ, "the shipped catalog compares models whose best setups load different weight formats"
    for a, b in differ:
        note = compare_page(site.models[a], site.models[b], site, "/").note
        first, second = site.models[a].record.name, site.models[b].record.name
        assert note.startswith(f"{first}: ") and f"; {second}: " in note
        own_a, own_b = note.split(f"; {second}: ")
        assert f"{_setup_of(site, a)[0]} weights" in own_a
        assert f"{_setup_of(site, b)[0]} weights" in own_b


def test_one_note_where_both_columns_share_the_workload(site: SiteAnalysis) -> None:
    pairs = [(a, b) for a, b in site.compare_pairs() if site.models[a].best and site.models[b].best]
    same = [
        (a, b)
        for a, b in pairs
        if (_best(site, a).framework, _best(site, a).engine, _best(site, a).workload, _setup_of(site, a))
        == (_best(site, b).framework, _best(site, b).engine, _best(site, b).workload, _setup_of(site, b))
    ]
    assert same
    for a, b in same:
        note = compare_page(site.models[a], site.models[b], site, "/").note
        assert site.models[a].record.name + ": " not in note and " weights" in note
