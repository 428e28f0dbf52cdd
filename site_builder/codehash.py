"""A hash of the code a cached value is computed by, for the keys of the caches kept between builds and queries.

A cache entry made by other code is never served: its key holds this hash of the source files named, with the
Python, pydantic and PyYAML versions and the pickle protocol the entry is stored with."""

from __future__ import annotations

import hashlib
import pickle
import sys
from collections.abc import Iterable
from pathlib import Path

import pydantic
import yaml


def sources_hash(package: Path, sources: Iterable[Path]) -> str:
    """sha256 over every `.py` file of `sources` (folders and files below `package`), by relative path and bytes."""
    h = hashlib.sha256(f"{sys.version}\0{pydantic.VERSION}\0{yaml.__version__}\0{pickle.HIGHEST_PROTOCOL}\0".encode())
    for base in sources:
        for path in sorted(base.rglob("*.py")) if base.is_dir() else [base]:
            h.update(f"{path.relative_to(package).as_posix()}\0".encode())
            h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()
