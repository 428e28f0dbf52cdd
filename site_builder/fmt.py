"""`site-builder fmt`: one canonical layout for every YAML record, so diffs show content, not style.

Canonical means: the editor schema line first; keys in the order the record model declares its fields
(the record's own fields, then inherited ones such as `sources`), recursively for nested records and for
each item of a list of records; unknown keys after the known ones; 2-space indentation with `- ` list
items level with their key (as PyYAML writes them); long strings never re-wrapped (wrapping moves words
between lines on every edit); comments, quoting and flow/block style kept as written (ruamel.yaml
round-trip).
"""

from __future__ import annotations

import inspect
import io
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark, MarkedYAMLError, YAMLError
from ruamel.yaml.tokens import CommentToken

from site_builder.catalog import KINDS
from site_builder.problems import Problem, Report, display_path
from site_builder.yamlsafe import YamlProblem, load_yaml_text

# catalog/<folder>/ -> the schema name used in the editor line, for the kinds stored as plain YAML.
SCHEMA_NAMES = {
    "models": "model",
    "gpus": "gpu",
    "frameworks": "framework",
    "providers": "provider",
    "benchmarks": "benchmark",
}
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
    yaml.indent(mapping=2, sequence=2, offset=0)  # PyYAML's layout: `- item` level with its key
    yaml.width = NEVER_WRAP
    return yaml


# --- canonical key order --------------------------------------------------------------------------


def field_order(model: type[BaseModel]) -> list[str]:
    """The model's own fields in declaration order, then those of its bases (`sources` comes last)."""
    order: list[str] = []
    for klass in model.__mro__:
        if not (isinstance(klass, type) and issubclass(klass, BaseModel)):
            continue
        for name in inspect.get_annotations(klass):
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
    if keys != list(node):
        move_keys(node, keys)
    for key in keys:
        info = model.model_fields.get(key)
        child = nested_model(info.annotation) if info else None
        if child:
            reorder(node[key], child)


# --- comments that travel with their key ----------------------------------------------------------
# ruamel.yaml stores the comment lines *above* a key in the comment token of the entry before it (the
# end-of-line comment of its last scalar). Moving keys as they are would leave such a comment above
# the wrong key, so the lines are detached first and re-attached above the key they belong to.

Slot = tuple[dict[Any, list[Any]], Any, int]


def is_block(value: Any) -> bool:
    return isinstance(value, (CommentedMap, CommentedSeq)) and len(value) > 0 and not value.fa.flow_style()


def last_slot(node: CommentedMap | CommentedSeq) -> Slot:
    """Where the comment lines after the last line of a block collection are stored."""
    key: Any = next(reversed(node)) if isinstance(node, CommentedMap) else len(node) - 1
    value = node[key]
    if is_block(value):
        return last_slot(value)
    return (node.ca.items, key, 2 if isinstance(node, CommentedMap) else 0)


def entry_slot(node: CommentedMap, key: Any) -> Slot:
    value = node[key]
    return last_slot(value) if is_block(value) else (node.ca.items, key, 2)


def pop_lines_after(slot: Slot) -> str:
    """Detach the full comment lines that follow an entry, keeping its end-of-line comment."""
    items, key, index = slot
    token = items.get(key, [None] * 4)[index]
    if token is None:
        return ""
    text: str = token.value
    first, _, rest = text.partition("\n")
    if first.strip():
        token.value = first + "\n"
    else:
        items[key][index] = None
    return rest


def push_lines_after(slot: Slot, lines: str) -> None:
    if not lines:
        return
    items, key, index = slot
    entry = items.setdefault(key, [None] * 4)
    token = entry[index]
    if token is None:
        entry[index] = CommentToken("\n" + lines, CommentMark(0), None)
    else:
        token.value += lines


def move_keys(node: CommentedMap, keys: list[Any]) -> None:
    """Reorder `node` to `keys`, keeping every full-line comment above the key it was written above."""
    original = list(node)
    after = [pop_lines_after(entry_slot(node, key)) for key in original]
    above = {original[i + 1]: after[i] for i in range(len(original) - 1)}
    for key in keys:
        node.move_to_end(key)
    for i, key in enumerate(keys):
        following = above.get(keys[i + 1], "") if i + 1 < len(keys) else after[-1]
        push_lines_after(entry_slot(node, key), following)
    if keys[0] != original[0]:
        push_lines_before(node, above.get(keys[0], ""))


def push_lines_before(node: CommentedMap, lines: str) -> None:
    """Comment lines above the first key are stored on the mapping itself, after any already there."""
    if not lines:
        return
    if node.ca.comment is None:
        node.ca.comment = [None, []]
    if node.ca.comment[1] is None:
        node.ca.comment[1] = []
    node.ca.comment[1].append(CommentToken(lines, CommentMark(0), None))


# --- formatting one file --------------------------------------------------------------------------


def format_text(text: str, folder: str) -> str:
    """The canonical form of a record of kind `folder` (e.g. "models")."""
    yaml = make_yaml()
    body = SCHEMA_LINE_RE.sub("", text, count=1) if text.startswith("#") else text
    try:
        # The loader `check` uses first: it bounds nesting and size, refuses aliases and rejects values such
        # as 2023-13-45 with a position, where ruamel.yaml would recurse or raise without one.
        load_yaml_text(text)
    except YamlProblem as exc:
        raise FormatError(exc.message, exc.mark.line, exc.mark.col) from None
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


@dataclass(frozen=True)
class FmtOptions:
    """`site-builder fmt`: these record files (none: every record of `catalog`); `check` only reports."""

    catalog: Path
    paths: tuple[Path, ...] = ()
    check: bool = False


def fmt_command(options: FmtOptions) -> int:
    paths = list(options.paths) or catalog_files(options.catalog)
    report = Report()
    changed = [p for p in paths if format_file(p, options.check, report)]
    for problem in report.sorted():
        print(problem.format(), file=sys.stderr)
    verb = "would be reformatted" if options.check else "reformatted"
    if not options.check:
        for path in changed:
            print(f"reformatted {display_path(path)}", file=sys.stderr)
    plural = "" if len(changed) == 1 else "s"
    print(f"{len(changed)} file{plural} {verb}, {len(paths) - len(changed)} unchanged", file=sys.stderr)
    return 1 if report.problems else 0
