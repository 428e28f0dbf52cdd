"""The engine result cache: a stored analysis is the fresh one, and any change to what it read is a miss."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from site_builder import engine_cache
from site_builder.engine.hardware import make_setup
from site_builder.engine.plan import Analysis, analyse
from site_builder.engine_cache import EngineCache, default_dir
from site_builder.records import FrameworkRecord, GpuRecord, ModelRecord

ROOT = Path(__file__).resolve().parents[2]
PICKED = ("internlm-20b", "deepseek-v3", "gpt-oss-20b", "llama-3.1-8b")  # GQA; MLA + MoE; sliding-window MoE


def _records(kind: str, cls: type[Any], only: tuple[str, ...] | None = None) -> dict[str, Any]:
    paths = sorted((ROOT / "catalog" / kind).glob("*.yaml"))
    return {p.stem: cls.model_validate(yaml.safe_load(p.read_text())) for p in paths if only is None or p.stem in only}


MODELS: dict[str, ModelRecord] = _records("models", ModelRecord, PICKED)
GPUS: dict[str, GpuRecord] = _records("gpus", GpuRecord)
FRAMEWORKS: dict[str, FrameworkRecord] = _records("frameworks", FrameworkRecord)


def _same(a: Analysis, b: Analysis) -> bool:
    """Every figure equal: dataclass reprs print floats exactly (shortest round trip), records by value."""
    return repr(a) == repr(b)


def test_a_stored_analysis_is_the_fresh_one_and_points_at_the_builds_records(tmp_path: Path) -> None:
    first = EngineCache(tmp_path, GPUS, FRAMEWORKS)
    computed = {mid: first.analyse(m) for mid, m in MODELS.items()}
    assert (first.hits, first.misses) == (0, len(MODELS))
    # Another build: records loaded again (equal, but other objects), the same cache directory.
    gpus = {k: GpuRecord.model_validate(v.model_dump()) for k, v in GPUS.items()}
    frameworks = {k: FrameworkRecord.model_validate(v.model_dump()) for k, v in FRAMEWORKS.items()}
    models = {k: ModelRecord.model_validate(v.model_dump()) for k, v in MODELS.items()}
    second = EngineCache(tmp_path, gpus, frameworks)
    for mid, model in models.items():
        stored = second.analyse(model)
        fresh = analyse(model, gpus, frameworks)
        assert _same(stored, fresh) and _same(stored, computed[mid])
        assert stored.model is model and stored.facts.arch is model.architecture
        for cand in stored.candidates:
            assert cand.setup.record is gpus[cand.setup.record.id]
            assert cand.setup is make_setup(cand.setup.record, gpus, cand.setup.multiplier), "one Setup per setup"
            assert cand.framework is None or cand.framework is frameworks[cand.framework.id]
        rec = stored.recommendations[0]
        assert any(c is rec for c in stored.candidates), "objects shared inside an analysis stay shared"
    assert (second.hits, second.misses) == (len(MODELS), 0)


def test_an_edited_model_record_misses_and_only_that_one(tmp_path: Path) -> None:
    EngineCache(tmp_path, GPUS, FRAMEWORKS).analyse(MODELS["internlm-20b"])
    EngineCache(tmp_path, GPUS, FRAMEWORKS).analyse(MODELS["gpt-oss-20b"])
    edited = MODELS["internlm-20b"].model_copy(update={"context_window": 4096})
    cache = EngineCache(tmp_path, GPUS, FRAMEWORKS)
    got = cache.analyse(edited)
    assert cache.misses == 1 and got.serve_workload.context <= 4096
    assert _same(got, analyse(edited, GPUS, FRAMEWORKS))
    cache.analyse(MODELS["gpt-oss-20b"])
    assert (cache.hits, cache.misses) == (1, 1)
    assert len(list((tmp_path / cache.generation / "internlm-20b").glob("*.pickle"))) == 1, "the old version goes"


def test_an_edited_gpu_or_framework_record_starts_a_new_generation(tmp_path: Path) -> None:
    model = MODELS["internlm-20b"]
    EngineCache(tmp_path, GPUS, FRAMEWORKS).analyse(model)
    gid = next(iter(GPUS))
    gpus = {**GPUS, gid: GPUS[gid].model_copy(update={"memory_bandwidth_gbps": 123.0})}
    cache = EngineCache(tmp_path, gpus, FRAMEWORKS)
    assert _same(cache.analyse(model), analyse(model, gpus, FRAMEWORKS)) and cache.misses == 1
    fid = next(iter(FRAMEWORKS))
    frameworks = {k: v for k, v in FRAMEWORKS.items() if k != fid}
    cache = EngineCache(tmp_path, GPUS, frameworks)
    cache.analyse(model)
    assert cache.misses == 1


def test_an_edited_engine_constant_misses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The key holds a hash of the engine's source: an edited copy of it keys differently."""
    engine = tmp_path / "engine"
    shutil.copytree(ROOT / "site_builder" / "engine", engine, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(engine_cache, "SOURCES", (engine,))
    monkeypatch.setattr(engine_cache, "PACKAGE", tmp_path)
    engine_cache.code_hash.cache_clear()
    model, store = MODELS["internlm-20b"], tmp_path / "store"
    EngineCache(store, GPUS, FRAMEWORKS).analyse(model)
    again = EngineCache(store, GPUS, FRAMEWORKS)
    again.analyse(model)
    assert again.hits == 1
    constants = engine / "constants.py"
    text = constants.read_text()
    assert "SERVE_CONCURRENCY = " in text
    constants.write_text(text.replace("SERVE_CONCURRENCY = ", "SERVE_CONCURRENCY = 1 + ", 1))
    engine_cache.code_hash.cache_clear()
    edited = EngineCache(store, GPUS, FRAMEWORKS)
    edited.analyse(model)
    assert edited.misses == 1 and edited.generation != again.generation
    monkeypatch.undo()
    engine_cache.code_hash.cache_clear()


def test_a_damaged_file_is_recomputed_and_off_stores_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = MODELS["deepseek-v3"]
    cache = EngineCache(tmp_path, GPUS, FRAMEWORKS)
    cache.analyse(model)
    (stored,) = (tmp_path / cache.generation / model.id).glob("*.pickle")
    stored.write_bytes(stored.read_bytes()[:100])
    again = EngineCache(tmp_path, GPUS, FRAMEWORKS)
    assert _same(again.analyse(model), analyse(model, GPUS, FRAMEWORKS)) and again.misses == 1
    monkeypatch.setenv(engine_cache.ENV, "off")
    assert default_dir(tmp_path / "catalog") is None
    off = EngineCache(default_dir(tmp_path / "catalog"), GPUS, FRAMEWORKS)
    assert _same(off.analyse(model), analyse(model, GPUS, FRAMEWORKS))
    assert not (tmp_path / ".cache").exists() and off.misses == 0
    monkeypatch.setenv(engine_cache.ENV, str(tmp_path / "elsewhere"))
    assert default_dir(tmp_path / "catalog") == tmp_path / "elsewhere"
    monkeypatch.delenv(engine_cache.ENV)
    assert default_dir(tmp_path / "catalog") == tmp_path / ".cache" / "site-builder" / "engine"


def test_misses_computed_in_worker_processes_are_the_fresh_analyses(tmp_path: Path) -> None:
    cache = EngineCache(tmp_path, GPUS, FRAMEWORKS)
    got = cache.analyse_all(MODELS, jobs=2)
    assert list(got) == list(MODELS) and (cache.hits, cache.misses) == (0, len(MODELS))
    for mid, model in MODELS.items():
        assert _same(got[mid], analyse(model, GPUS, FRAMEWORKS))
        assert got[mid].model is model
    again = EngineCache(tmp_path, GPUS, FRAMEWORKS)
    assert all(_same(a, got[mid]) for mid, a in again.analyse_all(MODELS, jobs=2).items())
    assert (again.hits, again.misses) == (len(MODELS), 0)
    unstored = EngineCache(None, GPUS, FRAMEWORKS).analyse_all(MODELS, jobs=2)
    assert all(_same(a, got[mid]) for mid, a in unstored.items())
