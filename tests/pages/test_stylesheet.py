"""The served site.css: the readable source with the colour table filled in, minified without changing a rule."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from site_builder.stylesheet import FIT_MARKER, TOKENS_MARKER, StylesheetError, minify, stylesheet

SOURCE = Path(__file__).resolve().parents[2] / "static" / "site.css"


def _declarations(css: str) -> list[tuple[str, str]]:
    """(selector, declaration) pairs with all whitespace removed: what a browser would apply."""
    flat = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    pairs = []
    for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", flat):
        for decl in body.split(";"):
            if decl.strip():
                pairs.append((re.sub(r"\s+", "", selector), re.sub(r"\s+", "", decl)))
    return pairs


def test_minify_keeps_every_rule_in_order() -> None:
    source = SOURCE.read_text(encoding="utf-8")
    assert _declarations(minify(source)) == _declarations(source)


def test_minify_keeps_strings_and_descendant_combinators() -> None:
    css = 'th::after {\n  content: " ▲";\n}\n.fig:hover .tip,\n.fig:focus .tip {\n  display: block;\n}\n'
    assert minify(css) == 'th::after{content:" ▲"}\n.fig:hover .tip,.fig:focus .tip{display:block}\n'


def test_the_output_is_smaller_than_the_source_and_carries_the_tokens() -> None:
    source = SOURCE.read_text(encoding="utf-8")
    out = stylesheet(source)
    assert len(out) < len(source)
    assert "/*" not in out
    assert "--fit-excellent:" in out and ".fit-excellent{" in out
    # Fit rules come after .cell so their text colours win the cascade over its default.
    assert out.index(".cell{") < out.index(".fit-good{")


@pytest.mark.parametrize("marker", [TOKENS_MARKER, FIT_MARKER])
def test_a_missing_marker_is_an_error(marker: str) -> None:
    source = SOURCE.read_text(encoding="utf-8").replace(marker, "")
    with pytest.raises(StylesheetError, match="marker"):
        stylesheet(source)
