"""A safe YAML reader that remembers where every value came from.

PyYAML's safe loader forgets positions and silently keeps the last of two duplicate keys. This module
composes the node tree with the safe loader, then builds plain Python values while recording the
line and column of every key path, so validation errors can point at the exact place in the file.
Aliases are refused (they are never needed in a record and are how "billion laughs" bombs work), and
files that are too large, binary, or not UTF-8 are rejected before parsing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

# libyaml's parser when PyYAML was built with it (the common case): same nodes and marks, about 5x faster.
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_FILE_BYTES = 1_048_576
MAX_NODES = 200_000
MAX_DEPTH = 64

Loc = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Mark:
    line: int  # 1-based
    col: int  # 1-based


class LoadedYaml:
    """A document's values and where each sits: `marks` by key path, `key_marks` of mapping keys.

    Given `text` instead of positions (a record served from the build's record cache), the positions are parsed from
    that text only when something asks for one: a problem to report, which most builds do not have."""

    def __init__(
        self,
        data: Any,
        marks: dict[Loc, Mark] | None = None,
        key_marks: dict[Loc, Mark] | None = None,
        *,
        text: str | None = None,
    ) -> None:
        self.data = data
        self._text = text
        self._positions = None if text is not None and marks is None else (marks or {}, key_marks or {})

    def _parsed(self) -> tuple[dict[Loc, Mark], dict[Loc, Mark]]:
        if self._positions is None:
            again = load_yaml_text(self._text or "")
            self._positions = (again.marks, again.key_marks)
        return self._positions

    @property
    def marks(self) -> dict[Loc, Mark]:
        return self._parsed()[0]

    @property
    def key_marks(self) -> dict[Loc, Mark]:
        return self._parsed()[1]

    def mark_for(self, loc: Loc) -> Mark:
        """The position of the value at `loc`, or of its nearest ancestor that exists."""
        marks = self.marks
        for end in range(len(loc), -1, -1):
            prefix = loc[:end]
            if prefix in marks:
                return marks[prefix]
        return Mark(1, 1)


class YamlProblem(Exception):
    def __init__(self, message: str, mark: Mark, loc: Loc = ()) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark
        self.loc = loc


def _mark(node: Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


def first_alias_mark(text: str) -> Mark:
    """Where the first alias (`*name`) is: the composed tree only knows where its anchor was."""
    for event in yaml.parse(text, Loader=SAFE_LOADER):
        if isinstance(event, yaml.AliasEvent) and event.start_mark is not None:
            return Mark(event.start_mark.line + 1, event.start_mark.column + 1)
    return Mark(1, 1)


class _Builder:
    def __init__(self, text: str) -> None:
        self.text = text
        self.constructor = SafeConstructor()
        self.marks: dict[Loc, Mark] = {}
        self.key_marks: dict[Loc, Mark] = {}
        self.count = 0
        self.seen: set[int] = set()

    def build(self, node: Node, loc: Loc, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise YamlProblem(f"document has more than {MAX_NODES} values", _mark(node), loc)
        if depth > MAX_DEPTH:
            raise YamlProblem(f"document nests deeper than {MAX_DEPTH} levels", _mark(node), loc)
        # An alias is the anchored node itself, met a second time: refused for scalars too (`org: *n`).
        # Traversal follows document order, so this is the document's first alias.
        if id(node) in self.seen:
            raise YamlProblem(
                "YAML anchors and aliases are not allowed in catalog records", first_alias_mark(self.text), loc
            )
        self.seen.add(id(node))
        self.marks[loc] = _mark(node)
        if isinstance(node, MappingNode):
            return self._mapping(node, loc, depth)
        if isinstance(node, SequenceNode):
            if node.tag != "tag:yaml.org,2002:seq":
                raise YamlProblem(f"unsupported YAML tag {node.tag!r}", _mark(node), loc)
            return [self.build(item, (*loc, i), depth + 1) for i, item in enumerate(node.value)]
        assert isinstance(node, ScalarNode)
        try:
            return self.constructor.construct_object(node, deep=True)
        except ConstructorError as exc:
            raise YamlProblem(f"unsupported YAML value: {exc.problem}", _mark(node), loc) from None
        except (ValueError, OverflowError) as exc:  # 2023-13-45 looks like a date but is none
            raise YamlProblem(f"invalid value {node.value!r}: {exc}", _mark(node), loc) from None

    def _mapping(self, node: MappingNode, loc: Loc, depth: int) -> dict[str, Any]:
        if node.tag != "tag:yaml.org,2002:map":
            raise YamlProblem(f"unsupported YAML tag {node.tag!r}", _mark(node), loc)
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise YamlProblem("YAML merge keys ('<<') are not allowed in catalog records", _mark(key_node), loc)
            if not isinstance(key_node, ScalarNode):
                raise YamlProblem("mapping keys must be plain strings", _mark(key_node), loc)
            key = str(key_node.value)
            if key in out:
                first = self.key_marks[(*loc, key)]
                raise YamlProblem(
                    f"duplicate key {key!r} (first defined at line {first.line})", _mark(key_node), (*loc, key)
                )
            self.key_marks[(*loc, key)] = _mark(key_node)
            out[key] = self.build(value_node, (*loc, key), depth + 1)
        return out


def decode(raw: bytes) -> str:
    if len(raw) > MAX_FILE_BYTES:
        raise YamlProblem(f"file is {len(raw):,} bytes; records are limited to {MAX_FILE_BYTES:,}", Mark(1, 1))
    if b"\x00" in raw:
        raise YamlProblem("file is binary (contains NUL bytes), expected UTF-8 YAML text", Mark(1, 1))
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise YamlProblem(f"file is not valid UTF-8 (byte {exc.start})", Mark(line, 1)) from None


def load_yaml_text(text: str) -> LoadedYaml:
    """Parse one YAML document; raise YamlProblem with a position for anything unusable."""
    if not text.strip() or all(not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()):
        raise YamlProblem("file is empty", Mark(1, 1))
    try:
        node = yaml.compose(text, Loader=SAFE_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Mark(mark.line + 1, mark.column + 1) if mark else Mark(1, 1)
        raise YamlProblem(f"YAML syntax error: {exc.problem or exc.context}", where) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(f"YAML error: {exc}", Mark(1, 1)) from None
    except RecursionError:  # the pure-Python composer recurses once per nesting level
        raise YamlProblem(f"document nests deeper than {MAX_DEPTH} levels", Mark(1, 1)) from None
    if node is None:
        raise YamlProblem("file is empty", Mark(1, 1))
    builder = _Builder(text)
    data = builder.build(node, (), 0)
    return LoadedYaml(data=data, marks=builder.marks, key_marks=builder.key_marks)


def load_yaml_bytes(raw: bytes) -> LoadedYaml:
    return load_yaml_text(decode(raw))
