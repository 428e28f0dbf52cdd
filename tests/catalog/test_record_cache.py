"""The build's record cache: a record whose file has the bytes it had is served validated, not parsed again, and
every problem is still reported, at the same place, as a load without the cache reports it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from site_builder import catalog as catalog_module
from site_builder import record_cache
from site_builder.catalog import KINDS, Catalog, load_catalog
from site_builder.problems import Report
from site_builder.record_cache import RecordCache
from site_builder.validate import apply_rules
from site_builder.yamlsafe import load_yaml_text

TODAY = dt.date(2026, 12, 1)


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The first line of every YAML text the loader parses."""
    seen: list[str] = []

    def counting(text: str):  # type: ignore[no-untyped-def]
        seen.append(text.split("\n", 1)[0])
        return load_yaml_text(text)

    monkeypatch.setattr(catalog_module, "load_yaml_text", counting)
    return seen


def _load(root: Path, store: Path | None) -> tuple[Catalog, Report]:
    report = Report()
    kept = RecordCache(store) if store is not None else None
    catalog = load_catalog(root, report, kept=kept)
    if kept is not None:
        kept.save()
    apply_rules(catalog, report, today=TODAY, format_check=False)
    return catalog, report


def _records(catalog: Catalog) -> dict[str, object]:
    return {
        f"{kind}/{rid}": (located.record.model_dump(), located.body, located.line_offset)
        for kind in KINDS
        for rid, located in catalog.table(kind).items()
    }


def _files(root: Path) -> int:
    return sum(1 for kind in KINDS.values() for _ in (root / kind.folder).glob(f"*{kind.suffix}"))


def test_only_an_edited_file_is_parsed_again(catalog_copy: Path, tmp_path: Path, parses: list[str]) -> None:
    store = tmp_path / "records.pickle"
    first, _ = _load(catalog_copy, store)
    assert len(parses) == _files(catalog_copy) > 300
    model = catalog_copy / "models" / "qwen2.5-7b.yaml"
    model.write_text(model.read_text().replace("description: '", "description: 'Edited. ", 1))
    parses.clear()
    again, _ = _load(catalog_copy, store)
    assert len(parses) == 1
    uncached, _ = _load(catalog_copy, None)
    assert _records(again) == _records(uncached) != _records(first)
    assert again.models["qwen2.5-7b"].record.description.startswith("Edited. ")


def test_problems_in_kept_records_are_where_an_uncached_load_puts_them(catalog_copy: Path, tmp_path: Path) -> None:
    """A warning in a kept record, and rule errors in kept records after another file changed: the same problems,
    at the same line and column, with or without the cache."""
    store = tmp_path / "records.pickle"
    model = catalog_copy / "models" / "internlm-20b.yaml"
    model.write_text(model.read_text().replace("name: InternLM 20B", 'name: "InternLM \\u202e20B"'))
    _, first = _load(catalog_copy, store)
    assert [p.field for p in first.warnings if p.path.endswith("internlm-20b.yaml")] == ["name"]
    measured = [p for p in (catalog_copy / "benchmarks").glob("*.yaml") if "gpu: l40s\n" in p.read_text()]
    assert measured
    (catalog_copy / "gpus" / "l40s.yaml").unlink()  # every benchmark on it now names an unknown GPU
    _, cached = _load(catalog_copy, store)
    _, uncached = _load(catalog_copy, None)
    shown = [p.format() for p in cached.problems]
    assert shown == [p.format() for p in uncached.problems]
    assert len([p for p in cached.errors if "l40s" in p.message]) >= len(measured)
    assert any(p.path.endswith("internlm-20b.yaml") and p.line > 1 for p in cached.warnings)


def test_a_broken_record_is_reported_on_every_load(catalog_copy: Path, tmp_path: Path) -> None:
    store = tmp_path / "records.pickle"
    broken = catalog_copy / "gpus" / "l40s.yaml"
    broken.write_text(broken.read_text().replace("memory_bandwidth_gbps: 864", "memory_bandwidth_gbps: fast"))
    shown = [[p.format() for p in _load(catalog_copy, store)[1].errors] for _ in range(2)]
    assert shown[0] == shown[1] and any("l40s.yaml" in line and "memory_bandwidth_gbps" in line for line in shown[0])


@pytest.mark.parametrize("damage", [b"", b"not a pickle", b"\x80\x05\x95", b"\x80\x04K\x01."])
def test_a_damaged_store_is_a_miss(catalog_copy: Path, tmp_path: Path, parses: list[str], damage: bytes) -> None:
    store = tmp_path / "records.pickle"
    store.write_bytes(damage)
    catalog, _ = _load(catalog_copy, store)
    assert len(parses) == _files(catalog_copy)
    assert _records(catalog) == _records(_load(catalog_copy, None)[0])


def test_records_kept_by_other_code_are_a_miss(
    catalog_copy: Path, tmp_path: Path, parses: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "records.pickle"
    _load(catalog_copy, store)
    monkeypatch.setattr(record_cache, "code_hash", lambda: "the record models after an edit")
    parses.clear()
    _load(catalog_copy, store)
    assert len(parses) == _files(catalog_copy)
