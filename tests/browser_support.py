"""Helpers for the browser and link tests: build the site, serve it on 127.0.0.1, launch Debian's chromium.

Nothing here downloads anything: the browser is the system's /usr/bin/chromium (installed by
`make browser-deps`), and axe-core comes from node_modules (installed by the same target).
"""

from __future__ import annotations

import functools
import os
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from site_builder.build import build_site
from site_builder.catalog import Catalog
from site_builder.engine.calibrate import compare_all
from site_builder.engine.errorbars import ErrorBars, error_bars
from site_builder.problems import Report
from site_builder.validate import validate_catalog

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, Request, Response

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "catalog"
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SEED_MODELS = ("internlm-20b", "internvl2-26b")
MODEL_SECTIONS = (
    "overview",
    "brief",
    "architecture",
    "memory",
    "compatibility",
    "recommendations",
    "deployment",
    "api-pricing",
    "performance",
    "local",
    "vram",
    "precision",
    "capabilities",
    "measured",
    "similar",
    "faq",
    "sources",
)


def build(out: Path, *, catalog: Path = CATALOG, search: bool, base_url: str = "/") -> Path:
    """Build the catalog into `out` (which must not exist yet) and return it; raise if the build fails."""
    result = build_site(catalog, out, base_url=base_url, search=search)
    if not result.ok:
        details = "\n".join(problem.format() for problem in result.report.errors[:20])
        raise RuntimeError(f"site build failed: {result.report.summary()}\n{details}")
    return out


class _QuietHandler(SimpleHTTPRequestHandler):
    """Static file handler that does not write a log line per request to stderr."""

    def log_message(self, format: str, *args: Any) -> None:
        return


class _Server(ThreadingHTTPServer):
    """A browser that leaves a page drops the requests still in flight (a chart bundle fetched as it scrolled into
    view): the connection it closed is not an error worth a traceback in the test log."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextmanager
def serve(root: Path) -> Iterator[str]:
    """Serve `root` on a free 127.0.0.1 port in a daemon thread; yields the origin (no trailing slash)."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def http_status(url: str) -> int:
    """Status of a GET without following redirects (a redirect is not a resolved link)."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(url, timeout=10) as resp:
            status: int = resp.status
            return status
    except urllib.error.HTTPError as err:
        return err.code


def chromium_available() -> bool:
    return CHROMIUM.is_file()


def missing_tool(reason: str) -> None:
    """Skip with the reason where a browser tool is not installed; fail in CI, which must run every test.

    CI systems (GitHub Actions, GitLab, .ci/run) set CI=true.
    """
    if os.environ.get("CI", "").lower() in {"true", "1"}:
        pytest.fail(f"{reason} (CI=true: browser tests may not be skipped)")
    pytest.skip(reason)


def launch(p: Playwright) -> Browser:
    return p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


@dataclass
class PageWatch:
    """Console errors, uncaught exceptions, failed requests and HTTP error responses seen by one page."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    bad_responses: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> PageWatch:
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))
        page.on("requestfailed", self._on_failed)
        page.on("response", self._on_response)
        return self

    def _on_console(self, msg: ConsoleMessage) -> None:
        if msg.type == "error":
            where = msg.location.get("url", "") if msg.location else ""
            self.console_errors.append(f"{msg.text} ({where})")

    def _on_failed(self, request: Request) -> None:
        self.failed_requests.append(f"{request.method} {request.url}: {request.failure}")

    def _on_response(self, response: Response) -> None:
        if response.status >= 400:
            self.bad_responses.append(f"{response.status} {response.url}")

    def problems(self) -> list[str]:
        return [
            *(f"console error: {m}" for m in self.console_errors),
            *(f"uncaught exception: {m}" for m in self.page_errors),
            *(f"request failed: {m}" for m in self.failed_requests),
            *(f"HTTP error: {m}" for m in self.bad_responses),
        ]


@dataclass
class Tag:
    name: str
    attrs: dict[str, str]
    line: int
    text: str = ""  # content of <script> elements


class TagCollector(HTMLParser):
    """Every start tag of a document with its attributes (unescaped by html.parser), and script bodies."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[Tag] = []
        self._script: Tag | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        record = Tag(tag, {k: v or "" for k, v in attrs}, self.getpos()[0])
        self.tags.append(record)
        if tag == "script":
            self._script = record

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(Tag(tag, {k: v or "" for k, v in attrs}, self.getpos()[0]))

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script.text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = None


def parse_tags(html: str) -> list[Tag]:
    collector = TagCollector()
    collector.feed(html)
    collector.close()
    return collector.tags


def html_files(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def url_path(site: Path, file: Path, base: str = "/") -> str:
    """The URL path a built HTML file is served at: models/x/index.html -> /models/x/."""
    rel = file.relative_to(site).as_posix()
    return base + rel.removesuffix("index.html")


@contextmanager
def watched_page(browser: Browser, timeout_ms: int = 60_000, clipboard_origin: str | None = None) -> Iterator[Page]:
    """A desktop-sized page that fails the test on a console error or an uncaught exception when it closes
    (`clipboard_origin`: an origin granted clipboard access)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    if clipboard_origin is not None:
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=clipboard_origin)
    context.set_default_timeout(timeout_ms)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield page
    context.close()
    assert errors == [], errors


def catalog_and_error_bars() -> tuple[Catalog, ErrorBars]:
    """The shipped catalog, validated, and the engine's error bars: what `query.estimate` needs in-process."""
    cat = validate_catalog(CATALOG, Report())
    models = {k: v.record for k, v in cat.models.items()}
    gpus = {k: v.record for k, v in cat.gpus.items()}
    frameworks = {k: v.record for k, v in cat.frameworks.items()}
    comparisons = compare_all([v.record for v in cat.benchmarks.values()], models, gpus, frameworks)
    return cat, error_bars(comparisons, gpus, frameworks)
