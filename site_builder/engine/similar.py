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


@dataclass(frozen=True)
class _Features:
    """What the similarity reads of one model, extracted once per model rather than once per pair."""

    active: int
    moe: bool
    context: int
    caps: frozenset[str]
    family: str


def _features(m: ModelRecord, f: ModelFacts) -> _Features:
    return _Features(f.params.active, f.shape.is_moe, m.context_window, frozenset(m.capabilities), m.family)


def _score(x: _Features, y: _Features) -> float:
    w = SIMILARITY_WEIGHTS
    size = max(0.0, 1 - abs(math.log2(x.active / y.active)) / 3)
    arch = 1.0 if x.moe == y.moe else 0.0
    ctx = max(0.0, 1 - abs(math.log2(x.context / y.context)) / 4)
    caps = len(x.caps & y.caps) / len(x.caps | y.caps) if x.caps | y.caps else 1.0
    fam = 1.0 if x.family == y.family else 0.0
    return (
        w["size"] * size + w["architecture"] * arch + w["context"] * ctx + w["capabilities"] * caps + w["family"] * fam
    )


def similarity(a: ModelRecord, fa: ModelFacts, b: ModelRecord, fb: ModelFacts) -> float:
    return _score(_features(a, fa), _features(b, fb))


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


Catalog = dict[str, tuple[ModelRecord, ModelFacts, QualityIndex | None]]


def _top(mid: str, models: Catalog, feats: dict[str, _Features]) -> tuple[Similar, ...]:
    a, fa, qa = models[mid]
    mine = feats[mid]
    # Every pair is scored, but only the few kept are described: over a large catalog the descriptions of
    # pairs nobody sees were most of the build's similarity work. Ids are unique, so the order is total.
    scored = sorted((-_score(mine, theirs), oid) for oid, theirs in feats.items() if oid != mid)[:SIMILAR_COUNT]
    kept = []
    for negative, oid in scored:
        b, fb, qb = models[oid]
        kept.append(Similar(b, -negative, relations(a, fa, qa, b, fb, qb)))
    return tuple(kept)


def similar_models(model: ModelRecord, models: Catalog) -> tuple[Similar, ...]:
    return _top(model.id, models, {mid: _features(m, f) for mid, (m, f, _) in models.items()})


def similar_all(models: Catalog) -> dict[str, tuple[Similar, ...]]:
    """similar_models for every model of the catalog, reading each model's features once."""
    feats = {mid: _features(m, f) for mid, (m, f, _) in models.items()}
    return {mid: _top(mid, models, feats) for mid in models}
