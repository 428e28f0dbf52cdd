"""`estimate` and `recommend` through the query cache: a stored answer is the uncached one, any edit to what it was
computed from is read again (never served stale), and a damaged cache file is only a miss."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from site_builder import query, query_cache
from site_builder.catalog import Catalog
from site_builder.cli import main

Capture = pytest.CaptureFixture[str]
ESTIMATE = ("estimate", "--model", "llama-3.1-8b", "--gpu", "h100-sxm")
RECOMMEND = ("recommend", "--model", "llama-3.1-8b", "--limit", "5")


def answer(capsys: Capture, catalog: Path, *argv: str) -> dict[str, Any]:
    code = main([*argv, "--catalog", str(catalog)])
    out, err = capsys.readouterr()
    assert code == 0 and not err, err
    result: dict[str, Any] = json.loads(out)
    return result


def uncached(capsys: Capture, monkeypatch: pytest.MonkeyPatch, catalog: Path, *argv: str) -> dict[str, Any]:
    with monkeypatch.context() as m:
        m.setenv("SITE_BUILDER_CACHE", "off")
        return answer(capsys, catalog, *argv)


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("SITE_BUILDER_CACHE", str(folder))
    return folder


@pytest.fixture
def full_loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The models `estimate` read the whole error-bar input for: one entry per query not served from the cache."""
    calls: list[str] = []
    real = query.query_catalog

    def spy(path: str, model: str, *args: Any, **kwargs: Any) -> Catalog:
        calls.append(model)
        return real(path, model, *args, **kwargs)

    monkeypatch.setattr(query, "query_catalog", spy)
    return calls


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path.name} no longer holds {old!r}"
    path.write_text(text.replace(old, new, 1))


