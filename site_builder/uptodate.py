"""Skip a build whose inputs are exactly those of the site already in the output directory.

The build is deterministic, so the same catalog, site config, templates, static files, code and options
give the same bytes; a fingerprint of all of them is stored in the output, and a build that computes the
same fingerprint has nothing to do.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from site_builder.paths import PACKAGE, STATIC, TEMPLATES

MARKER = ".build-inputs"
_CODE = (TEMPLATES, STATIC, PACKAGE)


def _hash_tree(h: hashlib._Hash, base: Path) -> None:
    if not base.is_dir():
        return
    for path in sorted(base.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            h.update(f"{base.name}/{path.relative_to(base).as_posix()}\0".encode())
            h.update(hashlib.sha256(path.read_bytes()).digest())


def fingerprint(catalog_dir: Path, config: Path, options: dict[str, object]) -> str:
    h = hashlib.sha256(json.dumps({**options, "python": sys.version}, sort_keys=True).encode())
    for base in (*_CODE, catalog_dir):
        _hash_tree(h, base)
    h.update(b"config\0" + (config.read_bytes() if config.is_file() else b""))
    return h.hexdigest()


def built_pages(out: Path, key: str) -> int | None:
    """The page count of the site in `out` when it was built from inputs with this fingerprint, else None."""
    try:
        stored, pages = (out / MARKER).read_text(encoding="utf-8").split()
    except (OSError, ValueError):
        return None
    return int(pages) if stored == key and (out / "index.html").is_file() else None


def marker_text(key: str, pages: int) -> str:
    return f"{key} {pages}\n"
