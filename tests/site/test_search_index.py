"""Pagefind reads copies of the indexed pages without the elements marked data-pagefind-ignore: the index is the
one Pagefind writes from the pages themselves."""

from __future__ import annotations

import fcntl
import hashlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from site_builder import search
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


def _page_digests(site: Path) -> dict[Path, str]:
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in site.rglob("*.html")}


def _copies(cache: Path) -> dict[str, tuple[int, int]]:
    """Each kept copy's inode and modification time: a copy written again gets a new one."""
    return {
        p.relative_to(cache / "pages").as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in (cache / "pages").rglob("*.html")
    }


def _index_without_cache(site: Path, tmp_path: Path) -> dict[str, bytes]:
    fresh = tmp_path / "fresh"
    shutil.rmtree(fresh, ignore_errors=True)
    shutil.copytree(site, fresh, ignore=shutil.ignore_patterns("pagefind"))
    index_site(fresh)
    return _files(fresh / "pagefind")


def _reindex(site: Path, cache: Path) -> None:
    shutil.rmtree(site / "pagefind", ignore_errors=True)
    index_site(site, cache, _page_digests(site))


def test_kept_copies_change_only_where_pages_did_and_give_the_same_index(tmp_path: Path) -> None:
    """The copies Pagefind reads stay in the cache between builds: a rebuild writes the copy of a page it changed,
    deletes the copy of a page that is gone, keeps the others as they are, and the index is the one Pagefind writes
    from scratch."""
    site, cache = tmp_path / "site", tmp_path / "cache"
    assert build_site(Path("catalog"), site, search=False, jobs=2).ok
    _reindex(site, cache)
    before = _copies(cache)
    assert set(before) == {
        rel for rel in (p.relative_to(site).as_posix() for p in site.rglob("*.html")) if indexed(rel)
    }

    edited, gone = "models/dbrx/index.html", "gpus/h100-sxm/index.html"
    page = site / edited
    page.write_text(page.read_text().replace("<h1>", "<h1>Renamed ", 1))
    (site / gone).unlink()
    _reindex(site, cache)
    after = _copies(cache)
    assert gone not in after
    assert after[edited] != before[edited] and b"Renamed" in (cache / "pages" / edited).read_bytes()
    assert {rel: v for rel, v in after.items() if rel != edited} == {
        rel: v for rel, v in before.items() if rel not in (edited, gone)
    }
    assert _files(site / "pagefind") == _index_without_cache(site, tmp_path)


def test_copies_without_a_valid_note_are_all_written_again(tmp_path: Path) -> None:
    """A note that is damaged (or missing: a build stopped while changing the copies) says nothing about the copies on
    disk, so every one is written again and a stray file there is not indexed."""
    site, cache = tmp_path / "site", tmp_path / "cache"
    assert build_site(Path("catalog"), site, search=False, jobs=2).ok
    _reindex(site, cache)
    stray = cache / "pages" / "models" / "stray" / "index.html"
    stray.parent.mkdir()
    stray.write_bytes((site / "models" / "dbrx" / "index.html").read_bytes().replace(b"DBRX", b"Stray"))
    (cache / search.STATE).write_bytes(b"damaged")
    before = _copies(cache)
    _reindex(site, cache)
    after = _copies(cache)
    assert "models/stray/index.html" not in after
    assert all(after[rel] != before[rel] for rel in after)
    assert _files(site / "pagefind") == _index_without_cache(site, tmp_path)


def test_a_second_build_at_once_leaves_the_kept_copies_alone(tmp_path: Path) -> None:
    """While one build holds the copies, another writes its own in a temporary folder."""
    site, cache = tmp_path / "site", tmp_path / "cache"
    assert build_site(Path("catalog"), site, search=False, jobs=2).ok
    _reindex(site, cache)
    before = _copies(cache)
    page = site / "models" / "dbrx" / "index.html"
    page.write_text(page.read_text().replace("<h1>", "<h1>Renamed ", 1))
    with (cache / ".lock").open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        _reindex(site, cache)
    assert _copies(cache) == before
    assert _files(site / "pagefind") == _index_without_cache(site, tmp_path)


def _section(html: str, section_id: str) -> str:
    start = html.index(f'<section id="{section_id}"')
    return html[start : html.index("</section>", start)]


def test_pages_are_indexed_for_what_they_say_of_themselves(tmp_path: Path) -> None:
    """A model's page is indexed by its name, facts, brief, capabilities and the questions its FAQ answers; not by
    the names of its similar models, its figures or its sources' titles. A GPU page is not indexed by the models in
    its fit table. Otherwise a search for one model finds the pages that list it, above its own."""
    site = tmp_path / "site"
    assert build_site(Path("catalog"), site, search=False, jobs=2).ok
    page = (site / "models" / "dbrx" / "index.html").read_text()
    copy = searchable(page.encode()).decode()
    neighbours = re.findall(r'<a href="/models/[^"]+/">([^<]+)</a>', _section(page, "similar"))
    sources = re.findall(r"<a [^>]*>([^<]+)</a>", _section(page, "sources"))
    assert neighbours and sources
    assert not [text for text in neighbours + sources if text in copy]
    assert "<h1>DBRX Instruct</h1>" in copy and "fine-grained mixture-of-experts" in copy
    assert "How much VRAM does DBRX Instruct need?" in copy
    indexed_text = copy[copy.index("<main") :]  # Pagefind reads the page's body, not the structured data in its head
    assert "123.7 GiB" in page and "123.7 GiB" not in indexed_text, "the figures (weights at FP8) are not indexed"

    gpu = (site / "gpus" / "h100-sxm" / "index.html").read_text()
    listed = re.findall(r'<td><a href="/models/[^"]+/">([^<]+)</a>', gpu)
    assert "DBRX Instruct" in listed
    gpu_copy = searchable(gpu.encode()).decode()
    assert "<h1>NVIDIA H100 SXM5 80GB</h1>" in gpu_copy
    assert not [name for name in listed if name in gpu_copy]
