"""Rendering in several processes: how the pages are shared out, the writer process a large catalog renders with, and
failures in either, which leave the previous site untouched."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest

from site_builder import output, rendering
from site_builder.analysis import SiteAnalysis, analyse_site
from site_builder.build import build_site, collect_pages
from site_builder.catalog import load_catalog
from site_builder.problems import Report
from site_builder.rendering import Page, RenderError, page_cost, split_work


@cache
def _site() -> SiteAnalysis:
    return analyse_site(load_catalog(Path("catalog"), Report()))


def _full_build_next(out: Path) -> None:
    """A previous build whose input record and manifest are gone: the next build renders every page."""
    assert build_site(Path("catalog"), out, search=False, jobs=1).ok
    for name in (".build-inputs", ".build-manifest.json"):
        (out / name).unlink()


@pytest.mark.parametrize("jobs", [2, 3, 5])
def test_each_share_holds_whole_models_and_an_even_part(jobs: int) -> None:
    site = _site()
    pages = collect_pages(site, "/")
    shares = split_work(pages, jobs, len(site.models))
    assert len(shares) == jobs
    assert sorted(p.path for share in shares for p in share) == sorted(p.path for p in pages), "every page once"
    owners = [{p.owner for p in share if p.owner} for share in shares]
    assert all(not (a & b) for i, a in enumerate(owners) for b in owners[i + 1 :]), "a model's pages in one share"
    costs = [sum(page_cost(p, len(site.models)) for p in share) for share in shares]
    group = max(
        *(sum(page_cost(p, len(site.models)) for p in pages if p.owner == mid) for mid in site.models),
        *(page_cost(p, len(site.models)) for p in pages if not p.owner),
    )
    # Whole models (and whole pages) are shared out, so a share may miss an even part by about one group's cost.
    assert all(abs(c - sum(costs) / jobs) <= 2 * group for c in costs)


def test_site_wide_pages_are_shared_out_too() -> None:
    """After an edit to a model's figures most pages to render are site-wide (every GPU page lists the model)."""
    site = _site()
    pages = [p for p in collect_pages(site, "/") if not p.owner or p.owner == "qwen2.5-7b"]
    assert sum(1 for p in pages if p.template == "gpu.html") > 50
    costs = [sum(page_cost(p, len(site.models)) for p in share) for share in split_work(pages, 2, len(site.models))]
    assert len(costs) == 2 and min(costs) >= 0.4 * sum(costs)


def test_a_failing_page_in_a_worker_names_its_page_and_keeps_the_old_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"
    _full_build_next(out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    pages = collect_pages(_site(), "/")
    last = split_work(pages, 2, len(_site().models))[-1][-1].path  # rendered by the forked worker
    real = rendering._render_one

    def explode(env: Any, page: Page, settings: Any) -> str:
        if page.path == last:
            raise OSError("disk full")
        return real(env, page, settings)

    monkeypatch.setattr(rendering, "_render_one", explode)
    with pytest.raises(RenderError, match=rf"^error rendering {last} \(\w+\.html\): OSError: disk full"):
        build_site(Path("catalog"), out, search=False, jobs=2)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def serial_site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("serial") / "site"
    assert build_site(Path("catalog"), out, search=False, jobs=1).ok
    return _files(out)


def test_a_large_catalog_renders_here_and_writes_in_a_forked_writer_to_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, serial_site: dict[str, bytes]
) -> None:
    used: list[int] = []
    real = rendering._render_with_writer

    def spy(*args: Any) -> rendering.Rendered:
        used.append(1)
        return real(*args)

    monkeypatch.setattr(rendering, "MEMORY_BUDGET", 1)  # no room for a second renderer
    monkeypatch.setattr(rendering, "_render_with_writer", spy)
    out = tmp_path / "site"
    assert build_site(Path("catalog"), out, search=False, jobs=2).ok
    built = _files(out)
    assert used and built.keys() == serial_site.keys()
    assert [k for k in serial_site if built[k] != serial_site[k]] == []


def test_a_failing_page_or_write_with_the_writer_keeps_the_old_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"
    _full_build_next(out)
    before = _files(out)
    monkeypatch.setattr(rendering, "MEMORY_BUDGET", 1)
    real_render, real_write = rendering._render_one, output.write_bytes

    def explode(env: Any, page: Page, settings: Any) -> str:
        if page.path == "models/internlm-20b/index.html":
            raise KeyError("price")
        return real_render(env, page, settings)

    with monkeypatch.context() as m:
        m.setattr(rendering, "_render_one", explode)
        with pytest.raises(RenderError, match=r"^error rendering models/internlm-20b/index.html \(model.html\)"):
            build_site(Path("catalog"), out, search=False, jobs=2)
    assert _files(out) == before

    def disk_full(root: Path, rel: str, data: bytes) -> Path:
        if rel == "gpus/h100-sxm/index.html":
            raise OSError(28, "No space left on device")
        return real_write(root, rel, data)

    monkeypatch.setattr(rendering, "WRITER_START", "fork")  # a started-afresh writer would not see the patch
    monkeypatch.setattr(rendering, "write_bytes", disk_full)
    with pytest.raises(RenderError, match="No space left on device"):
        build_site(Path("catalog"), out, search=False, jobs=2)
    assert _files(out) == before


def test_the_writer_reports_a_failed_write(tmp_path: Path) -> None:
    """The writer as it runs, started afresh: a page whose folder is a file cannot be written, and it says so."""
    ctx = rendering.writer_context()
    pages_in, pages_out = ctx.Pipe(duplex=False)
    result_in, result_out = ctx.Pipe(duplex=False)
    (tmp_path / "gpus").write_text("not a folder")
    writer = ctx.Process(target=rendering._write_pages, args=(tmp_path, pages_in, result_out))
    writer.start()
    pages_out.send_bytes(b"index.html\0<p>home</p>")
    pages_out.send_bytes(b"gpus/h100-sxm/index.html\0<p>h100</p>")
    pages_out.send_bytes(b"")
    rendered, error = result_in.recv()
    writer.join()
    assert rendered is None and error is not None and error.startswith(("FileExistsError", "NotADirectoryError"))
    assert (tmp_path / "index.html").read_bytes() == b"<p>home</p>"
