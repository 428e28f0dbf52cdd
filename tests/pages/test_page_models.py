"""The template contract: every attribute a template reads from its page model names a field of that model.

mypy checks the code that builds the page models; this checks the other side, the templates, without rendering.
It walks each template's Jinja syntax tree with the page model's type hints: through `{% set %}` aliases, `{% for %}`
loop variables (a tuple's element type, unpacked pairs too), includes, the base template it extends and the macros it
calls (their parameters take the arguments' types). A renamed field fails here with the template and line, not as a
StrictUndefined error midway through a build, or not at all on a branch the shipped catalog never takes.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from jinja2 import BaseLoader, DictLoader, Environment, FileSystemLoader, nodes
from pydantic import BaseModel

from site_builder.analysis import SiteAnalysis
from site_builder.build import collect_pages
from site_builder.pages.base import TextPage
from site_builder.pages.calculator import CalculatorPage
from site_builder.pages.detail_pages import ComparePage, DeployPage, FamilyPage, compare_page, deploy_page, family_page
from site_builder.pages.gpu_page import GpuPage, gpu_page
from site_builder.pages.info_pages import ApiPage, ContributePage, MethodologyPage
from site_builder.pages.listing_pages import FamilyIndexPage, GpuIndexPage, IndexPage
from site_builder.pages.model import ModelPage, model_page

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"

# Each page template and the page model it is rendered with.
PAGE_MODELS: dict[str, type] = {
    "index.html": IndexPage,
    "gpus.html": GpuIndexPage,
    "families.html": FamilyIndexPage,
    "model.html": ModelPage,
    "gpu.html": GpuPage,
    "deploy.html": DeployPage,
    "family.html": FamilyPage,
    "compare.html": ComparePage,
    "methodology.html": MethodologyPage,
    "about.html": TextPage,
    "contribute.html": ContributePage,
    "api.html": ApiPage,
    "calculator.html": CalculatorPage,
    "search.html": TextPage,
    "404.html": TextPage,
}
# Pages with one file per record; collect_pages lists them only for a catalog that has records.
RECORD_PAGES: dict[str, Callable[..., object]] = {
    "model.html": model_page,
    "gpu.html": gpu_page,
    "deploy.html": deploy_page,
    "family.html": family_page,
    "compare.html": compare_page,
}

UNKNOWN: Any = object()  # a value whose type the check does not follow (context variables, call results, Any)
DICT_METHODS = frozenset(dir(dict))


@dataclass(frozen=True)
class Missing:
    template: str
    line: int
    owner: str
    name: str

    def __str__(self) -> str:
        return f"templates/{self.template}:{self.line}: {self.owner} has no field {self.name!r}"


def _unwrap(tp: Any) -> Any:
    """X | None → X; anything else unchanged."""
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0] if len(args) == 1 else UNKNOWN
    return tp


def _element(tp: Any) -> Any:
    """What iterating a value of type `tp` yields."""
    tp = _unwrap(tp)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return args[0]
    if origin is tuple and args and all(a == args[0] for a in args):
        return args[0]
    if origin in (list, set, frozenset, collections.abc.Sequence, collections.abc.Iterable) and args:
        return args[0]
    return UNKNOWN


def _is_mapping(tp: Any) -> bool:
    return typing.get_origin(tp) in (dict, collections.abc.Mapping)


def _typed(tp: Any) -> bool:
    """A page model or a record: its fields are known."""
    return dataclasses.is_dataclass(tp) or (isinstance(tp, type) and issubclass(tp, BaseModel))


def _field(tp: Any, name: str) -> tuple[bool, Any]:
    """(whether `tp` has `name`, its type): dataclass and pydantic fields, properties, a dict's values."""
    tp = _unwrap(tp)
    if _is_mapping(tp):  # Jinja reads `d.key` as d["key"]
        return True, UNKNOWN if name in DICT_METHODS else typing.get_args(tp)[1]
    if not _typed(tp):
        return True, UNKNOWN
    hints = typing.get_type_hints(tp)
    if name in hints and not name.startswith("_"):
        return True, hints[name]
    attribute = getattr(tp, name, None)
    if isinstance(attribute, property) and attribute.fget is not None:
        return True, typing.get_type_hints(attribute.fget).get("return", UNKNOWN)
    return attribute is not None, UNKNOWN


@dataclass
class Scope:
    names: dict[str, Any]
    macros: dict[str, tuple[str, nodes.Macro]]  # macro name -> the file that defines it, its definition

    def child(self) -> Scope:
        return Scope(dict(self.names), dict(self.macros))


