"""The JSON API (`api/v1/`): model summaries, each model's record with the engine's results, the GPUs, and the
engine's inputs for the browser. Setups are `query.setup_json`, the objects `recommend --json` prints."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from site_builder.analysis import ModelData, SiteAnalysis
from site_builder.engine_export import write_engine_data
from site_builder.output import write_text
from site_builder.query import setup_json


def dumps(data: Any) -> str:
    # Compact: the C encoder writes it (an indented dump runs the pure-Python one, 5x slower), and it is smaller.
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"


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
            "recommendations": [setup_json(c) for c in an.recommendations],
        },
    }


def write_api(site: SiteAnalysis, out: Path, absolute: str) -> None:
    def url(mid: str) -> dict[str, str]:  # the model's page, absolute where the site config gives an origin
        return {"url": f"{absolute}models/{mid}/"}

    summaries = [{**model_summary(md), **url(mid)} for mid, md in site.models.items()]
    write_text(out, "api/v1/models.json", dumps(summaries))
    for mid, md in site.models.items():
        write_text(out, f"api/v1/models/{mid}.json", dumps({**model_detail(md), **url(mid)}))
    write_text(out, "api/v1/gpus.json", dumps([g.model_dump(mode="json") for g in site.gpus.values()]))
    models = {mid: (md.record, md.facts) for mid, md in site.models.items()}
    providers = [p.record for p in site.catalog.providers.values()]
    write_engine_data(out, models, site.gpus, site.frameworks, site.error_bars, providers)
