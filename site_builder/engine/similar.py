"""Similar models: a documented similarity over size, architecture, context, capabilities and family."""

from __future__ import annotations

import math
from dataclasses import dataclass

from site_builder.engine.memory import ModelFacts
from site_builder.engine.quality import QualityIndex
from site_builder.records.model import ModelRecord

SIMILARITY_WEIGHTS = {"size": 0.40, "architecture": 0.15, "context": 0.15, "capabilities": 0.15, "family": 0.15}
SIMILAR_COUNT = 4


@dataclass(frozen=True)
class Similar:
    model: ModelRecord
    score: float
    relations: tuple[str, ...]


def similarity(a: ModelRecord, fa: ModelFacts, b: ModelRecord, fb: ModelFacts) -> float:
    w = SIMILARITY_WEIGHTS
    size = max(0.0, 1 - abs(math.log2(fa.params.active / fb.params.active)) / 3)
    arch = 1.0 if fa.shape.is_moe == fb.shape.is_moe else 0.0
    ctx = max(0.0, 1 - abs(math.log2(a.context_window / b.context_window)) / 4)
    caps_a, caps_b = set(a.capabilities), set(b.capabilities)
    caps = len(caps_a & caps_b) / len(caps_a | caps_b) if caps_a | caps_b else 1.0
    fam = 1.0 if a.family == b.family else 0.0
    return (
        w["size"] * size + w["architecture"] * arch + w["context"] * ctx + w["capabilities"] * caps + w["family"] * fam
    )


def relations(
    a: ModelRecord, fa: ModelFacts, qa: QualityIndex | None, b: ModelRecord, fb: ModelFacts, qb: QualityIndex | None
) -> tuple[str, ...]:
    """How `b` differs from `a`, in words a reader can act on."""
    out = []
    if b.context_window > a.context_window:
        out.append("larger context")
    elif b.context_window < a.context_window:
        out.append("smaller context")
    ratio = fb.params.total / fa.params.total
    if ratio > 1.1:
        out.append("larger model")
    elif ratio < 0.9:
        out.append("smaller model")
    if fb.shape.is_moe != fa.shape.is_moe:
        out.append("mixture of experts" if fb.shape.is_moe else "dense")
    if qa and qb:
        if qb.value > qa.value + 1:
            out.append("higher quality index")
        elif qb.value < qa.value - 1:
            out.append("lower quality index")
    extra = sorted(set(b.capabilities) - set(a.capabilities))
    if extra:
        out.append("adds " + ", ".join(extra))
    return tuple(out) or ("same size class",)


def similar_models(
    model: ModelRecord,
    models: dict[str, tuple[ModelRecord, ModelFacts, QualityIndex | None]],
) -> tuple[Similar, ...]:
    a, fa, qa = models[model.id]
    # Every pair is scored, but only the few kept are described: over a large catalog the descriptions of
    # pairs nobody sees were most of the build's similarity work. Ids are unique, so the order is total.
    scored = sorted(
        ((-similarity(a, fa, b, fb), mid) for mid, (b, fb, _) in models.items() if mid != model.id),
    )[:SIMILAR_COUNT]
    kept = []
    for negative, mid in scored:
        b, fb, qb = models[mid]
        kept.append(Similar(b, -negative, relations(a, fa, qa, b, fb, qb)))
    return tuple(kept)
