"""The build's last check before the swap: every internal link and #anchor of every page resolves.

Reads the staging directory as a browser would: each `href`, `src` and `action` that is not external must name
a built file under the base path, and a fragment must name an element id on the target page. The pages are
written by our own templates (attribute values always double-quoted, autoescaped), so a regular expression over
the attributes finds the same links as an HTML parser at a tenth of the time; tests/site/test_links.py compares the two.
"""

from __future__ import annotations

import html
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from site_builder.problems import Problem

# An attribute inside a start tag (whitespace before its name, a double-quoted value), or a whole script element:
# its body holds JSON and code, not links, and is skipped as an HTML parser would; its start tag is read.
_SCAN = re.compile(rb'<script\b([^>]*)>.*?</script>|\s(href|src|action|id)="([^"]*)"', re.S)
_ATTR = re.compile(rb'\s(href|src|action|id)="([^"]*)"')


RULE = "broken-link"


@dataclass(frozen=True)
class Links:
    """What the check needs of one page, kept for every page of a build: its distinct links (unescaped) and the element
    ids a fragment may name. Strings are interned, so a link or id that many pages share is held once."""

    links: tuple[str, ...]
    ids: frozenset[str]


@dataclass(frozen=True)
class Page:
    text: bytes
    links: dict[str, int]  # each distinct link (unescaped) -> byte offset of its first attribute name
    ids: frozenset[str]

    def position(self, offset: int) -> tuple[int, int]:
        """1-based line and column (in characters) of a byte offset."""
        start = self.text.rfind(b"\n", 0, offset) + 1
        return self.text.count(b"\n", 0, offset) + 1, len(self.text[start:offset].decode("utf-8", "replace")) + 1


def _attrs(found: list[tuple[int, bytes, bytes]], links: dict[str, int], ids: set[str]) -> None:
    for offset, name, raw in found:
        value = html.unescape(raw.decode("utf-8"))
        if name == b"id":  # fragment targets (the obsolete <a name> anchors are not written by the templates)
            ids.add(value)
        else:
            links.setdefault(value, offset)


def _read(text: bytes) -> tuple[dict[str, int], set[str]]:
    links: dict[str, int] = {}
    ids: set[str] = set()
    for m in _SCAN.finditer(text):
        if m.group(2) is None:  # a script element: only its start tag's attributes
            inner = [(m.start(1) + a.start(1), a.group(1), a.group(2)) for a in _ATTR.finditer(m.group(1))]
            _attrs(inner, links, ids)
        else:
            _attrs([(m.start(2), m.group(2), m.group(3))], links, ids)
    return links, ids


def scan(text: bytes) -> Links:
    """The links and ids of one page's bytes: the build scans each page as it writes it."""
    links, ids = _read(text)
    return Links(tuple(sys.intern(link) for link in links), frozenset(sys.intern(i) for i in ids))


def read_page(file: Path) -> Page:
    """One page with where each link is, for reporting a broken one."""
    text = file.read_bytes()
    links, ids = _read(text)
    return Page(text, links, frozenset(ids))


def url_path(site: Path, file: Path, base: str) -> str:
    """The URL path a built file is served at: models/x/index.html -> <base>models/x/."""
    return base + file.relative_to(site).as_posix().removesuffix("index.html")


def served_file(site: Path, path: str) -> Path | None:
    """The file a URL path below the site root is served from, or None."""
    rel = unquote(path).lstrip("/")
    candidate = site / rel
    if path.endswith("/") or not rel:
        candidate = candidate / "index.html"
    return candidate if candidate.is_file() else None


class _Site:
    """The staging directory as a browser sees it: pages parsed once, URL paths resolved once."""

    def __init__(self, root: Path, base: str, absolute: str, scanned: Mapping[str, Links]) -> None:
        self.root, self.base, self.absolute = root, base, absolute
        self.search_built = (root / "pagefind").is_dir()
        self.scanned = scanned
        self._pages: dict[Path, Links] = {}
        self._targets: dict[str, Path | None] = {}

    def page(self, file: Path) -> Links:
        if file not in self._pages:
            known = self.scanned.get(file.relative_to(self.root).as_posix())
            self._pages[file] = known if known is not None else scan(file.read_bytes())
        return self._pages[file]

    def target(self, rel: str) -> Path | None:
        if rel not in self._targets:
            self._targets[rel] = served_file(self.root, rel)
        return self._targets[rel]

    def problem(self, file: Path, written: str, link: str, message: str) -> Problem:
        """`written` the link as the page has it, `link` as reported (with the base path for an absolute one)."""
        page = read_page(file)
        line, col = page.position(page.links[written])
        return Problem(file.relative_to(self.root).as_posix(), line, col, link, message, rule=RULE)

    def check(self, file: Path) -> tuple[list[Problem], int]:
        """The broken links of one page, and how many internal links it has."""
        base, here = self.base, url_path(self.root, file, self.base)
        broken, checked = [], 0
        for written in self.page(file).links:
            value = written
            if value.startswith(self.absolute):  # canonical and og:url carry the origin
                value = base + value[len(self.absolute) :]
            parts = urlsplit(value)
            if parts.scheme or parts.netloc:
                continue  # external (https:, mailto:) or data: URLs
            path = parts.path or here
            if not path.startswith(base):
                broken.append(self.problem(file, written, value, f"outside the base path {base}"))
                continue
            if path.startswith(base + "pagefind/") and not self.search_built:
                continue  # a build without the search index has no Pagefind bundle
            target = self.target(path[len(base) :])
            checked += 1
            if target is None:
                broken.append(self.problem(file, written, value, "no such file"))
            elif parts.fragment and (target.suffix != ".html" or unquote(parts.fragment) not in self.page(target).ids):
                where = target.relative_to(self.root).as_posix()
                broken.append(self.problem(file, written, value, f"no id {parts.fragment!r} in {where}"))
        return broken, checked


def check_links(
    site: Path, base: str = "/", absolute: str = "/", scanned: Mapping[str, Links] | None = None
) -> tuple[list[Problem], int]:
    """Every broken internal link of every HTML page under `site`, as `page:line:col: link: message` problems
    (the page as a path below `site`), and how many distinct internal links per page were checked.

    `base` is the path prefix the site is served from; `absolute` the origin + prefix canonical URLs carry;
    `scanned` the links of pages already scanned (by path below `site`), which are not read again.
    """
    staged = _Site(site, base, absolute, scanned or {})
    broken: list[Problem] = []
    checked = 0
    for file in sorted(site.rglob("*.html")):
        found, n = staged.check(file)
        broken += found
        checked += n
    return broken, checked
