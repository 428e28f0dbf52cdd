"""Compatibility-matrix cells that do not fit the matrix's context but fit a shorter one: "fits up to 5K tokens",
linked to the calculator with that context preset, so the matrix never says "No fit" where a shorter chat runs."""

from __future__ import annotations

from site_builder.engine import constants as C
from site_builder.engine.fit import FitLevel
from site_builder.engine.hardware import Setup
from site_builder.engine.plan import MatrixCell
from site_builder.pages.labels import MATRIX_LABELS


def shorter_fit(cell: MatrixCell) -> bool:
    return cell.level == FitLevel.NO_FIT and cell.max_context > 0


def cell_label(cell: MatrixCell) -> str:
    if shorter_fit(cell):
        n = cell.max_context
        # Rounded down, so the label never promises more than fits.
        return f"fits up to {n // 1024}K tokens" if n >= 1024 else f"fits up to {n:,} tokens"
    return MATRIX_LABELS[cell.level]


def cell_preset(model_id: str, setup: Setup, cell: MatrixCell, base: str) -> str | None:
    """The calculator on the model's page with one sequence of the longest context that fits on this setup."""
    if not shorter_fit(cell):
        return None
    n = cell.max_context
    output = min(C.SERVE_OUTPUT, n // 4)
    flags = {
        "gpu": setup.record.id,
        "gpus": setup.count,
        "precision": cell.precision,
        "context": n,
        "concurrency": 1,
        "prompt": n - output,
        "output": output,
    }
    return f"{base}models/{model_id}/?{'&'.join(f'{k}={v}' for k, v in flags.items())}#calculator"
