"""One vocabulary: every fit level has its threshold, label and colour, and page text names the KV precision."""

from __future__ import annotations

from site_builder.engine import constants as C
from site_builder.engine.estimate import fit_level
from site_builder.engine.fit import CellState, FitLevel, is_fit
from site_builder.pages.colours import FIT_COLOURS, css_custom_properties, css_fit_rules
from site_builder.pages.labels import FIT_LABELS, FIT_LEGEND_ORDER, MATRIX_LABELS, kv_cache_label


def test_every_fit_level_has_a_label_and_a_colour() -> None:
    assert set(FIT_LABELS) == set(FitLevel) == set(FIT_COLOURS)
    assert set(MATRIX_LABELS) == set(FitLevel) | set(CellState)


def test_thresholds_cover_every_level_but_no_fit_in_rising_order() -> None:
    levels = [level for level, _ in C.FIT_LEVELS]
    limits = [limit for _, limit in C.FIT_LEVELS]
    assert [*levels, FitLevel.NO_FIT] == list(FitLevel)
    assert limits == sorted(limits) and limits[-1] == 1.0  # needing more than all usable memory cannot fit


def test_fit_level_at_the_edges() -> None:
    assert fit_level(0.0) == FitLevel.EXCELLENT
    assert fit_level(1.0) == FitLevel.VERY_TIGHT  # exactly full still fits
    assert fit_level(1.0001) == FitLevel.NO_FIT


def test_is_fit() -> None:
    assert [level for level in FitLevel if is_fit(level)] == list(FitLevel)[:-1]
    assert not any(is_fit(state) for state in CellState)


def test_legend_runs_from_no_fit_to_excellent() -> None:
    assert FIT_LEGEND_ORDER[0] == FitLevel.NO_FIT and FIT_LEGEND_ORDER[-1] == FitLevel.EXCELLENT
    assert len(FIT_LEGEND_ORDER) == len(FitLevel)


def test_kv_cache_label_follows_the_precision() -> None:
    assert kv_cache_label("fp16") == "16-bit KV cache"
    assert kv_cache_label("fp8") == "FP8 KV cache"


def test_generated_css_defines_each_fit_colour_and_class() -> None:
    tokens, rules = css_custom_properties(), css_fit_rules()
    for level, swatch in FIT_COLOURS.items():
        assert f"--fit-{level.value}:{swatch.background}" in tokens
        assert f".fit-{level.value}{{background:var(--fit-{level.value})" in rules
    assert ".fit-n\\/a" in rules  # the slash in "n/a" is escaped so the class selector is valid
    assert "@media (prefers-color-scheme:dark){:root{" in tokens
