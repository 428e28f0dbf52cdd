"""Speed sections: estimated throughput by setup, and one user on personal hardware."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from site_builder.analysis import PERFORMANCE_ROWS, ModelData, SiteAnalysis
from site_builder.engine.errorbars import ErrorBars
from site_builder.engine.plan import Candidate
from site_builder.pages import charts
from site_builder.pages import format as F
from site_builder.pages.figures import Fig, engine
from site_builder.pages.labels import FIT_LABELS, SEGMENT_LABELS
from site_builder.pages.model.common import (
    CandidateView,
    candidate_view,
    deploy_href,
    runtime_name,
    setup_label,
    speed_fig,
    work_note,
)


@dataclass(frozen=True)
class Performance:
    chart: dict[str, Any] | None
    rows: tuple[CandidateView, ...]


def performance(md: ModelData, site: SiteAnalysis, base: str) -> Performance:
    an = md.analysis
    tput = [c for c in an.candidates if c.speed and c.speed.output_tokens_per_s][:PERFORMANCE_ROWS]
    chart = (
        charts.bar(
            f"chart-throughput-{md.record.id}",
            "Output tokens/s by setup",
            [f"{c.setup.label} {c.precision.label}" for c in tput],
            [c.speed.output_tokens_per_s or 0 for c in tput if c.speed],
            "output tokens/s",
            [work_note(c) for c in tput],
        )
        if tput
        else None
    )
    # A table row names the whole setup (GPU, format, runtime); a card names only the GPU.
    rows = tuple(candidate_view(c, base, md.record.id, site.error_bars, setup_label(c)) for c in tput)
    return Performance(chart, rows)


@dataclass(frozen=True)
class LocalRow:
    label: str
    href: str
    segment: str
    precision: str
    framework: str
    deploy_href: str | None
    speed: Fig
    ttft: Fig
    memory: Fig


@dataclass(frozen=True)
class Local:
    rows: tuple[LocalRow, ...]
    note: str


def _local_row(c: Candidate, base: str, model_id: str, with_deploy: bool, bars: ErrorBars | None) -> LocalRow:
    s = c.speed
    note = f"single stream, {c.precision.label}, {runtime_name(c)} ({c.engine} efficiency factors)"
    return LocalRow(
        label=c.setup.label,
        href=f"{base}gpus/{c.setup.record.id}/",
        segment=SEGMENT_LABELS.get(c.setup.record.segment, c.setup.record.segment),
        precision=c.precision.label,
        framework=c.framework.name if c.framework else "—",
        deploy_href=deploy_href(c, base, model_id) if with_deploy else None,
        speed=speed_fig(F.tokens_per_s(s.decode_tokens_per_s if s else None), note, c, "decode_tokens_per_s", bars),
        ttft=speed_fig(
            F.ms(s.ttft_ms if s else None),
            "compute rate unknown" if s and s.ttft_ms is None else note,
            c,
            "ttft_ms",
            bars,
        ),
        memory=engine(
            f"{F.gib(c.memory.total_bytes)} of {F.gib(c.memory.usable_bytes)}",
            f"fit: {FIT_LABELS[c.memory.fit_level]}",
        ),
    )


def local(md: ModelData, site: SiteAnalysis, base: str) -> Local:
    an = md.analysis
    rows = tuple(_local_row(c, base, md.record.id, c in an.local_runtimes, site.error_bars) for c in an.local)
    return Local(rows, _local_note(md))


def _local_note(md: ModelData) -> str:
    an = md.analysis
    if not an.local:
        return ""
    w = an.local[0].workload
    note = f"One user, {w.prompt:,}-token prompt, {w.output:,}-token answer; the fastest format that fits each device"
    if an.local_runtimes:
        names = " and ".join(sorted({c.framework.name for c in an.local_runtimes if c.framework}))
        note += (
            f"; {names} rows show that runtime's own format on every CPU profile it runs on and on the smallest "
            "GPU or Mac that holds it"
        )
    return note
