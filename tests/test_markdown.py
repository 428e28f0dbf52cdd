"""Family articles: citations become numbered footnotes in reading order, under a Sources heading."""

from __future__ import annotations

import re

from site_builder.markdown_render import render_article, word_count
from site_builder.records.family import Citation

A = Citation(key="a", title="Source A", url="https://a.example/")
B = Citation(key="b", title="Source B", url="https://b.example/")


def test_footnotes_are_numbered_in_order_of_first_citation() -> None:
    html = render_article("First claim.[^b] Second claim.[^a] Again.[^b]", [A, B])
    numbers = re.findall(r'href="#fn:(\w)"[^>]*>(\d+)</a>', html)
    assert numbers == [("b", "1"), ("a", "2"), ("b", "1")]
    listed = re.findall(r'<li id="fn:(\w)">', html)
    assert listed == ["b", "a"]
    assert '<h2 id="sources">Sources</h2>' in html
    assert 'href="https://b.example/"' in html


def test_word_count_ignores_markup() -> None:
    assert word_count("## Title\n\nTwo words [^a] | --- |") == 3
