"""`site-builder fmt`: one canonical layout for every YAML record, so diffs show content, not style.

Canonical means: the editor schema line first; keys in the order the record model declares its fields
(the record's own fields, then inherited ones such as `sources`), recursively for nested records and for
each item of a list of records; unknown keys after the known ones; 2-space indentation with list items
indented under their key; long strings never re-wrapped (wrapping moves words between lines on every
edit); comments, quoting and flow/block style kept as written (ruamel.yaml round-trip).
"""

from __future__ import annotations

import argparse
import io
import re
import sys
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from site_builder.catalog import KINDS
from site_builder.problems import Problem, Report, display_path

# catalog/<folder>/ -> the schema name used in the editor line, for the kinds stored as plain YAML.
SCHEMA_NAMES = {"models": "model", "gpus": "gpu", "frameworks": "framework", "providers": "provider",
                "benchmarks": "benchmark"}
SCHEMA_LINE_RE = re.compile(r"^#\s*yaml-language-server:.*\$schema=.*\n?", re.MULTILINE)
NEVER_WRAP = 1_000_000
UNFORMATTED = "not in canonical order/style (run site-builder fmt)"


class FormatError(Exception):
    """A file fmt cannot format (not YAML, not a mapping); carries where, for the report."""

    def __init__(self, message: str, line: int = 1, col: int = 1) -> None:
        super().__init__(message)
        self.message, self.line, self.col = message, line, col


def schema_line(folder: str) -> str:
    return f"# yaml-language-server: $schema=../schema/{SCHEMA_NAMES[folder]}.schema.json"


def make_yaml() -> YAML:
    yaml = YAML()  # round-trip: keeps comments, quotes and flow style
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = NEVER_WRAP
    return yaml


# --- canonical key order --------------------------------------------------------------------------


def field_order(model: type[BaseModel]) -> list[str]:
    """The model's own fields in declaration order, then those of its bases (`sources` comes last)."""
    order: list[str] = []
    for klass in model.__mro__:
        if not (isinstance(klass, type) and issubclass(klass, BaseModel)):
            continue
        for name in klass.__dict__.get("__annotations__", {}):
            if name in model.model_fields and name not in order:
                order.append(name)
    return order


def nested_model(annotation: Any) -> type[BaseModel] | None:
    """The record model inside `X`, `X | None` or `list[X]`; None for scalars and plain dicts."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if getattr(annotation, "__origin__", None) is dict:
        return None
    for arg in get_args(annotation):
        found = nested_model(arg)
        if found:
            return found
    return None


def reorder(node: Any, model: type[BaseModel]) -> None:
    """Put the keys of `node` (and of nested records) in canonical order, in place."""
    if isinstance(node, CommentedSeq):
        for item in node:
            reorder(item, model)
        return
    if not isinstance(node, CommentedMap):
        return
    order = field_order(model)
    rank = {name: i for i, name in enumerate(order)}
    keys = sorted(node, key=lambda k: rank.get(k, len(order)))  # stable: unknown keys keep their order
    for key in keys:
        node.move_to_end(key)
    for key in keys:
        info = model.model_fields.get(key)
        child = nested_model(info.annotation) if info else None
        if child:
            reorder(node[key], child)


# --- formatting one file --------------------------------------------------------------------------


def format_text(text: str, folder: str) -> str:
    """The canonical form of a record of kind `folder` (e.g. "models")."""
    yaml = make_yaml()
    body = SCHEMA_LINE_RE.sub("", text, count=1) if text.startswith("#") else text
    try:
        data = yaml.load(body)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise FormatError(f"YAML syntax error: {exc.problem or exc.context}", line, col) from None
    except YAMLError as exc:
        raise FormatError(f"YAML error: {exc}") from None
    if not isinstance(data, CommentedMap):
        raise FormatError("a record must be a YAML mapping of field: value")
    reorder(data, KINDS[folder].model)
    out = io.StringIO()
    yaml.dump(data, out)
    return f"{schema_line(folder)}\n{out.getvalue()}"


def record_folder(path: Path) -> str | None:
    """The kind folder of a record file (`.../models/x.yaml` -> "models"), or None if it is not one."""
    folder = path.parent.name
    return folder if folder in SCHEMA_NAMES and path.suffix == KINDS[folder].suffix else None


def catalog_files(catalog: Path) -> list[Path]:
    return sorted(p for folder in SCHEMA_NAMES for p in (catalog / folder).glob("*.yaml") if p.is_file())


def write_atomically(path: Path, text: str) -> None:
    """Replace the file in one step, so an interrupted run never leaves half a record."""
    tmp = path.with_name(f".{path.name}.fmt-tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def format_file(path: Path, check: bool, report: Report) -> bool:
    """Format (or, with `check`, only inspect) one file; True when it was or would be changed."""
    shown = display_path(path)
    folder = record_folder(path)
    if folder is None:
        report.add(Problem(shown, 1, 1, "format", "not a YAML record (expected <catalog>/<kind>/<id>.yaml)"))
        return False
    try:
        text = path.read_text(encoding="utf-8")
        formatted = format_text(text, folder)
    except FormatError as exc:
        report.add(Problem(shown, exc.line, exc.col, "format", exc.message))
        return False
    except (OSError, UnicodeDecodeError) as exc:
        report.add(Problem(shown, 1, 1, "format", f"cannot read file: {exc}"))
        return False
    if formatted == text:
        return False
    if check:
        report.add(Problem(shown, 1, 1, "format", UNFORMATTED))
    else:
        write_atomically(path, formatted)
    return True


def fmt_command(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.paths] or catalog_files(Path(args.catalog))
    report = Report()
    changed = [p for p in paths if format_file(p, args.check, report)]
    for problem in report.sorted():
        print(problem.format(), file=sys.stderr)
    verb = "would be reformatted" if args.check else "reformatted"
    if not args.check:
        for path in changed:
            print(f"reformatted {display_path(path)}", file=sys.stderr)
    plural = "" if len(changed) == 1 else "s"
    print(f"{len(changed)} file{plural} {verb}, {len(paths) - len(changed)} unchanged", file=sys.stderr)
    return 1 if report.problems else 0
