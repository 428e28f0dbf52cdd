"""Static search index with Pagefind (the PyPI package ships the binary), run over the finished site.

Pagefind's time grows with the HTML it reads (about 35 MB for the shipped catalog), so it reads only the pages a
reader searches for: models, GPUs, families and the site's own pages. Deployment and compare pages are left out:
each is one setup or pair of a model whose page search finds (by name, organization, family or framework) and
links to them, and a model's many such pages would push its own page down the results. Within a page, the
templates mark what nobody searches for with `data-pagefind-ignore`: tables of figures, charts, command blocks,
the calculator and the figures' provenance notes. Pagefind reads copies of the pages without those elements
(a fifth of the bytes): the index it writes is the same, in about half the time (tests/site/test_search_index.py).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

from site_builder import picklefile
from site_builder.linkcheck import html_files
from site_builder.output import remove_later

# Top-level folders whose pages are indexed, besides the home page.
INDEXED = ("about", "api", "calculator", "contribute", "families", "gpus", "methodology", "models")

_IGNORED = re.compile(rb"<([a-z][a-z0-9]*)\b[^>]*\sdata-pagefind-ignore\b[^>]*>")


def indexed(rel: str) -> bool:
    """Whether Pagefind reads the page at this path below the site root."""
    return rel == "index.html" or (rel.split("/", 1)[0] in INDEXED and rel.endswith(".html"))


def _element_end(html: bytes, name: bytes, start: int) -> int | None:
    """The offset after the end tag that closes the element opened just before `start`, or None."""
    depth = 1
    for tag in re.compile(rb"<(/?)" + name + rb"\b[^>]*>").finditer(html, start):
        depth += -1 if tag.group(1) else 1
        if depth == 0:
            return tag.end()
    return None


def searchable(html: bytes) -> bytes:
    """The page without the elements marked data-pagefind-ignore, which Pagefind would skip anyway.

    The templates write no such element inside a script or an attribute value, so the tags are found by name; an
    element whose end cannot be found leaves the page as it is."""
    parts, pos = [], 0
    for m in _IGNORED.finditer(html):
        if m.start() < pos:
            continue  # inside an element already removed
        end = _element_end(html, m.group(1), m.end())
        if end is None:
            return html
        parts.append(html[pos : m.start()])
        pos = end
    parts.append(html[pos:])
    return b"".join(parts)


def pagefind_binary() -> list[str]:
    """The Pagefind executable the PyPI package ships; `python -m pagefind` (which only looks it up and execs it) where
    that package's layout is not the one known here. Calling it directly saves starting Python for every index."""
    try:
        from pagefind_bin import get_executable  # type: ignore[import-untyped]
    except ImportError:
        return [sys.executable, "-m", "pagefind"]
    found = get_executable()
    return [str(found)] if found is not None else [sys.executable, "-m", "pagefind"]


class Indexing:
    """Pagefind writing `site`/pagefind/ in a process of its own, while the build goes on; `wait` for it."""

    def __init__(self, site: Path, cache: Path | None = None, digests: dict[Path, str] | None = None) -> None:
        self.cache = cache if digests is not None else None
        loaded = picklefile.load(self.cache)  # none yet, damaged or foreign: the copies are made again
        kept = loaded if isinstance(loaded, dict) else {}
        self.used: dict[str, bytes] = {}
        self.output = site.resolve() / "pagefind"
        self.copies = Path(tempfile.mkdtemp(prefix="site-builder-search-"))
        try:
            # The build's digests name every page; without them the pages are found on disk.
            for file in sorted(digests) if digests is not None else [site / rel for rel in html_files(site)]:
                rel = file.relative_to(site).as_posix()
                if not indexed(rel):
                    continue
                digest = digests.get(file, "") if digests is not None else ""
                text = self.used.get(digest) or kept.get(digest) if digest else None
                if text is None:
                    text = searchable(file.read_bytes())
                if digest:
                    self.used[digest] = text
                target = self.copies / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(text)
            command = [*pagefind_binary(), "--site", str(self.copies)]
            command += ["--output-path", str(self.output), "--silent"]
            self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        except BaseException:
            remove_later(self.copies)
            raise

    def wait(self) -> None:
        try:
            out, err = self.process.communicate()
        finally:
            remove_later(self.copies)  # unlinking the copies took as long as indexing them on a busy disk
        if self.process.returncode != 0:
            raise RuntimeError(f"pagefind failed: {err.strip() or out.strip()}")
        picklefile.dump(self.cache, self.used)

    def stop(self) -> None:
        """The build failed before waiting: end Pagefind (its output goes with the staging directory)."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.communicate()
        remove_later(self.copies)


def index_site(site: Path, cache: Path | None = None, digests: dict[Path, str] | None = None) -> None:
    """Write `site`/pagefind/ from the indexed pages. With `cache` (a file) and `digests` (sha256 of every page of the
    site, by file), the copies Pagefind reads are kept by page hash, so a rebuild strips only the pages it rewrote."""
    Indexing(site, cache, digests).wait()
