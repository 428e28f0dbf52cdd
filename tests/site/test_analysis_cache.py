"""The analysis stage's per-model results kept across builds: a warm build is the cold one, and an edit to anything a
stored result read (a model, an API price, a benchmark behind the error bars) is never answered from the store."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from site_builder import engine_cache
from site_builder.analysis import SiteAnalysis, analyse_site
from site_builder.catalog import load_catalog
from site_builder.problems import Report

ROOT = Path(__file__).resolve().parents[2]
PICKED = ("llama-3.1-8b", "gpt-oss-20b", "internlm-20b")


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    """A small copy of the catalog: every GPU, framework and provider, three models and their benchmarks."""
    root = tmp_path / "catalog"
    for kind in ("gpus", "frameworks", "families", "providers"):
        shutil.copytree(ROOT / "catalog" / kind, root / kind)
    (root / "models").mkdir()
    for mid in PICKED:
        shutil.copy(ROOT / "catalog" / "models" / f"{mid}.yaml", root / "models")
    (root / "benchmarks").mkdir()
    for path in (ROOT / "catalog" / "benchmarks").glob("*.yaml"):
        found = re.search(r"^model: (\S+)$", path.read_text(), re.M)
        if found is None or found.group(1) in PICKED:
            shutil.copy(path, root / "benchmarks")
    return root


def _analyse(root: Path) -> SiteAnalysis:
    report = Report()
    site = analyse_site(load_catalog(root, report))
    assert not report.errors, report.summary()
    return site


def _per_model(site: SiteAnalysis) -> dict[str, str]:
    """Every per-model result the pages read, printed: dataclass reprs print floats exactly."""
    return {
        mid: repr((md.analysis, md.deploys, md.sweeps, md.full_loads, md.breakeven, md.calculator))
        for mid, md in site.models.items()
    }


def _uncached(root: Path, monkeypatch: pytest.MonkeyPatch) -> SiteAnalysis:
    with monkeypatch.context() as m:
        m.setenv(engine_cache.ENV, "off")
        return _analyse(root)


def test_a_warm_analysis_is_the_cold_one(catalog: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(engine_cache.ENV, raising=False)
    cold = _analyse(catalog)
    store = catalog.parent / ".cache" / "site-builder" / "engine"
    kinds = {p.name.split("-", 1)[0] for p in store.rglob("*.pickle")}
    assert kinds == {"ModelResults", "CalculatorDefault"}
    warm = _analyse(catalog)
    assert _per_model(warm) == _per_model(cold) == _per_model(_uncached(catalog, monkeypatch))
    assert all(md.deploys and md.calculator and md.calculator.result for md in warm.models.values())


def test_an_edited_api_price_reaches_the_calculator(catalog: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(engine_cache.ENV, raising=False)
    _analyse(catalog)
    provider = catalog / "providers" / "deepinfra.yaml"
    text = provider.read_text()
    old = "- model: llama-3.1-8b\n  input_usd_per_mtok: 0.03\n  output_usd_per_mtok: 0.05\n"
    assert old in text
    provider.write_text(text.replace(old, old.replace("0.03", "0.001").replace("0.05", "0.002")))
    answer = _analyse(catalog).models["llama-3.1-8b"].calculator
    assert answer is not None and answer.result is not None
    prompt, output = answer.result["prompt"], answer.result["output"]
    assert answer.result["api_provider"] == "deepinfra"
    assert answer.result["api_cost_per_request_usd"] == pytest.approx((0.001 * prompt + 0.002 * output) / 1e6)
    assert _per_model(_analyse(catalog)) == _per_model(_uncached(catalog, monkeypatch))


def test_removed_benchmarks_reach_the_error_bars(catalog: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(engine_cache.ENV, raising=False)
    before = _analyse(catalog)
    # Without measured results the catalog has no error bands at all.
    for path in (catalog / "benchmarks").glob("*.yaml"):
        path.unlink()
    after = _analyse(catalog)
    assert after.error_bars.cells != before.error_bars.cells
    answers = [{mid: repr(md.calculator) for mid, md in s.models.items()} for s in (before, after)]
    assert answers[0] != answers[1], "the edit moves an error band the calculator shows"
    assert _per_model(after) == _per_model(_uncached(catalog, monkeypatch))


def test_an_edited_model_recomputes_only_that_model(catalog: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(engine_cache.ENV, raising=False)
    _analyse(catalog)
    path = catalog / "models" / "internlm-20b.yaml"
    text = path.read_text()
    window = re.search(r"^context_window: (\d+)$", text, re.M)
    assert window is not None and int(window.group(1)) > 4096
    path.write_text(text.replace(window.group(0), "context_window: 4096"))
    store = catalog.parent / ".cache" / "site-builder" / "engine"
    stamps = {p: p.stat().st_mtime_ns for p in store.rglob("ModelResults-*.pickle")}
    edited = _analyse(catalog)
    assert edited.models["internlm-20b"].analysis.serve_workload.context <= 4096
    rewritten = {p.parent.name for p in store.rglob("ModelResults-*.pickle") if stamps.get(p) != p.stat().st_mtime_ns}
    assert rewritten == {"internlm-20b"}
    assert _per_model(edited) == _per_model(_uncached(catalog, monkeypatch))
