"""Validated records kept between builds, by the exact bytes of their files.

Parsing a record's YAML (with the position of every value) and validating it was most of a build's load step, and
after an edit to one record every other record is read again as it was. A build keeps each record it validated,
with its values and the YAML text they came from, under its file's name and the sha256 of the file's bytes; the
next build takes a record whose file has those bytes from here. The positions of its values, which only a problem
report needs, are parsed from the kept text when first asked for (yamlsafe.LoadedYaml).

One file, `records.pickle` in the engine cache's directory, holding the hash of the code that parses and validates
records and the records of the last build. A missing, damaged or foreign file, or one written by other code, is
empty; a file that failed to parse or validate is never kept, so its problems are reported on every build.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from site_builder import picklefile
from site_builder.codehash import sources_hash
from site_builder.paths import PACKAGE

# The code a kept record was made by: the record models, the loader and YAML reader, and the way it is kept here.
SOURCES = tuple(PACKAGE / name for name in ("records", "catalog.py", "yamlsafe.py", "problems.py", "record_cache.py"))


@functools.cache
def code_hash() -> str:
    return sources_hash(PACKAGE, SOURCES)


@dataclass(frozen=True)
class Stored:
    """What load_record made of one file: the record, the values it was validated from and their text."""

    digest: bytes  # sha256 of the file's bytes
    record: BaseModel
    data: Any
    text: str  # the YAML (an article's front matter) the values were parsed from
    line_offset: int
    body: str
    body_line: int


class RecordCache:
    """The records of the previous build by file (`<kind folder>/<file name>`); None as the file keeps nothing."""

    def __init__(self, file: Path | None) -> None:
        self.file = file
        self.known: dict[str, Stored] = {}
        self.used: dict[str, Stored] = {}
        if file is None:
            return
        stored = picklefile.load(file)  # none yet, damaged or foreign: every record is parsed again
        if isinstance(stored, tuple) and len(stored) == 2 and stored[0] == code_hash() and isinstance(stored[1], dict):
            self.known = stored[1]

    def get(self, name: str, digest: bytes) -> Stored | None:
        found = self.known.get(name)
        if found is None or found.digest != digest:
            return None
        self.used[name] = found
        return found

    def put(self, name: str, stored: Stored) -> None:
        self.used[name] = stored

    def save(self) -> None:
        """Keep this build's records (older files' are dropped), written by rename; only when one was added or the
        build read fewer files. A cache that cannot be written is skipped."""
        if self.used.keys() != self.known.keys() or any(self.known[n] is not s for n, s in self.used.items()):
            picklefile.dump(self.file, (code_hash(), self.used))
