"""How well a setup fits in memory: the fit levels and the states a compatibility-matrix cell can have.

The thresholds (share of usable memory → level) are calibrated numbers and live in constants.FIT_LEVELS;
display labels live in pages/labels.py and colours in pages/colours.py, all keyed by these members.
"""

from __future__ import annotations

from enum import StrEnum


class FitLevel(StrEnum):
    """From most headroom to none. The values are the ids pages, CSS classes and the JSON API use."""

    EXCELLENT = "excellent"
    GOOD = "good"
    MODERATE = "moderate"
    TIGHT = "tight"
    VERY_TIGHT = "very-tight"
    NO_FIT = "no-fit"


class CellState(StrEnum):
    """A matrix cell that has no fit level."""

    NOT_APPLICABLE = "n/a"  # the GPU cannot run the precision at all
    UNKNOWN = "unknown"  # the setup's memory is unknown


MatrixLevel = FitLevel | CellState


def is_fit(level: MatrixLevel) -> bool:
    """The setup holds the model: any fit level but no-fit."""
    return isinstance(level, FitLevel) and level != FitLevel.NO_FIT
