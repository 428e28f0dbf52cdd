"""The build, top to bottom: load -> validate -> compute -> page models -> render -> write (atomic)."""

from __future__ import annotations

import gc
import hashlib
import shutil
import sys
import time
from dataclasses import dataclass, field, replace
from functools import cache, partial
from pathlib import Path

from site_builder.analysis import SiteAnalysis, analyse_site, compare_slug
from site_builder.api import write_api
from site_builder.catalog import KINDS, load_catalog
from site_builder.engine_cache import default_dir
from site_builder.feeds import write_feeds
from site_builder.incremental import (
    MANIFEST,
    Seeding,
    gpu_rows,
    model_figures,
    new_manifest,
    pages_to_render,
    read_manifest,
    reusable,
    seed_staging,
    site_values,
)
from site_builder.linkcheck import LinkCache, check_links, check_search_links, page_digests
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
from site_builder.problems import Report
from site_builder.record_cache import RecordCache
from site_builder.render import environment
from site_builder.rendering import Page, RenderSettings, default_jobs, render_site
from site_builder.search import Indexing, indexed
from site_builder.siteconfig import ConfigError, SiteConfig, find_config, load_config
from site_builder.stylesheet import stylesheet
from site_builder.uptodate import MARKER, Inputs, built_pages, marker_text, read_inputs
from site_builder.validate import apply_rules


@dataclass
class BuildResult:
    ok: bool
    report: Report
    pages: int = 0
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # wall seconds per step, for `make bench`
    rendered: int = 0  # pages rendered: all of them, or after a record edit those whose inputs changed
    models: int = 0
    gpus: int = 0


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
                frozenset({"gpus/*", f"gpu-rows/{gid}", "frameworks/*"}),  # a bundle shows its GPU's record
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
                partial(_compare_page, site, a, b, base),
                frozenset({f"models/{a}", f"models/{b}", "providers/*", *ENGINE_INPUTS}),
                a,
            )
        )
    paths = [p.path for p in pages]
    if len(set(paths)) != len(paths):  # two page models for one file would silently lose one of them
        raise ValueError(f"pages share an output path: {sorted({x for x in paths if paths.count(x) > 1})}")
    return pages


def catalog_date(site: SiteAnalysis) -> str:
    dates = [str(md.record.release_date) for md in site.models.values() if md.record.release_date]
    dates += [str(f.reviewed) for f in site.families.values()]
    return max(dates) if dates else "unknown"


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


class _Stopped(Exception):
    """The catalog has errors, or the staged site broken links (both in the build's report): the staging directory is
    discarded and the previous site left as it was."""


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
    done = built_pages(out, inputs.key)
    if done is not None:
        print(f"{out} is up to date ({done} pages; nothing changed since it was built)", file=sys.stderr)
        return BuildResult(True, report, done, time.perf_counter() - start)
    asked = Build(catalog_dir, out, config, inputs, base_url, strict, search, live_reload, jobs)
    # The catalog and its analysis are a large heap of long-lived objects and little garbage: the cyclic GC does not
    # scan it while it grows (that was a tenth of an incremental build), nor afterwards (it is frozen), until the end.
    gc.disable()
    try:
        with staging_dir(out) as tmp:
            result = _stage(asked, tmp, report)
    except _Stopped:
        return _failed(report, out)
    finally:
        gc.enable()
        gc.unfreeze()
    result.seconds = time.perf_counter() - start
    # The preview server says where it serves; only a plain build points at the files and `make serve`.
    hint = "" if live_reload else f" — open {out.resolve() / 'index.html'} or run `make serve`"
    kept = result.pages - result.rendered
    rewritten = f" ({result.rendered} rendered, {kept} kept from the previous build)" if kept else ""
    print(
        f"built {result.pages} pages{rewritten} from {result.models} models and {result.gpus} GPUs into {out} "
        f"in {result.seconds:.1f}s{hint}",
        file=sys.stderr,
    )
    return result


@dataclass(frozen=True)
class Build:
    """What build_site was asked for, and the site config and catalog inputs it read first."""

    catalog_dir: Path
    out: Path
    config: SiteConfig
    inputs: Inputs
    base_url: str | None
    strict: bool
    search: bool
    live_reload: bool
    jobs: int | None


