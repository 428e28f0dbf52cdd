"""Run one rule on a small catalog written to a temporary folder, and locate values in the records' text.

Every rule test writes a good record and a bad one and asserts the exact `path:line:col: field: message` lines
of one rule. Positions are found in the written text here, independently of the loader's marks.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import yaml
from record_support import CATALOG, with_facts

from site_builder.catalog import load_catalog
from site_builder.problems import Report
from site_builder.rules import RULES, run_rules

# The date the rules judge "future" against: fixed, so no test depends on the clock.
TODAY = dt.date(2026, 1, 15)


# Llama 3.1 8B's shape, from its config.json (a reference copy in tests/data, see SOURCES.md there).
REFERENCE = Path(__file__).resolve().parent.parent / "data" / "reference"
LLAMA_CONFIG = json.loads((REFERENCE / "hf-configs" / "meta-llama--Llama-3.1-8B.json").read_text(encoding="utf-8"))
LLAMA_KEYS = ("model_type", "hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads")
LLAMA_SIZES = ("intermediate_size", "vocab_size", "max_position_embeddings")


def model_data(**architecture: Any) -> dict[str, Any]:
    """A valid model record of Llama 3.1 8B's shape; keyword arguments replace or add architecture fields
    (None removes one)."""
    arch = {key: LLAMA_CONFIG[key] for key in LLAMA_KEYS + LLAMA_SIZES} | architecture
    return with_facts(
        {
            "id": "m",
            "name": "M",
            "hf_repo": "org/m",
            "organization": "Org",
            "family": "f",
            "context_window": LLAMA_CONFIG["max_position_embeddings"],
            "native_precision": "bf16",
            "precisions": ["bf16"],
            "architecture": {k: v for k, v in arch.items() if v is not None},
            "sources": [{"url": "https://example.org/config.json", "title": "test config"}],
        }
    )


def shipped_text(folder: str, record_id: str) -> str:
    """A record file of the shipped catalog, as written (canonical: `check --strict` enforces it)."""
    return (CATALOG / folder / f"{record_id}.yaml").read_text(encoding="utf-8")


def shipped(folder: str, record_id: str) -> dict[str, Any]:
    """A record of the shipped catalog as plain data, to change one value of."""
    data: dict[str, Any] = yaml.safe_load(shipped_text(folder, record_id))
    return data


def family_text(body: str, keys: list[str], reviewed: str = "2025-06-01") -> str:
    """A family article whose sources have these keys, with this Markdown body."""
    sources = "".join(f"  - key: {k}\n    title: Source {k}\n    url: https://example.org/{k}\n" for k in keys)
    return (
        "---\nid: f\ntitle: F\norganization: Org\ndescription: A test family.\n"
        f"reviewed: {reviewed}\nrevision: 1\nsources:\n{sources}---\n{body}\n"
    )


def dump(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def write(root: Path, files: dict[str, str | dict[str, Any]]) -> dict[str, Path]:
    """Write `files` (catalog-relative path: text, or data to dump as YAML) under `root`."""
    written = {}
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else dump(content), encoding="utf-8")
        written[rel] = path
    return written


def run(rule_id: str, root: Path, files: dict[str, str | dict[str, Any]], *, loads: bool = True) -> list[str]:
    """The lines `rule_id` reports on a catalog of just these files, as `check` prints them.

    `loads=False` lets a record fail to load (a rule about references to broken records needs one)."""
    assert rule_id in RULES, f"no rule {rule_id!r}"
    written = {str(path) for path in write(root, files).values()}
    report = Report()
    catalog = load_catalog(root, report)
    # The records themselves must load (a folder this small catalog leaves out is no concern of one rule).
    assert not loads or not [p for p in report.errors if p.path in written], [p.format() for p in report.errors]
    return [p.format() for p in sorted(run_rules(catalog, TODAY, only=(rule_id,)))]


def at(path: Path, prefix: str, nth: int = 1) -> str:
    """`path:line:col` of the value written after the `nth` occurrence of `prefix` (e.g. 'hidden_size: ')."""
    seen = 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if prefix in line:
            seen += 1
            if seen == nth:
                return f"{path}:{number}:{line.index(prefix) + len(prefix) + 1}"
    raise AssertionError(f"{prefix!r} is not in {path}")


def start(path: Path, needle: str) -> str:
    """`path:line:col` of the first character of the first occurrence of `needle` (a key, a list item)."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return f"{path}:{number}:{line.index(needle) + 1}"
    raise AssertionError(f"{needle!r} is not in {path}")
