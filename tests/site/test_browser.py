"""The built site in a real Chromium: sections, charts, console, links, accessibility, filters, search.

The real catalog is built once per session (with the Pagefind index) and served on 127.0.0.1; the browser is
Debian's /usr/bin/chromium driven by Playwright (never a downloaded browser). Screenshots of the seed pages go
to $BROWSER_SCREENSHOTS when set, otherwise to a pytest temporary directory.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from browser_support import (
    AXE,
    MODEL_SECTIONS,
    SEED_MODELS,
    PageWatch,
    http_status,
    launch,
    missing_tool,
)
from playwright.sync_api import Browser, Page, Playwright

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("chromium")]


DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
AXE_PAGES = [
    "/models/internlm-20b/",
    "/models/internvl2-26b/",
    "/",
    "/gpus/rtx-4090/",
    "/methodology/",
    "/families/internlm/",
]
# Every chart container on the page holds a Plotly SVG with at least one trace.
CHARTS_DRAWN = """() => {
  const boxes = Array.from(document.querySelectorAll('.chart-box'));
  return boxes.length > 0 && boxes.every(b => b.querySelector('svg.main-svg') && b._fullData
                                               && b._fullData.length > 0);
}"""


# --- fixtures ---------------------------------------------------------------------------------------------


def _new_page(browser: Browser, viewport: dict[str, int], **kwargs: Any) -> Iterator[tuple[Page, PageWatch]]:
    context = browser.new_context(viewport=viewport, **kwargs)  # type: ignore[arg-type]
    context.set_default_timeout(20_000)
    page = context.new_page()
    watch = PageWatch().attach(page)
    try:
        yield page, watch
    finally:
        context.close()


@pytest.fixture
def desktop(browser: Browser) -> Iterator[tuple[Page, PageWatch]]:
    yield from _new_page(browser, DESKTOP)


@pytest.fixture
def fresh_desktop(playwright: Playwright) -> Iterator[tuple[Page, PageWatch]]:
    """A page in a browser of its own: Chromium asks for /favicon.ico only once per browser process."""
    b = launch(playwright)
    try:
        yield from _new_page(b, DESKTOP)
    finally:
        b.close()


@pytest.fixture
def phone(browser: Browser) -> Iterator[tuple[Page, PageWatch]]:
    yield from _new_page(browser, PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    env = os.environ.get("BROWSER_SCREENSHOTS")
    path = Path(env) if env else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _open(page: Page, url: str) -> None:
    response = page.goto(url, wait_until="networkidle")
    assert response is not None and response.status == 200, f"{url}: {response and response.status}"
    if page.locator(".chart-box").count():
        # plotly.js loads when the first chart nears the viewport, and each chart draws as it comes into
        # view: scroll to each in turn, as a reader would, then back to the top.
        boxes = page.locator(".chart-box")
        for i in range(boxes.count()):
            boxes.nth(i).scroll_into_view_if_needed()
            page.wait_for_function("b => !!b.querySelector('svg.main-svg')", arg=boxes.nth(i).element_handle())
        page.wait_for_function(CHARTS_DRAWN)
        page.evaluate("() => window.scrollTo(0, 0)")


# --- model pages ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", SEED_MODELS)
def test_every_section_is_present_and_has_content(desktop: tuple[Page, PageWatch], origin: str, model: str) -> None:
    page, _ = desktop
    _open(page, f"{origin}/models/{model}/")
    empty = []
    for sid in MODEL_SECTIONS:
        loc = page.locator(f"#{sid}")
        assert loc.count() == 1, f"section #{sid} occurs {loc.count()} times on /models/{model}/"
        heading = loc.locator("h1, h2").first.inner_text().strip()
        body = loc.inner_text().strip()
        # Content beyond the heading itself.
        if not heading or len(body) <= len(heading):
            empty.append(sid)
    assert not empty, f"/models/{model}/: sections with no content: {empty}"


@pytest.mark.parametrize("model", SEED_MODELS)
def test_every_chart_container_holds_a_plotly_svg(desktop: tuple[Page, PageWatch], origin: str, model: str) -> None:
    page, _ = desktop
    _open(page, f"{origin}/models/{model}/")
    boxes: list[dict[str, Any]] = page.evaluate("""() => Array.from(document.querySelectorAll('.chart-box'))
        .map(b => ({id: b.id, svgs: b.querySelectorAll('svg.main-svg').length,
                    traces: b._fullData ? b._fullData.length : 0}))""")
    specs = set(
        page.evaluate("() => Array.from(document.querySelectorAll('script[data-chart]')).map(s => s.dataset.chart)")
    )
    ids = {b["id"] for b in boxes}
    assert ids == specs, "every chart container has its data and every data block its container"
    assert {f"chart-{k}-{model}" for k in ("throughput", "vram", "precision")} <= ids
    for b in boxes:
        assert b["svgs"] >= 1 and b["traces"] >= 1, f"{b['id']} was not drawn: {b}"
    # With every <details> open (FAQ, data tables), every chart fits its box and clears its caption.
    page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
    page.wait_for_timeout(300)
    sizes: list[dict[str, Any]] = page.evaluate("""() => Array.from(document.querySelectorAll('.chart-box'))
        .map(b => { const svg = b.querySelector('svg.main-svg').getBoundingClientRect();
                    const box = b.getBoundingClientRect();
                    const cap = b.closest('figure').querySelector('figcaption').getBoundingClientRect();
                    return {id: b.id, svg: svg.height, box: box.height, boxBottom: box.bottom,
                            capTop: cap.top}; })""")
    for s in sizes:
        assert s["svg"] <= s["box"] + 1, f"{s['id']}: the {s['svg']}px plot overflows its {s['box']}px box"
        assert s["capTop"] >= s["boxBottom"] - 1, f"{s['id']}: the caption overlaps the chart: {s}"


@pytest.mark.parametrize("model", SEED_MODELS)
def test_model_page_has_no_console_errors_or_failed_requests(
    fresh_desktop: tuple[Page, PageWatch], origin: str, model: str
) -> None:
    page, watch = fresh_desktop
    _open(page, f"{origin}/models/{model}/")
    # Open every collapsed data table and FAQ so any lazy work runs too.
    page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)
    assert watch.problems() == []


@pytest.mark.parametrize("model", SEED_MODELS)
def test_matrix_legend_matches_the_levels_in_use(desktop: tuple[Page, PageWatch], origin: str, model: str) -> None:
    page, _ = desktop
    _open(page, f"{origin}/models/{model}/")
    legend: list[str] = page.evaluate("""() => Array.from(
        document.querySelectorAll('#compatibility .legend .cell'))
        .map(e => Array.from(e.classList).filter(c => c.startsWith('fit-')).map(c => c.slice(4))
                  .join(' '))""")
    cells: list[dict[str, Any]] = page.evaluate("""() => Array.from(
        document.querySelectorAll('#compatibility table.matrix td[data-level]'))
        .map(e => ({level: e.dataset.level, classes: Array.from(e.classList),
                    text: e.textContent.trim()}))""")
    assert cells, "the matrix has cells"
    assert all(legend), f"every legend entry names its level: {legend}"
    assert len(legend) == len(set(legend)), f"legend repeats a level: {legend}"
    ignore = {"n/a", "unknown"}
    legend_levels = set(legend) - ignore
    used = {c["level"] for c in cells} - ignore
    assert used == legend_levels, f"legend {sorted(legend_levels)} vs levels in the cells {sorted(used)}"
    for c in cells:
        assert c["level"] in legend_levels | ignore, c
        # The colour comes from the class, so it must agree with the data attribute.
        assert f"fit-{c['level']}" in c["classes"], c


@pytest.mark.parametrize("model", SEED_MODELS)
def test_deploy_and_compare_links_resolve(desktop: tuple[Page, PageWatch], origin: str, model: str) -> None:
    page, _ = desktop
    _open(page, f"{origin}/models/{model}/")
    hrefs: list[str] = page.evaluate("() => Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
    targets = sorted({h.split("#")[0] for h in hrefs if urlsplit(h).path.startswith(("/deploy/", "/compare/"))})
    assert any("/deploy/" in t for t in targets), "the page links to at least one deploy page"
    assert any("/compare/" in t for t in targets), "the page links to at least one comparison"
    broken = [(t, s) for t in targets if (s := http_status(t)) != 200]
    assert not broken, f"/models/{model}/: links that do not resolve: {broken}"
    assert all(t.startswith(origin) for t in targets)


# --- accessibility ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", AXE_PAGES)
def test_axe_finds_no_serious_or_critical_violations(desktop: tuple[Page, PageWatch], origin: str, path: str) -> None:
    if not AXE.is_file():
        missing_tool(f"{AXE} is missing: run `make browser-deps` (npm install --no-save axe-core@4)")
    page, watch = desktop
    _open(page, origin + path)
    page.add_script_tag(path=str(AXE))
    violations: list[dict[str, Any]] = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}));
    }""")
    bad = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not bad, f"{path}: " + "\n".join(f"{v['impact']} {v['id']} ({v['help']}): {v['nodes']}" for v in bad)
    assert watch.problems() == [], f"{path}: {watch.problems()}"


