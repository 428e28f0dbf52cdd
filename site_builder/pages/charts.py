"""Plotly figures as plain data (no Python-side figure validation per page), with deterministic div ids.

The page embeds the JSON; static/charts.js draws it with the vendored plotly.js basic bundle (bar, scatter
and pie traces only: a chart needing another trace type needs a bigger bundle, see static/vendor/README.md).
Each chart also carries its data as a table, shown without JavaScript.
"""

from __future__ import annotations

from typing import Any

from site_builder.pages.colours import CHART_LIMIT_LINE, CHART_PALETTE
from site_builder.render import script_json

# Chart heights in px that site.css reserves for the chart box (.chart-box, .chart-box.tall) before
# plotly.js loads; a taller chart is sized by charts.js.
HEIGHT = 340
TALL_HEIGHT = 420
# The usable-memory line spans this far either side of a bar's centre (bars are 0.8 of a slot wide by
# default), so it reads as a cap across the bar; its label sits this many px above the line.
LIMIT_HALF_WIDTH = 0.45
LIMIT_LABEL_LIFT_PX = 10
# Chart values keep two decimals: finer than a chart or its table can show, and fewer bytes in the page.
DIGITS = 2
LAYOUT: dict[str, Any] = {
    "margin": {"l": 60, "r": 20, "t": 30, "b": 60},
    "font": {"family": "system-ui, sans-serif", "size": 12},
    "paper_bgcolor": "rgba(0,0,0,0)",
    "plot_bgcolor": "rgba(0,0,0,0)",
    "height": HEIGHT,
    "legend": {"orientation": "h", "y": -0.25},
}


def chart(div_id: str, title: str, data: list[dict[str, Any]], layout: dict[str, Any]) -> dict[str, Any]:
    merged = {**LAYOUT, **layout}
    spec = {"data": data, "layout": merged, "config": {"displayModeBar": False, "responsive": True}}
    text = script_json(spec, separators=(",", ":"))
    # The box reserves the chart's height before plotly.js loads, so nothing shifts when it draws. Taller
    # charts than the two reserved sizes get theirs from charts.js.
    height = merged["height"]
    box = (
        "chart-box" if height <= HEIGHT else "chart-box tall" if height <= TALL_HEIGHT else "chart-box sized-by-script"
    )
    return {"id": div_id, "title": title, "json": text, "box_class": box, "table": data_table(data, merged)}


def _axis_title(layout: dict[str, Any], axis: str, default: str) -> str:
    title = layout.get(axis, {}).get("title", {})
    return str(title.get("text") or default) if isinstance(title, dict) else str(title or default)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return "" if value is None else str(value)


def data_table(data: list[dict[str, Any]], layout: dict[str, Any]) -> dict[str, Any]:
    """The chart's numbers as a table (header + rows of strings), so the content never depends on JavaScript.

    Bars become one row per category with a column per trace; scatter traces with point labels one row per
    point. Line-only traces (reference lines) are drawn decoration, not data, and are left out.
    """
    x_title, y_title = _axis_title(layout, "xaxis", "Item"), _axis_title(layout, "yaxis", "Value")
    bars = [t for t in data if t.get("type") == "bar"]
    if bars:
        labels: list[Any] = []
        for t in bars:
            labels += [x for x in t["x"] if x not in labels]
        values = [dict(zip(t["x"], t["y"], strict=True)) for t in bars]
        head = [x_title] + [str(t.get("name") or y_title) for t in bars]
        rows = [[_cell(x)] + [_cell(v.get(x)) for v in values] for x in labels]
        notes = bars[0].get("hovertext")
        if len(bars) == 1 and notes:  # the hover text states each bar's assumptions
            head.append("Assumptions")
            rows = [[*row, str(note)] for row, note in zip(rows, notes, strict=True)]
        unit = f" ({y_title})" if len(bars) > 1 and y_title != "Value" else ""
        return {"head": head, "rows": rows, "unit": unit}
    rows = []
    for t in data:
        if t.get("mode") == "lines":
            continue
        names = t.get("text") or [""] * len(t["x"])
        rows += [
            [str(t.get("name") or ""), str(n), _cell(x), _cell(y)]
            for n, x, y in zip(names, t["x"], t["y"], strict=True)
        ]
    return {"head": ["Series", "Point", x_title, y_title], "rows": rows, "unit": ""}


def bar(div_id: str, title: str, labels: list[str], values: list[float], axis: str, hover: list[str]) -> dict[str, Any]:
    data = [
        {
            "type": "bar",
            "x": labels,
            "y": [round(v, DIGITS) for v in values],
            "marker": {"color": CHART_PALETTE[0]},
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
            "y": [round(v, DIGITS) for v in values],
            "marker": {"color": CHART_PALETTE[i % len(CHART_PALETTE)]},
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
                "x0": i - LIMIT_HALF_WIDTH,
                "x1": i + LIMIT_HALF_WIDTH,
                "y0": round(cap, DIGITS),
                "y1": round(cap, DIGITS),
                "line": {"color": CHART_LIMIT_LINE, "width": 3, "dash": "dash"},
            }
            for i, cap in enumerate(capacity)
        ]
        layout["annotations"] = [
            {
                "x": i,
                "y": round(cap, DIGITS),
                "xref": "x",
                "yref": "y",
                "text": f"usable {cap:.1f}",
                "showarrow": False,
                "yshift": LIMIT_LABEL_LIFT_PX,
            }
            for i, cap in enumerate(capacity)
        ]
    spec = chart(div_id, title, data, layout)
    if capacity is not None:
        spec["table"]["head"].append("Usable")
        spec["table"]["rows"] = [
            [*row, _cell(round(cap, DIGITS))] for row, cap in zip(spec["table"]["rows"], capacity, strict=True)
        ]
    return spec
