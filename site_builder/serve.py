"""`site-builder serve`: build, serve on 127.0.0.1, and rebuild when the catalog, templates or static files change.

A broken record does not stop the server: the error is printed and the previous site stays up.
"""

from __future__ import annotations

import functools
import http.server
import sys
import threading
import time
from pathlib import Path

from site_builder.build import STATIC, build_site
from site_builder.problems import display_path
from site_builder.render import TEMPLATES

POLL_SECONDS = 1.0


def _snapshot(roots: list[Path]) -> dict[Path, float]:
    stamps: dict[Path, float] = {}
    for root in roots:
        if root.is_dir():
            for path in root.rglob("*"):
                if path.is_file():
                    stamps[path] = path.stat().st_mtime
    return stamps


def _rebuild(catalog: Path, out: Path) -> None:
    try:
        result = build_site(catalog, out, search=False)
    except Exception as exc:  # a template error must not stop the preview server
        print(f"rebuild failed: {exc}", file=sys.stderr)
        return
    if not result.ok:
        from site_builder.cli import print_report

        print_report(result.report)


def serve(catalog: Path, out: Path, *, port: int = 8000, once: bool = False) -> int:
    _rebuild(catalog, out)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(out.resolve()))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
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
                seen = now
                print("change detected: rebuilding", file=sys.stderr)
                _rebuild(catalog, out)
    except KeyboardInterrupt:
        server.shutdown()
    return 0
