"""`make audit`: Lighthouse (mobile) on the pages a new user lands on; exit 1 below the site's goals.

The site is built with its base URL set to the local server's origin (so canonical links are same-origin,
as they are when deployed), served from 127.0.0.1 with gzip like any static host, and audited by the pinned
Lighthouse in node_modules with Debian's chromium (CHROME_PATH, default /usr/bin/chromium).
"""

from __future__ import annotations

import argparse
import functools
import gzip
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from site_builder.build import build_site
from site_builder.paths import CATALOG, NODE_BIN

LIGHTHOUSE = NODE_BIN / "lighthouse"
PAGES = ["/models/internlm-20b/", "/models/internvl2-26b/", "/", "/gpus/h100-sxm/"]
GOALS = {"performance": 95, "accessibility": 100, "best-practices": 100, "seo": 100}
COMPRESSIBLE = (".html", ".css", ".js", ".json", ".xml", ".txt", ".svg")


class _GzipHandler(SimpleHTTPRequestHandler):
    """Static files, gzipped for clients that accept it (every static host does this), no request log."""

    def send_head(self) -> Any:
        path = Path(self.translate_path(self.path))
        if path.is_dir() and self.path.split("?")[0].endswith("/"):
            path = path / "index.html"
        accepts = "gzip" in self.headers.get("Accept-Encoding", "")
        if not (accepts and path.suffix in COMPRESSIBLE and path.is_file()):
            return super().send_head()  # also the redirect of a directory without its trailing slash
        body = gzip.compress(path.read_bytes(), compresslevel=6, mtime=0)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=3600")
        self.end_headers()
        return io.BytesIO(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@contextmanager
def serve(root: Path, sock: socket.socket) -> Iterator[None]:
    handler = functools.partial(_GzipHandler, directory=str(root))
    server = ThreadingHTTPServer(sock.getsockname(), handler, bind_and_activate=False)
    server.socket.close()
    server.socket = sock
    server.server_activate()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


def lighthouse(url: str, report: Path) -> dict[str, Any]:
    env = {**os.environ, "CHROME_PATH": os.environ.get("CHROME_PATH", "/usr/bin/chromium")}
    cmd = [
        str(LIGHTHOUSE),
        url,
        "--quiet",
        "--output=json",
        f"--output-path={report}",
        "--only-categories=" + ",".join(GOALS),
        "--chrome-flags=--headless=new --no-sandbox --disable-dev-shm-usage",
    ]
    subprocess.run(cmd, env=env, check=True, timeout=300)
    data: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))
    return data


def shortfalls(data: dict[str, Any]) -> list[str]:
    """Each category below its goal, with the audits that cost it points (for the log)."""
    lines = []
    for cat, goal in GOALS.items():
        score = round(100 * (data["categories"][cat]["score"] or 0))
        if score >= goal:
            continue
        lines.append(f"  {cat} {score} < {goal}:")
        for ref in data["categories"][cat]["auditRefs"]:
            audit = data["audits"][ref["id"]]
            if ref["weight"] and audit.get("score") is not None and audit["score"] < 1:
                lines.append(f"    {ref['id']}: {audit.get('displayValue', '')} {audit['title']}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--catalog", type=Path, default=CATALOG)
    parser.add_argument("--reports", type=Path, help="keep the Lighthouse JSON reports here")
    args = parser.parse_args(argv)
    if not LIGHTHOUSE.is_file():
        print(f"{LIGHTHOUSE} is missing: run `make audit`, which installs the pinned Lighthouse", file=sys.stderr)
        return 2
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    origin = f"http://127.0.0.1:{sock.getsockname()[1]}"
    failed = False
    with tempfile.TemporaryDirectory(prefix="site-audit-") as tmp:
        site = Path(tmp) / "site"
        if not build_site(args.catalog, site, base_url=origin + "/", search=True).ok:
            return 1
        reports: Path = args.reports or Path(tmp) / "reports"
        reports.mkdir(parents=True, exist_ok=True)
        with serve(site, sock):
            for page in PAGES:
                name = page.strip("/").replace("/", "_") or "index"
                data = lighthouse(origin + page, reports / f"{name}.json")
                scores = {c: round(100 * (data["categories"][c]["score"] or 0)) for c in GOALS}
                print(f"{page:28} " + "  ".join(f"{c} {s:3}" for c, s in scores.items()), flush=True)
                problems = shortfalls(data)
                for line in problems:
                    print(line, flush=True)
                failed |= bool(problems)
    print("audit " + ("FAILED: below " if failed else "passed: ") + ", ".join(f"{c} {g}" for c, g in GOALS.items()))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
