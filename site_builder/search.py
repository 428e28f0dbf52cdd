"""Static search index with Pagefind (the PyPI package ships the binary), run over the finished site.

Pagefind's time grows with the HTML it reads (about 35 MB for the shipped catalog), so it reads only the pages a
reader searches for: models, GPUs, families and the site's own pages. Deployment and compare pages are left out:
each is one setup or pair of a model whose page search finds (by name, organization, family or framework) and
links to them, and a model's many such pages would push its own page down the results. Within a page, the
templates mark what nobody searches for with `data-pagefind-ignore`: tables of figures, charts, command blocks,
the calculator and the figures' provenance notes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# Top-level folders whose pages are indexed, besides the home page.
INDEXED = ("about", "api", "calculator", "contribute", "families", "gpus", "methodology", "models")
GLOB = "{index.html,{" + ",".join(INDEXED) + "}/**/*.html}"


def indexed(rel: str) -> bool:
    """Whether Pagefind reads the page at this path below the site root."""
    return rel == "index.html" or (rel.split("/", 1)[0] in INDEXED and rel.endswith(".html"))


def pagefind_binary() -> list[str]:
    return [sys.executable, "-m", "pagefind"]


def index_site(site: Path) -> None:
    result = subprocess.run(
        [*pagefind_binary(), "--site", str(site), "--glob", GLOB, "--silent"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"pagefind failed: {result.stderr.strip() or result.stdout.strip()}")
