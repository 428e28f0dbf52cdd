"""GPU page (/gpus/<id>/): specs with sources, prices, and which models fit at which precision and how fast."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from site_builder.analysis import SiteAnalysis
from site_builder.engine import constants as C
from site_builder.engine.fit import CellState, MatrixLevel
from site_builder.engine.plan import MATRIX_PRECISIONS
from site_builder.engine.precision import PRECISIONS
from site_builder.pages import charts
from site_builder.pages import format as F
from site_builder.pages.figures import Fig, engine, stated
from site_builder.pages.gpu_fit import GpuControl, gpu_control
from site_builder.pages.labels import MATRIX_LABELS
from site_builder.pages.matrix_cells import cell_label, cell_preset, shorter_fit
from site_builder.records import GpuRecord
from site_builder.records.common import Source

# The GPU page charts its fastest models only: past this many bars the labels overlap.
CHART_MODELS = 15


@dataclass(frozen=True)
class FitCell:
    level: MatrixLevel
    label: str
    href: str | None = None  # a shorter context fits: the calculator preset for it


@dataclass(frozen=True)
class ModelRow:
    name: str
    href: str
    cells: tuple[FitCell, ...]
    id: str
    precisions: str  # the model's formats this GPU runs, space-separated (for gpu_fit.js)
    best: str  # the fastest precision that fits one of this GPU, or what does not fit
    tps: Fig | None
    tps_raw: float  # the sort key of the throughput column


@dataclass(frozen=True)
class PriceRow:
    provider: str
    price: Fig
    offer: str
    as_of: str


@dataclass(frozen=True)
class GpuPage:
    gpu: GpuRecord
    base_gpu: GpuRecord  # the single GPU a bundle is made of; the GPU itself otherwise
    title: str
    description: str
    specs: tuple[tuple[str, Fig], ...]
    prices: tuple[PriceRow, ...]
    rows: tuple[ModelRow, ...]
    chart: dict[str, Any] | None
    columns: tuple[str, ...]
    sources: tuple[Source, ...]
    conflicts: tuple[str, ...]
    notes: str | None
    charts: bool
    control: GpuControl


def gpu_page(g: GpuRecord, site: SiteAnalysis, base: str) -> GpuPage:
    ga = site.gpu_analyses[g.id]
    setup = ga.setup
    b = setup.base
    src = b.sources[0].url if b.sources else None
    link = setup.interconnect

    def spec(label: str, value: float | None, unit: str) -> tuple[str, Fig | None]:
        return (
            label,
            stated(f"{value:,g} {unit}" if value is not None else "unknown", "datasheet figure", src)
            if value is not None
            else None,
        )

    specs: list[tuple[str, Fig | None]] = [
        ("Vendor", stated(b.vendor, "", src)),
        ("Segment", stated(b.segment, "", src)),
        ("Architecture", stated(b.architecture, "", src)),
        spec("Memory", b.memory_gb, "GB"),
        spec("Memory bandwidth", b.memory_bandwidth_gbps, "GB/s"),
        spec("BF16 dense", b.compute.bf16, "TFLOPS"),
        spec("FP8 dense", b.compute.fp8, "TFLOPS"),
        spec("INT8 dense", b.compute.int8, "TOPS"),
        spec("FP4 dense", b.compute.fp4, "TFLOPS"),
        spec("TDP", b.tdp_watts, "W"),
        (
            "Interconnect",
            stated(
                f"{link.type}" + (f", {link.bandwidth_gbps:,g} GB/s" if link.bandwidth_gbps else ""),
                "",
                g.sources[0].url if g.interconnect and g.sources else src,
            )
            if link
            else None,
        ),
        (
            "Usable share of memory",
            engine(
                F.percent(setup.usable_fraction),
                "usable_memory_fraction from the record"
                if b.usable_memory_fraction
                else f"serving engines' default reserve ({C.USABLE_FRACTION:.0%})",
            ),
        ),
    ]
    if g.bundle:
        specs.insert(0, ("Bundle", stated(f"{g.bundle.count} × {b.short_name}", "", g.sources[0].url)))
    rows: list[ModelRow] = []
    # A cell without a shorter-context link is its level's label alone: one shared (frozen) cell per level, not one
    # per model and precision on a page of thousands.
    plain = {level: FitCell(level, label) for level, label in MATRIX_LABELS.items()}
    for mid, md in site.models.items():
        work = md.analysis.serve_workload
        row = md.analysis.matrix_by_gpu.get(g.id)
        by_precision = {c.precision: c for c in row.cells} if row else {}
        cells = []
        for pid in MATRIX_PRECISIONS:
            cell = by_precision.get(pid)
            if pid not in ga.supported:
                cells.append(plain[CellState.NOT_APPLICABLE])
            elif cell is None or row is None:
                cells.append(plain[CellState.UNKNOWN])
            elif shorter_fit(cell):
                cells.append(FitCell(cell.level, cell_label(cell), cell_preset(mid, row.setup, cell, base)))
            else:
                cells.append(plain[cell.level])
        best = md.analysis.single.get(g.id)
        tps = best.speed.output_tokens_per_s if best and best.speed else None
        rows.append(
            ModelRow(
                name=md.record.name,
                href=f"{base}models/{mid}/",
                cells=tuple(cells),
                id=mid,
                precisions=" ".join(pid for pid in md.record.precisions if pid in ga.supported_all),
                # The matrix checks one sequence; this column is the serving workload, which may not fit where it does.
                best=f"{best.precision.label}"
                if best
                else f"{work.concurrency} users × {work.context:,} tokens do not fit on one {g.short_name}",
                tps=engine(
                    F.tokens_per_s(tps),
                    f"{work.concurrency} concurrent requests, {work.prompt:,}-token "
                    f"prompts, {work.output:,}-token answers",
                )
                if best
                else None,
                tps_raw=round(tps or 0, 1),
            )
        )
    top = sorted((r for r in rows if r.tps_raw), key=lambda r: -r.tps_raw)[:CHART_MODELS]
    chart = (
        charts.bar(
            f"chart-gpu-{g.id}",
            f"Output tokens/s on {g.short_name}",
            [r.name for r in top],
            [r.tps_raw for r in top],
            "output tokens/s",
            [r.best for r in top],
        )
        if top
        else None
    )
    prices = tuple(
        PriceRow(p.provider, stated(F.usd(p.usd_per_gpu_hour), f"as of {p.as_of}", p.source), p.offer or "", p.as_of)
        for p in sorted(b.prices if not g.prices else g.prices, key=lambda p: p.usd_per_gpu_hour)
    )
    return GpuPage(
        gpu=g,
        base_gpu=b,
        title=f"{g.name}: which LLMs fit and how fast",
        description=f"Specs, prices and the open models that fit on {g.name}, with estimated throughput.",
        specs=tuple((label, f) for label, f in specs if f is not None),
        prices=prices,
        rows=tuple(rows),
        chart=chart,
        columns=tuple(PRECISIONS[p].label for p in MATRIX_PRECISIONS),
        sources=tuple(g.sources + (b.sources if g.bundle else [])),
        conflicts=tuple(b.resolved_conflicts),
        notes=b.notes,
        charts=chart is not None,
        control=gpu_control(
            g,
            base,
            f"Fit: one {C.FIT_CONTEXT:,}-token sequence (or the model's window if shorter), the compatibility matrix's "
            f"check. Fastest precision and speed: the serving workload ({C.SERVE_CONCURRENCY} users, "
            f"{C.SERVE_PROMPT:,}-token prompts, {C.SERVE_OUTPUT:,}-token answers) on one {g.short_name}.",
        ),
    )
