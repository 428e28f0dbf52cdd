"""Charts are built as plain data for speed; here plotly's own validator checks that data, page by page."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import plotly.graph_objects as go
import pytest

from site_builder.build import build_site

CHART_RE = re.compile(r'<script type="application/json" data-chart="([^"]+)">(.*?)</script>', re.S)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("charts") / "site"
    assert build_site(Path("catalog"), out, search=False).ok
    return out


@pytest.mark.parametrize(
    "page", ["models/internlm-20b", "models/internvl2-26b", "gpus/h100-sxm", "methodology", "compare"]
)
def test_every_embedded_chart_is_a_valid_plotly_figure(site: Path, page: str) -> None:
    files = sorted((site / page).glob("*/index.html"))[:3] if page == "compare" else [site / page / "index.html"]
    charts = [m for f in files for m in CHART_RE.finditer(f.read_text())]
    assert charts, f"no chart on {page}"
    for match in charts:
        spec = json.loads(match.group(2))
        figure = go.Figure(data=spec["data"], layout=spec["layout"])  # raises on any invalid property
        assert figure.data, match.group(1)
        assert match.group(1).startswith("chart-")


def _registered_traces(bundle: str) -> set[str]:
    """Trace types a plotly.js bundle registers, read from the bundle file itself."""
    return set(re.findall(r'moduleType:"trace",name:"([a-z0-9]+)"', bundle))


def test_the_vendored_bundle_draws_every_trace_type_the_site_uses(site: Path) -> None:
    bundle = (site / "static/vendor/plotly-basic.min.js").read_text(encoding="utf-8")
    registered = _registered_traces(bundle)
    assert "bar" in registered, "the bundle's trace registrations could not be read"
    used = set()
    for page in site.rglob("index.html"):
        for match in CHART_RE.finditer(page.read_text(encoding="utf-8")):
            used |= {trace.get("type", "scatter") for trace in json.loads(match.group(2))["data"]}
    assert used, "no chart found"
    assert used <= registered, f"trace types the bundle cannot draw: {used - registered}"
    assert (site / "static/vendor/LICENSE-plotly.js").read_text().startswith("MIT License")
    assert not (site / "static/plotly.min.js").exists(), "the full plotly bundle is no longer shipped"


def test_vendored_files_stay_small() -> None:
    for path in Path("static").rglob("*"):
        if path.is_file():
            assert path.stat().st_size < 2 * 1024 * 1024, f"{path} is over 2 MiB"


TABLE_RE = re.compile(r'<details class="chart-data">.*?<table>(.*?)</table>', re.S)


@pytest.mark.parametrize("page", ["models/internlm-20b", "gpus/h100-sxm"])
def test_every_chart_has_its_numbers_as_a_table_without_javascript(site: Path, page: str) -> None:
    text = (site / page / "index.html").read_text()
    charts = CHART_RE.findall(text)
    tables = TABLE_RE.findall(text)
    assert len(tables) == len(charts) > 0
    for (_, data), table in zip(charts, tables, strict=True):
        spec = json.loads(data)
        bars = [t for t in spec["data"] if t["type"] == "bar"]
        # One row per bar category; every plotted value appears in its row, to the precision plotted.
        rows = re.findall(r"<tr><th scope=\"row\">(.*?)</th>(.*?)</tr>", table)
        if not bars:  # line charts: one row per point, series then point label, x and y
            points = [(t["name"], x, y) for t in spec["data"] for x, y in zip(t["x"], t["y"], strict=True)]
            assert [html.unescape(r[0]) for r in rows] == [p[0] for p in points]
            for (_, cells), (_, x, y) in zip(rows, points, strict=True):
                shown = [float(v.replace(",", "")) for v in re.findall(r"<td>(.*?)</td>", cells)[1:]]
                assert shown == [pytest.approx(x, abs=0.005), pytest.approx(y, abs=0.005)]
            continue
        assert [html.unescape(r[0]) for r in rows] == [str(x) for x in bars[0]["x"]]
        for column, trace in enumerate(bars):
            for (_, cells), y in zip(rows, trace["y"], strict=True):
                shown = re.findall(r"<td>(.*?)</td>", cells)[column]
                assert float(shown.replace(",", "")) == pytest.approx(y, abs=0.005)
