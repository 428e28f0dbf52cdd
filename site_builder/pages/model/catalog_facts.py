"""What the record states about the model: capabilities, frameworks, precisions, benchmark scores, sources."""

from __future__ import annotations

from dataclasses import dataclass

from site_builder.analysis import ModelData, SiteAnalysis
from site_builder.engine.precision import PRECISIONS
from site_builder.pages.figures import Fig, stated
from site_builder.pages.labels import CAPABILITY_LABELS
from site_builder.records.common import Source


@dataclass(frozen=True)
class Capability:
    id: str
    label: str
    has: bool


@dataclass(frozen=True)
class FrameworkLink:
    name: str
    href: str | None


@dataclass(frozen=True)
class PrecisionChip:
    label: str
    native: bool


@dataclass(frozen=True)
class Score:
    benchmark: str
    value: Fig
    setting: str


@dataclass(frozen=True)
class CatalogFacts:
    capabilities: tuple[Capability, ...]
    frameworks: tuple[FrameworkLink, ...]
    precisions: tuple[PrecisionChip, ...]
    scores: tuple[Score, ...]
    sources: tuple[Source, ...]


def _framework(fid: str, site: SiteAnalysis) -> FrameworkLink:
    fw = site.frameworks.get(fid)
    return FrameworkLink(fw.name, fw.url) if fw else FrameworkLink(fid, None)


def catalog_facts(md: ModelData, site: SiteAnalysis) -> CatalogFacts:
    m = md.record
    return CatalogFacts(
        capabilities=tuple(Capability(cap, label, cap in m.capabilities) for cap, label in CAPABILITY_LABELS.items()),
        frameworks=tuple(_framework(f, site) for f in m.frameworks),
        precisions=tuple(PrecisionChip(PRECISIONS[x].label, x == m.native_precision) for x in m.precisions),
        scores=tuple(Score(sc.benchmark, stated(f"{sc.value}", sc.setting, sc.source), sc.setting) for sc in m.scores),
        sources=tuple(m.sources),
    )
