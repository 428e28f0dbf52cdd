"""A model page's throughput-latency chart: for each recommended setup, tokens/s per user against tokens/s for all
users together as concurrency doubles up to what the setup's memory holds (engine.sweep)."""

from __future__ import annotations

from typing import Any

from site_builder.analysis import ModelData
from site_builder.engine.plan import Candidate
from site_builder.engine.sweep import SweepPoint
from site_builder.pages import charts
from site_builder.pages.colours import CHART_PALETTE
from site_builder.pages.labels import kv_cache_label

X_AXIS = "Output tokens/s, all users"
Y_AXIS = "Output tokens/s per user"


def _trace(c: Candidate, points: tuple[SweepPoint, ...], colour: str) -> dict[str, Any]:
    fw = c.framework.name if c.framework else c.engine
    return {
        "type": "scatter",
        "mode": "lines+markers",
        "name": f"{c.setup.label} · {c.precision.label} · {fw}",
        "x": [round(p.aggregate_tokens_per_s, 1) for p in points],
        "y": [round(p.per_user_tokens_per_s, 1) for p in points],
        "text": [f"{p.concurrency} user{'s' if p.concurrency > 1 else ''}" for p in points],
        "hovertemplate": "%{text}: %{y} tok/s per user, %{x} tok/s in all<extra></extra>",
        "marker": {"color": colour},
        "line": {"color": colour},
    }


def throughput_latency_chart(md: ModelData) -> dict[str, Any] | None:
    found = md.sweeps
    if not found:
        return None
    data = [_trace(c, pts, CHART_PALETTE[i % len(CHART_PALETTE)]) for i, (c, pts) in enumerate(found)]
    layout = {
        "xaxis": {"title": {"text": X_AXIS}, "rangemode": "tozero"},
        "yaxis": {"title": {"text": Y_AXIS}, "rangemode": "tozero"},
    }
    spec = charts.chart(
        f"chart-latency-{md.record.id}", "Per-user speed against total throughput as users are added", data, layout
    )
    w = md.analysis.serve_workload
    spec["note"] = (
        f"Each point is the engine's estimate with that many users decoding at once ({w.prompt:,}-token prompts, "
        f"{w.output:,}-token answers, {kv_cache_label(w.kv_precision)}): moving right, the GPUs produce more tokens "
        f"in all and each user's answer streams more slowly. Users double from 1; the last point of a line is the most "
        f"{w.context:,}-token sequences its memory holds."
    )
    return spec