def _stage(build: Build, tmp: Path, report: Report) -> BuildResult:
    """Everything between reading the inputs and the swap, into the staging directory `tmp`; raises _Stopped."""
    phases: dict[str, float] = {}
    lap = _Lap(phases)
    out, config = build.out, build.config
    previous = read_manifest(out)
    # While the catalog is loaded and analysed, another process links the previous site's files into the staging folder.
    seeding = Seeding(out, tmp, previous) if reusable(previous, build.inputs.code, out) else None
    try:
        cache = default_dir(build.catalog_dir)  # records, engine results, compiled templates, links, search copies
        kept = RecordCache(cache / "records.pickle" if cache else None)
        catalog = load_catalog(build.catalog_dir, report, kept=kept)
        kept.save()
        lap("load")
        apply_rules(catalog, report, format_check=False)  # the record layout rule is slow: `check` runs it
        lap("rules")
        if report.fails(build.strict):
            raise _Stopped

        site = analyse_site(catalog)
        gc.freeze()
        lap("analysis")

        base, absolute = split_base(config.base_url if build.base_url is None else build.base_url)
        pages = collect_pages(site, base)
        lap("routes")

        env = environment(cache=cache)
        date = catalog_date(site)
        settings = RenderSettings(
            base, absolute, date, build.search, build.live_reload, config.title, config.repository
        )
        derived = {**model_figures(site), **gpu_rows(site)}
        manifest = new_manifest(build.inputs, derived, site_values(site, date), pages)
        chosen = pages_to_render(previous, manifest, pages, out)
        lap("manifest")
        if seeding is not None:  # the previous site's pages and static files; a page rendered the same stays a link
            seeding.join()
            seeding.drop_others(p.path for p in pages)
            lap("seed")
    finally:
        if seeding is not None:
            seeding.worker.join()  # nothing may link into the staging directory once it is discarded
    full = chosen is None  # every page rendered into an empty directory
    if chosen is None:
        chosen = pages
    jobs = default_jobs() if build.jobs is None else build.jobs
    rendered = render_site(env, chosen, tmp, settings, jobs, len(site.models))
    if full:
        write_static(tmp)
    lap("render")

    # A page taken from the previous site is a link to the file its manifest hashed: only rendered pages are hashed.
    known = {} if full or previous is None else {p: d for p, d in previous.digests.items() if p not in rendered.digests}
    digests = page_digests(tmp, {**known, **rendered.digests})
    manifest = replace(manifest, digests={f.relative_to(tmp).as_posix(): d for f, d in digests.items()})
    indexing = None
    if build.search:
        manifest = replace(manifest, search=search_digest(manifest.digests))
        same = previous is not None and previous.search == manifest.search and (out / "pagefind").is_dir()
        if not full and same:
            seed_staging(out, tmp, [], ["pagefind"])  # the same pages give the same index
        else:  # Pagefind indexes in its own process while the feeds are written and the links checked
            indexing = Indexing(tmp, cache / "search" if cache else None, digests)
    try:
        write_plumbing(site, pages, tmp, absolute, config.title)
        lap("feeds")
        pending: list[tuple[Path, str, str, str]] | None = [] if indexing else None
        broken, _ = check_links(
            tmp,
            base,
            absolute,
            digests=digests,
            cache=LinkCache(cache / "links.pickle" if cache else None),
            scanned=rendered.links,
            search_pending=pending,
        )
        lap("checks")
        if indexing is not None:
            indexing.wait()
            broken += check_search_links(tmp, pending or [])
            lap("search")
    except BaseException:
        if indexing is not None:
            indexing.stop()
        raise
    if broken:
        report.extend(broken)
        raise _Stopped
    write_text(tmp, MANIFEST, manifest.text())
    write_text(tmp, MARKER, marker_text(build.inputs.key, len(pages)))
    lap("checks")
    return BuildResult(True, report, len(pages), 0.0, phases, len(chosen), len(site.models), len(site.gpus))


def search_digest(digests: dict[str, str]) -> str:
    """What Pagefind reads: the indexed pages (`digests` by path below the site), by path and bytes (its own version
    and options are in the code hash)."""
    h = hashlib.sha256()
    for rel, digest in sorted(digests.items()):
        if indexed(rel):
            h.update(f"{rel}\0{digest}\0".encode())
    return h.hexdigest()


def _failed(report: Report, out: Path) -> BuildResult:
    print(f"build failed: {report.summary()}; {out} left unchanged", file=sys.stderr)
    return BuildResult(False, report)
