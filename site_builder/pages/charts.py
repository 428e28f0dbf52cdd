"""Plotly figures as plain data (no Python-side figure validation per page), with deterministic div ids.

The page embeds the JSON; static/charts.js draws it with the site's own plotly.js bundle.
"""

from __future__ import annotations

from typing import Any

from site_builder.render import script_json

# Fit-level colours, no-fit to excellent; the same values as the --fit-* variables in static/site.css.
FIT_COLOURS = ["#5f646d", "#b83b3b", "#e0893a", "#e6c84a", "#8cc17a", "#267a4c"]
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
    text = script_json(spec, separators=(",", ":"))
    # The box reserves the chart's height before plotly.js loads, so nothing shifts when it draws. Taller
    # charts than the two reserved sizes (the heatmap, in a closed <details>) get theirs from charts.js.
    height = merged["height"]
    box = "chart-box" if height <= 340 else "chart-box tall" if height <= 420 else "chart-box sized-by-script"
    return {"id": div_id, "title": title, "json": text, "box_class": box}


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
    layout: dict[str, Any] = {"barmode": "stack", "yaxis": {"title": {"text": axis}}}
    if capacity is not None:
        # A dashed line across each bar at the memory the engine may fill, labelled on the bar.
        layout["shapes"] = [
            {
                "type": "line",
                "xref": "x",
                "yref": "y",
                "x0": i - 0.45,
                "x1": i + 0.45,
                "y0": round(cap, 2),
                "y1": round(cap, 2),
                "line": {"color": "#c94a4a", "width": 3, "dash": "dash"},
            }
            for i, cap in enumerate(capacity)
        ]
        layout["annotations"] = [
            {
                "x": i,
                "y": round(cap, 2),
                "xref": "x",
                "yref": "y",
                "text": f"usable {cap:.1f}",
                "showarrow": False,
                "yshift": 10,
            }
            for i, cap in enumerate(capacity)
        ]
    return chart(div_id, title, data, layout)


def _stepped(colours: list[str]) -> list[list[float | str]]:
    """A colour scale with one flat band per level, so levels 0..n-1 map to exactly their colour."""
    n = len(colours)
    scale: list[list[float | str]] = []
    for i, colour in enumerate(colours):
        scale += [[i / n, colour], [(i + 1) / n, colour]]
    return scale


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
            "colorscale": _stepped(FIT_COLOURS),
        }
    ]
    return chart(
        div_id, title, data, {"height": max(300, 22 * len(rows) + 80), "margin": {"l": 140, "r": 20, "t": 30, "b": 40}}
    )
