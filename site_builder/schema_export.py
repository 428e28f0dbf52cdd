"""JSON Schema files for every record kind, so editors can autocomplete and validate catalog YAML.

The pydantic models are the single source of truth; `catalog/schema/*.schema.json` is generated from them
and CI runs `site-builder schema --check` so the two never drift apart.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from site_builder.catalog import KINDS
from site_builder.records import common

DRAFT = "https://json-schema.org/draft/2020-12/schema"
# A URN rather than a URL: the site's address is not fixed, and editors resolve the files by path anyway.
ID_PREFIX = "urn:model-catalog:schema:"

# Singular kind name (the schema file name) -> folder in catalog/ (the KINDS key).
KIND_FOLDERS = {
    "model": "models",
    "gpu": "gpus",
    "framework": "frameworks",
    "provider": "providers",
    "benchmark": "benchmarks",
    "family": "families",
}
DESCRIPTIONS = {
    "model": "An open-weight model: catalog/models/<id>.yaml (architecture fields as in config.json).",
    "gpu": "A GPU, accelerator, unified-memory machine or CPU platform: catalog/gpus/<id>.yaml.",
    "framework": "An inference framework and how to launch a model with it: catalog/frameworks/<id>.yaml.",
    "provider": "An API provider and its per-token prices: catalog/providers/<id>.yaml.",
    "benchmark": "One measured inference result with its source: catalog/benchmarks/<id>.yaml.",
    "family": "Front matter of a model-family article: catalog/families/<id>.md.",
}
# Validators that pydantic cannot express in JSON Schema, and the pattern that says the same thing.
PATTERNS = {common._slug: common.SLUG_RE.pattern, common._url: common.URL_RE.pattern}


class CatalogJsonSchema(GenerateJsonSchema):
    """Adds the slug and URL patterns that the records enforce with plain Python validators."""

    def function_after_schema(self, schema: core_schema.AfterValidatorFunctionSchema) -> JsonSchemaValue:
        result = super().function_after_schema(schema)
        pattern = PATTERNS.get(schema["function"]["function"])  # type: ignore[arg-type]
        if pattern and result.get("type") == "string":
            result = {**result, "pattern": pattern}
        return result


def schema_for(kind: str) -> dict[str, Any]:
    model: type[BaseModel] = KINDS[KIND_FOLDERS[kind]].model
    schema = model.model_json_schema(schema_generator=CatalogJsonSchema)
    return {
        **schema,
        "$schema": DRAFT,
        "$id": f"{ID_PREFIX}{kind}",
        "title": f"{kind.capitalize()} record",
        "description": DESCRIPTIONS[kind],
    }


def render(schema: dict[str, Any]) -> str:
    """Sorted keys and a trailing newline, so regenerating an unchanged schema changes no byte."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def expected_files() -> dict[str, str]:
    return {f"{kind}.schema.json": render(schema_for(kind)) for kind in KIND_FOLDERS}


def stale_files(out: Path) -> list[Path]:
    return [out / name for name, text in expected_files().items() if not same_text(out / name, text)]


def same_text(path: Path, text: str) -> bool:
    try:
        return path.read_text(encoding="utf-8") == text
    except OSError:
        return False


def write_schemas(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in expected_files().items():
        path = out / name
        if not same_text(path, text):
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


@dataclass(frozen=True)
class SchemaOptions:
    """`site-builder schema`: write the schemas into `out`, or with `check` only report stale files."""

    out: Path
    check: bool = False


def schema_command(options: SchemaOptions) -> int:
    out = options.out
    if options.check:
        stale = stale_files(out)
        for path in stale:
            print(f"{path}: out of date with the record models (run site-builder schema)", file=sys.stderr)
        return 1 if stale else 0
    for path in write_schemas(out):
        print(f"wrote {path}", file=sys.stderr)
    return 0
