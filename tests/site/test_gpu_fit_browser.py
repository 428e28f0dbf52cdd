"""A GPU page's context/users control in Chromium: changing the context (or opening a link with it) recomputes every
row's fit in the browser, and each cell says what `site-builder estimate --json` says for the same flags. One site
build, one browser and one page for the module: browser tests are slow."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from browser_support import (
    catalog_and_error_bars,
    watched_page,
)
from playwright.sync_api import Browser, Page

from site_builder.catalog import Catalog
from site_builder.engine.errorbars import ErrorBars
from site_builder.problems import UsageError
from site_builder.query import EstimateQuery, estimate

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("chromium")]

GPU = "rtx-4090"
ROWS = """() => Array.from(document.querySelectorAll('#gpu-fit-table tbody tr[data-model]')).map(r => ({
    model: r.dataset.model,
    levels: Array.from(r.querySelectorAll('td[data-level]')).map(c => c.dataset.level),
    best: r.querySelector('td[data-best]').dataset.precision ?? null,
    tps: Number(r.querySelector('td.num').dataset.value)}))"""
COLUMNS = """() => JSON.parse(document.getElementById('gpu-fit-form').dataset.precisions)"""


@pytest.fixture(scope="module")
def page(browser: Browser) -> Iterator[Page]:
    with watched_page(browser) as watched:
        yield watched


@pytest.fixture(scope="module")
def catalog() -> tuple[Catalog, ErrorBars]:
    return catalog_and_error_bars()


def cli(cat: tuple[Catalog, ErrorBars], model: str, precision: str, context: int, users: int) -> dict[str, Any] | None:
    """`estimate --json` for one cell (None where the CLI refuses the setup); the prompt fills the context but the
    answer, as the form says."""
    output = min(512, context // 2)
    q = EstimateQuery(model, GPU, 1, precision, "fp16", context, str(users), context - output, output)
    try:
        result: dict[str, Any] = estimate(cat[0], q, cat[1])
    except UsageError:
        return None
    return result


def _computed(page: Page, context: int) -> list[dict[str, Any]]:
    page.wait_for_function(
        "n => document.getElementById('gpu-fit-table').dataset.computed === 'browser'"
        " && document.getElementById('gpu-fit-note').textContent.includes(n)",
        arg=f"{context:,}",
    )
    rows: list[dict[str, Any]] = page.evaluate(ROWS)
    return rows


def _check_against_cli(
    page: Page, cat: tuple[Catalog, ErrorBars], rows: list[dict[str, Any]], context: int, users: int
) -> None:
    columns: list[str] = page.evaluate(COLUMNS)
    sample = [r for r in rows if r["model"] in ("internlm-20b", "internvl2-26b")] + rows[::9]
    for row in sample:
        for precision, level in zip(columns, row["levels"], strict=True):
            expected = cli(cat, row["model"], precision, context, users)
            assert level == (expected["fit_level"] if expected else "n/a"), (row["model"], precision)
        if row["best"]:
            best = cli(cat, row["model"], row["best"], context, users)
            assert best is not None and best["fits"]
            assert row["tps"] == pytest.approx(best["output_tokens_per_s"], abs=0.06)


def test_changing_the_context_recomputes_every_rows_fit_as_the_cli(
    page: Page, origin: str, catalog: tuple[Catalog, ErrorBars]
) -> None:
    page.goto(f"{origin}/gpus/{GPU}/")
    static: list[dict[str, Any]] = page.evaluate(ROWS)
    page.fill("#gf-context", "32768")
    page.fill("#gf-users", "4")
    rows = _computed(page, 32768)
    assert dict(parse_qsl(urlsplit(page.url).query)) == {"context": "32768", "concurrency": "4", "gpus": "1"}
    # The reader's longer context and more users fit fewer formats than the matrix's one 8K sequence.
    assert [r["levels"] for r in rows] != [r["levels"] for r in static]
    _check_against_cli(page, catalog, rows, 32768, 4)


def test_a_link_with_a_context_opens_that_question(page: Page, origin: str, catalog: tuple[Catalog, ErrorBars]) -> None:
    page.goto(f"{origin}/gpus/{GPU}/?context=2048&concurrency=1")
    rows = _computed(page, 2048)
    _check_against_cli(page, catalog, rows, 2048, 1)


def test_without_javascript_the_static_table_stays(browser: Browser, origin: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{origin}/gpus/{GPU}/")
    assert page.locator("#gf-context").is_disabled()  # inside the disabled fieldset until the script runs
    assert page.locator("#gpu-fit-table tbody tr").count() > 50
    assert "matrix's check" in page.locator("#gpu-fit-note").inner_text()
    context.close()
