"""Index, model list, GPU list, family list: tables that work without JavaScript."""

from __future__ import annotations

from typing import Any

from site_builder.analysis import SiteAnalysis
from site_builder.engine import constants as C
from site_builder.engine.constants import GIB
from site_builder.engine.fit import is_fit
from site_builder.engine.plan import MATRIX_PRECISIONS
from site_builder.engine.precision import PRECISIONS
from site_builder.pages import format as F


def model_rows(site: SiteAnalysis, base: str) -> list[dict[str, Any]]:
    rows = []
    for mid, md in site.models.items():
        m, p = md.record, md.facts.params
        fits = []
        for row in md.analysis.matrix:
            for cell in row.cells:
                if is_fit(cell.level):
                    fits.append(f"{row.setup.id}:{cell.precision}")
        min_gib = min((r.weights_bytes for r in md.analysis.precision_rows), default=0) / GIB
        rows.append(
            {
                "id": mid,
                "name": m.name,
                "href": f"{base}models/{mid}/",
                "org": m.organization,
                "family": site.families[m.family].title if m.family in site.families else m.family,
                "family_id": m.family,
                "params": F.params(p.total),
                "params_raw": p.total,
                "active_raw": p.active,
                "kind": "MoE" if md.facts.shape.is_moe else "Dense",
                "context": F.context(m.context_window),
                "context_raw": m.context_window,
                "caps": " ".join(m.capabilities),
                "license": m.license.id if m.license else "unknown",
                "min_vram": f"{min_gib:,.1f}",
                "min_vram_raw": round(min_gib, 2),
                "fits": " ".join(sorted(fits)),
                "quality": f"{md.quality.value:.1f}" if md.quality else "—",
                "quality_raw": round(md.quality.value, 2) if md.quality else -1,
                "released": str(m.release_date) if m.release_date else "unknown",
            }
        )
    return rows


def index_page(site: SiteAnalysis, base: str) -> dict[str, Any]:
    rows = model_rows(site, base)
    return {
        "title": "Open LLMs: what it takes to self-host each one",
        "description": "GPU requirements, memory, speed and cost for every open model in the catalog.",
        "rows": rows,
        "orgs": sorted({r["org"] for r in rows}),
        "families": sorted({(r["family_id"], r["family"]) for r in rows}),
        "licenses": sorted({r["license"] for r in rows}),
        "caps": sorted({c for r in rows for c in r["caps"].split()}),
        "gpus": [{"id": g.id, "label": g.short_name} for g in site.gpus.values()],
        "precisions": [{"id": p, "label": PRECISIONS[p].label} for p in MATRIX_PRECISIONS],
        "fit_context": f"{C.FIT_CONTEXT:,}",
        "charts": False,
    }


def gpu_index_page(site: SiteAnalysis, base: str) -> dict[str, Any]:
    rows = []
    for g in site.gpus.values():
        prices = sorted(p.usd_per_gpu_hour for p in g.prices)
        rows.append(
            {
                "id": g.id,
                "name": g.name,
                "short": g.short_name,
                "href": f"{base}gpus/{g.id}/",
                "vendor": g.vendor,
                "segment": g.segment,
                "arch": g.architecture,
                "memory": f"{g.memory_gb:g} GB" if g.memory_gb else ("bundle" if g.bundle else "unknown"),
                "bandwidth": f"{g.memory_bandwidth_gbps:,.0f} GB/s" if g.memory_bandwidth_gbps else "unknown",
                "bf16": f"{g.compute.bf16:,.0f}" if g.compute.bf16 else "—",
                "fp8": f"{g.compute.fp8:,.0f}" if g.compute.fp8 else "—",
                "price": f"${prices[0]:.2f}–{prices[-1]:.2f}" if prices else "unknown",
            }
        )
    return {
        "title": "GPUs and other hardware",
        "description": "Memory, bandwidth, tensor throughput and prices "
        "of every GPU, Apple unified-memory machine and CPU profile in the catalog.",
        "rows": rows,
        "charts": False,
    }


def family_index_page(site: SiteAnalysis, base: str) -> dict[str, Any]:
    rows = []
    for fid, fam in site.families.items():
        n = sum(1 for md in site.models.values() if md.record.family == fid)
        rows.append(
            {
                "title": fam.title,
                "href": f"{base}families/{fid}/",
                "org": fam.organization,
                "description": fam.description,
                "models": n,
            }
        )
    return {
        "title": "Model families",
        "description": "Sourced articles on each open model family.",
        "rows": rows,
        "charts": False,
    }
