"""static/engine.js computes what `site-builder estimate --json` prints: over 1,000+ seeded random setups across the
whole catalog, every key equal (integers, booleans and strings exactly, floats within 0.1%) and the same error for
the setups the CLI refuses. Both sides run the real code: query.estimate in Python, engine.js under node on the
data site_builder/engine_export.py writes into the site."""

from __future__ import annotations

import gzip
import json
import math
import os
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from site_builder.catalog import Catalog
from site_builder.engine.calibrate import compare_all
from site_builder.engine.errorbars import SPEED_KEYS, ErrorBars, error_bars
from site_builder.engine.plan import facts_of
from site_builder.engine.precision import KV_BYTES, PRECISIONS
from site_builder.engine_export import write_engine_data
from site_builder.problems import Report, UsageError
from site_builder.query import EstimateQuery, catalog_error_bars, estimate, query_catalog
from site_builder.validate import validate_catalog

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "catalog"
ENGINE_JS = ROOT / "static" / "engine.js"
RUNNER = Path(__file__).resolve().parents[1] / "js" / "engine_parity_runner.mjs"
CASES = 2000
MIN_VALID = 1000
SEED = 13
# Keys `estimate` rounds, and to how many decimals: a value whose two sides straddle a rounding boundary may differ
# by one unit of the last printed digit, which for a tiny number is more than 0.1%.
DIGITS = {"cost_per_request_usd": 6, "cost_per_request_full_load_usd": 6, "price_per_hour_usd": 4}
DIGITS |= {"api_cost_per_request_usd": 6, "breakeven_utilization": 4}
DIGITS |= {"cost_per_month_usd": 2, "cost_per_million_tokens_usd": 4} | {f"{k}_error_pct": 1 for k in SPEED_KEYS}


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        reason = "node is not installed: the engine.js parity test needs it"
        if os.environ.get("CI", "").lower() in {"true", "1"}:
            pytest.fail(f"{reason} (CI=true: the parity test may not be skipped)")
        pytest.skip(reason)
    return node