@dataclass
class Checker:
    """Walks templates from one page model's type; collects the attributes no field answers."""

    env: Environment
    missing: list[Missing] = field(default_factory=list)
    resolved: int = 0  # attribute reads checked against a typed model
    template: str = ""
    _macro_visits: set[tuple[str, str, tuple[str, ...]]] = field(default_factory=set)

    def check(self, name: str, model: type) -> None:
        self._visit_template(name, Scope({"page": model}, {}))

    def _parse(self, name: str) -> nodes.Template:
        source, _, _ = cast(BaseLoader, self.env.loader).get_source(self.env, name)
        return self.env.parse(source, name)

    def _visit_template(self, name: str, scope: Scope) -> None:
        outer, self.template = self.template, name
        try:
            for node in self._parse(name).body:
                self._stmt(node, scope)
        finally:
            self.template = outer

    def _const(self, node: nodes.Node) -> str:
        assert isinstance(node, nodes.Const) and isinstance(node.value, str), "template names must be literal"
        return node.value

    def _stmt(self, node: nodes.Node, scope: Scope) -> None:
        if isinstance(node, (nodes.Extends, nodes.Include)):
            self._visit_template(self._const(node.template), scope)
        elif isinstance(node, nodes.FromImport):
            name = self._const(node.template)
            defined = {m.name: m for m in self._parse(name).find_all(nodes.Macro)}
            for item in node.names:
                source, alias = item if isinstance(item, tuple) else (item, item)
                scope.macros[alias] = (name, defined[source])
        elif isinstance(node, nodes.Macro):
            scope.macros[node.name] = (self.template, node)
        elif isinstance(node, nodes.For):
            self._for(node, scope)
        elif isinstance(node, nodes.Assign):
            self._bind(node.target, self._expr(node.node, scope), scope)
        elif isinstance(node, nodes.CallBlock):
            self._expr(node.call, scope)
            inner = scope.child()
            for arg in node.args:
                inner.names[arg.name] = UNKNOWN
            self._body(node.body, inner)
        else:
            self._children(node, scope)

    def _body(self, body: list[nodes.Node], scope: Scope) -> None:
        for node in body:
            self._stmt(node, scope)

    def _children(self, node: nodes.Node, scope: Scope) -> None:
        for child in node.iter_child_nodes():
            if isinstance(child, nodes.Expr):
                self._expr(child, scope)
            else:
                self._stmt(child, scope)

    def _for(self, node: nodes.For, scope: Scope) -> None:
        element = _element(self._expr(node.iter, scope))
        inner = scope.child()
        inner.names["loop"] = UNKNOWN
        self._bind(node.target, element, inner)
        if node.test is not None:
            self._expr(node.test, inner)
        self._body(node.body, inner)
        self._body(node.else_, scope)

    def _bind(self, target: nodes.Node, tp: Any, scope: Scope) -> None:
        if isinstance(target, nodes.Name):
            scope.names[target.name] = tp
        elif isinstance(target, nodes.Tuple):
            parts = typing.get_args(_unwrap(tp)) if typing.get_origin(_unwrap(tp)) is tuple else ()
            fixed = len(parts) == len(target.items) and Ellipsis not in parts
            for i, item in enumerate(target.items):
                self._bind(item, parts[i] if fixed else UNKNOWN, scope)

    def _expr(self, node: nodes.Node, scope: Scope) -> Any:
        if isinstance(node, nodes.Name):
            return scope.names.get(node.name, UNKNOWN)
        if isinstance(node, nodes.Getattr):
            return self._attribute(self._expr(node.node, scope), node.attr, node.lineno)
        if isinstance(node, nodes.Getitem):
            return self._item(node, scope)
        if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name) and node.node.name in scope.macros:
            self._call_macro(node, scope)
            return UNKNOWN
        self._children(node, scope)
        return UNKNOWN

    def _attribute(self, owner: Any, name: str, line: int) -> Any:
        if owner is UNKNOWN:
            return UNKNOWN
        found, tp = _field(owner, name)
        if not found:
            self.missing.append(Missing(self.template, line, getattr(_unwrap(owner), "__name__", str(owner)), name))
            return UNKNOWN
        if _typed(_unwrap(owner)):
            self.resolved += 1
        return tp

    def _item(self, node: nodes.Getitem, scope: Scope) -> Any:
        owner = self._expr(node.node, scope)
        self._expr(node.arg, scope)
        key = node.arg.value if isinstance(node.arg, nodes.Const) else None
        if isinstance(key, str):  # Jinja falls back to the attribute
            return self._attribute(owner, key, node.lineno)
        if isinstance(key, int):
            return _element(owner)
        return UNKNOWN

    def _call_macro(self, node: nodes.Call, scope: Scope) -> None:
        """Visit the macro's body with its parameters bound to the arguments' types (once per distinct call)."""
        assert isinstance(node.node, nodes.Name)
        where, macro = scope.macros[node.node.name]
        arguments = [self._expr(arg, scope) for arg in node.args]
        for keyword in node.kwargs:
            self._expr(keyword.value, scope)
        if where == self.template:
            inner = scope.child()
        else:  # an imported macro sees its own file's macros, not the caller's variables
            inner = Scope({}, {m.name: (where, m) for m in self._parse(where).find_all(nodes.Macro)})
        for i, param in enumerate(macro.args):
            inner.names[param.name] = arguments[i] if i < len(arguments) else UNKNOWN
        inner.names["caller"] = UNKNOWN
        key = (where, macro.name, tuple(repr(inner.names[p.name]) for p in macro.args))
        if key in self._macro_visits:
            return
        self._macro_visits.add(key)
        outer, self.template = self.template, where
        try:
            self._body(macro.body, inner)
        finally:
            self.template = outer


