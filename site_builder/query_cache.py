"""What `estimate` and `recommend` read, kept across runs: validated records of one kind, and the error bars.

Reading and validating every GPU, framework, provider and benchmark record (and the models the benchmarks
measured), then calibrating the engine against the benchmarks for an answer's error bars, was most of a query's
time. Each entry here is stored under a key that hashes the exact bytes it was computed from (every file it read,
by path) and the code that reads and computes it (the engine, the record models, the loader and the query, with
the Python, pydantic and PyYAML versions): any edit is another key, so an entry is never served for other inputs.
Only a load that reported no error is stored. A missing, unreadable or damaged file, or one holding another key,
is a miss, and the caller reads the records as if there were no cache.

One file per entry, `query-<name>.pickle` (the key and the value), in the engine cache's directory
(`engine_cache.default_dir`: `.cache/site-builder/engine` beside the catalog, or `$SITE_BUILDER_CACHE`; `off`: no
cache). The engine cache prunes its generation folders there, never these files; each is replaced, not added to.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path

from site_builder import picklefile
from site_builder.catalog import ESSENTIAL, KINDS, iter_record_files
from site_builder.codehash import sources_hash
from site_builder.engine_cache import default_dir
from site_builder.paths import PACKAGE
from site_builder.problems import Report

# The code an entry is computed by: parsing and validating records, the engine behind the error bars, the query.
SOURCES = tuple(
    PACKAGE / name
    for name in ("engine", "records", "catalog.py", "yamlsafe.py", "problems.py", "query.py", "query_cache.py")
)


@functools.cache
def code_hash() -> str:
    return sources_hash(PACKAGE, SOURCES)


def key_of(files: Iterable[tuple[Path, bytes]]) -> str:
    """A hash of the code and of these files, each by path and the sha256 of its bytes, in this order."""
    h = hashlib.sha256(code_hash().encode())
    for path, digest in files:
        h.update(f"{path}\0".encode() + digest)
    return h.hexdigest()


def file_digest(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def files_key(paths: Sequence[Path]) -> str | None:
    """`key_of` these files as they are now; None when one cannot be read."""
    try:
        return key_of((path, file_digest(path.read_bytes())) for path in paths)
    except OSError:
        return None


def kind_files(root: Path, kind: str) -> list[Path] | None:
    """The record files of one kind as the loader lists them; None where it would report a problem with the folder
    (or an essential kind has none): the loader then reads the catalog and says what is wrong."""
    report = Report()
    paths = iter_record_files(root, KINDS[kind], report)
    return None if report.problems or (not paths and kind in ESSENTIAL) else paths


def kind_key(root: Path, kind: str) -> str | None:
    paths = kind_files(root, kind)
    return None if paths is None else files_key(paths)


def record_paths(root: Path, kind: str, ids: Iterable[str]) -> list[Path]:
    """The files these records would be in (a record's file is named after its id), in the order the loader reads
    them, whether or not they exist."""
    k = KINDS[kind]
    return [root / k.folder / f"{rid}{k.suffix}" for rid in sorted(ids)]


class QueryCache:
    """Entries by name, each holding the one key it was stored under."""

    def __init__(self, catalog_root: Path) -> None:
        self.directory = default_dir(catalog_root)

    def _path(self, name: str) -> Path | None:
        return None if self.directory is None else self.directory / f"query-{name}.pickle"

    def get(self, name: str, key: str | None) -> object | None:
        path = self._path(name)
        if path is None or key is None:
            return None
        stored = picklefile.load(path)  # unreadable, damaged or foreign: only a miss
        if not (isinstance(stored, tuple) and len(stored) == 2 and stored[0] == key):
            return None
        value: object = stored[1]
        return value

    def put(self, name: str, key: str | None, value: object) -> None:
        """Written by rename (a reader sees the old entry or the new one); a cache that cannot be written is skipped."""
        path = self._path(name)
        if path is not None and key is not None:
            picklefile.dump(path, (key, value))
