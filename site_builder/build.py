"""The build, top to bottom: load -> validate -> compute -> page models -> render -> write (atomic)."""

from __future__ import annotations

import gc
import hashlib
import multiprocessing
import os
import resource
import shutil
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache, partial
from pathlib import Path

from jinja2 import Environment

from site_builder.analysis import SiteAnalysis, analyse_site, compare_slug
from site_builder.api import write_api
from site_builder.catalog import KINDS, load_catalog
from site_builder.engine_cache import default_dir
from site_builder.feeds import write_feeds
from site_builder.incremental import (
    MANIFEST,
    affected,
    model_figures,
    new_manifest,
    pages_to_render,
    read_manifest,
    seed_staging,
    site_values,
)
from site_builder.linkcheck import LinkCache, check_links, page_digests
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
from site_builder.uptodate import MARKER, built_pages, marker_text, read_inputs
from site_builder.validate import apply_rules


@dataclass
class BuildResult:
    ok: bool
    report: Report
    pages: int = 0
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # wall seconds per step, for `make bench`
    rendered: int = 0  # pages rendered: all of them, or after a record edit those whose inputs changed


@dataclass(frozen=True)
class Page:
    """One output file: its template, a function that builds its page model, and what it depends on.

    `deps` names catalog records as "<kind>/<id>"; "<kind>/*" means every record of that kind and "*"
    everything; "model-figures/<id>" is a model record without its description and sources (what GPU pages read
    of every model). The preview server and an incremental build re-render only pages whose dependencies changed, so
    every record a page shows must be named here (tests/site/test_incremental.py compares with full builds).
    """

    path: str  # relative output path, e.g. models/x/index.html
    template: str
    make: Callable[[], PageModel]  # the page model the template reads: a frozen dataclass
    deps: frozenset[str] = frozenset({"*"})

    def affected_by(self, changed: set[str]) -> bool:
        return affected(self.deps, changed)


ENGINE_INPUTS = ("gpus/*", "frameworks/*")
# Every record, but of models only what pages other than their own show (not their description and sources).
ALL_FIGURES = frozenset({"model-figures/*", *(f"{kind}/*" for kind in KINDS if kind != "models")})


def split_base(base_url: str) -> tuple[str, str]:
    """(path prefix for links, absolute origin+prefix for canonical URLs)."""
    if "://" in base_url:
        origin, _, path = base_url.partition("://")[2].partition("/")
        prefix = "/" + path.strip("/") + "/" if path.strip("/") else "/"
        return prefix, base_url.split("://")[0] + "://" + origin + prefix
    prefix = "/" + base_url.strip("/") + "/" if base_url.strip("/") else "/"
    return prefix, prefix


