"""The build's last check before the swap: every internal link and #anchor of every page resolves.

Reads the staging directory as a browser would: each `href`, `src` and `action` that is not external must name
a built file under the base path, and a fragment must name an element id on the target page. The pages are
written by our own templates (attribute values always double-quoted, autoescaped), so a regular expression over
the attributes finds the same links as an HTML parser at a tenth of the time; tests/site/test_links.py compares the two.

A page's links and ids depend on its bytes only, so they are kept across builds under the hash of the bytes
(`LinkCache`): an incremental build parses only the pages it rewrote, and still checks every link of every page.
"""

from __future__ import annotations

import hashlib
import html
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import SplitResult, unquote, urlsplit

from site_builder import picklefile
from site_builder.problems import Problem

# An attribute inside a start tag (whitespace before its name, a double-quoted value), or a whole script element:
# its body holds JSON and code, not links, and is skipped as an HTML parser would; its start tag is read.
_SCAN = re.compile(rb'<script\b([^>]*)>.*?</script>|\s(href|src|action|id)="([^"]*)"', re.S)
_ATTR = re.compile(rb'\s(href|src|action|id)="([^"]*)"')


RULE = "broken-link"


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


def read_page(file: Path) -> Page:
    return parse_page(file.read_bytes())


def parse_page(text: bytes) -> Page:
    links: dict[str, int] = {}
    ids: set[str] = set()
    for m in _SCAN.finditer(text):
        if m.group(2) is None:  # a script element: only its start tag's attributes
            inner = [(m.start(1) + a.start(1), a.group(1), a.group(2)) for a in _ATTR.finditer(m.group(1))]
            _attrs(inner, links, ids)
        else:
            _attrs([(m.start(2), m.group(2), m.group(3))], links, ids)
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


# A page's distinct links (unescaped, in document order) and element ids.
Summary = tuple[tuple[str, ...], frozenset[str]]


def scan(text: bytes) -> Summary:
    """A page's summary, as the build takes it from each page it writes. Strings are interned: a build keeps every
    page's summary, and most links and ids are shared by many pages."""
    page = parse_page(text)
    return tuple(sys.intern(link) for link in page.links), frozenset(sys.intern(i) for i in page.ids)


def digest(text: bytes) -> str:
    return hashlib.sha256(text).hexdigest()


def page_digests(root: Path, known: Mapping[str, str] | None = None) -> dict[Path, str]:
    """sha256 of every HTML page under `root`; `known` gives those already hashed, by path below `root`."""
    known = known or {}
    return {root / rel: known[rel] if rel in known else digest((root / rel).read_bytes()) for rel in html_files(root)}


def html_files(root: Path) -> list[str]:
    """The HTML files under `root`, as sorted paths below it (os.walk: Path.rglob took ten times as long)."""
    found = []
    for folder, _, files in os.walk(root):
        rel = Path(folder).relative_to(root)
        found += [(rel / name).as_posix() for name in files if name.endswith(".html")]
    return sorted(found)


class LinkCache:
    """Each page's links and ids by the hash of its bytes, kept in one file between builds (None: not kept)."""

    def __init__(self, file: Path | None) -> None:
        self.file = file
        loaded = picklefile.load(file)  # none, or damaged or foreign, is as good as none: pages are parsed again
        self.known: dict[str, Summary] = loaded if isinstance(loaded, dict) else {}

    def save(self, used: dict[str, Summary]) -> None:
        """Keep the pages of the site just checked (older builds' pages are dropped), written by rename."""
        picklefile.dump(self.file, used)


