"""The template contract: every `page.a.b` chain a template reads names a field of its typed page model.

mypy checks the code that builds the page models; this checks the other side, the templates, without
rendering: a renamed field fails here with the template's line, not as a StrictUndefined error mid-build.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from pathlib import Path
from typing import Any

import pytest

from site_builder.pages.detail_pages import DeployPage
from site_builder.pages.gpu_page import GpuPage
from site_builder.pages.model import ModelPage

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
CHAIN = re.compile(r"\bpage((?:\.[a-z_][a-z0-9_]*)+)")


def _unwrap(tp: Any) -> Any:
    """X | None → X; anything else unchanged."""
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0] if len(args) == 1 else tp
    return tp


def _missing(model: type, chain: list[str]) -> str | None:
    """The first name in `chain` that is not a field, or None when the chain resolves (or leaves typed data)."""
    tp: Any = model
    for name in chain:
        tp = _unwrap(tp)
        if not dataclasses.is_dataclass(tp):
            return None  # a record or a dict: pydantic and the chart builder own its shape
        hints = typing.get_type_hints(tp)
        if name not in hints:
            return name
        tp = hints[name]
    return None


@pytest.mark.parametrize(
    ("template", "model"), [("model.html", ModelPage), ("gpu.html", GpuPage), ("deploy.html", DeployPage)]
)
def test_every_page_attribute_a_template_reads_exists(template: str, model: type) -> None:
    problems, checked = [], 0
    for number, line in enumerate((TEMPLATES / template).read_text(encoding="utf-8").splitlines(), 1):
        for m in CHAIN.finditer(line):
            chain = m.group(1).lstrip(".").split(".")
            checked += 1
            name = _missing(model, chain)
            if name is not None:
                problems.append(f"templates/{template}:{number}: page.{'.'.join(chain)}: no field {name!r}")
    assert checked >= 5, "the pattern found no page attributes: the check would pass vacuously"
    assert not problems, "\n".join(problems)


def test_the_check_catches_a_missing_field() -> None:
    assert _missing(ModelPage, ["matrix", "rows"]) == "rows"  # the matrix has groups of rows, not rows
    assert _missing(ModelPage, ["recommendations", "min_single", "gpu_href"]) is None
