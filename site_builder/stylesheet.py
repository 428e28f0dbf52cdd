"""static/site.css as the site serves it: the colour table's generated rules in place of their markers, then
minified. The source stays readable and commented; the output is one line per rule group."""

from __future__ import annotations

import re

from site_builder.pages.colours import css_custom_properties, css_fit_rules

TOKENS_MARKER = "/* generated: colour tokens */"
FIT_MARKER = "/* generated: fit-level cells */"


class StylesheetError(ValueError):
    pass


def stylesheet(source: str) -> str:
    for marker in (TOKENS_MARKER, FIT_MARKER):
        if source.count(marker) != 1:
            raise StylesheetError(f"static/site.css: the marker {marker} must appear exactly once")
    filled = source.replace(TOKENS_MARKER, css_custom_properties()).replace(FIT_MARKER, css_fit_rules())
    return minify(filled)


_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_AROUND_PUNCTUATION = re.compile(r"\s*([{};,>])\s*")
_AFTER_COLON = re.compile(r":\s+")
_STRING = re.compile(r"\"[^\"]*\"|'[^']*'")


def minify(css: str) -> str:
    """Drop comments and the whitespace layout needs no more.

    Safe for this stylesheet's syntax: quoted strings are kept verbatim, and whitespace before a colon (a
    descendant combinator followed by a pseudo-class) is never removed; only the space after one, which in
    a selector would be invalid CSS anyway.
    """
    strings: list[str] = []

    def keep(m: re.Match[str]) -> str:
        strings.append(m.group(0))
        return f"\0{len(strings) - 1}\0"

    text = _STRING.sub(keep, _COMMENT.sub("", css))
    text = _AROUND_PUNCTUATION.sub(r"\1", text)
    text = _AFTER_COLON.sub(":", text)
    text = re.sub(r"\s+", " ", text).replace(";}", "}").strip()
    text = re.sub(r"\0(\d+)\0", lambda m: strings[int(m.group(1))], text)
    # One rule group per line keeps diffs of the output readable.
    return text.replace("}", "}\n").replace("}\n}", "}}")
