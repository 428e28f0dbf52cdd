"""Shared fixtures: the shipped catalog, copies of it to break, and the reference data beside the repo."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "catalog"


def shared_dir() -> Path | None:
    for candidate in (os.environ.get("SHARED_DIR"), ROOT.parent / "shared", ROOT / "shared"):
        if candidate and (Path(candidate) / "reference").is_dir():
            return Path(candidate)
    return None


@pytest.fixture
def catalog_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped catalog (without JSON schemas) to add broken records to."""
    target = tmp_path / "catalog"
    shutil.copytree(CATALOG, target, ignore=shutil.ignore_patterns("schema"))
    return target


@pytest.fixture(scope="session")
def reference() -> Path:
    found = shared_dir()
    if found is None:
        pytest.skip("../shared/reference is not beside the repository")
    return found / "reference"
