"""Quality index: the mean of a model's sourced benchmark scores on a fixed benchmark set.

No sourced score on that set -> no index ("not rated"); never a default. Scores from different
evaluation settings are not comparable across families, so the index is shown with its inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

from site_builder.records.model import ModelRecord, Score

# Benchmarks widely reported by model cards, normalised by name (case and punctuation ignored).
QUALITY_BENCHMARKS = ("mmlu", "gsm8k", "humaneval", "math", "gpqa", "bbh", "mmlupro")
MIN_SCORES = 2


def _norm(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


@dataclass(frozen=True)
class QualityIndex:
    value: float
    inputs: tuple[Score, ...]


def quality_index(model: ModelRecord) -> QualityIndex | None:
    chosen: dict[str, Score] = {}
    for score in model.scores:
        key = _norm(score.benchmark)
        if key in QUALITY_BENCHMARKS and key not in chosen:
            chosen[key] = score
    if len(chosen) < MIN_SCORES:
        return None
    inputs = tuple(chosen[k] for k in sorted(chosen))
    return QualityIndex(value=sum(s.value for s in inputs) / len(inputs), inputs=inputs)