# --- index: filters and sorting ---------------------------------------------------------------------------

ROWS = """() => Array.from(document.querySelectorAll('#models tbody tr')).map(r => ({
  fits: r.dataset.fits.split(' ').filter(Boolean), hidden: r.hidden, shown: r.offsetParent !== null,
  name: r.cells[0].textContent.trim(), params: Number(r.cells[2].dataset.value)}))"""


def test_filter_by_gpu_and_precision(desktop: tuple[Page, PageWatch], origin: str) -> None:
    page, watch = desktop
    _open(page, origin + "/")
    assert page.locator("#filters").is_visible(), "the script reveals the filter form"
    rows: list[dict[str, Any]] = page.evaluate(ROWS)
    total = len(rows)
    assert total > 1 and all(r["shown"] for r in rows)
    assert page.locator("#count").inner_text().strip() == f"{total} of {total} models"

    page.select_option("#filters select[name=gpu]", "rtx-4090")
    page.select_option("#filters select[name=prec]", "awq-int4")
    token = "rtx-4090:awq-int4"
    rows = page.evaluate(ROWS)
    shown = [r for r in rows if r["shown"]]
    assert shown, "at least one model fits an RTX 4090 at AWQ INT4"
    for r in rows:
        assert r["shown"] == (token in r["fits"]) == (not r["hidden"]), r
    assert len(shown) < total, "the filter hides the models that do not fit 24 GB"
    assert page.locator("#count").inner_text().strip() == f"{len(shown)} of {total} models"

    page.select_option("#filters select[name=gpu]", "")
    assert page.locator("#count").inner_text().strip() == f"{total} of {total} models"

    page.fill("#filters input[name=maxvram]", "10")
    by_vram = page.evaluate(
        "() => Array.from(document.querySelectorAll('#models tbody tr'))"
        ".map(r => [Number(r.dataset.minvram), !r.hidden])"
    )
    assert any(shown for _, shown in by_vram) and not all(shown for _, shown in by_vram)
    assert all(shown == (vram <= 10) for vram, shown in by_vram), by_vram
    page.fill("#filters input[name=maxvram]", "")
    assert watch.problems() == []


