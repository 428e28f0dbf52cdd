"""Load every record of the catalog, validate each against its schema, and report problems with positions."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

from pydantic import BaseModel, ValidationError

from site_builder.problems import Problem, Report, Severity, display_path
from site_builder.record_cache import RecordCache, Stored
from site_builder.records import (
    BenchmarkRecord,
    FamilyRecord,
    FrameworkRecord,
    GpuRecord,
    ModelRecord,
    ProviderRecord,
)
from site_builder.records.common import CONTROL_RE
from site_builder.yamlsafe import LoadedYaml, Loc, Mark, YamlProblem, decode, load_yaml_text

R = TypeVar("R", bound=BaseModel)


@dataclass(frozen=True)
class Located(Generic[R]):
    """A validated record with the file it came from and where each of its values sits."""

    record: R
    path: Path
    source: LoadedYaml
    line_offset: int = 0
    body: str = ""
    body_line: int = 0  # line of the file where `body` starts

    def problem(self, loc: Loc, message: str, *, warning: bool = False, rule: str = "") -> Problem:
        mark = self.source.mark_for(loc)
        return Problem(
            path=display_path(self.path),
            line=mark.line + self.line_offset,
            col=mark.col,
            field=".".join(str(p) for p in loc),
            message=message,
            severity=Severity.WARNING if warning else Severity.ERROR,
            rule=rule,
        )


@dataclass(frozen=True)
class Kind(Generic[R]):
    folder: str
    suffix: str
    model: type[R]


KINDS: dict[str, Kind[Any]] = {
    "models": Kind("models", ".yaml", ModelRecord),
    "gpus": Kind("gpus", ".yaml", GpuRecord),
    "frameworks": Kind("frameworks", ".yaml", FrameworkRecord),
    "providers": Kind("providers", ".yaml", ProviderRecord),
    "benchmarks": Kind("benchmarks", ".yaml", BenchmarkRecord),
    "families": Kind("families", ".md", FamilyRecord),
}


@dataclass
class Catalog:
    root: Path
    models: dict[str, Located[ModelRecord]] = field(default_factory=dict)
    gpus: dict[str, Located[GpuRecord]] = field(default_factory=dict)
    frameworks: dict[str, Located[FrameworkRecord]] = field(default_factory=dict)
    providers: dict[str, Located[ProviderRecord]] = field(default_factory=dict)
    benchmarks: dict[str, Located[BenchmarkRecord]] = field(default_factory=dict)
    families: dict[str, Located[FamilyRecord]] = field(default_factory=dict)
    # Records that failed to load, by kind and file stem: references to them are not "unknown".
    broken: dict[str, dict[str, Path]] = field(default_factory=dict)
    # Kinds whose folder is missing, empty or not a folder: reported once, so references to them are not.
    unusable: set[str] = field(default_factory=set)

    def table(self, kind: str) -> dict[str, Located[Any]]:
        table: dict[str, Located[Any]] = getattr(self, kind)
        return table


def _friendly(err: dict[str, Any], model: type[BaseModel], loc: Loc) -> str:
    import difflib  # only a record with a problem needs it: every query and build imports this module

    kind = err["type"]
    if kind == "missing":
        return "required field is missing"
    if "input" in err and err["input"] is None:  # `license:` with nothing after it
        return "required field is empty: fill it in from a source"
    if kind == "extra_forbidden":
        name = str(loc[-1]) if loc else ""
        owner = _owner_model(model, loc[:-1])
        known = sorted(owner.model_fields) if owner else []
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"unknown field{hint}"
    msg = str(err["msg"])
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if kind in {"literal_error", "enum"}:
        return f"{msg}, got {err.get('input')!r}"
    return msg[:1].lower() + msg[1:]


def _owner_model(model: type[BaseModel], loc: Loc) -> type[BaseModel] | None:
    """The pydantic model that owns the mapping at `loc`, to suggest field names for typos."""
    current: type[BaseModel] | None = model
    for part in loc:
        if current is None or isinstance(part, int):
            continue
        info = current.model_fields.get(part)
        if info is None:
            return None
        current = _model_in(info.annotation)
    return current


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in(arg)
        if found:
            return found
    return None


def _without_typo_duplicates(errors: list[Any]) -> list[Any]:
    """A misspelt key yields 'unknown field' and 'required field is missing'; keep only the first."""
    import difflib

    unknown = {(tuple(e["loc"][:-1]), str(e["loc"][-1])) for e in errors if e["type"] == "extra_forbidden"}
    out = []
    for e in errors:
        if e["type"] == "missing":
            parent, name = tuple(e["loc"][:-1]), str(e["loc"][-1])
            if any(p == parent and difflib.get_close_matches(name, [u], n=1) for p, u in unknown):
                continue
        out.append(e)
    return out


def split_front_matter(text: str) -> tuple[str, str, int]:
    """Return (front matter YAML, Markdown body, line offset of the YAML) of a family article."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise YamlProblem("article must start with '---' and YAML front matter", Mark(1, 1))
    for i in range(1, len(lines)):
        if lines[i].strip() == "---":
            return "".join(lines[1:i]), "".join(lines[i + 1 :]), 1
    raise YamlProblem("front matter is not closed by a '---' line", Mark(1, 1))


