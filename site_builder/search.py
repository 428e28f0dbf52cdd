"""Static search index with Pagefind (the PyPI package ships the binary), run over the finished site.

Pagefind's time grows with the text it reads, so it reads only the pages a reader searches for: models, GPUs,
families and the site's own pages (28 MB of HTML for the shipped catalog). Deployment and compare pages are left out:
each is one setup or pair of a model whose page search finds (by name, organization, family or framework) and
links to them, and a model's many such pages would push its own page down the results. Within a page, the
templates mark with `data-pagefind-ignore` what nobody searches for, or what would match a search for something
else: tables of figures, charts, command blocks, the calculator, the figures' provenance notes, and on model, GPU
and family pages the sections of figures, the answers of the FAQ (its questions stay), the lists of other models
(similar models, a GPU's fit table, a family's table) and the sources. A model page is then found by its name, facts,
brief and capabilities, and no longer by every page that lists it (tests/site/test_search_index.py).

Pagefind reads copies of the pages without those elements (2.6 MB): the index it writes is the same as from the
pages, in a fraction of the time.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TextIO

from site_builder import picklefile
from site_builder.codehash import sources_hash
from site_builder.linkcheck import html_files
from site_builder.output import remove_later
from site_builder.paths import PACKAGE

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


STATE = "pages.pickle"  # beside the copies' folder: (code key, {page path: hash of the page each copy was made from})


@functools.cache
def _code_key() -> str:
    return sources_hash(PACKAGE, [PACKAGE / "search.py"])


def _lock(folder: Path) -> TextIO | None:
    """An exclusive lock on the copies in `folder` for one build, or None where another build holds it or the OS has
    no flock (the build then writes its copies to a folder of its own)."""
    try:
        import fcntl
    except ImportError:
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = (folder / ".lock").open("w")
    except OSError:
        return None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    return handle


class Indexing:
    """Pagefind writing `site`/pagefind/ in a process of its own, while the build goes on; `wait` for it.

    Pagefind reads copies of the indexed pages (`searchable`). With `cache` (a folder kept between builds) and
    `digests` (sha256 of every page of the site, by file), the copies stay in `cache`/pages/ with a note of the page
    hash each was made from: a rebuild writes only the copies of the pages it rewrote and deletes those of pages that
    are gone (writing all 235 copies took a sixth of a second of a one-second rebuild). The note is removed while the
    copies change, so a build stopped halfway leaves none, and the next build writes every copy again. Otherwise the
    copies go to a temporary folder, removed after."""

    def __init__(self, site: Path, cache: Path | None = None, digests: dict[Path, str] | None = None) -> None:
        self.output = site.resolve() / "pagefind"
        self.lock = _lock(cache) if cache is not None and digests is not None else None
        # The note on the kept copies; None where this build writes its copies to a temporary folder.
        self.note = cache / STATE if cache is not None and self.lock is not None else None
        made: dict[str, str] = {}
        if self.note is not None:
            self.folder = self.note.parent / "pages"
            loaded = picklefile.load(self.note)
            self.note.unlink(missing_ok=True)
            if (
                isinstance(loaded, tuple)
                and len(loaded) == 2
                and loaded[0] == _code_key()
                and isinstance(loaded[1], dict)
            ):
                made = loaded[1]
            else:  # no note, or one written by other code: the copies on disk are not known to be right
                shutil.rmtree(self.folder, ignore_errors=True)
        else:
            self.folder = Path(tempfile.mkdtemp(prefix="site-builder-search-"))
        try:
            current: dict[str, str] = {}
            # The build's digests name every page; without them the pages are found on disk.
            for file in sorted(digests) if digests is not None else [site / rel for rel in html_files(site)]:
                rel = file.relative_to(site).as_posix()
                if not indexed(rel):
                    continue
                current[rel] = digests.get(file, "") if digests is not None else ""
                if not current[rel] or made.get(rel) != current[rel]:
                    target = self.folder / rel
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(searchable(file.read_bytes()))
            for rel in made.keys() - current.keys():
                (self.folder / rel).unlink(missing_ok=True)
            picklefile.dump(self.note, (_code_key(), current))
            command = [*pagefind_binary(), "--site", str(self.folder)]
            command += ["--output-path", str(self.output), "--silent"]
            self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        except BaseException:
            self._release()
            raise

    def _release(self) -> None:
        if self.note is None:
            remove_later(self.folder)  # unlinking the copies took as long as indexing them on a busy disk
        if self.lock is not None:
            self.lock.close()

    def wait(self) -> None:
        try:
            out, err = self.process.communicate()
        finally:
            self._release()
        if self.process.returncode != 0:
            raise RuntimeError(f"pagefind failed: {err.strip() or out.strip()}")

    def stop(self) -> None:
        """The build failed before waiting: end Pagefind (its output goes with the staging directory)."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.communicate()
        self._release()


def index_site(site: Path, cache: Path | None = None, digests: dict[Path, str] | None = None) -> None:
    """Write `site`/pagefind/ from the indexed pages (Indexing tells what `cache` and `digests` are for)."""
    Indexing(site, cache, digests).wait()
