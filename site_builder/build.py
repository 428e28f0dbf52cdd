"""The build, top to bottom: load -> validate -> compute -> page models -> render -> write (atomic)."""

from __future__ import annotations

import gc
import multiprocessing
import os
import shutil
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, partial
from multiprocessing.connection import Connection
from pathlib import Path

from jinja2 import Environment

from site_builder.analysis import SiteAnalysis, analyse_site, compare_slug
from site_builder.api import write_api
from site_builder.catalog import load_catalog
from site_builder.feeds import write_feeds
from site_builder.linkcheck import Links, check_links
from site_builder.linkcheck import scan as scan_links
from site_builder.output import check_output_dir, staging_dir, write_text
from site_builder.pages.base import PageModel
from site_builder.pages.calculator import calculator_page
from site_builder.pages.detail_pages import compare_page, deploy_page, family_page
from site_builder.pages.gpu_page import gpu_page
from site_builder.pages.info_pages import (
    about_page,
    api_page,
    contribute_page,
    methodology_page,
    not_found_page,
    search_page,
)
from site_builder.pages.listing_pages import family_index_page, gpu_index_page, index_page
from site_builder.pages.model import deploy_slug, model_page
from site_builder.paths import STATIC
from site_builder.problems import Problem, Report
from site_builder.render import environment
from site_builder.siteconfig import ConfigError, find_config, load_config
from site_builder.stylesheet import stylesheet
from site_builder.uptodate import MARKER, built_pages, fingerprint, marker_text
from site_builder.validate import apply_rules


@dataclass
class BuildResult:
    ok: bool
    report: Report
    pages: int = 0
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # wall seconds per step, for `make bench`


@dataclass(frozen=True)
class Page:
    """One output file: its template, a function that builds its page model, and what it depends on.

    `deps` names catalog records as "<kind>/<id>"; "<kind>/*" means every record of that kind and "*"
    everything. The preview server re-renders only pages whose dependencies changed.
    """

    path: str  # relative output path, e.g. models/x/index.html
    template: str
    make: Callable[[], PageModel]  # the page model the template reads: a frozen dataclass
    deps: frozenset[str] = frozenset({"*"})
    owner: str = ""  # the model whose page this is (its page, deploy pages, comparisons); "": a site-wide page

    def models_read(self) -> set[str]:
        """The models whose engine results the page reads: those its deps name one by one."""
        return {d.removeprefix("models/") for d in self.deps if d.startswith("models/") and d != "models/*"}

    def affected_by(self, changed: set[str]) -> bool:
        if "*" in self.deps or "*" in changed:
            return True
        for key in changed:
            kind = key.split("/", 1)[0]
            if key in self.deps or f"{kind}/*" in self.deps:
                return True
        return False


ENGINE_INPUTS = ("gpus/*", "frameworks/*")


def split_base(base_url: str) -> tuple[str, str]:
    """(path prefix for links, absolute origin+prefix for canonical URLs)."""
    if "://" in base_url:
        origin, _, path = base_url.partition("://")[2].partition("/")
        prefix = "/" + path.strip("/") + "/" if path.strip("/") else "/"
        return prefix, base_url.split("://")[0] + "://" + origin + prefix
    prefix = "/" + base_url.strip("/") + "/" if base_url.strip("/") else "/"
    return prefix, prefix


# Page models are made from ids, not from the ModelData itself: a render process that releases the models it does not
# render (render_site) must hold no other reference to them.
def _model_page(site: SiteAnalysis, mid: str, base: str) -> PageModel:
    return model_page(site.models[mid], site, base)


def _deploy_page(site: SiteAnalysis, mid: str, index: int, base: str) -> PageModel:
    md = site.models[mid]
    return deploy_page(md, md.deploys[index], site, base)


def _compare_page(site: SiteAnalysis, a: str, b: str, base: str) -> PageModel:
    return compare_page(site.models[a], site.models[b], site, base)


