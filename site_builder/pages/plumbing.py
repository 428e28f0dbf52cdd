"""Sitemap, robots.txt, Atom feed and JSON API payloads: deterministic, dated from the records."""

from __future__ import annotations

import json
from typing import Any
from xml.sax.saxutils import escape

from site_builder.pages.site import ModelData, SiteData


def dumps(data: Any) -> str:
    return json.dumps(data, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def model_summary(md: ModelData) -> dict[str, Any]:
    m, p = md.record, md.facts.params
    best = md.best
    return {
        "id": m.id,
        "name": m.name,
        "hf_repo": m.hf_repo,
        "organization": m.organization,
        "family": m.family,
        "params_total": p.total,
        "params_active": p.active,
        "moe": md.facts.shape.is_moe,
        "context_window": m.context_window,
        "release_date": str(m.release_date) if m.release_date else None,
        "license": m.license.id if m.license else None,
        "capabilities": list(m.capabilities),
        "quality_index": round(md.quality.value, 2) if md.quality else None,
        "best_setup": None
        if best is None
        else {
            "gpu": best.setup.record.id,
            "gpus": best.setup.count,
            "precision": best.precision.id,
            "score": best.score,
        },
    }


def model_detail(md: ModelData) -> dict[str, Any]:
    an = md.analysis
    recs = []
    for c in an.recommendations:
        recs.append(
            {
                "gpu": c.setup.record.id,
                "gpus": c.setup.count,
                "precision": c.precision.id,
                "framework": c.framework.id if c.framework else None,
                "score": c.score,
                "total_bytes_per_gpu": c.memory.total_bytes,
                "fit_level": c.memory.fit_level,
                "output_tokens_per_s": c.speed.output_tokens_per_s if c.speed else None,
                "itl_ms": c.speed.itl_ms if c.speed else None,
                "ttft_ms": c.speed.ttft_ms if c.speed else None,
                "ttft_idle_ms": c.speed.ttft_idle_ms if c.speed else None,
                "cost_per_month_usd": c.cost.cost_per_month_usd if c.cost else None,
                "cost_per_million_tokens_usd": c.cost.cost_per_million_tokens_usd if c.cost else None,
            }
        )
    return {
        "record": md.record.model_dump(mode="json"),
        "engine": {
            "params_total": md.facts.params.total,
            "params_active": md.facts.params.active,
            "kv_cache_bytes_per_token": an.kv_bytes_per_token,
            "weights_bytes": {r.precision.id: r.weights_bytes for r in an.precision_rows},
            "fit_share": round(an.fit_share, 4),
            "workload": {
                "concurrency": an.serve_workload.concurrency,
                "prompt": an.serve_workload.prompt,
                "output": an.serve_workload.output,
            },
            "recommendations": recs,
        },
    }


def sitemap(urls: list[str]) -> str:
    items = "".join(f"  <url><loc>{escape(u)}</loc></url>\n" for u in sorted(urls))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{items}</urlset>\n"
    )


def robots(sitemap_url: str) -> str:
    return f"User-agent: *\nAllow: /\nSitemap: {sitemap_url}\n"


def feed(site: SiteData, absolute: str, title: str = "Model Catalog") -> str:
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
