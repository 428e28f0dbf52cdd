"""Matrix cells that cannot hold the matrix's context but hold a shorter one say how long ("fits up to 5K tokens")
and link the calculator preset to it: `estimate --json` must fit one sequence of exactly that length and refuse one
token more."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from site_builder.analysis import SiteAnalysis, analyse_site
from site_builder.catalog import load_catalog
from site_builder.pages.gpu_page import gpu_page
from site_builder.pages.model.matrix import matrix
from site_builder.problems import Report
from site_builder.query import EstimateQuery, estimate

SEEDS = ("internlm-20b", "internvl2-26b")


@pytest.fixture(scope="module")
def site() -> SiteAnalysis:
    return analyse_site(load_catalog(Path("catalog"), Report()))


def _one_sequence(site: SiteAnalysis, model: str, gpu: str, gpus: int, precision: str, context: int) -> dict[str, Any]:
    q = EstimateQuery(model, gpu, gpus, precision, "fp16", context, "1", prompt=0, output=0)
    return estimate(site.catalog, q, site.error_bars)


@pytest.mark.parametrize("model", SEEDS)
def test_shorter_fits_are_the_longest_sequence_that_fits(site: SiteAnalysis, model: str) -> None:
    md = site.models[model]
    fit_context = md.analysis.fit_workload.context
    checked = 0
    for row in md.analysis.matrix:
        for cell in row.cells:
            if cell.level != "no-fit" or cell.max_context == 0:
                continue
            assert cell.max_context < fit_context
            gpu, n = row.setup.record.id, row.setup.count
            at = _one_sequence(site, model, gpu, n, cell.precision, cell.max_context)
            assert at["fits"] and at["max_context"] == cell.max_context
            assert not _one_sequence(site, model, gpu, n, cell.precision, cell.max_context + 1)["fits"]
            checked += 1
    assert checked > 0


def _preset(href: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(href).query))


@pytest.mark.parametrize("model", SEEDS)
def test_model_and_gpu_pages_link_the_shorter_context_to_the_calculator(site: SiteAnalysis, model: str) -> None:
    md = site.models[model]
    view = matrix(md, "/")
    by_label = {r.setup.label: r for r in md.analysis.matrix}
    linked = 0
    for group in view.groups:
        for row in group.rows:
            for shown, cell in zip(row.cells, by_label[row.label].cells, strict=True):
                if shown.href is None:
                    assert not shown.label.startswith("fits up to")
                    continue
                preset = _preset(shown.href)
                assert int(preset["context"]) == cell.max_context
                assert int(preset["prompt"]) + int(preset["output"]) == cell.max_context
                assert shown.label.startswith("fits up to ") and shown.level == "no-fit"
                linked += 1
    assert linked > 0
    # The GPU page says the same for the same cell.
    short = next(r for r in md.analysis.matrix if any(c.level == "no-fit" and c.max_context for c in r.cells))
    page_row = next(r for r in gpu_page(short.setup.record, site, "/").rows if r.id == model)
    cells = [c.href for c in page_row.cells if c.href]
    assert cells and all(_preset(href)["gpu"] == short.setup.record.id for href in cells)
