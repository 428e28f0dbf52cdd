"""Model rules outside the architecture: stated counts, precisions, context window, release date."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from rule_support import TODAY, at, model_data, run, start

# Llama 3.1 8B's shape (model_data): 32 layers of q and o (4096 x 4096), k and v (4096 x 1024), a gated MLP
# (3 x 4096 x 14336) and two norms, plus the input embedding, the untied LM head (128256 x 4096 each) and the
# final norm: 32 x 218,112,000 + 2 x 525,336,576 + 4096 = 8,030,261,248, the 8.03B Meta's model card states.
LLAMA3_8B = 8_030_261_248
EMBEDDING = 128_256 * 4096
ACTIVE = LLAMA3_8B - EMBEDDING  # a token looks its embedding row up; it is multiplied by everything else


def model(**fields: Any) -> dict[str, Any]:
    return model_data() | fields


def path(root: Path) -> Path:
    return root / "models" / "m.yaml"


def check(rule_id: str, tmp_path: Path, good: dict[str, Any], bad: dict[str, Any]) -> list[str]:
    """`rule_id`'s lines for the bad record, after asserting the good one passes."""
    assert run(rule_id, tmp_path / "good", {"models/m.yaml": good}) == []
    return run(rule_id, tmp_path / "bad", {"models/m.yaml": bad})


def test_stated_total_matches(tmp_path: Path) -> None:
    lines = check(
        "model.stated-total-matches",
        tmp_path,
        model(stated_params={"total": LLAMA3_8B, "exact": True}),
        model(stated_params={"total": 7_000_000_000, "exact": True}),
    )
    off = (LLAMA3_8B - 7_000_000_000) / 7_000_000_000
    assert f"{off:+.1%}" == "+14.7%"
    where = at(path(tmp_path / "bad"), "total: ")
    assert lines == [
        f"{where}: warning: stated_params.total: stated 7,000,000,000 but the architecture gives 8,030,261,248 (+14.7%)"
    ]


def test_stated_active_matches(tmp_path: Path) -> None:
    lines = check(
        "model.stated-active-matches",
        tmp_path,
        model(stated_params={"total": LLAMA3_8B, "active": ACTIVE, "exact": True}),
        model(stated_params={"total": LLAMA3_8B, "active": 5_000_000_000, "exact": True}),
    )
    where = at(path(tmp_path / "bad"), "active: ")
    assert lines == [
        f"{where}: warning: stated_params.active: stated 5,000,000,000 but the architecture gives {ACTIVE:,} "
        f"({LLAMA3_8B:,} with the embedding)"
    ]


def test_precisions_include_native(tmp_path: Path) -> None:
    lines = check(
        "model.precisions-include-native",
        tmp_path,
        model(precisions=["bf16", "fp8"]),
        model(precisions=["fp8"]),
    )
    assert lines == [f"{start(path(tmp_path / 'bad'), '- fp8')}: precisions: must include native_precision (bf16)"]


def test_context_within_positions(tmp_path: Path) -> None:
    lines = check(
        "model.context-within-positions",
        tmp_path,
        model(context_window=262144, context_note="The model card states 256K with scaling at inference."),
        model(context_window=262144),
    )
    assert lines == [
        f"{at(path(tmp_path / 'bad'), 'context_window: ')}: context_window: exceeds max_position_embeddings (131072) "
        "without rope_scaling (or a context_note explaining why)"
    ]


def test_release_date_not_future(tmp_path: Path) -> None:
    tomorrow = TODAY + dt.timedelta(days=1)
    lines = check("model.release-date-not-future", tmp_path, model(release_date=TODAY), model(release_date=tomorrow))
    assert lines == [f"{at(path(tmp_path / 'bad'), 'release_date: ')}: release_date: 2026-01-16 is in the future"]
