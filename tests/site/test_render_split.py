"""Rendering in several processes: how the pages are shared out, and what a worker may read."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest

from site_builder import build as build_mod
from site_builder.analysis import SiteAnalysis, analyse_site
from site_builder.build import Page, RenderError, build_site, collect_pages, page_cost, split_work
from site_builder.catalog import load_catalog
from site_builder.problems import Report


@cache
def _site() -> SiteAnalysis:
    return analyse_site(load_catalog(Path("catalog"), Report()))


@pytest.mark.parametrize("jobs", [2, 3, 5])
def test_each_share_holds_whole_models_and_the_first_every_site_wide_page(jobs: int) -> None:
    site = _site()
    pages = collect_pages(site, "/")
    shares = split_work(pages, jobs, len(site.models))
    assert len(shares) == jobs
    assert sorted(p.path for share in shares for p in share) == sorted(p.path for p in pages), "every page once"
    assert {p.path for p in pages if not p.owner} <= {p.path for p in shares[0]}
    owners = [{p.owner for p in share if p.owner} for share in shares]
    assert all(not (a & b) for i, a in enumerate(owners) for b in owners[i + 1 :]), "a model's pages in one share"
    costs = [sum(page_cost(p, len(site.models)) for p in share) for share in shares]
    biggest_model = max(sum(page_cost(p, len(site.models)) for p in pages if p.owner == mid) for mid in site.models)
    # Whole models are shared out, so a share may miss an even part by about one model's pages; the site-wide pages
    # alone may be more than the first share's part, and then the others share the rest evenly.
    site_wide = sum(page_cost(p, len(site.models)) for p in pages if not p.owner)
    part = max(sum(costs) / jobs, site_wide)
    assert site_wide <= costs[0] <= part + biggest_model
    rest = (sum(costs) - costs[0]) / (jobs - 1)
    assert all(abs(c - rest) <= 2 * biggest_model for c in costs[1:])


def test_a_share_reads_only_the_models_its_pages_name() -> None:
    site = _site()
    for page in collect_pages(site, "/"):
        if page.template == "compare.html":
            a, b = page.path.split("/")[1].split("-vs-")[0], page.owner
            assert page.owner in page.models_read() and len(page.models_read()) == 2
            assert a == b or page.path.startswith(f"compare/{page.owner}-vs-")
        elif page.owner:
            assert page.owner in page.models_read()
        else:
            assert not page.models_read() or "models/*" in page.deps or "*" in page.deps


def test_a_released_model_fails_loudly_instead_of_showing_nothing() -> None:
    md = next(iter(_site().models.values())).released()
    with pytest.raises(RuntimeError, match="released"):
        _ = md.analysis.recommendations
    with pytest.raises(RuntimeError, match="released"):
        list(md.deploys)
    with pytest.raises(RuntimeError, match="released"):
        _ = md.facts


def test_a_failing_page_in_a_worker_names_its_page_and_keeps_the_old_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"
    assert build_site(Path("catalog"), out, search=False, jobs=1).ok
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    pages = collect_pages(_site(), "/")
    last = split_work(pages, 2, len(_site().models))[-1][-1].path  # rendered by the forked worker
    real = build_mod._render_one

    def explode(env: Any, page: Page, settings: Any) -> str:
        if page.path == last:
            raise OSError("disk full")
        return real(env, page, settings)

    monkeypatch.setattr(build_mod, "_render_one", explode)
    monkeypatch.setattr(build_mod, "fingerprint", lambda *a: "changed")  # the catalog is unchanged: build anyway
    with pytest.raises(RenderError, match=rf"^error rendering {last} \(\w+\.html\): OSError: disk full"):
        build_site(Path("catalog"), out, search=False, jobs=2)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_a_page_reading_a_model_its_deps_do_not_name_fails_in_a_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The contract that lets a worker release models: a page reads only the models its deps name. A page that reads
    another one (here every model page reads one the worker's pages do not name) renders serially but fails in a
    worker."""
    site = _site()
    worker = split_work(collect_pages(site, "/"), 2, len(site.models))[1]
    first = next(mid for mid in site.models if mid not in set().union(*(p.models_read() for p in worker)))
    real = build_mod.model_page  # type: ignore[attr-defined]

    def nosy(md: Any, site: SiteAnalysis, base: str) -> Any:
        _ = site.models[first].analysis.recommendations
        return real(md, site, base)

    monkeypatch.setattr(build_mod, "model_page", nosy)
    assert build_site(Path("catalog"), tmp_path / "serial", search=False, jobs=1).ok
    with pytest.raises(RenderError, match="released"):
        build_site(Path("catalog"), tmp_path / "parallel", search=False, jobs=2)