def test_sorting_by_parameters(desktop: tuple[Page, PageWatch], origin: str) -> None:
    page, _ = desktop
    _open(page, origin + "/")
    header = page.locator("#models thead th", has_text="Parameters")
    header.click()
    params = [r["params"] for r in page.evaluate(ROWS)]
    assert all(p > 0 for p in params), params
    assert params == sorted(params), "ascending after the first click"
    assert header.get_attribute("aria-sort") == "ascending"
    header.click()
    params = [r["params"] for r in page.evaluate(ROWS)]
    assert params == sorted(params, reverse=True), "descending after the second click"
    assert header.get_attribute("aria-sort") == "descending"
    assert len(set(params)) > 1


# --- search -----------------------------------------------------------------------------------------------

RESULT_LINK = ".pagefind-ui__result-link"


def test_search_page_shows_results_for_the_query(desktop: tuple[Page, PageWatch], origin: str) -> None:
    page, watch = desktop
    _open(page, origin + "/search/?q=InternLM")
    page.wait_for_selector(RESULT_LINK)
    titles = page.locator(RESULT_LINK).all_inner_texts()
    assert any("InternLM" in t for t in titles), titles
    assert page.locator(".pagefind-ui__search-input").input_value() == "InternLM"
    hrefs = [page.locator(RESULT_LINK).nth(i).get_attribute("href") or "" for i in range(len(titles))]
    assert all(http_status(origin + h) == 200 for h in hrefs), hrefs
    assert watch.problems() == []


def test_typing_a_model_name_in_the_header_search(desktop: tuple[Page, PageWatch], origin: str) -> None:
    page, watch = desktop
    _open(page, origin + "/models/internlm-20b/")
    page.fill("header #q", "InternVL2")
    page.press("header #q", "Enter")
    page.wait_for_url("**/search/?q=InternVL2")
    page.wait_for_selector(RESULT_LINK)
    titles = page.locator(RESULT_LINK).all_inner_texts()
    assert any("InternVL2" in t for t in titles), titles
    # Typing in Pagefind's own box runs a new search.
    page.fill(".pagefind-ui__search-input", "InternLM 20B")
    page.wait_for_function("""() => Array.from(document.querySelectorAll('.pagefind-ui__result-link'))
        .some(a => a.textContent.includes('InternLM 20B'))""")
    assert watch.problems() == []


def test_searching_a_model_name_finds_its_page_first(desktop: tuple[Page, PageWatch], origin: str) -> None:
    """The index reads model, GPU and family pages and the site's own pages, not deployment and compare pages."""
    page, watch = desktop
    _open(page, origin + "/search/?q=Llama 3.1 70B")
    page.wait_for_selector(RESULT_LINK)
    hrefs = [urlsplit(h or "").path for h in page.locator(RESULT_LINK).evaluate_all("as => as.map(a => a.href)")]
    assert hrefs[0] == "/models/llama-3.1-70b/", hrefs
    assert not [h for h in hrefs if h.startswith(("/deploy/", "/compare/"))], hrefs
    assert watch.problems() == []