def load_record(
    path: Path,
    kind: Kind[R],
    report: Report,
    on_read: Callable[[Path, bytes], None] | None = None,
    kept: RecordCache | None = None,
) -> Located[R] | None:
    """`on_read` is given the bytes the record is parsed from (a cache keys what it stores on exactly those); `kept`
    serves the record a file with the same bytes was validated into before, and keeps this one."""
    shown = display_path(path)
    offset = 0
    body = ""
    body_line = 0
    name = f"{kind.folder}/{path.name}"
    digest = b""
    try:
        raw = path.read_bytes()
        if on_read:
            on_read(path, raw)
        if kept is not None:
            digest = hashlib.sha256(raw).digest()
            hit = kept.get(name, digest)
            if hit is not None:
                return Located(
                    record=cast(R, hit.record),
                    path=path,
                    source=LoadedYaml(hit.data, text=hit.text),
                    line_offset=hit.line_offset,
                    body=hit.body,
                    body_line=hit.body_line,
                )
        text = decode(raw)
        if kind.suffix == ".md":
            text, body, offset = split_front_matter(text)
            body_line = text.count("\n") + 3  # after the opening '---', the front matter and the closing '---'
        loaded = load_yaml_text(text)
    except YamlProblem as exc:
        line = exc.mark.line + (offset if exc.mark.line > 1 or offset else 0)
        report.add(Problem(shown, line, exc.mark.col, ".".join(map(str, exc.loc)), exc.message))
        return None
    except OSError as exc:
        report.add(Problem(shown, 1, 1, "", f"cannot read file: {exc.strerror}"))
        return None
    if not isinstance(loaded.data, dict):
        report.add(Problem(shown, 1, 1, "", "a record must be a YAML mapping of field: value"))
        return None
    try:
        # Strict: YAML already typed every value, so `true` is no 1 and `1.5` no integer; nothing is coerced.
        record = kind.model.model_validate(loaded.data, strict=True)
    except ValidationError as exc:
        for err in _without_typo_duplicates(exc.errors()):
            loc: Loc = tuple(err["loc"])
            use_key = err["type"] == "extra_forbidden" and loc in loaded.key_marks
            mark = loaded.key_marks[loc] if use_key else loaded.mark_for(loc)
            report.add(
                Problem(shown, mark.line + offset, mark.col, ".".join(map(str, loc)), _friendly(err, kind.model, loc))
            )
        return None
    if kept is not None:
        kept.put(name, Stored(digest, record, loaded.data, text, offset, body, body_line))
    return Located(record=record, path=path, source=loaded, line_offset=offset, body=body, body_line=body_line)


# Bidirectional overrides and isolates reorder how text displays ("Trojan Source"): legitimate in a name
# written right to left, but worth a look, so a warning.
BIDI_RE = re.compile("[\u202a-\u202e\u2066-\u2069]")


def _strings(value: Any, loc: Loc) -> Iterator[tuple[Loc, str]]:
    if isinstance(value, str):
        yield loc, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*loc, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, (*loc, i))