def collect_pages(site: SiteAnalysis, base: str) -> list[Page]:
    """Every page of the site, in a deterministic order; page models are built when rendered."""
    listing = cache(partial(index_page, site, base))  # / and /models/ show the same table
    pages = [
        Page("index.html", "index.html", listing),
        Page("models/index.html", "index.html", listing),
        Page("gpus/index.html", "gpus.html", partial(gpu_index_page, site, base), frozenset({"gpus/*"})),
        Page(
            "families/index.html",
            "families.html",
            partial(family_index_page, site, base),
            frozenset({"families/*", "models/*"}),
        ),
        Page("methodology/index.html", "methodology.html", partial(methodology_page, site, base)),
        Page("about/index.html", "about.html", partial(about_page, base), frozenset()),
        Page("contribute/index.html", "contribute.html", partial(contribute_page, base), frozenset()),
        Page("api/index.html", "api.html", partial(api_page, base), frozenset()),
        Page("calculator/index.html", "calculator.html", partial(calculator_page, site, base)),
        Page("search/index.html", "search.html", search_page, frozenset()),
        Page("404.html", "404.html", not_found_page, frozenset()),
    ]
    for mid, md in site.models.items():
        neighbours = {f"models/{s.model.id}" for s in md.similar}
        model_deps = frozenset(
            {
                f"models/{mid}",
                f"families/{md.record.family}",
                "providers/*",
                "benchmarks/*",
                *ENGINE_INPUTS,
                *neighbours,
            }
        )
        pages.append(
            Page(f"models/{mid}/index.html", "model.html", partial(_model_page, site, mid, base), model_deps, mid)
        )
        for i, d in enumerate(md.deploys):
            pages.append(
                Page(
                    f"deploy/{mid}/{deploy_slug(d.candidate)}/index.html",
                    "deploy.html",
                    partial(_deploy_page, site, mid, i, base),
                    frozenset({f"models/{mid}", *ENGINE_INPUTS}),
                    mid,
                )
            )
    for gid, g in site.gpus.items():
        pages.append(
            Page(
                f"gpus/{gid}/index.html",
                "gpu.html",
                partial(gpu_page, g, site, base),
                frozenset({f"gpus/{gid}", "models/*", "frameworks/*"}),
            )
        )
    for fid, located in sorted(site.catalog.families.items()):
        pages.append(
            Page(
                f"families/{fid}/index.html",
                "family.html",
                partial(family_page, located.record, located.body, site, base),
                frozenset({f"families/{fid}", "models/*"}),
            )
        )
    for a, b in site.compare_pairs():
        pages.append(
            Page(
                f"compare/{compare_slug(a, b)}/index.html",
                "compare.html",
                partial(_compare_page, site, a, b, base),
                frozenset({f"models/{a}", f"models/{b}", "providers/*", *ENGINE_INPUTS}),
                a,
            )
        )
    paths = [p.path for p in pages]
    if len(set(paths)) != len(paths):  # two page models for one file would silently lose one of them
        raise ValueError(f"pages share an output path: {sorted({x for x in paths if paths.count(x) > 1})}")
    return pages


def _progress(done: int, total: int) -> None:
    if sys.stderr.isatty():
        width = 30
        filled = width * done // total
        print(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} pages", end="", file=sys.stderr)
        if done == total:
            print(file=sys.stderr)


def catalog_date(site: SiteAnalysis) -> str:
    dates = [str(md.record.release_date) for md in site.models.values() if md.record.release_date]
    dates += [str(f.reviewed) for f in site.families.values()]
    return max(dates) if dates else "unknown"


@dataclass(frozen=True)
class RenderSettings:
    """What every page's template receives besides its page model."""

    base: str  # path prefix for links, e.g. "/" or "/catalog/"
    absolute: str  # origin + prefix for canonical URLs
    catalog_date: str
    search: bool
    live_reload: bool = False  # the preview server's reload script
    site_title: str = "Model Catalog"
    repository: str = ""  # source repository URL for the footer; empty: none


def _render_one(env: Environment, page: Page, settings: RenderSettings) -> str:
    context = page.make()
    ctx = {
        "page": context,
        "base": settings.base,
        "canonical": settings.absolute + page.path.removesuffix("index.html"),
        "catalog_date": settings.catalog_date,
        "search_enabled": settings.search,
        "live_reload": settings.live_reload,
        "site_title": settings.site_title,
        "repository": settings.repository,
    }
    return env.get_template(page.template).render(ctx)


class RenderError(RuntimeError):
    """A page's model or template failed; the message names the page and its template."""


def render_page(env: Environment, page: Page, settings: RenderSettings) -> str:
    try:
        return _render_one(env, page, settings)
    except Exception as err:
        raise RenderError(f"error rendering {page.path} ({page.template}): {type(err).__name__}: {err}") from err


@dataclass
class Rendered:
    """What rendering pages gives the rest of the build: how many files changed, and each page's links (scanned from
    the bytes as they were written, so the link check does not read every page again)."""

    written: int = 0
    links: dict[str, Links] = field(default_factory=dict)

    def add(self, other: Rendered) -> None:
        self.written += other.written
        self.links.update(other.links)


def render_pages(
    env: Environment, pages: list[Page], out: Path, settings: RenderSettings, done: Callable[[], None] | None = None
) -> Rendered:
    """Render pages into `out` (unchanged bytes are not rewritten)."""
    result = Rendered()
    for i, page in enumerate(pages, 1):
        html = render_page(env, page, settings)
        target = out / page.path
        if not target.is_file() or target.read_text(encoding="utf-8") != html:
            write_text(out, page.path, html)
            result.written += 1
        result.links[page.path] = scan_links(html.encode("utf-8"))
        if done is None:
            _progress(i, len(pages))
        else:
            done()
    return result


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def default_jobs() -> int:
    """Render processes: one per core this process may use; 1 where fork is unavailable."""
    return _cores() if "fork" in multiprocessing.get_all_start_methods() else 1