def _check(template: str, model: type, env: Environment | None = None) -> Checker:
    checker = Checker(env or Environment(loader=FileSystemLoader(str(TEMPLATES))))
    checker.check(template, model)
    return checker


def _page_templates() -> Iterator[str]:
    for path in sorted(TEMPLATES.glob("*.html")):
        if path.name != "base.html":
            yield path.name


@pytest.mark.parametrize(("template", "model"), sorted(PAGE_MODELS.items()))
def test_every_page_attribute_a_template_reads_exists(template: str, model: type) -> None:
    checker = _check(template, model)
    # base.html alone reads page.title (twice), page.description (twice) and page.charts from every page model
    assert checker.resolved >= 5, "the walk checked almost nothing: the test would pass vacuously"
    assert not checker.missing, "\n".join(sorted({str(m) for m in checker.missing}))


def test_every_page_template_has_a_typed_page_model() -> None:
    assert set(_page_templates()) == set(PAGE_MODELS)
    for template, model in PAGE_MODELS.items():
        assert dataclasses.is_dataclass(model), f"{template}: {model.__name__} is not a dataclass"
        params = getattr(model, "__dataclass_params__")  # noqa: B009 - not in the dataclass stubs
        assert params.frozen, f"{template}: {model.__name__} is not frozen"


def _page_function(make: Any) -> Any:
    """The page function behind a route's `make` (through functools.cache and partial)."""
    make = getattr(make, "__wrapped__", make)
    return getattr(make, "func", make)


def test_the_build_renders_each_template_with_its_page_model() -> None:
    # A catalog without records still routes every page that is not one per record.
    empty = SimpleNamespace(models={}, gpus={}, catalog=SimpleNamespace(families={}), compare_pairs=lambda: [])
    routes = {(p.template, _page_function(p.make)) for p in collect_pages(cast(SiteAnalysis, empty), "/")}
    routes |= set(RECORD_PAGES.items())
    assert {template for template, _ in routes} == set(PAGE_MODELS)
    for template, function in routes:
        returned = typing.get_type_hints(function)["return"]
        assert returned is PAGE_MODELS[template], f"{template} is rendered from {function.__name__} -> {returned}"


def _fake(templates: dict[str, str]) -> Environment:
    return Environment(loader=DictLoader(templates))


def test_the_check_follows_loop_variables_aliases_includes_and_macros() -> None:
    env = _fake(
        {
            "loop.html": "{% for r in page.rows %}\n{{ r.nme }}{% endfor %}",
            "alias.html": "{% set c = page.calculator %}{% include 'part.html' %}",
            "part.html": "{% for g in c.gpus %}{% for o in g.choices %}{{ o.valu }}{% endfor %}{% endfor %}",
            "macro.html": "{% from 'm.html' import show %}{{ show(page.rows[0]) }}",
            "m.html": "{% macro show(x) %}{{ x.titel }}{% endmacro %}",
            "pairs.html": "{% for label, f in page.memory %}{{ label.upper() }} {{ f.txt }}{% endfor %}",
        }
    )
    assert [str(m) for m in _check("loop.html", IndexPage, env).missing] == [
        "templates/loop.html:2: ModelListRow has no field 'nme'"
    ]
    assert [str(m) for m in _check("alias.html", CalculatorPage, env).missing] == [
        "templates/part.html:1: Choice has no field 'valu'"
    ]
    assert [str(m) for m in _check("macro.html", FamilyIndexPage, env).missing] == [
        "templates/m.html:1: FamilyCard has no field 'titel'"
    ]
    # the deploy page's memory rows are (label, figure) pairs
    assert [str(m) for m in _check("pairs.html", DeployPage, env).missing] == [
        "templates/pairs.html:1: Fig has no field 'txt'"
    ]


def test_the_check_accepts_real_fields_and_refuses_a_wrong_one() -> None:
    env = _fake({"ok.html": "{{ page.recommendations.min_single.gpu_href }}", "bad.html": "{{ page.matrix.rows }}"})
    assert _check("ok.html", ModelPage, env).missing == []
    # the matrix has groups of rows, not rows
    assert [m.name for m in _check("bad.html", ModelPage, env).missing] == ["rows"]
