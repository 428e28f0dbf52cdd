"""`site-builder serve`: a preview server on 127.0.0.1 that rebuilds what a change affects and reloads the page.

A change to a record re-renders only the pages that depend on it (see `Page.deps`); a template change
re-renders the pages that use it; a static file is copied. A broken record does not stop the server: its
problems go to the terminal and to an overlay on the open page, and the last good pages stay.
"""

from __future__ import annotations

import http.server
import json
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from site_builder.analysis import SiteAnalysis, analyse_site
from site_builder.build import build_site, catalog_date, collect_pages, split_base, write_plumbing, write_static
from site_builder.incremental import MANIFEST
from site_builder.output import check_output_dir, mark
from site_builder.paths import STATIC, TEMPLATES
from site_builder.problems import Report, UsageError, display_path, print_report
from site_builder.render import environment
from site_builder.rendering import RenderSettings, render_pages
from site_builder.uptodate import MARKER as INPUTS_MARKER
from site_builder.uptodate import record_key
from site_builder.validate import validate_catalog

POLL_SECONDS = 0.5
STATUS_PATH = "/__status"


@dataclass
class Status:
    """What the page's reload script polls: a version that changes on every rebuild, and any errors."""

    version: int = 0
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def as_json(self) -> bytes:
        with self.lock:
            return json.dumps({"version": self.version, "errors": self.errors}).encode()

    def update(self, errors: list[str]) -> None:
        with self.lock:
            self.version += 1
            self.errors = errors


def change_keys(paths: set[Path], catalog: Path) -> set[str]:
    """Catalog files -> "<kind>/<id>" keys; a template or anything unknown -> "template:<name>" or "*"."""
    keys: set[str] = set()
    for path in paths:
        try:
            rel = path.resolve().relative_to(catalog.resolve())
        except ValueError:
            rel = None
        key = record_key(rel) if rel is not None else None
        if key is not None:
            # A model's figures (its record without description and sources) and its GPU rows are what other pages
            # read of it; the preview server does not compute the rows' hashes, so an edit counts as changing every
            # GPU page's rows.
            kind, _, rid = key.partition("/")
            keys |= {key, f"model-figures/{rid}", "gpu-rows/*"} if kind == "models" else {key}
            continue
        try:
            tpl = path.resolve().relative_to(TEMPLATES)
            keys.add("*" if tpl.parts[0] in ("base.html", "partials") else f"template:{tpl}")
            continue
        except ValueError:
            pass
        if path.resolve().is_relative_to(STATIC.resolve()):
            keys.add("static")
        elif rel is None or rel.parts[0] != "schema":
            keys.add("*")
    return keys


class Preview:
    def __init__(self, catalog: Path, out: Path) -> None:
        self.catalog, self.out, self.status = catalog, out, Status()
        # Changes seen while the catalog was broken still need rendering once it is fixed.
        self.pending: set[Path] = set()
        self.site: SiteAnalysis | None = None
        self.base, self.absolute = split_base("/")

    def full(self) -> None:
        # The preview serves locally with root-relative URLs, as its incremental renders do.
        result = build_site(self.catalog, self.out, base_url="/", search=False, live_reload=True)
        self._report(result.report, result.ok)

    def incremental(self, changed: set[Path]) -> int:
        """Rebuild what `changed` affects; return the number of pages re-rendered (-1 on catalog errors)."""
        start = time.perf_counter()
        self.pending |= changed
        keys = change_keys(self.pending, self.catalog)
        if keys == {"static"}:
            write_static(self.out)
            self.pending.clear()
            self.status.update([])
            print(f"copied static files in {time.perf_counter() - start:.2f}s", file=sys.stderr)
            return 0
        report = Report()
        catalog = validate_catalog(self.catalog, report)
        if report.errors:
            self._report(report, ok=False)
            return -1
        site = analyse_site(catalog, self.site)
        self.site = site
        pages = collect_pages(site, self.base)
        templates = {k.removeprefix("template:") for k in keys if k.startswith("template:")}
        chosen = [p for p in pages if p.template in templates or p.affected_by(keys - {"static"})]
        settings = RenderSettings(self.base, self.absolute, catalog_date(site), search=False, live_reload=True)
        written = render_pages(environment(), chosen, self.out, settings).written
        write_plumbing(site, pages, self.out, self.absolute)
        if "static" in keys:
            write_static(self.out)
        self._remove_stale({p.path for p in pages})
        # The pages no longer match the inputs the build recorded: the next build must not trust that record.
        for record in (INPUTS_MARKER, MANIFEST):
            (self.out / record).unlink(missing_ok=True)
        self.pending.clear()
        self._report(report, ok=True)
        print(
            f"re-rendered {len(chosen)} of {len(pages)} pages ({written} changed) in "
            f"{time.perf_counter() - start:.2f}s",
            file=sys.stderr,
        )
        return len(chosen)

    def _remove_stale(self, current: set[str]) -> None:
        """Pages that no longer exist (a deploy setup that stopped being recommended) are removed."""
        for folder in ("models", "deploy", "compare", "gpus", "families"):
            for html in (self.out / folder).rglob("index.html") if (self.out / folder).is_dir() else []:
                rel = html.relative_to(self.out).as_posix()
                if rel not in current:
                    html.unlink()

    def _report(self, report: Report, ok: bool) -> None:
        print_report(report)
        errors = [] if ok else [p.format() for p in report.sorted()]
        if errors and not (self.out / "index.html").is_file():
            self.out.mkdir(parents=True, exist_ok=True)
            (self.out / "index.html").write_text(_error_page(errors), encoding="utf-8")
            mark(self.out)  # ours, so the next build may replace it
        self.status.update(errors)


