"""Shared fixtures: the shipped catalog, copies of it to break, and the reference data in tests/data."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "catalog"
# A copy of the project's reference data (see tests/data/SOURCES.md): the tests read nothing outside the repo.
REFERENCE = Path(__file__).resolve().parent / "data" / "reference"


@pytest.fixture
def catalog_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped catalog (without JSON schemas) to add broken records to."""
    target = tmp_path / "catalog"
    shutil.copytree(CATALOG, target, ignore=shutil.ignore_patterns("schema"))
    return target


@pytest.fixture(scope="session")
def reference() -> Path:
    return REFERENCE
