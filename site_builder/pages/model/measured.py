"""Measured results for the model beside the engine's estimate for the same setup."""

from __future__ import annotations

from dataclasses import dataclass

from site_builder.analysis import ModelData, SiteAnalysis
from site_builder.engine.calibrate import Comparison
from site_builder.engine.precision import PRECISIONS
from site_builder.pages.figures import Fig, engine, measured
from site_builder.records import BenchmarkRecord


@dataclass(frozen=True)
class MeasuredRow:
    metric: str
    setup: str
    precision: str
    framework: str
    workload: str
    measured: Fig
    estimate: Fig | None
    diff: str
    kind: str
    date: str


def _workload(rec: BenchmarkRecord) -> str:
    w = rec.workload
    parts = [
        f"batch {w.concurrency}" if w.concurrency else "",
        f"prompt {w.prompt_tokens:,}" if w.prompt_tokens is not None else "",
        f"output {w.output_tokens:,}" if w.output_tokens is not None else "",
    ]
    return ", ".join(x for x in parts if x) or "not stated"


def _row(item: Comparison | BenchmarkRecord, site: SiteAnalysis) -> MeasuredRow:
    rec: BenchmarkRecord = item.record if isinstance(item, Comparison) else item
    predicted = item.predicted if isinstance(item, Comparison) else None
    gpu = site.gpus.get(rec.gpu or "")
    fw = site.frameworks.get(rec.framework or "")
    return MeasuredRow(
        metric=rec.metric.replace("_", " "),
        setup=f"{rec.gpu_count}× {gpu.short_name if gpu else (rec.gpu or 'unstated GPU')}",
        precision=PRECISIONS[rec.precision].label if rec.precision else "not stated",
        framework=fw.name if fw else (rec.framework or "—"),
        workload=_workload(rec),
        measured=measured(f"{rec.value:,.2f} {rec.unit}", f"{rec.source.quote}", rec.source.url),
        estimate=engine(f"{predicted:,.2f}", "Engine estimate for the same setup and workload")
        if predicted is not None
        else None,
        diff=f"{(predicted - rec.value) / rec.value:+.0%}" if predicted is not None else "—",
        kind="random weights" if rec.kind == "random-weights" else "measured",
        date=rec.date or "undated",
    )


def measured_rows(md: ModelData, site: SiteAnalysis) -> tuple[MeasuredRow, ...]:
    return tuple(_row(item, site) for item in md.benchmarks)
