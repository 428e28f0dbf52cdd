"""The calculator and planner (issue 13) in Chromium: presets, edits, copy link, planner, no-JS, axe, phone width.

Every figure the browser shows is checked against the CLI's own answer for the same flags: `site-builder estimate
--json` run as a subprocess for presets and defaults, and the same `query.estimate` in-process for the planner's
rows (the parity test holds the in-process call equal to the CLI). One site build, one browser and one page per
module: browser tests are slow.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from browser_support import (
    AXE,
    CATALOG,
    ROOT,
    catalog_and_error_bars,
    missing_tool,
    watched_page,
)
from playwright.sync_api import Browser, Page, ViewportSize

from site_builder.catalog import Catalog
from site_builder.engine.errorbars import ErrorBars
from site_builder.query import EstimateQuery, estimate

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("chromium")]

# The list: every one must be on the page as a result element.
REQUIRED_KEYS = {
    "weights_bytes",
    "kv_cache_bytes",
    "activations_bytes",
    "overhead_bytes",
    "total_bytes",
    "usable_bytes",
    "fits",
    "fit_level",
    "max_context",
    "max_concurrency",
    "decode_tokens_per_s",
    "output_tokens_per_s",
    "itl_ms",
    "ttft_ms",
    "cost_per_month_usd",
    "cost_per_million_tokens_usd",
}
# estimate --json rounds these to fewer than 3 decimals: a tiny value may differ by one unit of the last digit.
DIGITS = {"cost_per_month_usd": 2, "cost_per_million_tokens_usd": 4, "price_per_hour_usd": 4}
DIGITS |= dict.fromkeys(("cost_per_request_usd", "cost_per_request_full_load_usd", "api_cost_per_request_usd"), 6)
DIGITS |= {"breakeven_utilization": 4} | dict.fromkeys(("itl_ms_error_pct", "ttft_ms_error_pct"), 1)
DIGITS |= dict.fromkeys(("output_tokens_per_s_error_pct", "decode_tokens_per_s_error_pct"), 1)
FLAGS = ("gpu", "gpus", "precision", "kv-precision", "context", "concurrency", "prompt", "output", "framework")
RESULTS = """() => Object.fromEntries(Array.from(document.querySelectorAll('#calc-out [data-key]'))
    .map(e => [e.dataset.key, JSON.parse(e.dataset.value)]))"""
FORM = """() => Object.fromEntries(Array.from(document.querySelectorAll('#calc-form [name]'))
    .map(e => [e.name, e.value]))"""
PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def page(browser: Browser, origin: str) -> Iterator[Page]:
    with watched_page(browser, timeout_ms=30_000, clipboard_origin=origin) as watched:
        yield watched


@pytest.fixture(scope="module")
def catalog() -> tuple[Catalog, ErrorBars]:
    return catalog_and_error_bars()


def cli(model: str, flags: dict[str, str]) -> dict[str, Any]:
    """`site-builder estimate --json` for these flags, as a reader would run it."""
    argv = [sys.executable, "-m", "site_builder", "estimate", "--catalog", str(CATALOG), "--model", model, "--json"]
    argv += [f"--{k}={v}" for k, v in flags.items() if v != ""]
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def same(key: str, cli_value: Any, page_value: Any) -> bool:
    """Integers, booleans and strings exactly; floats within 0.1% (or the last digit `estimate` prints)."""
    if isinstance(cli_value, float) or (isinstance(page_value, float) and isinstance(cli_value, int)):
        number = isinstance(page_value, (int, float)) and not isinstance(page_value, bool)
        return number and math.isclose(cli_value, page_value, rel_tol=1e-3, abs_tol=10.0 ** -DIGITS.get(key, 3))
    return type(cli_value) is type(page_value) and cli_value == page_value


def assert_matches_cli(model: str, flags: dict[str, str], shown: dict[str, Any]) -> None:
    expected = cli(model, flags)
    assert shown.keys() >= REQUIRED_KEYS, REQUIRED_KEYS - shown.keys()
    wrong = {k: (expected[k], v) for k, v in shown.items() if not same(k, expected[k], v)}
    assert not wrong, f"{model} {flags}: (estimate --json, page): {wrong}"


def wait_for_setup(page: Page, key: str, value: Any) -> None:
    page.wait_for_function(
        "([k, v]) => { const e = document.querySelector(`#calc-out [data-key=${k}]`);"
        " return e && e.dataset.value === JSON.stringify(v); }",
        arg=[key, value],
    )


# --- presets, edits, copy link --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "model"),
    [
        ("/models/internlm-20b/", "internlm-20b"),
        ("/models/internvl2-26b/", "internvl2-26b"),
        ("/calculator/?model=internvl2-26b&", "internvl2-26b"),
    ],
)
def test_query_preset_shows_the_clis_answer(page: Page, origin: str, path: str, model: str) -> None:
    query = "gpu=h100-sxm&gpus=2&precision=fp8&context=8192"
    page.goto(f"{origin}{path}{'' if path.endswith('&') else '?'}{query}")
    wait_for_setup(page, "gpus", 2)
    wait_for_setup(page, "context", 8192)
    form = page.evaluate(FORM)
    assert (form["gpu"], form["gpus"], form["precision"], form["context"]) == ("h100-sxm", "2", "fp8", "8192")
    assert form.get("model", model) == model
    assert_matches_cli(model, {k: form[k] for k in FLAGS}, page.evaluate(RESULTS))
    assert page.locator("#calc-error").is_hidden()


@pytest.mark.parametrize("model", ["internlm-20b", "internvl2-26b"])
def test_the_browser_recomputes_the_builds_answer_to_the_letter(page: Page, origin: str, model: str) -> None:
    """The default answer computed at build time (Python) and the same setup recomputed by engine.js: the same text
    on the page, the same values."""
    texts = "() => Array.from(document.querySelectorAll('#calc-out [data-key]')).map(e => e.textContent)"
    page.goto(f"{origin}/models/{model}/")
    built, built_texts = page.evaluate(RESULTS), page.evaluate(texts)
    assert page.get_attribute("#calc-out", "data-computed") is None
    page.goto(f"{origin}/models/{model}/?concurrency={built['concurrency']}")
    page.wait_for_selector("#calc-out[data-computed=browser]")
    assert page.evaluate(texts) == built_texts
    recomputed = page.evaluate(RESULTS)
    assert recomputed.keys() == built.keys()
    assert all(same(k, v, recomputed[k]) for k, v in built.items()), {
        k: (v, recomputed[k]) for k, v in built.items() if not same(k, v, recomputed[k])
    }


def test_editing_an_input_updates_the_answer_and_the_link(page: Page, origin: str) -> None:
    page.goto(f"{origin}/models/internlm-20b/")
    before = page.evaluate(RESULTS)
    assert before["concurrency"] == 32
    page.fill("#calc-concurrency", "8")
    wait_for_setup(page, "concurrency", 8)
    after = page.evaluate(RESULTS)
    # A quarter of the users hold a quarter of the KV cache; the weights do not change.
    assert after["kv_cache_bytes"] == pytest.approx(before["kv_cache_bytes"] / 4, rel=1e-6)
    assert after["weights_bytes"] == before["weights_bytes"]
    query = dict(parse_qsl(urlsplit(page.url).query))
    assert query["concurrency"] == "8" and query["gpu"] == before["gpu"]
    form = page.evaluate(FORM)
    assert_matches_cli("internlm-20b", {k: form[k] for k in FLAGS}, after)

    page.fill("#calc-concurrency", "max")
    page.wait_for_function("new URLSearchParams(location.search).get('concurrency') === 'max'")
    resolved = page.evaluate(RESULTS)
    assert resolved["concurrency"] == resolved["max_concurrency"] > 8 and resolved["fits"] is True

    page.fill("#calc-context", "100")  # shorter than the 2,048-token prompt plus the answer: the CLI refuses it
    page.locator("#calc-error").wait_for()
    assert page.locator("#calc-error").inner_text() == "--context 100 is shorter than --prompt + --output (2048 + 512)"


def test_copy_link_reproduces_the_setup(page: Page, origin: str) -> None:
    page.goto(f"{origin}/calculator/")
    page.select_option("#calc-model", "internvl2-26b")
    page.select_option("#calc-gpu", "l40s")
    page.fill("#calc-prompt", "1000")
    wait_for_setup(page, "prompt", 1000)
    wait_for_setup(page, "gpu", "l40s")
    shown = page.evaluate(RESULTS)
    page.click("#calc-copy")
    page.wait_for_function("document.getElementById('calc-copied').textContent === 'Link copied.'")
    link = page.evaluate("() => navigator.clipboard.readText()")
    assert "model=internvl2-26b" in link and "gpu=l40s" in link and "prompt=1000" in link
    page.goto(link)
    wait_for_setup(page, "prompt", 1000)
    assert page.evaluate(RESULTS) == shown
    # A link naming a GPU but no count opens one card, or one bundle: the page's own count is its default GPU's.
    page.goto(f"{origin}/models/internlm-20b/?gpu=dual-rtx-4090")
    wait_for_setup(page, "gpu", "dual-rtx-4090")
    assert page.evaluate(RESULTS)["gpus"] == 2


# --- planner --------------------------------------------------------------------------------------------------


def test_planner_lists_setups_that_meet_the_targets(
    page: Page, origin: str, catalog: tuple[Catalog, ErrorBars]
) -> None:
    page.goto(f"{origin}/models/internlm-20b/")
    page.fill("#plan-users", "16")
    page.fill("#plan-tps", "25")
    page.fill("#plan-ttft", "1500")
    page.fill("#plan-context", "4096")
    page.click("#plan-form button[type=submit]")
    page.locator("#plan-out .plan-row").first.wait_for()
    search_ms = float(page.get_attribute("#plan-out [data-search-ms]", "data-search-ms") or "inf")
    print(f"planner search for internlm-20b: {search_ms:.1f} ms")
    assert search_ms < 1000  # the goal is 200 ms; a loaded shared test machine gets slack
    rows: list[dict[str, Any]] = page.evaluate("""() => Array.from(document.querySelectorAll('#plan-out .plan-row'))
        .map(r => ({href: r.querySelector('a').href, cells: Object.fromEntries(Array.from(r.querySelectorAll(
            '[data-key]')).map(c => [c.dataset.key, JSON.parse(c.dataset.value)]))}))""")
    assert 1 <= len(rows) <= 10
    cat, bars = catalog
    months = []
    for row in rows:
        flags = dict(parse_qsl(urlsplit(row["href"]).query))
        assert (flags["concurrency"], flags["context"]) == ("16", "4096")
        q = EstimateQuery(
            model="internlm-20b",
            gpu=flags["gpu"],
            gpus=int(flags["gpus"]),
            precision=flags["precision"],
            kv_precision=flags["kv-precision"],
            context=int(flags["context"]),
            concurrency=flags["concurrency"],
            prompt=int(flags["prompt"]),
            output=int(flags["output"]),
            framework=flags.get("framework"),
        )
        r = estimate(cat, q, bars)
        assert r["fits"] is True, flags
        assert r["per_user_tokens_per_s"] >= 25 and r["ttft_ms"] <= 1500, (flags, r)
        for key, value in row["cells"].items():
            assert same(key, r[key], value), (flags, key, r[key], value)
        months.append(r["cost_per_month_usd"])
    assert months == sorted(months), "cheapest first"
    # The preset link opens that setup in the calculator.
    page.goto(rows[0]["href"])
    wait_for_setup(page, "concurrency", 16)
    assert page.evaluate(RESULTS)["gpu"] == dict(parse_qsl(urlsplit(rows[0]["href"]).query))["gpu"]


# --- no JavaScript, accessibility, phone ----------------------------------------------------------------------


def test_without_javascript_the_default_answer_is_on_the_page(browser: Browser, origin: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{origin}/models/internvl2-26b/")
        # The forms keep their place (no layout shift when a script enables them) but are disabled without one.
        assert page.evaluate("() => ['calc-fields', 'plan-fields'].every(id => document.getElementById(id).disabled)")
        values: dict[str, str] = {}
        for el in page.locator("#calc-out [data-key]").all():
            values[el.get_attribute("data-key") or ""] = el.get_attribute("data-value") or ""
        shown = {k: json.loads(v) for k, v in values.items()}
        # The form's defaults as the HTML states them (value attributes, selected options): what a script would send.
        defaults = page.evaluate(FORM)
        assert shown["concurrency"] == 32 and shown["prompt"] == 2048 and shown["output"] == 512
        assert_matches_cli("internvl2-26b", {k: defaults[k] for k in FLAGS}, shown)
    finally:
        context.close()


@pytest.mark.parametrize("path", ["/calculator/", "/models/internlm-20b/"])
def test_calculator_and_planner_are_accessible_and_fit_a_phone(browser: Browser, origin: str, path: str) -> None:
    if not AXE.is_file():
        missing_tool(f"{AXE} is missing: run `make browser-deps` (npm install --no-save axe-core@4)")
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        page.goto(origin + path, wait_until="networkidle")
        page.fill("#calc-gpus", "3")  # an impossible split: the error is shown inline
        page.locator("#calc-error").wait_for()
        page.click("#plan-form button[type=submit]")
        page.locator("#plan-out .plan-api").wait_for()
        # No clipboard permission in this context: the link is either copied or shown, selected, to copy by hand.
        page.click("#calc-copy")
        page.wait_for_function("document.getElementById('calc-copied').textContent !== ''")
        fallback = page.locator("#calc-copied input")
        if fallback.count():
            assert "gpus=3" in fallback.input_value() and fallback.evaluate("e => e === document.activeElement")
        else:
            assert page.locator("#calc-copied").inner_text() == "Link copied."
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= PHONE["width"] + 1, f"{path} scrolls sideways at 390 px: {width}"
        page.add_script_tag(path=str(AXE))
        violations: list[dict[str, Any]] = page.evaluate("""async () => {
            const r = await axe.run({include: [['#calculator'], ['#planner']]}, {resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}));
        }""")
        assert violations == [], violations
    finally:
        context.close()
