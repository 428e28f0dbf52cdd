"""Model records for engine and importer tests: the facts a config.json cannot state, filled with placeholders."""

from __future__ import annotations

from typing import Any

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
