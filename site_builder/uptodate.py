"""Skip a build whose inputs are exactly those of the site already in the output directory.

The build is deterministic, so the same catalog, site config, templates, static files, code and options
give the same bytes; a fingerprint of all of them is stored in the output, and a build that computes the
same fingerprint has nothing to do. The inputs are hashed in two parts, so that a build after a record edit
can tell which records changed (site_builder/incremental.py): each catalog record on its own, and everything
else together.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from site_builder.catalog import KINDS
from site_builder.paths import PACKAGE, STATIC, TEMPLATES

MARKER = ".build-inputs"
_CODE = (TEMPLATES, STATIC, PACKAGE)


@dataclass(frozen=True)
class Inputs:
    code: str  # code, templates, static files, site config, options, and catalog files that are not records
    records: dict[str, str]  # "<kind>/<id>" (as Page.deps names records) -> sha256 of the record's file

    @property
    def key(self) -> str:
        h = hashlib.sha256(self.code.encode())
        for name, digest in sorted(self.records.items()):
            h.update(f"{name}\0{digest}\0".encode())
        return h.hexdigest()


def _files(base: Path) -> list[Path]:
    if not base.is_dir():
        return []
    return [p for p in sorted(base.rglob("*")) if p.is_file() and "__pycache__" not in p.parts]


def _hash_tree(h: hashlib._Hash, base: Path) -> None:
    for path in _files(base):
        h.update(f"{base.name}/{path.relative_to(base).as_posix()}\0".encode())
        h.update(hashlib.sha256(path.read_bytes()).digest())


def record_key(rel: Path) -> str | None:
    """ "models/x" for catalog/models/x.yaml (the record's id: a rule makes it equal the file name), else None."""
    kind = KINDS.get(rel.parts[0]) if len(rel.parts) == 2 else None
    return f"{rel.parts[0]}/{rel.stem}" if kind is not None and rel.suffix == kind.suffix else None


def read_inputs(catalog_dir: Path, config: Path, options: dict[str, object]) -> Inputs:
    h = hashlib.sha256(json.dumps({**options, "python": sys.version}, sort_keys=True).encode())
    for base in _CODE:
        _hash_tree(h, base)
    h.update(b"config\0" + (config.read_bytes() if config.is_file() else b""))
    records: dict[str, str] = {}
    for path in _files(catalog_dir):
        rel = path.relative_to(catalog_dir)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        key = record_key(rel)
        if key is None:
            h.update(f"catalog/{rel.as_posix()}\0{digest}\0".encode())
        else:
            records[key] = digest
    return Inputs(h.hexdigest(), records)


def built_pages(out: Path, key: str) -> int | None:
    """The page count of the site in `out` when it was built from inputs with this fingerprint, else None."""
    try:
        stored, pages = (out / MARKER).read_text(encoding="utf-8").split()
    except (OSError, ValueError):
        return None
    return int(pages) if stored == key and (out / "index.html").is_file() else None


def marker_text(key: str, pages: int) -> str:
    return f"{key} {pages}\n"
