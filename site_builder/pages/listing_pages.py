"""Index, model list, GPU list, family list: tables that work without JavaScript."""

from __future__ import annotations

from dataclasses import dataclass

from site_builder.analysis import ModelData, SiteAnalysis
from site_builder.engine import constants as C
from site_builder.engine.constants import GIB
from site_builder.engine.fit import is_fit
from site_builder.engine.plan import MATRIX_PRECISIONS
from site_builder.engine.precision import PRECISIONS
from site_builder.pages import format as F
from site_builder.records import GpuRecord


@dataclass(frozen=True)
class ModelListRow:
    """One model in the index table; the `_raw` fields are sort keys and the filters' data attributes."""

    id: str
    name: str
    href: str
    org: str
    family: str  # the family's title
    family_id: str
    params: str
    params_raw: int
    kind: str
    context: str
    context_raw: int
    caps: str  # space-separated, for the capability filter
    license: str
    min_vram: str
    min_vram_raw: float
    fits: str  # space-separated "<setup>:<precision>" pairs that fit, for the GPU filter
    quality: str
    quality_raw: float


@dataclass(frozen=True)
class Option:
    id: str
    label: str


@dataclass(frozen=True)
class IndexPage:
    title: str
    description: str
    rows: tuple[ModelListRow, ...]
    orgs: tuple[str, ...]
    families: tuple[tuple[str, str], ...]  # id, title
    licenses: tuple[str, ...]
    caps: tuple[str, ...]
    gpus: tuple[Option, ...]
    precisions: tuple[Option, ...]
    fit_context: str
    charts: bool = False


def _fits(md: ModelData) -> str:
    return " ".join(
        sorted(
            f"{row.setup.id}:{cell.precision}" for row in md.analysis.matrix for cell in row.cells if is_fit(cell.level)
        )
    )


def model_row(mid: str, md: ModelData, site: SiteAnalysis, base: str) -> ModelListRow:
    m, p = md.record, md.facts.params
    min_gib = min((r.weights_bytes for r in md.analysis.precision_rows), default=0) / GIB
    return ModelListRow(
        id=mid,
        name=m.name,
        href=f"{base}models/{mid}/",
        org=m.organization,
        family=site.families[m.family].title if m.family in site.families else m.family,
        family_id=m.family,
        params=F.params(p.total),
        params_raw=p.total,
        kind="MoE" if md.facts.shape.is_moe else "Dense",
        context=F.context(m.context_window),
        context_raw=m.context_window,
        caps=" ".join(m.capabilities),
        license=m.license.id if m.license else "unknown",
        min_vram=f"{min_gib:,.1f}",
        min_vram_raw=round(min_gib, 2),
        fits=_fits(md),
        quality=f"{md.quality.value:.1f}" if md.quality else "—",
        quality_raw=round(md.quality.value, 2) if md.quality else -1,
    )


def index_page(site: SiteAnalysis, base: str) -> IndexPage:
    rows = tuple(model_row(mid, md, site, base) for mid, md in site.models.items())
    return IndexPage(
        title="Open LLMs: what it takes to self-host each one",
        description="GPU requirements, memory, speed and cost for every open model in the catalog.",
        rows=rows,
        orgs=tuple(sorted({r.org for r in rows})),
        families=tuple(sorted({(r.family_id, r.family) for r in rows})),
        licenses=tuple(sorted({r.license for r in rows})),
        caps=tuple(sorted({c for r in rows for c in r.caps.split()})),
        gpus=tuple(Option(g.id, g.short_name) for g in site.gpus.values()),
        precisions=tuple(Option(p, PRECISIONS[p].label) for p in MATRIX_PRECISIONS),
        fit_context=f"{C.FIT_CONTEXT:,}",
    )


@dataclass(frozen=True)
class GpuRow:
    id: str
    name: str
    short: str
    href: str
    vendor: str
    segment: str
    arch: str
    memory: str
    bandwidth: str
    bf16: str
    fp8: str
    price: str  # the range of sourced prices per GPU-hour


@dataclass(frozen=True)
class GpuIndexPage:
    title: str
    description: str
    rows: tuple[GpuRow, ...]
    charts: bool = False


def gpu_row(g: GpuRecord, base: str) -> GpuRow:
    prices = sorted(p.usd_per_gpu_hour for p in g.prices)
    return GpuRow(
        id=g.id,
        name=g.name,
        short=g.short_name,
        href=f"{base}gpus/{g.id}/",
        vendor=g.vendor,
        segment=g.segment,
        arch=g.architecture,
        memory=f"{g.memory_gb:g} GB" if g.memory_gb else ("bundle" if g.bundle else "unknown"),
        bandwidth=f"{g.memory_bandwidth_gbps:,.0f} GB/s" if g.memory_bandwidth_gbps else "unknown",
        bf16=f"{g.compute.bf16:,.0f}" if g.compute.bf16 else "—",
        fp8=f"{g.compute.fp8:,.0f}" if g.compute.fp8 else "—",
        price=f"${prices[0]:.2f}–{prices[-1]:.2f}" if prices else "unknown",
    )


def gpu_index_page(site: SiteAnalysis, base: str) -> GpuIndexPage:
    return GpuIndexPage(
        title="GPUs and other hardware",
        description="Memory, bandwidth, tensor throughput and prices "
        "of every GPU, Apple unified-memory machine and CPU profile in the catalog.",
        rows=tuple(gpu_row(g, base) for g in site.gpus.values()),
    )


@dataclass(frozen=True)
class FamilyCard:
    title: str
    href: str
    org: str
    description: str
    models: int  # how many of the catalog's models belong to the family


@dataclass(frozen=True)
class FamilyIndexPage:
    title: str
    description: str
    rows: tuple[FamilyCard, ...]
    charts: bool = False


def family_index_page(site: SiteAnalysis, base: str) -> FamilyIndexPage:
    rows = tuple(
        FamilyCard(
            title=fam.title,
            href=f"{base}families/{fid}/",
            org=fam.organization,
            description=fam.description,
            models=sum(1 for md in site.models.values() if md.record.family == fid),
        )
        for fid, fam in site.families.items()
    )
    return FamilyIndexPage(
        title="Model families",
        description="Sourced articles on each open model family.",
        rows=rows,
    )
