"""Sitemap, robots.txt and the Atom feed: deterministic, dated from the records (never the build time)."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

from site_builder.analysis import SiteAnalysis
from site_builder.output import write_text


def sitemap(urls: list[str]) -> str:
    items = "".join(f"  <url><loc>{escape(u)}</loc></url>\n" for u in sorted(urls))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{items}</urlset>\n"
    )


def robots(sitemap_url: str) -> str:
    return f"User-agent: *\nAllow: /\nSitemap: {sitemap_url}\n"


def feed(site: SiteAnalysis, absolute: str, title: str = "Model Catalog") -> str:
    """Atom feed of catalog additions, dated by each model's release date (never the build time)."""
    entries = sorted(
        (md for md in site.models.values() if md.record.release_date),
        key=lambda md: (md.record.release_date, md.record.id),
        reverse=True,
    )
    updated = f"{entries[0].record.release_date}T00:00:00Z" if entries else "1970-01-01T00:00:00Z"
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">\n',
        f"  <title>{escape(title)}: models added</title>\n",
        f'  <link href="{escape(absolute)}feed.xml" rel="self"/>\n  <link href="{escape(absolute)}"/>\n',
        f"  <id>{escape(absolute)}</id>\n  <updated>{updated}</updated>\n",
        f"  <author><name>{escape(title)} maintainers</name></author>\n",
    ]
    for md in entries[:50]:
        m = md.record
        url = f"{absolute}models/{m.id}/"
        parts.append(
            f'  <entry>\n    <title>{escape(m.name)}</title>\n    <link href="{escape(url)}"/>\n'
            f"    <id>{escape(url)}</id>\n    <updated>{m.release_date}T00:00:00Z</updated>\n"
            f"    <summary>{escape(m.organization)} · {md.facts.params.total:,} parameters · "
            f"{m.context_window:,}-token context</summary>\n  </entry>\n"
        )
    parts.append("</feed>\n")
    return "".join(parts)


def write_feeds(site: SiteAnalysis, pages: list[str], out: Path, absolute: str, title: str = "Model Catalog") -> None:
    """sitemap.xml of `pages` (output paths; 404.html is left out), robots.txt and feed.xml."""
    html = sorted(p.removesuffix("index.html") for p in pages if p != "404.html")
    write_text(out, "sitemap.xml", sitemap([absolute + h for h in html]))
    write_text(out, "robots.txt", robots(absolute + "sitemap.xml"))
    write_text(out, "feed.xml", feed(site, absolute, title))
