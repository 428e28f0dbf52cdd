"""Family articles: citations become numbered footnotes in reading order, under a Sources heading."""

from __future__ import annotations

import re
from html import unescape

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


def test_a_citation_title_with_brackets_and_markup_keeps_its_link_as_plain_text() -> None:
    title = "[Draft] Report] v1.2 *not bold* `not code` <b>not markup</b> & more"
    cited = Citation(key="c", title=title, url="https://c.example/a_(b)")
    html = render_article("Claim.[^c]", [cited])
    link = re.search(r'<li id="fn:c">\s*<p><a href="([^"]+)"[^>]*>(.*?)</a>', html)
    assert link is not None, html
    assert link.group(1) == "https://c.example/a_%28b%29"
    assert unescape(link.group(2)) == title  # every character shown as written, nothing dropped or styled
