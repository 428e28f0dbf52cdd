"""Compatibility-matrix cells that do not fit the matrix's context but fit a shorter one: "fits up to 5K tokens",
linked to the calculator with that context preset, so the matrix never says "No fit" where a shorter chat runs."""

from __future__ import annotations

from site_builder.engine import constants as C
from site_builder.engine.fit import FitLevel
from site_builder.engine.hardware import Setup
from site_builder.engine.plan import MatrixCell
from site_builder.pages import format as F
from site_builder.pages.calculator import calculator_href
from site_builder.pages.labels import MATRIX_LABELS

# "5K tokens" counts thousands as 1,024 tokens (format.TOKENS_PER_K), as context windows are quoted (8K = 8,192).
# A shorter-context preset keeps the site's answer length, but leaves at least three quarters of the context to the
# prompt: the answer is at most context // ANSWER_SHARE_DIVISOR tokens.
ANSWER_SHARE_DIVISOR = 4


def shorter_fit(cell: MatrixCell) -> bool:
    return cell.level == FitLevel.NO_FIT and cell.max_context > 0


def cell_label(cell: MatrixCell) -> str:
    if shorter_fit(cell):
        n = cell.max_context
        # Rounded down, so the label never promises more than fits.
        return f"fits up to {n // F.TOKENS_PER_K}K tokens" if n >= F.TOKENS_PER_K else f"fits up to {n:,} tokens"
    return MATRIX_LABELS[cell.level]


def cell_preset(model_id: str, setup: Setup, cell: MatrixCell, base: str) -> str | None:
    """The calculator on the model's page with one sequence of the longest context that fits on this setup."""
    if not shorter_fit(cell):
        return None
    n = cell.max_context
    output = min(C.SERVE_OUTPUT, n // ANSWER_SHARE_DIVISOR)
    flags = {
        "gpu": setup.record.id,
        "gpus": setup.count,
        "precision": cell.precision,
        "context": n,
        "concurrency": 1,
        "prompt": n - output,
        "output": output,
    }
    return calculator_href(base, model_id, flags)
