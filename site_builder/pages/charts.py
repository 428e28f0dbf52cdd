"""Plotly figures as plain data (no Python-side figure validation per page), with deterministic div ids.

The page embeds the JSON; static/charts.js draws it with the site's own plotly.js bundle.
"""

from __future__ import annotations

import json
from typing import Any

PALETTE = ["#3b6fd8", "#e0803a", "#4ca37a", "#b04fc0", "#c94a4a", "#8a8f98"]
LAYOUT: dict[str, Any] = {
    "margin": {"l": 60, "r": 20, "t": 30, "b": 60},
    "font": {"family": "system-ui, sans-serif", "size": 12},
    "paper_bgcolor": "rgba(0,0,0,0)",
    "plot_bgcolor": "rgba(0,0,0,0)",
    "height": 340,
    "legend": {"orientation": "h", "y": -0.25},
}


def chart(div_id: str, title: str, data: list[dict[str, Any]], layout: dict[str, Any]) -> dict[str, Any]:
    merged = {**LAYOUT, **layout}
    spec = {"data": data, "layout": merged, "config": {"displayModeBar": False, "responsive": True}}
    # "</" would end the <script> the JSON sits in; JSON allows the escaped form.
    text = json.dumps(spec, sort_keys=True, separators=(",", ":")).replace("</", "<\\/")
    return {"id": div_id, "title": title, "json": text}


def bar(div_id: str, title: str, labels: list[str], values: list[float], axis: str, hover: list[str]) -> dict[str, Any]:
    data = [
        {
            "type": "bar",
            "x": labels,
            "y": [round(v, 2) for v in values],
            "marker": {"color": PALETTE[0]},
            "hovertext": hover,
            "hoverinfo": "text",
        }
    ]
    return chart(div_id, title, data, {"yaxis": {"title": {"text": axis}}, "xaxis": {"automargin": True}})


def stacked(
    div_id: str,
    title: str,
    labels: list[str],
    parts: dict[str, list[float]],
    axis: str,
    capacity: list[float] | None = None,
) -> dict[str, Any]:
    data: list[dict[str, Any]] = [
        {
            "type": "bar",
            "name": name,
            "x": labels,
            "y": [round(v, 2) for v in values],
            "marker": {"color": PALETTE[i % len(PALETTE)]},
        }
        for i, (name, values) in enumerate(parts.items())
    ]
    if capacity is not None:
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": "usable memory",
                "x": labels,
                "y": [round(v, 2) for v in capacity],
                "marker": {"symbol": "line-ew-open", "size": 40, "color": "#222", "line": {"width": 3}},
            }
        )
    return chart(div_id, title, data, {"barmode": "stack", "yaxis": {"title": {"text": axis}}})


def heatmap(
    div_id: str, title: str, rows: list[str], cols: list[str], z: list[list[float | None]], text: list[list[str]]
) -> dict[str, Any]:
    data = [
        {
            "type": "heatmap",
            "x": cols,
            "y": rows,
            "z": z,
            "text": text,
            "hoverinfo": "text+x+y",
            "zmin": 0,
            "zmax": 5,
            "showscale": False,
            "colorscale": [
                [0, "#d9d9d9"],
                [0.2, "#c94a4a"],
                [0.4, "#e0803a"],
                [0.6, "#e6c84a"],
                [0.8, "#8cc17a"],
                [1.0, "#2f8f5b"],
            ],
        }
    ]
    return chart(
        div_id, title, data, {"height": max(300, 22 * len(rows) + 80), "margin": {"l": 140, "r": 20, "t": 30, "b": 40}}
    )
