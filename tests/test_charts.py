"""Charts are built as plain data for speed; here plotly's own validator checks that data, page by page."""

from __future__ import annotations

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