def test_a_cached_estimate_is_the_uncached_one(
    catalog_copy: Path, cache_dir: Path, full_loads: list[str], capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = uncached(capsys, monkeypatch, catalog_copy, *ESTIMATE)
    first = answer(capsys, catalog_copy, *ESTIMATE)
    assert full_loads == ["llama-3.1-8b", "llama-3.1-8b"]  # cache off, then a miss that fills it
    assert sorted(p.name for p in cache_dir.iterdir()) == [
        "query-error-bars.pickle",
        "query-records-frameworks.pickle",
        "query-records-gpus.pickle",
        "query-records-providers.pickle",
    ]
    second = answer(capsys, catalog_copy, *ESTIMATE)
    other = answer(capsys, catalog_copy, "estimate", "--model", "deepseek-v3", "--gpu", "b200-pair", "--gpus", "4")
    assert full_loads == ["llama-3.1-8b", "llama-3.1-8b"], "served from the cache"
    assert first == second == fresh
    assert other == uncached(
        capsys, monkeypatch, catalog_copy, "estimate", "--model", "deepseek-v3", "--gpu", "b200-pair", "--gpus", "4"
    )


def test_an_edited_benchmark_is_a_new_answer(
    catalog_copy: Path, cache_dir: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = answer(capsys, catalog_copy, *ESTIMATE)
    assert answer(capsys, catalog_copy, *ESTIMATE) == before  # now stored
    # A measured ITL on vLLM (a batched server) becomes one on llama.cpp (a local runtime): it leaves the residuals
    # of batched servers that H100 setups take their ITL error bar from.
    edit(catalog_copy / "benchmarks" / "lambda-l31-8b-fp8-1xh100-itl.yaml", "framework: vllm", "framework: llama-cpp")
    after = answer(capsys, catalog_copy, *ESTIMATE)
    assert after["itl_ms_error_results"] == before["itl_ms_error_results"] - 1
    assert after == uncached(capsys, monkeypatch, catalog_copy, *ESTIMATE)


@pytest.mark.parametrize(
    ("rel", "old", "new"),
    [
        ("benchmarks/lambda-l31-8b-fp8-1xh100-itl.yaml", "value: 19.75", "value: 19.76"),
        ("gpus/t4.yaml", "\n", "\n# a comment is an edit too\n"),  # a GPU the query does not name
        ("frameworks/sglang.yaml", "\n", "\n# edited\n"),
        ("providers/groq.yaml", "\n", "\n# edited\n"),
        ("models/llama-3.1-70b.yaml", "\n", "\n# edited\n"),  # a model the benchmarks measured
    ],
)
def test_any_edit_to_what_the_answer_is_computed_from_is_read_again(
    catalog_copy: Path, cache_dir: Path, full_loads: list[str], capsys: Capture, rel: str, old: str, new: str
) -> None:
    answer(capsys, catalog_copy, *ESTIMATE)
    answer(capsys, catalog_copy, *ESTIMATE)
    assert len(full_loads) == 1
    edit(catalog_copy / rel, old, new)
    answer(capsys, catalog_copy, *ESTIMATE)
    assert len(full_loads) == 2, f"an edit to {rel} was served from the cache"


def test_new_and_removed_records_are_read_again(
    catalog_copy: Path, cache_dir: Path, full_loads: list[str], capsys: Capture
) -> None:
    answer(capsys, catalog_copy, *ESTIMATE)
    bench = catalog_copy / "benchmarks" / "lambda-l31-8b-fp8-1xh100-itl.yaml"
    copy = bench.with_name("zz-copy.yaml")
    copy.write_text(bench.read_text().replace("id: lambda-l31-8b-fp8-1xh100-itl", "id: zz-copy"))
    answer(capsys, catalog_copy, *ESTIMATE)
    copy.unlink()
    answer(capsys, catalog_copy, *ESTIMATE)  # back to the stored files, but stored was the catalog with the copy
    answer(capsys, catalog_copy, *ESTIMATE)
    assert len(full_loads) == 3


def test_an_edit_to_a_model_nothing_measured_keeps_the_error_bars(
    catalog_copy: Path, cache_dir: Path, full_loads: list[str], capsys: Capture
) -> None:
    assert not any("model: smollm2-135m-instruct\n" in p.read_text() for p in (catalog_copy / "benchmarks").iterdir())
    answer(capsys, catalog_copy, *ESTIMATE)
    edit(catalog_copy / "models" / "smollm2-135m-instruct.yaml", "\n", "\n# edited\n")
    answer(capsys, catalog_copy, *ESTIMATE)
    assert len(full_loads) == 1


def test_other_code_is_another_key(
    catalog_copy: Path, cache_dir: Path, full_loads: list[str], capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer(capsys, catalog_copy, *ESTIMATE)
    monkeypatch.setattr(query_cache, "code_hash", lambda: "the engine after an edit")
    answer(capsys, catalog_copy, *ESTIMATE)
    assert len(full_loads) == 2


@pytest.mark.parametrize(
    "damage",
    [
        b"",
        b"not a pickle",
        b"\x80\x05\x95",  # a pickle cut short
        b"\x80\x04K\x01.",  # a pickle of something else (the integer 1)
    ],
)
def test_a_damaged_cache_file_is_a_miss(
    catalog_copy: Path,
    cache_dir: Path,
    full_loads: list[str],
    capsys: Capture,
    monkeypatch: pytest.MonkeyPatch,
    damage: bytes,
) -> None:
    fresh = uncached(capsys, monkeypatch, catalog_copy, *ESTIMATE)
    answer(capsys, catalog_copy, *ESTIMATE)
    files = sorted(cache_dir.iterdir())
    assert len(files) == 4
    for path in files:
        path.write_bytes(damage)
        assert answer(capsys, catalog_copy, *ESTIMATE) == fresh
        assert answer(capsys, catalog_copy, *RECOMMEND) == uncached(capsys, monkeypatch, catalog_copy, *RECOMMEND)
    assert answer(capsys, catalog_copy, *ESTIMATE) == fresh
    loads = len(full_loads)
    answer(capsys, catalog_copy, *ESTIMATE)
    assert len(full_loads) == loads, "the damaged files were stored again"


def test_two_catalogs_sharing_a_cache_each_get_their_own_answer(
    catalog_copy: Path, cache_dir: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = catalog_copy.parent / "other"
    shutil.copytree(catalog_copy, other)
    edit(other / "gpus" / "h100-sxm.yaml", "memory_gb: 80", "memory_gb: 96")
    answers = {path: uncached(capsys, monkeypatch, path, *ESTIMATE) for path in (catalog_copy, other)}
    assert answers[other]["usable_bytes"] > answers[catalog_copy]["usable_bytes"]
    for path in (catalog_copy, other, catalog_copy, other, other, catalog_copy):
        assert answer(capsys, path, *ESTIMATE) == answers[path]


def test_recommend_reads_edited_gpus_again(
    catalog_copy: Path, cache_dir: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = answer(capsys, catalog_copy, *RECOMMEND)
    assert answer(capsys, catalog_copy, *RECOMMEND) == before == uncached(capsys, monkeypatch, catalog_copy, *RECOMMEND)
    assert sorted(p.name for p in cache_dir.iterdir()) == [
        "query-records-frameworks.pickle",
        "query-records-gpus.pickle",
    ]
    top = before["setups"][0]
    path = catalog_copy / "gpus" / f"{top['gpu']}.yaml"
    text, prices = re.subn(r"usd_per_gpu_hour: [0-9.]+", "usd_per_gpu_hour: 1000.0", path.read_text())
    assert prices, f"{path.name} has no price to edit"
    path.write_text(text)
    after = answer(capsys, catalog_copy, *RECOMMEND)
    assert after["setups"][0] != top
    assert after == uncached(capsys, monkeypatch, catalog_copy, *RECOMMEND)


@pytest.mark.parametrize(
    ("rel", "old", "new", "where"),
    [
        ("models/llama-3.1-8b.yaml", "context_window: 131072", "context_window: many", "context_window"),
        ("gpus/h100-sxm.yaml", "memory_gb: 80", "memory_gb: -80", "memory_gb"),
    ],
)
def test_a_broken_record_the_query_reads_is_a_positioned_error_with_a_warm_cache(
    catalog_copy: Path, cache_dir: Path, capsys: Capture, rel: str, old: str, new: str, where: str
) -> None:
    answer(capsys, catalog_copy, *ESTIMATE)
    answer(capsys, catalog_copy, *RECOMMEND)
    path = catalog_copy / rel
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if text.startswith(old))
    edit(path, old, new)
    for argv in (ESTIMATE, RECOMMEND):
        code = main([*argv, "--catalog", str(catalog_copy)])
        out, err = capsys.readouterr()
        assert code == 1 and "Traceback" not in out + err
        assert f"{path}:{line}:{len(where) + 3}: {where}: " in out + err, out + err