def scan_text(located: Located[Any], report: Report) -> None:
    """Warn about bidi controls in any text; reject control characters in an article's body too."""
    for loc, text in _strings(located.source.data, ()):
        found = BIDI_RE.search(text)
        if found:
            report.add(
                located.problem(loc, f"contains the bidirectional control U+{ord(found.group()):04X}", warning=True)
            )
    # split('\n'), not splitlines(): the latter also breaks at \x0c, \x1c..\x1e and U+2028 and would hide them.
    for number, line in enumerate(located.body.split("\n"), located.body_line):
        for pattern, warning in ((CONTROL_RE, False), (BIDI_RE, True)):
            found = pattern.search(line)
            if found:
                kind = "bidirectional control" if warning else "control character"
                where = display_path(located.path)
                message = f"contains the {kind} U+{ord(found.group()):04X}"
                severity = Severity.WARNING if warning else Severity.ERROR
                report.add(Problem(where, number, found.start() + 1, "body", message, severity))


def iter_record_files(root: Path, kind: Kind[Any], report: Report | None = None) -> list[Path]:
    """The record files of one kind; anything else in the folder is reported, never silently skipped."""
    folder = root / kind.folder
    if not folder.exists():
        return []
    if not folder.is_dir():
        _add(report, folder, f"must be a folder of *{kind.suffix} records, but it is a file")
        return []
    files = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue  # editor swap files and the like
        if path.suffix != kind.suffix or not path.is_file():
            hint = f"; rename it to {path.stem}{kind.suffix}" if path.suffix in {".yml", ".yaml", ".md"} else ""
            _add(report, path, f"not a record: {kind.folder}/ holds only *{kind.suffix} files{hint}")
        elif path.is_symlink() and not path.resolve().is_relative_to(root.resolve()):
            _add(report, path, "is a symbolic link to a file outside the catalog; copy the record in instead")
        else:
            files.append(path)
    return files


def _add(report: Report | None, path: Path, message: str) -> None:
    if report is not None:
        report.add(Problem(display_path(path), 1, 1, "", message))


# Without these there is no site to build: an empty catalog is a mistake (a wrong --catalog), not a site.
ESSENTIAL = ("models", "gpus")


def _wanted_files(root: Path, kind: Kind[Any], ids: set[str]) -> list[Path]:
    """The files of just these records (a record's file is named after its id), where they exist."""
    return [path for rid in sorted(ids) if (path := root / kind.folder / f"{rid}{kind.suffix}").is_file()]


def load_catalog(
    root: Path,
    report: Report,
    on_file: Callable[[Path], None] | None = None,
    only: dict[str, set[str] | None] | None = None,
    on_read: Callable[[Path, bytes], None] | None = None,
    kept: RecordCache | None = None,
) -> Catalog:
    """Read and validate every record; problems go to `report`, valid records into the catalog.

    `only` is the fast path for a query that needs a few records: the kinds to read, each with the ids
    to read (None: all of that kind); other kinds stay empty. `on_read` and `kept` are `load_record`'s.
    """
    catalog = Catalog(root=root)
    if not root.is_dir():
        report.add(Problem(display_path(root), 1, 1, "", "catalog directory does not exist"))
        return catalog
    for name, kind in KINDS.items():
        if only is not None and name not in only:
            continue
        table = catalog.table(name)
        ids = only.get(name) if only is not None else None
        paths = iter_record_files(root, kind, report) if ids is None else _wanted_files(root, kind, ids)
        if (root / name).is_file():
            catalog.unusable.add(name)
        elif not paths and name in ESSENTIAL and ids is None:
            _add(report, root / name, f"the catalog has no {name} records (is --catalog {root} right?)")
            catalog.unusable.add(name)
        for path in paths:
            if on_file:
                on_file(path)
            located = load_record(path, kind, report, on_read, kept)
            if located is None:
                catalog.broken.setdefault(name, {})[path.stem] = path
                continue
            scan_text(located, report)
            record_id = getattr(located.record, "id", path.stem)
            if record_id in table:
                report.add(
                    located.problem(("id",), f"duplicate id {record_id!r} (also in {table[record_id].path.name})")
                )
                continue
            table[record_id] = located
    return catalog
