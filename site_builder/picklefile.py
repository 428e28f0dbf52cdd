"""The files the caches keep between builds and queries: one pickled value each.

Reading gives None for a file that is missing, unreadable, damaged or written by other code (the caller then
computes what it needs, as without a cache). Writing goes by rename (output.write_bytes), so a reader sees the old
value or the new one, and a value that cannot be written is skipped: a cache never fails a build."""

from __future__ import annotations

import pickle
from pathlib import Path

from site_builder.output import write_bytes

PROTOCOL = pickle.HIGHEST_PROTOCOL


def load(path: Path | None) -> object | None:
    if path is None:
        return None
    try:
        with path.open("rb") as f:
            value: object = pickle.load(f)
    except Exception:  # missing, unreadable, damaged or foreign: a miss
        return None
    return value


def dump(path: Path | None, value: object) -> None:
    if path is None:
        return
    try:
        write_data(path, pickle.dumps(value, protocol=PROTOCOL))
    except pickle.PicklingError:
        return


def write_data(path: Path, data: bytes) -> None:
    """`data` into `path` by rename; skipped where the folder cannot be made or written."""
    try:
        write_bytes(path.parent, path.name, data)
    except OSError:
        return