def _error_page(errors: list[str]) -> str:
    items = "".join(f"<li><code>{_escape(e)}</code></li>" for e in errors)
    return (
        f"<!doctype html><html lang=en><meta charset=utf-8><title>Build failed</title>"
        f"<h1>The catalog has errors</h1><ul>{items}</ul><script src=/static/livereload.js></script></html>"
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _snapshot(roots: list[Path]) -> dict[Path, float]:
    stamps: dict[Path, float] = {}
    for root in roots:
        if root.is_dir():
            for path in root.rglob("*"):
                if path.is_file():
                    stamps[path] = path.stat().st_mtime
    return stamps


def make_handler(out: Path, status: Status) -> type[http.server.SimpleHTTPRequestHandler]:
    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(out.resolve()), **kwargs)

        def do_GET(self) -> None:
            if self.path.split("?")[0] == STATUS_PATH:
                body = status.as_json()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Cache-Control", "no-store")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            super().do_GET()

        def send_head(self) -> Any:
            # A NUL byte cannot name a file; the filesystem calls would raise instead of answering.
            if "\x00" in urllib.parse.unquote(self.path):
                self.send_error(400, "Bad request: NUL byte in path")
                return None
            return super().send_head()

        def log_message(self, format: str, *args: Any) -> None:
            return  # keep the terminal for build messages

    return Handler


def bind(out: Path, status: Status, port: int) -> http.server.ThreadingHTTPServer:
    try:
        return http.server.ThreadingHTTPServer(("127.0.0.1", port), make_handler(out, status))
    except OSError as exc:
        raise UsageError(f"cannot listen on 127.0.0.1:{port} ({exc.strerror}); choose another with --port") from None


def serve(catalog: Path, out: Path, *, port: int = 8000, once: bool = False) -> int:
    check_output_dir(out, catalog)
    preview = Preview(catalog, out)
    server = bind(out, preview.status, port)  # before the build: a busy port is reported at once
    preview.full()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(
        f"serving {display_path(out)} at http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C to stop)", file=sys.stderr
    )
    if once:
        server.shutdown()
        return 0
    roots = [catalog, TEMPLATES, STATIC]
    seen = _snapshot(roots)
    try:
        while True:
            time.sleep(POLL_SECONDS)
            now = _snapshot(roots)
            if now != seen:
                changed = {p for p in now.keys() | seen.keys() if now.get(p) != seen.get(p)}
                seen = now
                try:
                    preview.incremental(changed)
                except Exception as exc:  # a template error must not stop the preview server
                    preview.status.update([f"rebuild failed: {exc}"])
                    print(f"rebuild failed: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        server.shutdown()
    return 0