class _Site:
    """The staging directory as a browser sees it: pages parsed once, URL paths resolved once."""

    def __init__(
        self,
        root: Path,
        base: str,
        absolute: str,
        digests: dict[Path, str] | None,
        cache: LinkCache | None,
        scanned: Mapping[str, Summary],
        search_pending: bool = False,
    ) -> None:
        self.root, self.base, self.absolute = root, base, absolute
        self.search_built = (root / "pagefind").is_dir()
        self.search_pending = search_pending
        self.deferred: list[tuple[Path, str, str, str]] = []  # (page, link, shown, target) under pagefind/
        self.scanned = scanned
        self._targets: dict[str, Path | None] = {}
        self._split: dict[str, tuple[str, SplitResult]] = {}
        self._digests = digests if digests is not None else {}
        self._known = cache.known if cache is not None else {}
        self.used: dict[str, Summary] = {}  # this site's summaries by digest, for the cache

    def summary(self, file: Path) -> Summary:
        """The page's links and ids: scanned as it was written, kept from an earlier build, or parsed now (the text
        itself is not kept: a large site's pages would all be in memory)."""
        key = self._digests.get(file)
        if key is None:
            key = self._digests[file] = digest(file.read_bytes())
        found = self.used.get(key) or self.scanned.get(file.relative_to(self.root).as_posix()) or self._known.get(key)
        if found is None:
            found = scan(file.read_bytes())
        self.used[key] = found
        return found

    def target(self, rel: str) -> Path | None:
        if rel not in self._targets:
            self._targets[rel] = served_file(self.root, rel)
        return self._targets[rel]

    def ids(self, file: Path) -> frozenset[str]:
        return self.summary(file)[1]

    def problem(self, file: Path, link: str, shown: str, message: str) -> Problem:
        return _problem(self.root, file, link, shown, message)

    def split(self, link: str) -> tuple[str, SplitResult]:
        """The link as the check reads it (canonical and og:url carry the origin: it becomes the base path), split;
        once per distinct link of the site, which most pages share."""
        found = self._split.get(link)
        if found is None:
            value = self.base + link[len(self.absolute) :] if link.startswith(self.absolute) else link
            found = self._split[link] = (value, urlsplit(value))
        return found

    def check(self, file: Path) -> tuple[list[Problem], int]:
        """The broken links of one page, and how many internal links it has."""
        base, here = self.base, url_path(self.root, file, self.base)
        broken, checked = [], 0
        for link in self.summary(file)[0]:
            value, parts = self.split(link)
            if parts.scheme or parts.netloc:
                continue  # external (https:, mailto:) or data: URLs
            path = parts.path or here
            if not path.startswith(base):
                broken.append(self.problem(file, link, value, f"outside the base path {base}"))
                continue
            if path.startswith(base + "pagefind/"):
                if self.search_pending:  # Pagefind is still writing: checked once it is done (check_search_links)
                    self.deferred.append((file, link, value, path[len(base) :]))
                    continue
                if not self.search_built:
                    continue  # a build without the search index has no Pagefind bundle
            target = self.target(path[len(base) :])
            checked += 1
            if target is None:
                broken.append(self.problem(file, link, value, "no such file"))
            elif parts.fragment and (target.suffix != ".html" or unquote(parts.fragment) not in self.ids(target)):
                where = target.relative_to(self.root).as_posix()
                broken.append(self.problem(file, link, value, f"no id {parts.fragment!r} in {where}"))
        return broken, checked


def check_links(
    site: Path,
    base: str = "/",
    absolute: str = "/",
    *,
    digests: dict[Path, str] | None = None,
    cache: LinkCache | None = None,
    scanned: Mapping[str, Summary] | None = None,
    search_pending: list[tuple[Path, str, str, str]] | None = None,
) -> tuple[list[Problem], int]:
    """Every broken internal link of every HTML page under `site`, as `page:line:col: link: message` problems
    (the page as a path below `site`), and how many distinct internal links per page were checked.

    `base` is the path prefix the site is served from; `absolute` the origin + prefix canonical URLs carry.
    `digests` (page_digests) saves reading the pages twice; `cache` gives the links of pages parsed before, and
    keeps this site's for the next check; `scanned` the summaries of the pages just written, by path below `site`.
    With `search_pending` (Pagefind still writing its bundle), links into pagefind/ are added to that list, for
    check_search_links.
    """
    staged = _Site(site, base, absolute, digests, cache, scanned or {}, search_pending is not None)
    broken: list[Problem] = []
    checked = 0
    for file in sorted(digests) if digests is not None else [site / rel for rel in html_files(site)]:
        found, n = staged.check(file)
        broken += found
        checked += n
    if cache is not None:
        cache.save(staged.used)
    if search_pending is not None:
        search_pending += staged.deferred
    return broken, checked


def check_search_links(site: Path, deferred: list[tuple[Path, str, str, str]]) -> list[Problem]:
    """The links into pagefind/ that check_links set aside, now that Pagefind has written its bundle."""
    broken = []
    for file, link, shown, target in deferred:
        if served_file(site, target) is None:
            broken.append(_problem(site, file, link, shown, "no such file"))
    return broken


def _problem(root: Path, file: Path, link: str, shown: str, message: str) -> Problem:
    """`link` as the page writes it (unescaped), `shown` as reported; the page is parsed again for the position."""
    page = read_page(file)
    line, col = page.position(page.links[link])
    return Problem(file.relative_to(root).as_posix(), line, col, shown, message, rule=RULE)
