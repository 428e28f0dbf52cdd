"""The build, top to bottom: load -> validate -> compute -> page models -> render -> write (atomic)."""

from __future__ import annotations

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
    model_figures,
    new_manifest,
    pages_to_render,
    read_manifest,
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
from site_builder.problems import Problem, Report
from site_builder.render import environment
from site_builder.rendering import Page, RenderSettings, default_jobs, render_site
from site_builder.search import Indexing
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

    cache = default_dir(catalog.root)  # engine results, compiled templates, pages' links and search copies
    env = environment(cache=cache)
    settings = RenderSettings(base, absolute, catalog_date(site), search, live_reload, config.title, config.repository)
    manifest = new_manifest(inputs, model_figures(site), site_values(site, settings.catalog_date), pages)
    previous = read_manifest(out)
    chosen = pages_to_render(previous, manifest, pages, out)
    full = chosen is None  # every page rendered into an empty directory
    old = previous.pages if previous is not None else {}
    try:
        with staging_dir(out) as tmp:
            if chosen is None:
                chosen = pages
            else:  # the previous site's pages and static files (same code); a page rendered the same stays a link
                seed_staging(out, tmp, [p.path for p in pages if p.path in old], ["static"])
                lap("seed")
            rendered = render_site(
                env, chosen, tmp, settings, default_jobs() if jobs is None else jobs, len(site.models)
            )
            if full:
                write_static(tmp)
            lap("render")

            digests = page_digests(tmp, rendered.digests)
            indexing = None
            if search:
                manifest = replace(manifest, search=search_digest(tmp, digests))
                same = previous is not None and previous.search == manifest.search and (out / "pagefind").is_dir()
                if not full and same:
                    seed_staging(out, tmp, [], ["pagefind"])  # the same pages give the same index
                else:  # Pagefind indexes in its own process while the feeds are written and the links checked
                    indexing = Indexing(tmp, cache / "search.pickle" if cache else None, digests)
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
