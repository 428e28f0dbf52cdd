"""Similar models: a documented similarity over size, architecture, context, capabilities and family."""

from __future__ import annotations

import bisect
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


# Every term but size is at most 1, so a pair scores at most this above its size term: the search below stops where
# even a perfect match elsewhere could not reach the fourth-best score. The margin absorbs float rounding.
_REST = 1 - SIMILARITY_WEIGHTS["size"]
_MARGIN = 1e-9


def _nearest(mid: str, order: list[tuple[float, str]], feats: dict[str, _Features]) -> list[str]:
    """The SIMILAR_COUNT best-scoring other models, best first, ties by id: _top's answer without scoring every pair.

    Models are visited outward from this one in size (log2 of active parameters), where the size term falls; the
    visit stops once the size term alone leaves no model further out able to reach the fourth-best score kept."""
    mine = feats[mid]
    here = math.log2(mine.active)
    at = bisect.bisect_left(order, (here, mid))
    lo, hi = at - 1, at + 1
    best: list[tuple[float, str]] = []  # (-score, id), sorted, at most SIMILAR_COUNT
    while lo >= 0 or hi < len(order):
        below = here - order[lo][0] if lo >= 0 else math.inf
        above = order[hi][0] - here if hi < len(order) else math.inf
        gap = min(below, above)
        bound = SIMILARITY_WEIGHTS["size"] * max(0.0, 1 - gap / 3) + _REST
        if len(best) == SIMILAR_COUNT and bound < -best[-1][0] - _MARGIN:
            break
        if below <= above:
            oid, lo = order[lo][1], lo - 1
        else:
            oid, hi = order[hi][1], hi + 1
        entry = (-_score(mine, feats[oid]), oid)
        if len(best) < SIMILAR_COUNT or entry < best[-1]:
            bisect.insort(best, entry)
            del best[SIMILAR_COUNT:]
    return [oid for _, oid in best]


def similar_all(models: Catalog) -> dict[str, tuple[Similar, ...]]:
    """similar_models for every model of the catalog: the same answer, without scoring every pair (a catalog of
    thousands of models spent seconds there)."""
    feats = {mid: _features(m, f) for mid, (m, f, _) in models.items()}
    order = sorted((math.log2(x.active), mid) for mid, x in feats.items())
    out = {}
    for mid, (a, fa, qa) in models.items():
        kept = []
        for oid in _nearest(mid, order, feats):
            b, fb, qb = models[oid]
            kept.append(Similar(b, _score(feats[mid], feats[oid]), relations(a, fa, qa, b, fb, qb)))
        out[mid] = tuple(kept)
    return out