# --- layout -----------------------------------------------------------------------------------------------

WIDE_ELEMENTS = """() => {
  const w = document.documentElement.clientWidth;
  const clipped = e => { for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== 'visible') { return true; } } return false; };
  const wide = Array.from(document.querySelectorAll('body *'))
    .filter(e => e.getBoundingClientRect().right > w + 1 && !clipped(e));
  return wide.filter(e => !wide.includes(e.parentElement)).slice(0, 8).map(e => {
    const section = e.closest('section[id]');
    return (section ? '#' + section.id + ' ' : '') + e.tagName.toLowerCase()
      + (typeof e.className === 'string' && e.className ? '.' + e.className.split(' ').join('.') : '')
      + ' right=' + Math.round(e.getBoundingClientRect().right) + 'px';
  });
}"""


@pytest.mark.parametrize("model", SEED_MODELS)
def test_phone_viewport_has_no_horizontal_scroll(phone: tuple[Page, PageWatch], origin: str, model: str) -> None:
    page, watch = phone
    _open(page, f"{origin}/models/{model}/")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    # For the message: the outermost elements that stick out and sit in no scrolling container.
    wide: list[str] = page.evaluate(WIDE_ELEMENTS)
    assert width <= PHONE["width"] + 1, f"/models/{model}/ scrolls sideways: scrollWidth {width}; {wide}"
    assert watch.problems() == []


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.parametrize("model", SEED_MODELS)
def test_full_page_screenshot(desktop: tuple[Page, PageWatch], origin: str, screenshot_dir: Path, model: str) -> None:
    page, _ = desktop
    _open(page, f"{origin}/models/{model}/")
    page.evaluate("() => document.fonts.ready")
    path = screenshot_dir / f"{model}-desktop.png"
    page.screenshot(path=str(path), full_page=True)
    width, height = _png_size(path)
    assert width == DESKTOP["width"]
    scroll_height = page.evaluate("() => document.documentElement.scrollHeight")
    assert height >= min(scroll_height, 16_384) - 1 and height > DESKTOP["height"], (height, scroll_height)


# --- preview server -----------------------------------------------------------------------------------------


def test_preview_reloads_on_edit_and_shows_errors_over_the_page(
    desktop: tuple[Page, PageWatch], tmp_path: Path
) -> None:
    """`site-builder serve`: an edit reloads the open page; a broken record shows its error on the page."""
    import http.server
    import shutil
    import threading

    from site_builder.serve import Preview, make_handler

    catalog = tmp_path / "catalog"
    shutil.copytree(Path(__file__).resolve().parents[2] / "catalog", catalog)
    preview = Preview(catalog, tmp_path / "site")
    preview.full()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(preview.out, preview.status))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    page, _ = desktop
    record = catalog / "models" / "internlm-20b.yaml"
    try:
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/models/internlm-20b/")
        assert page.locator("h1").inner_text() == "InternLM 20B"
        page.wait_for_timeout(1000)  # the reload script has read the current version
        record.write_text(record.read_text().replace("name: InternLM 20B", "name: InternLM 20B Renamed"))
        preview.incremental({record})
        page.wait_for_function("document.querySelector('h1').textContent === 'InternLM 20B Renamed'")
        record.write_text(record.read_text().replace("num_key_value_heads: 40", "num_key_value_heads: 7"))
        preview.incremental({record})
        overlay = page.locator("#build-errors")
        overlay.wait_for()
        assert "num_key_value_heads: must divide num_attention_heads (40), got 7" in overlay.inner_text()
        assert page.locator("h1").inner_text() == "InternLM 20B Renamed"  # the last good page stays
    finally:
        server.shutdown()


@pytest.mark.parametrize("model", SEED_MODELS)
def test_plotly_loads_only_when_a_chart_scrolls_into_view(
    phone: tuple[Page, PageWatch], origin: str, model: str
) -> None:
    page, watch = phone
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(f"{origin}/models/{model}/", wait_until="networkidle")
    assert page.evaluate("() => document.querySelector('.chart-box').getBoundingClientRect().top") > 844
    assert not [u for u in requested if "plotly" in u], "the chart bundle is fetched before any chart is in view"
    first = page.locator(".chart-box").first
    first.scroll_into_view_if_needed()
    page.wait_for_function("b => !!b.querySelector('svg.main-svg')", arg=first.element_handle())
    assert [u.rsplit("/", 1)[-1] for u in requested if "plotly" in u] == ["plotly-basic.min.js"]
    assert watch.problems() == []
