"""Contributed Markdown -> sanitized HTML. Python-Markdown does not sanitize; nh3 (an allow-list) does."""

from __future__ import annotations

import re

import markdown
import nh3

from site_builder.records.family import Citation

ALLOWED_TAGS = {
    "a",
    "abbr",
    "blockquote",
    "br",
    "code",
    "em",
    "h2",
    "h3",
    "h4",
    "hr",
    "li",
    "ol",
    "p",
    "pre",
    "strong",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
    "div",
    "section",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "id", "class"},
    "sup": {"id"},
    "li": {"id"},
    "div": {"class"},
    "th": {"align"},
    "td": {"align"},
    "h2": {"id"},
    "h3": {"id"},
}


def sanitize(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener nofollow",
    )


def render_article(body: str, citations: list[Citation]) -> str:
    """Render an article whose citations are [^key]; the numbered source list comes from the front matter."""

    # Python-Markdown numbers footnotes in the order they are defined: define them in order of first
    # citation so the text reads 1, 2, 3...
    def first_use(c: Citation) -> int:
        at = body.find(f"[^{c.key}]")
        return at if at >= 0 else len(body)

    ordered = sorted(citations, key=first_use)
    defs = "\n".join(f"[^{c.key}]: [{link_text(c.title)}]({link_url(c.url)})" for c in ordered)
    html = markdown.markdown(
        body + "\n\n" + defs,
        extensions=["footnotes", "tables", "sane_lists", "toc"],
        extension_configs={"footnotes": {"BACKLINK_TEXT": "↩"}, "toc": {"permalink": False}},
        output_format="html",
    )
    html = html.replace('<div class="footnote">\n<hr>', '<div class="footnote">\n<h2 id="sources">Sources</h2>', 1)
    return sanitize(html)


# Characters Python-Markdown gives a meaning to in link text; escaped, a title such as "[Draft] notes" keeps its
# link. "<" and "&" become entities, so a title is always text, never markup.
MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|])")
URL_ESCAPES = str.maketrans({"(": "%28", ")": "%29", "<": "%3C", ">": "%3E", " ": "%20"})


def link_text(title: str) -> str:
    text = title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return MARKDOWN_SPECIALS.sub(r"\\\1", text)


def link_url(url: str) -> str:
    return url.translate(URL_ESCAPES)


def render_document(text: str) -> str:
    """A repository document (CONTRIBUTING.md) as sanitized HTML, headings with ids for its table of contents."""
    html = markdown.markdown(text, extensions=["fenced_code", "tables", "sane_lists", "toc"], output_format="html")
    return sanitize(html)


def word_count(body: str) -> int:
    """Words a reader reads: citation markers and Markdown punctuation do not count."""
    text = re.sub(r"\[\^[^\]]+\]", " ", body)
    return len([w for w in text.split() if any(ch.isalnum() for ch in w)])
