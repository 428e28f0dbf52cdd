"""The repository's folders, defined once: where the code finds its templates, static files and defaults.

Everything is relative to the repository this package is installed from (an editable install: `pip install -e .`).
"""

from __future__ import annotations

from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
PACKAGE = REPOSITORY / "site_builder"
TEMPLATES = REPOSITORY / "templates"
STATIC = REPOSITORY / "static"
VENDOR = STATIC / "vendor"  # third-party browser bundles with their licences
CATALOG = REPOSITORY / "catalog"  # the shipped catalog
NODE_BIN = REPOSITORY / "node_modules" / ".bin"  # npm tools for `make audit`

# Command-line defaults, relative to the working directory (`make` runs in the repository root).
DEFAULT_CATALOG = "catalog"
DEFAULT_SCHEMA_DIR = "catalog/schema"
DEFAULT_OUT = "_site"
