"""Pagefind reads copies of the indexed pages without the elements marked data-pagefind-ignore: the index is the
one Pagefind writes from the pages themselves."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from site_builder.build import build_site
from site_builder.search import index_site, indexed, pagefind_binary, searchable


def test_ignored_elements_are_cut_with_what_they_hold() -> None:
    page = (
        b'<main data-pagefind-body><h1>Qwen</h1><div class="a" data-pagefind-ignore><div>x</div><table></table></div>'
        b"<p>kept</p><section data-pagefind-ignore><section>inner</section>tail</section><p>end</p></main>"
    )
    assert searchable(page) == b"<main data-pagefind-body><h1>Qwen</h1><p>kept</p><p>end</p></main>"
    unclosed = b"<p>a</p><div data-pagefind-ignore><div>never closed</div>"
    assert searchable(unclosed) == unclosed, "a page it cannot cut is read as it is"
    assert (
        searchable(b'<p data-pagefind-body="x">no ignored element</p>')
        == b'<p data-pagefind-body="x">no ignored element</p>'
    )


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_the_index_from_the_copies_is_the_index_of_the_pages(tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert build_site(Path("catalog"), site, search=False, jobs=2).ok
    pages = tmp_path / "pages"  # the indexed pages as they are
    for file in site.rglob("*.html"):
        rel = file.relative_to(site).as_posix()
        if indexed(rel):
            (pages / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(file, pages / rel)
    subprocess.run([*pagefind_binary(), "--site", str(pages), "--silent"], check=True)
    index_site(site)
    assert _files(site / "pagefind") == _files(pages / "pagefind")
    assert len(list((site / "pagefind" / "fragment").iterdir())) == len(list(pages.rglob("*.html")))


def test_links_into_the_index_are_checked_once_pagefind_is_done(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pagefind writes its bundle while the links are checked; the search page's links into it are checked after, and
    a bundle without the file the page loads fails the build (the previous site stays)."""
    from site_builder import search

    real = search.Indexing.wait

    def lose_the_ui_script(self: search.Indexing) -> None:
        real(self)
        (self.output / "pagefind-ui.js").unlink()

    out = tmp_path / "site"
    assert build_site(Path("catalog"), out, jobs=2).ok
    assert (out / "pagefind" / "pagefind-ui.js").is_file()
    before = _files(out)
    for name in (".build-inputs", ".build-manifest.json"):  # the next build renders (and indexes) again
        (out / name).unlink()
    monkeypatch.setattr(search.Indexing, "wait", lose_the_ui_script)
    failed = build_site(Path("catalog"), out, jobs=2)
    assert not failed.ok
    assert [(p.path, p.message) for p in failed.report.problems] == [("search/index.html", "no such file")]
    gone = {".build-inputs", ".build-manifest.json"}
    assert _files(out) == {k: v for k, v in before.items() if k not in gone}
