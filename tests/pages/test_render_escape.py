"""The site's Jinja environment escapes template output exactly as stock Jinja with MarkupSafe does, and JSON put in
a <script> element reads back as the data while holding nothing the HTML parser acts on.

render.environment() swaps the escape() its compiled templates call for one that skips building a Markup object per
value; these tests render the same templates with it and with a stock Environment and compare the text.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jinja2 import Environment, StrictUndefined, UndefinedError
from markupsafe import Markup

from site_builder.render import environment, script_json

TEMPLATES = [
    "{{ v }}",
    '<a title="{{ v }}" href="/x/{{ v }}/">{{ v }}</a>',
    "{% macro m(x) %}<b>{{ x }}</b>{% endmacro %}<p>{{ m(v) }}</p>",  # a macro's output is not escaped twice
    "{% macro c() %}<i>{{ caller() }}</i>{% endmacro %}{% call c() %}<u>{{ v }}</u>{% endcall %}",
    "{% set x %}<s>{{ v }}</s>{% endset %}{{ x }}",
    "{{ v ~ '<&>' }} {{ '<&>' ~ v }} {{ v | string }} {{ [v, v] | join('<br>') }}",
    "{% for w in [v, '<', 3] %}{{ w }}{% if not loop.last %}, {% endif %}{% endfor %}",
    "{{ v if v else '—' }}",
]


def _stock() -> Environment:
    return Environment(
        autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True
    )


class Html:
    """An object that knows its own HTML, as a page model value could."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __html__(self) -> str:
        return f"<em>{self.text}</em>"


TEXT = st.text(alphabet=st.sampled_from([*"ab <>&'\"/=;#", "\u00e9", "\u2014", "\u2028", "\u2029", "\x00"]))
VALUES: st.SearchStrategy[Any] = st.one_of(
    TEXT,
    st.integers(),
    st.floats(allow_nan=True),
    st.none(),
    st.booleans(),
    TEXT.map(Markup),
    TEXT.map(Html),
    st.lists(TEXT, max_size=3),
    st.tuples(TEXT, st.integers()),
)


@pytest.mark.parametrize("source", TEMPLATES)
@given(value=VALUES)
def test_output_is_escaped_as_stock_jinja_escapes_it(source: str, value: Any) -> None:
    assert environment().from_string(source).render(v=value) == _stock().from_string(source).render(v=value)


def test_special_characters_become_entities() -> None:
    out = environment().from_string('{{ v }}|{{ m }}|<a title="{{ v }}">').render(v="<a href='x'>&\"", m=Markup("<b>"))
    assert out == '&lt;a href=&#39;x&#39;&gt;&amp;&#34;|<b>|<a title="&lt;a href=&#39;x&#39;&gt;&amp;&#34;">'


def test_an_undefined_name_is_still_an_error() -> None:
    with pytest.raises(UndefinedError):
        environment().from_string("{{ missing }}").render()
    with pytest.raises(UndefinedError):
        environment().from_string("{{ v.missing }}").render(v=Html("x"))


JSON_DATA = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | TEXT
    | st.sampled_from(["</script>", "<!--"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)


@given(data=JSON_DATA, compact=st.booleans())
def test_script_json_reads_back_and_hides_markup(data: Any, compact: bool) -> None:
    text = script_json(data, separators=(",", ":") if compact else None)
    assert json.loads(text) == data
    assert not set(text) & {"<", ">", "&", "\u2028", "\u2029"}
