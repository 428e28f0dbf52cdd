"""Shared fixtures: the shipped catalog, copies of it to break, the reference data in tests/data, and for the browser
tests one built site, one server and one Chromium for the whole session (Playwright's sync API runs its own event
loop, so a session may hold only one `sync_playwright()`: every browser test module takes `browser` from here)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import build, chromium_available, launch, missing_tool, serve
from playwright.sync_api import Browser, Playwright, sync_playwright

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


@pytest.fixture(scope="session")
def chromium() -> None:
    if not chromium_available():
        missing_tool("/usr/bin/chromium is not installed (run `make browser-deps` as root)")


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("browser") / "site", search=True)


@pytest.fixture(scope="session")
def origin(site: Path) -> Iterator[str]:
    with serve(site) as url:
        yield url


@pytest.fixture(scope="session")
def playwright(chromium: None) -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    b = launch(playwright)
    yield b
    b.close()
