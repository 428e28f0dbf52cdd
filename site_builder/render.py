"""Jinja2 environment: autoescape on, undefined names are errors, templates only lay out."""

from __future__ import annotations

import json
from collections.abc import Callable, MutableMapping
from pathlib import Path
from types import CodeType
from typing import Any

from jinja2 import (
    Environment,
    FileSystemBytecodeCache,
    FileSystemLoader,
    StrictUndefined,
    Template,
    select_autoescape,
)
from jinja2.bccache import Bucket

from site_builder.paths import TEMPLATES

try:  # MarkupSafe 3: escape() is Python around this C function
    from markupsafe._speedups import _escape_inner

    FAST_ESCAPE = True
except ImportError:  # MarkupSafe 2 (escape() is C already), or no compiled speedups: templates keep escape()
    FAST_ESCAPE = False


def _output_escape(value: object) -> str:
    """markupsafe.escape for a template's {{ }} output, returning the text without its Markup wrapper.

    A compiled template joins what it outputs into one str, so the Markup object escape() builds for every value (a
    Python-level __new__, 70% of its cost) is thrown away at once; pages print thousands of values each."""
    if type(value) is str:
        return _escape_inner(value)
    if hasattr(value, "__html__"):
        return str(value.__html__())
    return _escape_inner(str(value))


class _Template(Template):
    """A Jinja template whose {{ }} output uses _output_escape; its compiled code otherwise runs unchanged."""

    @classmethod
    def from_code(
        cls,
        environment: Environment,
        code: CodeType,
        globals: MutableMapping[str, Any],
        uptodate: Callable[[], bool] | None = None,
    ) -> Template:
        template = super().from_code(environment, code, globals, uptodate)
        # The compiled module's functions look `escape` up in its namespace, which it imported from jinja2.runtime;
        # only output expressions call it (filters and markup joins use markupsafe's own).
        template.root_render_func.__globals__["escape"] = _output_escape
        return template


class _TemplateCache(FileSystemBytecodeCache):
    """Compiled templates kept as files in the build's cache folder; an unreadable or damaged file, or a folder that
    cannot be written, only means compiling again."""

    def __init__(self, folder: Path) -> None:
        super().__init__(str(folder), "jinja-%s.cache")
        self.folder = folder

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            super().dump_bytecode(bucket)
        except OSError:
            pass


def environment(templates: Path = TEMPLATES, cache: Path | None = None) -> Environment:
    """The site's Jinja environment; `cache` a folder to keep compiled templates in between builds (keyed by each
    template's source and the Python version, so an edited template is compiled again)."""
    env = Environment(
        loader=FileSystemLoader(str(templates)),
        bytecode_cache=_TemplateCache(cache) if cache is not None else None,
        autoescape=select_autoescape(["html", "xml"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # Every build and preview re-render makes a new environment, so templates cannot change under one: checking
        # each template file's mtime on every get_template (thousands a build) finds nothing.
        auto_reload=False,
    )
    if FAST_ESCAPE:
        env.template_class = _Template
    return env


# Inside <script> the HTML parser looks for "</script" and "<!--" (which makes a later "</script>" part of a
# comment): escaping every "<", ">" and "&" as JSON \u escapes leaves nothing it can see, and JSON.parse reads
# them back unchanged. U+2028/2029 are escaped too, for readers that treat the JSON as JavaScript.
SCRIPT_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def script_json(data: Any, *, separators: tuple[str, str] | None = None) -> str:
    """JSON text that is safe as the content of a <script> element, whatever strings `data` holds."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=separators)
    # One str.replace per character, not str.translate: translate looks every character up in a dict (5x the time of
    # json.dumps on a chart); no replacement contains a character another one replaces, so the order does not matter.
    for char, escaped in SCRIPT_ESCAPES.items():
        text = text.replace(char, escaped)
    return text