def _case(rng: random.Random, model: str, gpus: list[str], frameworks: list[str], cat: Catalog) -> dict[str, Any]:
    """One setup with the flags of `estimate`; mostly valid, some refused (bad split, short context, unknown ids,
    including names every JavaScript object inherits)."""
    gpu = rng.choice(gpus)
    bundle = cat.gpus[gpu].record.bundle
    per = bundle.count if bundle else 1
    count = per * rng.choice((1, 1, 1, 2, 4, 8)) if rng.random() < 0.95 else rng.choice((3, 6))
    window = cat.models[model].record.context_window
    prompt = min(int(rng.choice((0, 1, 1, 1)) * 2 ** rng.uniform(0, 14)), window // 2)
    output = min(int(2 ** rng.uniform(0, 11)), window - prompt)
    context: int | None = None
    roll = rng.random()
    if roll < 0.5:
        context = min(prompt + output + int(2 ** rng.uniform(0, 17)), window)
    elif roll < 0.55:
        context = max(prompt + output - rng.randint(1, 64), 1)  # shorter than prompt + output: refused
    case: dict[str, Any] = {
        "model": model if rng.random() > 0.01 else rng.choice(("no-such-model", "__proto__")),
        "gpu": gpu if rng.random() > 0.01 else rng.choice(("no-such-gpu", "constructor")),
        "gpus": count,
        "precision": rng.choice([None, None, None, *PRECISIONS])
        if rng.random() > 0.01
        else rng.choice(("no-such-format", "toString")),
        "kv-precision": rng.choice([None, None, *KV_BYTES, "fp16", "fp16"])
        if rng.random() > 0.01
        else rng.choice(("fp6", "hasOwnProperty")),
        "context": context,
        "concurrency": rng.choice(["max", "1", "1", str(rng.randint(1, 512)), str(rng.randint(1, 64))]),
        "prompt": prompt if rng.random() < 0.9 else None,
        "output": output if rng.random() < 0.9 else None,
        "framework": rng.choice([None, None, None, *frameworks])
        if rng.random() > 0.01
        else rng.choice(("no-such-framework", "__proto__")),
    }
    return case


# Setups whose engine recipe stores the KV cache in FP8 when no KV precision is given (precision.FP8_KV_RECIPES).
_RECIPE_BASE: dict[str, Any] = {
    "gpus": 1,
    "kv-precision": None,
    "context": None,
    "concurrency": "8",
    "prompt": None,
    "output": None,
}
RECIPE_CASES: list[dict[str, Any]] = [
    _RECIPE_BASE | {"model": "llama-3.1-8b", "gpu": "h100-sxm", "precision": "fp8", "framework": "tensorrt-llm"},
    _RECIPE_BASE | {"model": "llama-3.1-8b", "gpu": "b200", "precision": "nvfp4", "framework": "tensorrt-llm"},
    _RECIPE_BASE | {"model": "llama-3.1-8b", "gpu": "gaudi3", "precision": "fp8", "framework": None},
    _RECIPE_BASE | {"model": "llama-3.1-8b", "gpu": "h100-sxm", "precision": "fp8", "framework": "vllm"},
]


def _python(inputs: dict[str, Any], cat: Catalog | None = None, bars: ErrorBars | None = None) -> dict[str, Any]:
    """The CLI's answer; with `cat`, over that catalog instead of the records a query loads."""
    q = EstimateQuery(
        model=inputs["model"],
        gpu=inputs["gpu"],
        gpus=inputs["gpus"],
        precision=inputs["precision"],
        kv_precision=inputs["kv-precision"],
        context=inputs["context"],
        concurrency=inputs["concurrency"],
        prompt=inputs["prompt"],
        output=inputs["output"],
        framework=inputs["framework"],
    )
    try:
        return {"ok": estimate(query_catalog(str(CATALOG), q.model) if cat is None else cat, q, bars)}
    except UsageError as err:
        return {"error": str(err)}


def _equal(key: str, py: Any, js: Any) -> bool:
    if isinstance(py, float):
        number = isinstance(js, (int, float)) and not isinstance(js, bool)
        return number and math.isclose(py, js, rel_tol=1e-3, abs_tol=10.0 ** -DIGITS.get(key, 3))
    return type(py) is type(js) and py == js


def _export(cat: Catalog, out: Path) -> None:
    models = {k: v.record for k, v in sorted(cat.models.items())}
    gpus = {k: v.record for k, v in sorted(cat.gpus.items())}
    frameworks = {k: v.record for k, v in sorted(cat.frameworks.items())}
    comparisons = compare_all([v.record for v in cat.benchmarks.values()], models, gpus, frameworks)
    bars = error_bars(comparisons, gpus, frameworks)
    providers = [p.record for p in cat.providers.values()]
    write_engine_data(out, {k: (m, facts_of(m)) for k, m in models.items()}, gpus, frameworks, bars, providers)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return validate_catalog(CATALOG, Report())


def test_export_is_deterministic_and_small(catalog: Catalog, tmp_path: Path) -> None:
    _export(catalog, tmp_path / "a")
    _export(catalog, tmp_path / "b")
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.json"))
    assert len(files) == len(catalog.models) + 1
    for rel in files:
        data = (tmp_path / "a" / rel).read_bytes()
        assert data == (tmp_path / "b" / rel).read_bytes(), rel
        if rel.parent.name == "models":
            assert len(gzip.compress(data)) <= 10 * 1024, rel  # issue 13's per-model budget


def test_engine_js_matches_estimate(catalog: Catalog, tmp_path: Path) -> None:
    node = _node()
    cat = catalog
    _export(cat, tmp_path)
    models = sorted(cat.models)
    gpus = sorted(cat.gpus)
    frameworks = sorted(cat.frameworks)

    # The same estimate function, spared reloading the catalog and re-running the calibration for each setup.
    bars = catalog_error_bars(cat)

    rng = random.Random(SEED)
    ids = models
    cases = [_case(rng, ids[i % len(ids)], gpus, frameworks, cat) for i in range(CASES)] + RECIPE_CASES
    expected = [_python(c, cat, bars) for c in cases]
    (tmp_path / "cases.json").write_text(json.dumps(cases))
    proc = subprocess.run(
        [node, str(RUNNER), str(tmp_path / "api/v1/engine"), str(tmp_path / "cases.json"), str(ENGINE_JS)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)

    valid = sum("ok" in e for e in expected)
    assert valid >= MIN_VALID, f"only {valid} of {CASES} setups are valid"
    assert {c["model"] for c in cases} >= set(ids)
    assert any(c["concurrency"] == "max" and "ok" in e for c, e in zip(cases, expected, strict=True))
    problems = []
    for case, py, js in zip(cases, expected, got, strict=True):
        if "error" in py or "error" in js:
            if py.get("error") != js.get("error"):
                problems.append(f"{case}: python {py.get('error')!r}, engine.js {js.get('error')!r}")
            continue
        for key, value in py["ok"].items():
            if key not in js["ok"]:
                problems.append(f"{case}: {key} missing from engine.js")
            elif not _equal(key, value, js["ok"][key]):
                problems.append(f"{case}: {key}: python {value!r}, engine.js {js['ok'][key]!r}")
            elif isinstance(value, float) and not _equal(key, value, round(js["raw"][key], DIGITS.get(key, 3))):
                problems.append(f"{case}: {key}: python {value!r}, engine.js unrounded {js['raw'][key]!r}")
    unrounded = [r["raw"]["itl_ms"] for r in got if "raw" in r and r["raw"]["itl_ms"] is not None]
    assert any(v != round(v, 3) for v in unrounded)  # rounded=False really leaves the digits
    assert not problems, f"{len(problems)} differences:\n" + "\n".join(problems[:40])


def test_the_cli_reads_what_the_full_catalog_would_give(catalog: Catalog) -> None:
    """The CLI loads only the records a query needs; its answer, error bars included, must be the full catalog's
    (the figure the site and engine.js show)."""
    defaults: dict[str, Any] = {
        "gpus": 1,
        "precision": None,
        "kv-precision": "fp16",
        "context": None,
        "concurrency": "1",
        "prompt": None,
        "output": None,
        "framework": None,
    }
    cases = [
        defaults
        | {"model": "internlm-20b", "gpu": "h100-sxm", "precision": "fp8", "concurrency": "8", "context": 4096},
        defaults | {"model": "qwen3-30b-a3b", "gpu": "rtx-4090", "precision": "q4_k_m"},
        defaults | {"model": "llama-3.1-70b", "gpu": "mi300x", "gpus": 2, "concurrency": "max"},
    ]
    assert [_python(case) for case in cases] == [_python(case, catalog) for case in cases]