# Relative render cost of a page, for splitting the work evenly (CPU time per page type measured by `make bench` at
# 300 models x 60 GPUs): a GPU page or a listing shows a row per model of the catalog, so it grows with it.
PAGE_COST = {"model.html": 10.0, "deploy.html": 1.0, "compare.html": 0.5, "family.html": 10.0}
COST_PER_LISTED_MODEL = 0.07  # gpu.html and index.html, per model
OTHER_PAGE_COST = 10.0


def page_cost(page: Page, models: int) -> float:
    if page.template in ("gpu.html", "index.html"):
        return COST_PER_LISTED_MODEL * models
    return PAGE_COST.get(page.template, OTHER_PAGE_COST)


def split_work(pages: list[Page], jobs: int, models: int) -> list[list[Page]]:
    """`jobs` shares of about equal cost. The first, rendered by the parent, holds every site-wide page (they read all
    models, which only the parent keeps); each share holds whole models (a model's page, deploy pages and the
    comparisons it leads), contiguous in catalog order, so that a process reads, and copies, few models' results."""
    site_wide = [p for p in pages if not p.owner]
    groups: dict[str, list[Page]] = {}
    for p in pages:
        if p.owner:
            groups.setdefault(p.owner, []).append(p)
    left = sum(page_cost(p, models) for p in pages)
    shares: list[list[Page]] = [list(site_wide)]
    cost = sum(page_cost(p, models) for p in site_wide)
    for group in groups.values():
        # A share is full at its even part of what was left when it started (the site-wide pages may fill the first).
        if cost >= left / (jobs - len(shares) + 1) and len(shares) < jobs:
            left -= cost
            shares.append([])
            cost = 0.0
        shares[-1] += group
        cost += sum(page_cost(p, models) for p in group)
    return [share for share in shares if share] or [[]]


def render_site(
    env: Environment, pages: list[Page], out: Path, settings: RenderSettings, jobs: int, site: SiteAnalysis
) -> Rendered:
    """render_pages across `jobs` processes: this one and jobs-1 forked workers, each writing its own share's files.

    Forked workers share the computed site with the parent (nothing is pickled); every page is rendered by the same
    code from the same data, so the output is byte-identical to a serial build. Memory: a page of the parent's memory
    that either process then writes to (a reference count is enough) is copied, so each worker first releases the
    models its pages do not read (`SiteAnalysis.release`) and no longer maps them; the parent renders the site-wide
    pages, which read every model. A worker's error is raised here, so the staging directory is discarded as for a
    serial failure.
    """
    shares = split_work(pages, jobs, len(site.models)) if jobs > 1 and len(pages) >= 2 * jobs else [pages]
    if len(shares) == 1:
        return render_pages(env, pages, out, settings)
    for name in {p.template for p in pages}:
        env.get_template(name)  # compile once, before the fork
    ctx = multiprocessing.get_context("fork")
    counter = ctx.Value("i", 0)

    def tick() -> None:
        with counter.get_lock():
            counter.value += 1
        if multiprocessing.parent_process() is None:
            _progress(min(counter.value, len(pages) - 1), len(pages))

    def work(share: list[Page], conn: Connection) -> None:
        try:
            site.release(set().union(*(p.models_read() for p in share)))
            conn.send((render_pages(env, share, out, settings, tick), None))
        except BaseException as err:  # reported to the parent, which raises it
            message = str(err) if isinstance(err, RenderError) else f"{type(err).__name__}: {err}"
            conn.send((None, f"{message}\n{traceback.format_exc()}"))
        finally:
            conn.close()

    # Frozen objects are never scanned by the cyclic GC, so neither process writes to (and copies) every page of the
    # computed site just to walk it; they stay frozen until the workers are done.
    gc.collect()
    gc.freeze()
    workers: list[tuple[multiprocessing.process.BaseProcess, Connection]] = []
    try:
        for share in shares[1:]:
            receive, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=work, args=(share, send), daemon=True)
            proc.start()
            send.close()
            workers.append((proc, receive))
        result = render_pages(env, shares[0], out, settings, tick)
        errors = []
        for w, receive in workers:
            outcome: tuple[Rendered | None, str | None] | None = None
            while outcome is None and (w.is_alive() or receive.poll()):
                if receive.poll(0.05):
                    outcome = receive.recv()
            if outcome is None:  # killed (out of memory, a signal) before it could report
                raise RuntimeError(f"a render worker died: exit code {w.exitcode}")
            rendered, error = outcome
            if error:
                errors.append(error)
            elif rendered is not None:
                result.add(rendered)
        if errors:  # the first line names the page; the worker's traceback follows
            raise RenderError(errors[0])
    finally:
        for w, _ in workers:
            if w.is_alive():
                w.terminate()
            w.join()
        gc.unfreeze()
    _progress(len(pages), len(pages))
    return result


