"""The build, top to bottom: load -> validate -> compute -> page models -> render -> write (atomic)."""

from __future__ import annotations

import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment

from site_builder.output import staging_dir, write_text
from site_builder.pages import plumbing
from site_builder.pages.detail_pages import compare_page, deploy_page, family_page
from site_builder.pages.gpu_page import gpu_page
from site_builder.pages.info_pages import about_page, api_page, methodology_page
from site_builder.pages.listing_pages import family_index_page, gpu_index_page, index_page
from site_builder.pages.model_page import deploy_slug, model_page
from site_builder.pages.site import SiteData, compare_slug, compute_site
from site_builder.problems import Report
from site_builder.render import environment
from site_builder.validate import validate_catalog

STATIC = Path(__file__).resolve().parent.parent / "static"


@dataclass
class BuildResult:
    ok: bool
    report: Report
    pages: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class Page:
    path: str  # relative output path, e.g. models/x/index.html
    template: str
    context: dict[str, Any]


def _split_base(base_url: str) -> tuple[str, str]:
    """(path prefix for links, absolute origin+prefix for canonical URLs)."""
    if "://" in base_url:
        origin, _, path = base_url.partition("://")[2].partition("/")
        prefix = "/" + path.strip("/") + "/" if path.strip("/") else "/"
        return prefix, base_url.split("://")[0] + "://" + origin + prefix
    prefix = "/" + base_url.strip("/") + "/" if base_url.strip("/") else "/"
    return prefix, prefix


def collect_pages(site: SiteData, base: str) -> list[Page]:
    pages = [
        Page("index.html", "index.html", index_page(site, base)),
        Page("models/index.html", "index.html", index_page(site, base)),
        Page("gpus/index.html", "gpus.html", gpu_index_page(site, base)),
        Page("families/index.html", "families.html", family_index_page(site, base)),
        Page("methodology/index.html", "methodology.html", methodology_page(site, base)),
        Page("about/index.html", "about.html", about_page(base)),
        Page("api/index.html", "api.html", api_page(base)),
        Page(
            "search/index.html",
            "search.html",
            {"title": "Search", "description": "Search the catalog.", "charts": False},
        ),
        Page(
            "404.html",
            "404.html",
            {"title": "Page not found", "description": "This page does not exist.", "charts": False},
        ),
    ]
    for mid, md in site.models.items():
        pages.append(Page(f"models/{mid}/index.html", "model.html", model_page(md, site, base)))
        for c in md.analysis.recommendations:
            pages.append(
                Page(f"deploy/{mid}/{deploy_slug(c)}/index.html", "deploy.html", deploy_page(md, c, site, base))
            )
        for extra in (md.analysis.min_single_gpu, md.analysis.best_multi_gpu):
            if extra and extra not in md.analysis.recommendations:
                pages.append(
                    Page(
                        f"deploy/{mid}/{deploy_slug(extra)}/index.html",
                        "deploy.html",
                        deploy_page(md, extra, site, base),
                    )
                )
    for gid, g in site.gpus.items():
        pages.append(Page(f"gpus/{gid}/index.html", "gpu.html", gpu_page(g, site, base)))
    for fid, located in sorted(site.catalog.families.items()):
        pages.append(
            Page(f"families/{fid}/index.html", "family.html", family_page(located.record, located.body, site, base))
        )
    for a, b in site.compare_pairs():
        pages.append(
            Page(
                f"compare/{compare_slug(a, b)}/index.html",
                "compare.html",
                compare_page(site.models[a], site.models[b], site, base),
            )
        )
    unique: dict[str, Page] = {}
    for p in pages:
        unique.setdefault(p.path, p)
    return list(unique.values())


def _progress(done: int, total: int) -> None:
    if sys.stderr.isatty():
        width = 30
        filled = width * done // total
        print(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} pages", end="", file=sys.stderr)
        if done == total:
            print(file=sys.stderr)


def catalog_date(site: SiteData) -> str:
    dates = [str(md.record.release_date) for md in site.models.values() if md.record.release_date]
    dates += [str(f.reviewed) for f in site.families.values()]
    return max(dates) if dates else "unknown"


def render_pages(
    env: Environment, pages: list[Page], out: Path, base: str, absolute: str, cdate: str, search: bool
) -> None:
    from site_builder.pages.faq import faq_jsonld

    for i, page in enumerate(pages, 1):
        url_path = page.path.removesuffix("index.html")
        ctx = {
            "page": page.context,
            "base": base,
            "canonical": absolute + url_path,
            "catalog_date": cdate,
            "search_enabled": search,
            "faq_jsonld": faq_jsonld(page.context) if page.template == "model.html" else "",
        }
        write_text(out, page.path, env.get_template(page.template).render(ctx))
        _progress(i, len(pages))


def write_static(out: Path) -> None:
    import plotly

    target = out / "static"
    shutil.copytree(STATIC, target)
    bundle = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    shutil.copyfile(bundle, target / "plotly.min.js")


def write_api(site: SiteData, out: Path) -> None:
    write_text(out, "api/v1/models.json", plumbing.dumps([plumbing.model_summary(md) for md in site.models.values()]))
    for mid, md in site.models.items():
        write_text(out, f"api/v1/models/{mid}.json", plumbing.dumps(plumbing.model_detail(md)))
    write_text(out, "api/v1/gpus.json", plumbing.dumps([g.model_dump(mode="json") for g in site.gpus.values()]))


def build_site(
    catalog_dir: Path, out: Path, *, base_url: str = "/", strict: bool = False, search: bool = True
) -> BuildResult:
    start = time.perf_counter()
    report = Report()
    catalog = validate_catalog(catalog_dir, report)
    if report.fails(strict):
        print(f"build failed: {report.summary()}; {out} left unchanged", file=sys.stderr)
        return BuildResult(False, report)
    site = compute_site(catalog)
    base, absolute = _split_base(base_url)
    pages = collect_pages(site, base)
    env = environment()
    with staging_dir(out) as tmp:
        render_pages(env, pages, tmp, base, absolute, catalog_date(site), search)
        write_static(tmp)
        write_api(site, tmp)
        html = sorted(p.path.removesuffix("index.html") for p in pages if p.path != "404.html")
        write_text(tmp, "sitemap.xml", plumbing.sitemap([absolute + h for h in html]))
        write_text(tmp, "robots.txt", plumbing.robots(absolute + "sitemap.xml"))
        write_text(tmp, "feed.xml", plumbing.feed(site, absolute))
        if search:
            from site_builder.search import index_site

            index_site(tmp)
    seconds = time.perf_counter() - start
    print(
        f"built {len(pages)} pages from {len(site.models)} models and {len(site.gpus)} GPUs into {out} "
        f"in {seconds:.1f}s — open {out.resolve() / 'index.html'} or run `make serve`",
        file=sys.stderr,
    )
    return BuildResult(True, report, len(pages), seconds)
