"""Jinja2 environment: autoescape on, undefined names are errors, templates only lay out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from site_builder.paths import TEMPLATES


def environment(templates: Path = TEMPLATES) -> Environment:
    return Environment(
        loader=FileSystemLoader(str(templates)),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


# Inside <script> the HTML parser looks for "</script" and "<!--" (which makes a later "</script>" part of a
# comment): escaping every "<", ">" and "&" as JSON \u escapes leaves nothing it can see, and JSON.parse reads
# them back unchanged. U+2028/2029 are escaped too, for readers that treat the JSON as JavaScript.
SCRIPT_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def script_json(data: Any, *, separators: tuple[str, str] | None = None) -> str:
    """JSON text that is safe as the content of a <script> element, whatever strings `data` holds."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=separators)
    return text.translate(SCRIPT_ESCAPES)