def write_plumbing(
    site: SiteAnalysis, pages: list[Page], out: Path, absolute: str, title: str = "Model Catalog"
) -> None:
    """JSON API, sitemap, robots.txt and feed: cheap, so always rewritten in full."""
    write_api(site, out, absolute)
    write_feeds(site, [p.path for p in pages], out, absolute, title)


def write_static(out: Path) -> None:
    # The vendored plotly.js bundle travels with its licence; the README is for maintainers only.
    shutil.copytree(STATIC, out / "static", ignore=shutil.ignore_patterns("README.md"), dirs_exist_ok=True)
    css = stylesheet((STATIC / "site.css").read_text(encoding="utf-8"))
    write_text(out, "static/site.css", css)


class _Lap:
    """Records the wall time since the previous lap under a phase name."""

    def __init__(self, phases: dict[str, float]) -> None:
        self.phases, self.last = phases, time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.phases[name] = round(self.phases.get(name, 0.0) + now - self.last, 3)
        self.last = now


class BrokenLinksError(Exception):
    """The staged site links to a page or anchor it does not have; the build stops before the swap."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} broken internal link(s)")
        self.problems = problems


def build_site(
    catalog_dir: Path,
    out: Path,
    *,
    base_url: str | None = None,
    strict: bool = False,
    search: bool = True,
    live_reload: bool = False,
    jobs: int | None = None,
) -> BuildResult:
    """Build the site: load -> rules -> analysis -> routes -> render -> feeds/API -> checks -> swap.

    `base_url` (None: site.toml's) overrides the configured base URL; `jobs` render processes (None: one per core
    within the memory budget). Problems in the catalog or broken links leave `out` untouched."""
    start = time.perf_counter()
    check_output_dir(out, catalog_dir)  # before anything else: a refused --out is never touched
    report = Report()
    try:
        config = load_config(find_config(catalog_dir))
    except ConfigError as err:
        report.extend(err.problems)
        return _failed(report, out)
    options = {"base_url": base_url or config.base_url, "strict": strict, "search": search, "live": live_reload}
    key = fingerprint(catalog_dir, find_config(catalog_dir), options)
    done = built_pages(out, key)
    if done is not None:
        print(f"{out} is up to date ({done} pages; nothing changed since it was built)", file=sys.stderr)
        return BuildResult(True, report, done, time.perf_counter() - start)
    phases: dict[str, float] = {}
    lap = _Lap(phases)

    catalog = load_catalog(catalog_dir, report)
    lap("load")
    apply_rules(catalog, report, format_check=False)  # the record layout rule is slow: `check` runs it
    lap("rules")
    if report.fails(strict):
        return _failed(report, out)

    site = analyse_site(catalog)
    lap("analysis")

    base, absolute = split_base(config.base_url if base_url is None else base_url)
    pages = collect_pages(site, base)
    lap("routes")

    env = environment()
    settings = RenderSettings(base, absolute, catalog_date(site), search, live_reload, config.title, config.repository)
    try:
        with staging_dir(out) as tmp:
            rendered = render_site(env, pages, tmp, settings, default_jobs() if jobs is None else jobs, site)
            write_static(tmp)
            lap("render")

            write_plumbing(site, pages, tmp, absolute, config.title)
            lap("feeds")
            if search:
                from site_builder.search import index_site

                index_site(tmp)
                lap("search")

            broken, _ = check_links(tmp, base, absolute, rendered.links)
            if broken:
                raise BrokenLinksError(broken)
            write_text(tmp, MARKER, marker_text(key, len(pages)))
            lap("checks")
    except BrokenLinksError as err:
        report.extend(err.problems)
        return _failed(report, out)
    lap("swap")

    seconds = time.perf_counter() - start
    # The preview server says where it serves; only a plain build points at the files and `make serve`.
    hint = "" if live_reload else f" — open {out.resolve() / 'index.html'} or run `make serve`"
    print(
        f"built {len(pages)} pages from {len(site.models)} models and {len(site.gpus)} GPUs into {out} "
        f"in {seconds:.1f}s{hint}",
        file=sys.stderr,
    )
    return BuildResult(True, report, len(pages), seconds, phases)


def _failed(report: Report, out: Path) -> BuildResult:
    print(f"build failed: {report.summary()}; {out} left unchanged", file=sys.stderr)
    return BuildResult(False, report)
