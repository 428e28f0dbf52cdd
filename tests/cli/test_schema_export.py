"""JSON Schema export: structure editors rely on, determinism, and --check catching stale files."""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from pathlib import Path
from typing import Any, get_args

import pytest
import yaml

from site_builder.catalog import KINDS, split_front_matter
from site_builder.records.common import SLUG_RE, PrecisionId
from site_builder.schema_export import KIND_FOLDERS, SchemaOptions, render, schema_command, schema_for, stale_files

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "catalog"


def objects(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The root schema and every object definition under $defs."""
    return [schema, *[d for d in schema.get("$defs", {}).values() if d.get("type") == "object"]]


# --- a small structural validator (jsonschema is not a dependency) ----------------------------------


def problems(value: Any, schema: dict[str, Any], root: dict[str, Any], where: str = "") -> list[str]:
    """The subset of JSON Schema that pydantic emits for our records: enough to catch drift."""
    if "$ref" in schema:
        return problems(value, root["$defs"][schema["$ref"].rsplit("/", 1)[1]], root, where)
    if "anyOf" in schema:
        tried = [problems(value, option, root, where) for option in schema["anyOf"]]
        return [] if any(not t for t in tried) else min(tried, key=len)
    if "enum" in schema and value not in schema["enum"]:
        return [f"{where}: {value!r} not in enum"]
    if "const" in schema and value != schema["const"]:
        return [f"{where}: {value!r} != const"]
    return type_problems(value, schema, root, where)


def type_problems(value: Any, schema: dict[str, Any], root: dict[str, Any], where: str) -> list[str]:
    kind = schema.get("type")
    if kind == "object":
        return object_problems(value, schema, root, where)
    if kind == "array":
        if not isinstance(value, list):
            return [f"{where}: expected a list"]
        found = [f"{where}: too few items"] if len(value) < schema.get("minItems", 0) else []
        item = schema.get("items", {})
        return found + [p for i, v in enumerate(value) for p in problems(v, item, root, f"{where}[{i}]")]
    if kind == "string":
        text = value.isoformat() if isinstance(value, dt.date) else value  # YAML dates are strings in JSON
        if not isinstance(text, str):
            return [f"{where}: expected a string"]
        matches = "pattern" not in schema or re.search(schema["pattern"], text)
        return [] if matches else [f"{where}: does not match pattern"]
    checks = {
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "null": lambda v: v is None,
    }
    if kind in checks and not checks[kind](value):
        return [f"{where}: expected {kind}"]
    return []


def object_problems(value: Any, schema: dict[str, Any], root: dict[str, Any], where: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{where}: expected a mapping"]
    found = [f"{where}.{name}: required" for name in schema.get("required", []) if name not in value]
    props = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        if key in props:
            found += problems(item, props[key], root, f"{where}.{key}")
        elif extra is False:
            found.append(f"{where}.{key}: not allowed")
        elif isinstance(extra, dict):
            found += problems(item, extra, root, f"{where}.{key}")
    return found


def test_the_validator_can_fail() -> None:
    schema = schema_for("gpu")
    good = {
        "id": "x",
        "name": "X",
        "short_name": "X",
        "vendor": "nvidia",
        "segment": "consumer",
        "architecture": "Ada",
        "sources": [{"url": "https://example.com"}],
    }
    assert problems(good, schema, schema) == []
    assert problems({**good, "vendor": "ibm"}, schema, schema) == [".vendor: 'ibm' not in enum"]
    assert problems({**good, "colour": "red"}, schema, schema) == [".colour: not allowed"]
    assert problems({**good, "id": "Not A Slug"}, schema, schema) == [".id: does not match pattern"]
    unsourced = {k: v for k, v in good.items() if k != "sources"}
    assert problems(unsourced, schema, schema) == [".sources: required"]


def catalog_records() -> list[tuple[str, Path]]:
    found = []
    for kind, folder in KIND_FOLDERS.items():
        found += [(kind, path) for path in sorted((CATALOG / folder).glob(f"*{KINDS[folder].suffix}"))]
    return found


@functools.cache
def cached_schema(kind: str) -> dict[str, Any]:
    return schema_for(kind)


@pytest.mark.parametrize(("kind", "path"), catalog_records(), ids=lambda v: getattr(v, "name", v))
def test_every_catalog_record_satisfies_its_schema(kind: str, path: Path) -> None:
    text = path.read_text()
    if path.suffix == ".md":
        text = split_front_matter(text)[0]
    schema = cached_schema(kind)
    assert problems(yaml.safe_load(text), schema, schema) == []


# --- structure ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(KIND_FOLDERS))
def test_header_fields(kind: str) -> None:
    schema = schema_for(kind)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"urn:model-catalog:schema:{kind}"
    assert schema["title"] == f"{kind.capitalize()} record"
    assert f"catalog/{KIND_FOLDERS[kind]}/" in schema["description"]


@pytest.mark.parametrize("kind", list(KIND_FOLDERS))
def test_unknown_fields_are_rejected_everywhere(kind: str) -> None:
    for obj in objects(schema_for(kind)):
        assert obj["additionalProperties"] is False, obj.get("title")


@pytest.mark.parametrize("kind", list(KIND_FOLDERS))
def test_required_fields_match_the_record_model(kind: str) -> None:
    model = KINDS[KIND_FOLDERS[kind]].model
    expected = {name for name, info in model.model_fields.items() if info.is_required()}
    assert set(schema_for(kind)["required"]) == expected


def test_model_schema_details() -> None:
    schema = schema_for("model")
    assert {
        "id",
        "name",
        "hf_repo",
        "organization",
        "family",
        "context_window",
        "precisions",
        "architecture",
        "sources",
    } <= set(schema["required"])
    precisions = schema["properties"]["precisions"]
    assert precisions["items"]["enum"] == list(get_args(PrecisionId))
    assert precisions["minItems"] == 1
    assert schema["properties"]["id"]["pattern"] == SLUG_RE.pattern
    source_url = schema["$defs"]["Source"]["properties"]["url"]
    assert source_url["pattern"].startswith("^https?://")
    arch = schema["$defs"]["Architecture"]
    assert {"model_type", "hidden_size", "num_hidden_layers"} <= set(arch["required"])
    assert arch["properties"]["norm_type"]["enum"] == ["rmsnorm", "layernorm"]


def test_rendering_is_deterministic_sorted_and_newline_terminated() -> None:
    first = render(schema_for("gpu"))
    assert first == render(schema_for("gpu"))
    assert first.endswith("}\n")
    assert first == json.dumps(json.loads(first), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# --- the command -------------------------------------------------------------------------------------


def command(out: Path, check: bool) -> SchemaOptions:
    return SchemaOptions(out, check)


def test_write_then_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "schema"
    assert schema_command(command(out, check=True)) == 1  # nothing written yet: all stale
    assert schema_command(command(out, check=False)) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{k}.schema.json" for k in KIND_FOLDERS)
    capsys.readouterr()
    assert schema_command(command(out, check=True)) == 0
    assert capsys.readouterr().err == ""


def test_check_names_a_stale_and_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "schema"
    schema_command(command(out, check=False))
    stale = out / "gpu.schema.json"
    data = json.loads(stale.read_text())
    data["properties"].pop("memory_gb")
    stale.write_text(render(data))
    (out / "family.schema.json").unlink()
    capsys.readouterr()
    assert schema_command(command(out, check=True)) == 1
    err = capsys.readouterr().err.splitlines()
    message = "out of date with the record models (run site-builder schema)"
    assert err == [f"{out / 'gpu.schema.json'}: {message}", f"{out / 'family.schema.json'}: {message}"]
    schema_command(command(out, check=False))
    assert stale_files(out) == []


def test_committed_schemas_are_current() -> None:
    stale = stale_files(CATALOG / "schema")
    assert stale == [], f"run `site-builder schema` to regenerate: {[p.name for p in stale]}"