def collect_pages(site: SiteAnalysis, base: str) -> list[Page]:
    """Every page of the site, in a deterministic order; page models are built when rendered."""
    listing = cache(partial(index_page, site, base))  # / and /models/ show the same table
    pages = [
        Page("index.html", "index.html", listing, ALL_FIGURES),
        Page("models/index.html", "index.html", listing, ALL_FIGURES),
        Page("gpus/index.html", "gpus.html", partial(gpu_index_page, site, base), frozenset({"gpus/*"})),
        Page(
            "families/index.html",
            "families.html",
            partial(family_index_page, site, base),
            frozenset({"families/*", "model-figures/*"}),
        ),
        Page("methodology/index.html", "methodology.html", partial(methodology_page, site, base), ALL_FIGURES),
        Page("about/index.html", "about.html", partial(about_page, base), frozenset()),
        Page("contribute/index.html", "contribute.html", partial(contribute_page, base), frozenset()),
        Page("api/index.html", "api.html", partial(api_page, base), frozenset()),
        Page("calculator/index.html", "calculator.html", partial(calculator_page, site, base), ALL_FIGURES),
        Page("search/index.html", "search.html", search_page, frozenset()),
        Page("404.html", "404.html", not_found_page, frozenset()),
    ]
    for mid, md in site.models.items():
        neighbours = {f"model-figures/{s.model.id}" for s in md.similar}
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
        pages.append(Page(f"models/{mid}/index.html", "model.html", partial(model_page, md, site, base), model_deps))
        for d in md.deploys:
            pages.append(
                Page(
                    f"deploy/{mid}/{deploy_slug(d.candidate)}/index.html",
                    "deploy.html",
                    partial(deploy_page, md, d, site, base),
                    frozenset({f"models/{mid}", *ENGINE_INPUTS}),
                )
            )
    for gid, g in site.gpus.items():
        pages.append(
            Page(
                f"gpus/{gid}/index.html",
                "gpu.html",
                partial(gpu_page, g, site, base),
                frozenset({"gpus/*", "model-figures/*", "frameworks/*"}),  # a bundle shows its GPU's record
            )
        )
    members: dict[str, set[str]] = {}
    for mid, md in site.models.items():
        members.setdefault(md.record.family, set()).add(f"model-figures/{mid}")
    for fid, located in sorted(site.catalog.families.items()):
        pages.append(
            Page(
                f"families/{fid}/index.html",
                "family.html",
                partial(family_page, located.record, located.body, site, base),
                frozenset({f"families/{fid}", *members.get(fid, set())}),
            )
        )
    for a, b in site.compare_pairs():
        pages.append(
            Page(
                f"compare/{compare_slug(a, b)}/index.html",
                "compare.html",
                partial(compare_page, site.models[a], site.models[b], site, base),
                frozenset({f"models/{a}", f"models/{b}", "providers/*", *ENGINE_INPUTS}),
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


def render_pages(
    env: Environment, pages: list[Page], out: Path, settings: RenderSettings, done: Callable[[], None] | None = None
) -> int:
    """Render pages into `out`; return how many files changed (unchanged bytes are not rewritten)."""
    written = 0
    for i, page in enumerate(pages, 1):
        html = render_page(env, page, settings)
        target = out / page.path
        if not target.is_file() or target.read_text(encoding="utf-8") != html:
            write_text(out, page.path, html)
            written += 1
        if done is None:
            _progress(i, len(pages))
        else:
            done()
    return written


MEMORY_BUDGET = 1 << 30  # bytes the whole build may hold: parent plus render workers


def default_jobs() -> int:
    """Render processes: one per core this process may use, as many as the memory budget allows.

    A forked worker ends up copying most of the computed site it reads (reference counts write to every
    object), so each costs about the parent's size: a large catalog renders in fewer processes, or in one.
    1 where fork is unavailable.
    """
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    resident = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    return max(1, min(cores, MEMORY_BUDGET // max(resident, 1) - 1))


def render_parallel(env: Environment, pages: list[Page], out: Path, settings: RenderSettings, jobs: int) -> int:
    """render_pages across `jobs` forked workers, each taking every jobs-th page and writing its own files.

    Forked workers share the computed site with the parent (nothing is pickled); every page is rendered by
    the same code from the same data, so the output is byte-identical to a serial build. A worker's error
    is raised here, so the staging directory is discarded as for a serial failure.
    """
    if jobs <= 1 or len(pages) < 2 * jobs:
        return render_pages(env, pages, out, settings)
    for name in {p.template for p in pages}:
        env.get_template(name)  # compile once, before the fork
    ctx = multiprocessing.get_context("fork")
    counter = ctx.Value("i", 0)
    results = ctx.SimpleQueue()

    def tick() -> None:
        with counter.get_lock():
            counter.value += 1

    def work(share: list[Page]) -> None:
        try:
            results.put((render_pages(env, share, out, settings, tick), None))
        except BaseException as err:  # reported to the parent, which raises it
            message = str(err) if isinstance(err, RenderError) else f"{type(err).__name__}: {err}"
            results.put((0, f"{message}\n{traceback.format_exc()}"))

    workers = [ctx.Process(target=work, args=(pages[i::jobs],), daemon=True) for i in range(jobs)]
    # Frozen objects are never scanned by the cyclic GC, so a worker does not copy every page of the
    # parent's memory just to walk it (copy-on-write stays shared).
    gc.collect()
    gc.freeze()
    try:
        for w in workers:
            w.start()
    finally:
        gc.unfreeze()
    while any(w.is_alive() for w in workers):
        _progress(min(counter.value, len(pages) - 1), len(pages))
        time.sleep(0.05)
    for w in workers:
        w.join()
    outcomes = []
    while not results.empty():
        outcomes.append(results.get())
    if len(outcomes) < jobs:  # killed (out of memory, a signal) before it could report
        raise RuntimeError(f"a render worker died: exit codes {[w.exitcode for w in workers]}")
    _progress(len(pages), len(pages))
    errors = [err for _, err in outcomes if err]
    if errors:  # the first line names the page; the worker's traceback follows
        raise RenderError(errors[0])
    return sum(n for n, _ in outcomes)


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
    inputs = read_inputs(catalog_dir, find_config(catalog_dir), options)
    key = inputs.key
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
    manifest = new_manifest(inputs, model_figures(site), site_values(site, settings.catalog_date), pages)
    previous = read_manifest(out)
    chosen = pages_to_render(previous, manifest, pages, out)
    old = previous.pages if previous is not None else {}
    try:
        with staging_dir(out) as tmp:
            if chosen is None:
                chosen = pages
            else:  # the previous site's pages and static files (same code); a page rendered the same stays a link
                seed_staging(out, tmp, [p.path for p in pages if p.path in old], ["static"])
                lap("seed")
            render_parallel(env, chosen, tmp, settings, default_jobs() if jobs is None else jobs)
            if chosen is pages:
                write_static(tmp)
            lap("render")

            write_plumbing(site, pages, tmp, absolute, config.title)
            lap("feeds")
            digests = page_digests(tmp)
            cache = default_dir(catalog.root)  # beside the engine's results: pages' links and search copies
            if search:
                manifest = replace(manifest, search=search_digest(tmp, digests))
                same = previous is not None and previous.search == manifest.search and (out / "pagefind").is_dir()
                if chosen is not pages and same:
                    seed_staging(out, tmp, [], ["pagefind"])  # the same pages give the same index
                else:
                    from site_builder.search import index_site

                    index_site(tmp, cache / "search.pickle" if cache else None, digests)
                lap("search")

            broken, _ = check_links(
                tmp, base, absolute, digests=digests, cache=LinkCache(cache / "links.pickle" if cache else None)
            )
            if broken:
                raise BrokenLinksError(broken)
            write_text(tmp, MANIFEST, manifest.text())
            write_text(tmp, MARKER, marker_text(key, len(pages)))
            lap("checks")
    except BrokenLinksError as err:
        report.extend(err.problems)
        return _failed(report, out)
    lap("swap")

    seconds = time.perf_counter() - start
    # The preview server says where it serves; only a plain build points at the files and `make serve`.
    hint = "" if live_reload else f" — open {out.resolve() / 'index.html'} or run `make serve`"
    kept = len(pages) - len(chosen)
    rewritten = f" ({len(chosen)} rendered, {kept} kept from the previous build)" if kept else ""
    print(
        f"built {len(pages)} pages{rewritten} from {len(site.models)} models and {len(site.gpus)} GPUs into {out} "
        f"in {seconds:.1f}s{hint}",
        file=sys.stderr,
    )
    return BuildResult(True, report, len(pages), seconds, phases, len(chosen))


def search_digest(root: Path, digests: dict[Path, str]) -> str:
    """What Pagefind reads: the indexed pages, by path and bytes (its own version and options are in the code hash)."""
    from site_builder.search import indexed

    h = hashlib.sha256()
    for file, digest in sorted(digests.items()):
        rel = file.relative_to(root).as_posix()
        if indexed(rel):
            h.update(f"{rel}\0{digest}\0".encode())
    return h.hexdigest()


def _failed(report: Report, out: Path) -> BuildResult:
    print(f"build failed: {report.summary()}; {out} left unchanged", file=sys.stderr)
    return BuildResult(False, report)
