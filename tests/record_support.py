"""Records for engine and importer tests: catalog records read as plain models, and the facts a config.json cannot
state, filled with placeholders."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel

from site_builder.records.model import Architecture, ModelRecord

CATALOG = Path(__file__).resolve().parent.parent / "catalog"
R = TypeVar("R", bound=BaseModel)


def catalog_records(folder: str, kind: type[R]) -> dict[str, R]:
    """Every record of one folder of the shipped catalog, by file name, validated as `kind`."""
    return {
        p.stem: kind.model_validate(yaml.safe_load(p.read_text(encoding="utf-8")))
        for p in sorted((CATALOG / folder).glob("*.yaml"))
    }


# Release date, licence, description and serving frameworks are required in catalog records; tests that build a
# record from a config (or by hand) only exercise the architecture, so these stand in.
PLACEHOLDER_FACTS: dict[str, Any] = {
    "release_date": None,
    "license": None,
    "description": "A test record.",
    "frameworks": ["vllm"],
}


def with_facts(data: dict[str, Any]) -> dict[str, Any]:
    """`data` with the placeholder facts wherever it leaves them out or empty (as an import leaves them)."""
    return data | {key: value for key, value in PLACEHOLDER_FACTS.items() if not data.get(key)}


def record_of(arch: Architecture, vision_params: int | None = None) -> ModelRecord:
    """A catalog-valid model record around `arch` (and a vision tower of that many parameters)."""
    vision = {"name": "tower", "params": vision_params} if vision_params else None
    return ModelRecord.model_validate(
        with_facts(
            {
                "id": "m",
                "name": "M",
                "hf_repo": "org/m",
                "organization": "Org",
                "family": "f",
                "context_window": arch.max_position_embeddings,
                "precisions": ["bf16"],
                "architecture": arch.model_dump(exclude_none=True),
                "vision": vision,
                "sources": [{"url": "https://example.org/config.json", "title": "test config"}],
            }
        )
    )
