"""Similar models, each linked to its side-by-side comparison."""

from __future__ import annotations

from dataclasses import dataclass

from site_builder.analysis import ModelData, SiteAnalysis, compare_slug
from site_builder.engine.similar import Similar
from site_builder.pages import format as F


@dataclass(frozen=True)
class SimilarCard:
    name: str
    href: str
    compare: str
    relations: str
    params: str
    kind: str
    score: str


def _card(mid: str, s: Similar, site: SiteAnalysis, base: str) -> SimilarCard:
    other = site.models[s.model.id].facts
    return SimilarCard(
        name=s.model.name,
        href=f"{base}models/{s.model.id}/",
        compare=f"{base}compare/{compare_slug(mid, s.model.id)}/",
        relations=", ".join(s.relations).capitalize(),
        params=F.params(other.params.total),
        kind="MoE" if other.shape.is_moe else "dense",
        score=f"{s.score:.2f}",
    )


def similar(md: ModelData, site: SiteAnalysis, base: str) -> tuple[SimilarCard, ...]:
    return tuple(_card(md.record.id, s, site, base) for s in md.similar)
