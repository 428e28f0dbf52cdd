"""Hostile contributor text cannot put script into the site.

First the Markdown renderer alone (render_article) over an XSS corpus and random mixtures of
it; then a whole build of a catalog copy whose family article, family front matter and one model record carry
the same payloads, checked page by page: no script but the site's own, no on* attributes, no script URLs.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import xml.etree.ElementTree as ET
from html import unescape
from pathlib import Path
from typing import Any

import pytest
import yaml
from browser_support import CATALOG, Tag, build, html_files, parse_tags
from hypothesis import given, settings
from hypothesis import strategies as st

from site_builder.markdown_render import ALLOWED_TAGS, render_article
from site_builder.records.family import Citation

CORPUS = [
    "<script>alert('x1')</script>",
    "<SCRIPT SRC=//evil.example/x2.js></SCRIPT>",
    "<scr<script>ipt>alert('x3')</scr</script>ipt>",
    "<img src=x onerror=alert('x4')>",
    "<svg onload=alert('x5')><circle r=1 /></svg>",
    "<svg><script>alert('x6')</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert('x7')>",
    "<iframe src=\"javascript:alert('x8')\"></iframe>",
    "<iframe srcdoc=\"<script>alert('x9')</script>\"></iframe>",
    "<object data=\"javascript:alert('x10')\"></object><embed src=\"javascript:alert('x11')\">",
    "<a href=\"javascript:alert('x12')\">click</a>",
    "<a href=\" JaVaScRiPt:alert('x13')\">click</a>",
    "<a href=\"java&#x09;script:alert('x14')\">click</a>",
    "<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert('x15')\">click</a>",
    "<a href=\"vbscript:msgbox('x16')\">click</a>",
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">click</a>',
    "<a href=\"https://ok.example/\" onclick=\"alert('x17')\" onmouseover=alert('x18')>hover</a>",
    "[click](javascript:alert('x19'))",
    "[click](JAVASCRIPT:alert('x20'))",
    "[click]( javascript:alert('x21') )",
    "[click](<javascript:alert('x22')>)",
    "[ref]: javascript:alert('x23')\n\n[link][ref]",
    "![img](javascript:alert('x24'))",
    "![img](https://ok.example/x.png\" onerror=\"alert('x25'))",
    "<https://ok.example/\"onmouseover=\"alert('x26')>",
    "<details open ontoggle=alert('x27')><summary>s</summary></details>",
    "<form action=\"javascript:alert('x28')\"><button formaction=\"javascript:alert('x29')\">go</button></form>",
    '<base href="javascript:/"><meta http-equiv="refresh" content="0;url=javascript:alert(\'x30\')">',
    "<div style=\"background:url(javascript:alert('x31'))\" onmouseenter=\"alert('x32')\">div</div>",
    "<p><style>*{background:url(javascript:alert('x33'))}</style></p>",
    "<table><tr><td background=\"javascript:alert('x34')\">cell</td></tr></table>",
    "<h2 id=x onfocus=alert('x35') tabindex=1>heading</h2>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert('x36')>\"></noscript>",
    "<!--><script>alert('x37')</script>-->",
    "<![CDATA[<script>alert('x38')</script>]]>",
    "`<script>alert('x39')</script>` and\n\n    <script>alert('x40')</script>\n",
    "| a | b |\n|---|---|\n| <script>alert('x41')</script> | <img src=x onerror=alert('x42')> |",
    "Footnote[^x43]\n\n[^x43]: <a href=\"javascript:alert('x43')\">note</a>",
    '<a href="https://ok.example/" title="\\" onmouseover=alert(\'x44\')">t</a>',
    "<xmp><script>alert('x45')</script></xmp><plaintext><script>alert('x46')</script>",
    "<template><script>alert('x47')</script></template><portal src=\"javascript:alert('x48')\"></portal>",
    '<a href="https://ok.example/">ok</a> <em>fine</em> **bold**',
    # Sequences that, inside a <script>, open an escaped comment or end the element early.
    "<!--<script>alert('x49')</script>",
    "</script><!--<script>alert('x50')",
    "<!--<SCRIPT>alert('x51')</SCRIPT>-->",
]

# Tags that can run script, load content or change how the document is parsed; the site itself uses none.
DANGEROUS_TAGS = {
    "script",
    "iframe",
    "frame",
    "frameset",
    "object",
    "embed",
    "applet",
    "base",
    "img",
    "svg",
    "math",
    "style",
    "template",
    "portal",
    "xmp",
    "plaintext",
    "audio",
    "video",
    "source",
    "track",
    "canvas",
    "image",
    "noembed",
    "textarea",
    "button",
    "marquee",
}
URL_ATTRS = {
    "href",
    "src",
    "action",
    "formaction",
    "xlink:href",
    "data",
    "background",
    "poster",
    "srcset",
    "srcdoc",
    "codebase",
    "cite",
    "longdesc",
    "dynsrc",
    "lowsrc",
    "ping",
}
SCRIPT_SCHEMES = ("javascript:", "vbscript:", "data:", "livescript:")
_INVISIBLE = re.compile(r"[\x00-\x20\x7f]+")


def _script_url(value: str) -> bool:
    """A URL whose scheme runs code, after the normalisation browsers apply (case, blanks, controls)."""
    return _INVISIBLE.sub("", value).lower().startswith(SCRIPT_SCHEMES)


# The one inline style the templates write: a bar segment's width or a marker's offset, a number in percent
# computed by the engine (the calculator's memory stack). Nothing else can ride in it.
SIZE_STYLE = re.compile(r"(width|left): [0-9]+(\.[0-9]+)?%")


def _attr_problems(tag: Tag) -> list[str]:
    problems = []
    for name, value in tag.attrs.items():
        if name.startswith("on"):
            problems.append(f"<{tag.name} {name}={value!r}>: event handler attribute")
        if name == "srcdoc" or (name == "style" and not SIZE_STYLE.fullmatch(value)):
            problems.append(f"<{tag.name} {name}={value!r}>: {name} attribute")
        if name in URL_ATTRS and _script_url(value):
            problems.append(f"<{tag.name} {name}={value!r}>: script URL")
    if tag.name == "meta" and tag.attrs.get("http-equiv", "").lower() == "refresh":
        problems.append(f"<meta http-equiv=refresh content={tag.attrs.get('content')!r}>")
    return problems


def fragment_problems(html: str) -> list[str]:
    """Problems in sanitized contributor HTML: only the allow-listed tags, nothing executable."""
    problems = []
    if re.search(r"<\s*/?\s*script", html, re.IGNORECASE):
        problems.append("a <script> tag survives in the markup")
    for tag in parse_tags(html):
        if tag.name in DANGEROUS_TAGS or tag.name not in ALLOWED_TAGS:
            problems.append(f"<{tag.name}> is not allowed")
        problems += _attr_problems(tag)
        for attr in ("href",):
            value = tag.attrs.get(attr)
            if value is not None and re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", value.strip()):
                scheme = value.strip().split(":", 1)[0].lower()
                if scheme not in ("http", "https", "mailto"):
                    problems.append(f"<{tag.name} {attr}={value!r}>: scheme {scheme}")
    return problems


CITATIONS = [
    Citation(key="ok", title="A <script>alert('c1')</script> title", url="https://ok.example/a"),
    Citation(
        key="quote", title="<img src=x onerror=alert('c2')>", url="https://ok.example/\"onmouseover=\"alert('c3')"
    ),
    Citation(
        key="paren", title="[nested](javascript:alert('c4'))", url="https://ok.example/)<script>alert('c5')</script>"
    ),
]


@pytest.mark.parametrize("payload", CORPUS, ids=[f"p{i}" for i in range(len(CORPUS))])
def test_render_article_neutralises(payload: str) -> None:
    body = f"## Section\n\nText citing [^ok] and [^quote] and [^paren].\n\n{payload}\n\n- item {payload}\n"
    html = render_article(body, CITATIONS)
    assert fragment_problems(html) == [], html


def test_safe_markup_survives() -> None:
    """The sanitizer is not simply deleting everything: ordinary Markdown keeps its meaning."""
    html = render_article(
        "## Head\n\nSee [the card](https://ok.example/card) and **this**.[^ok]\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
        CITATIONS[:1],
    )
    tags = parse_tags(html)
    links = [t.attrs.get("href") for t in tags if t.name == "a"]
    assert "https://ok.example/card" in links and "https://ok.example/a" in links
    assert {"h2", "strong", "table", "sup"} <= {t.name for t in tags}
    assert all(
        "noopener" in t.attrs.get("rel", "")
        for t in tags
        if t.name == "a" and t.attrs.get("href", "").startswith("http")
    )
    assert "&lt;script&gt;" in render_article("`<script>`", []), "code spans keep the text, escaped"


PIECES = st.sampled_from(
    [
        "<",
        ">",
        '"',
        "'",
        "=",
        "/",
        ":",
        "(",
        ")",
        "[",
        "]",
        "!",
        "&#",
        ";",
        "`",
        "\n",
        "\n\n",
        " ",
        "javascript",
        "JaVaScRiPt",
        "data",
        "script",
        "img",
        "svg",
        "a href",
        "onerror",
        "onload",
        "src",
        "alert(1)",
        "&#x09;",
        "&#58;",
        "<!--",
        "-->",
        "[^ok]",
        "](",
        "\t",
        "    ",
        "|",
        "---",
        "*",
        "#",
        *CORPUS,
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(PIECES, max_size=24).map("".join))
def test_random_mixtures_stay_clean(text: str) -> None:
    assert fragment_problems(render_article(text, CITATIONS)) == []


# --- through a whole build --------------------------------------------------------------------------------

HOSTILE_NAME = (
    "InternLM <script>alert('n1')</script> 20B \"><img src=x onerror=alert('n2')></title></script>"
    " <!--<script> \u2028 & </SCRIPT 20B"
)
HOSTILE_ORG = "Lab \"><svg onload=alert('o1')> ' onmouseover='alert(\"o2\")"
HOSTILE_DESC = (
    "Described <script>alert('d1')</script> with [a link](javascript:alert('d2')) and "
    "<a href=\"javascript:alert('d3')\" onclick=\"alert('d4')\">html</a> </script><!--"
)
HOSTILE_URL = "https://ok.example/\"onmouseover=\"alert('u1')"
HOSTILE_TITLE = "InternLM </a><script>alert('t1')</script><img src=x onerror=alert('t2')>"


def _split(text: str) -> tuple[dict[str, Any], str]:
    _, front, body = text.split("---\n", 2)
    data = yaml.safe_load(front)
    assert isinstance(data, dict)
    return data, body


def _hostile_catalog(root: Path) -> Path:
    target = root / "catalog"
    shutil.copytree(CATALOG, target, ignore=shutil.ignore_patterns("schema"))

    model_path = target / "models" / "internlm-20b.yaml"
    model = yaml.safe_load(model_path.read_text(encoding="utf-8"))
    model["name"] = HOSTILE_NAME
    model["organization"] = HOSTILE_ORG
    model["description"] = HOSTILE_DESC
    model["license"]["name"] = "<script>alert('l1')</script>"
    model["license"]["url"] = HOSTILE_URL
    model["scores"][0]["setting"] = "<img src=x onerror=alert('s1')>"
    # Newest in the catalog, so the Atom feed (the latest releases) carries the hostile entry too.
    latest = max(
        yaml.safe_load(p.read_text(encoding="utf-8")).get("release_date") or dt.date.min
        for p in (target / "models").glob("*.yaml")
    )
    model["release_date"] = latest
    model["sources"].append(
        {"url": HOSTILE_URL, "title": "<script>alert('src1')</script>", "supports": ["description"]}
    )
    model_path.write_text(yaml.safe_dump(model, sort_keys=False, allow_unicode=True), encoding="utf-8")

    fam_path = target / "families" / "internlm.md"
    front, body = _split(fam_path.read_text(encoding="utf-8"))
    front["title"] = HOSTILE_TITLE
    front["description"] = HOSTILE_DESC
    front["organization"] = HOSTILE_ORG
    front["links"]["<img src=x onerror=alert('k1')>"] = HOSTILE_URL
    front["sources"].append({"key": "hostile", "title": "<script>alert('f1')</script>", "url": HOSTILE_URL})
    front["sources"].append({"key": "x43", "title": "[x](javascript:alert('f2'))", "url": HOSTILE_URL})
    body += "\n\n## Hostile section\n\nCited.[^hostile]\n\n" + "\n\n".join(CORPUS) + "\n"
    fam_path.write_text(
        "---\n" + yaml.safe_dump(front, sort_keys=False, allow_unicode=True) + "---\n" + body, encoding="utf-8"
    )
    return target


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    return build(root / "site", catalog=_hostile_catalog(root), search=False)


def _script_problems(tag: Tag) -> list[str]:
    """The site's own scripts only: its bundled files, chart data and FAQ JSON-LD (which must stay JSON)."""
    src, kind = tag.attrs.get("src"), tag.attrs.get("type", "")
    if src is not None:
        ok = src.startswith(("/static/", "/pagefind/")) and not tag.text.strip()
        return [] if ok else [f"<script src={src!r}> with {tag.text[:80]!r}"]
    if kind in ("application/json", "application/ld+json"):
        try:
            json.loads(tag.text)
        except json.JSONDecodeError as err:
            return [f"<script type={kind}> is not JSON any more ({err}): {tag.text[:120]!r}"]
        return []
    return [f"inline <script type={kind!r}>: {tag.text[:120]!r}"]


def _template_button(tag: Tag) -> bool:
    """The calculator's and planner's own buttons (copy link, find setups): a plain type, class and id, nothing that
    submits elsewhere or runs code. Contributed Markdown may hold no button at all (fragment_problems)."""
    return (
        tag.name == "button"
        and set(tag.attrs) <= {"type", "class", "id"}
        and tag.attrs.get("type") in ("button", "submit")
    )


def test_built_pages_carry_no_injected_script(hostile_site: Path) -> None:
    problems: list[str] = []
    files = html_files(hostile_site)
    assert len(files) > 100
    for file in files:
        rel = file.relative_to(hostile_site).as_posix()
        for tag in parse_tags(file.read_text(encoding="utf-8")):
            found = _attr_problems(tag)
            if tag.name == "script":
                found += _script_problems(tag)
            elif tag.name in DANGEROUS_TAGS and not _template_button(tag):
                found.append(f"<{tag.name} {tag.attrs}>")
            if tag.name == "link" and tag.attrs.get("rel") == "icon":
                found = [p for p in found if not tag.attrs.get("href", "").startswith("data:image/")]
            problems += [f"{rel}:{tag.line}: {p}" for p in found]
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:40])


INLINE_SCRIPT = re.compile(r"<script[^>]*>(.*?)</script", re.S | re.I)


def test_script_data_cannot_open_a_comment_or_close_its_element(hostile_site: Path) -> None:
    """`<!--<script>` in a name once blanked the model page: embedded JSON must hold no '<' at all."""
    problems: list[str] = []
    for file in html_files(hostile_site):
        text = file.read_text(encoding="utf-8")
        for found in INLINE_SCRIPT.finditer(text):
            if "<" in found.group(1) or "\u2028" in found.group(1):
                problems.append(f"{file.relative_to(hostile_site)}: {found.group(1)[:100]!r}")
        if not text.rstrip().endswith("</html>"):
            problems.append(f"{file.relative_to(hostile_site)} does not end with </html>")
    assert not problems, "\n".join(problems[:20])
    page = (hostile_site / "models/internlm-20b/index.html").read_text(encoding="utf-8")
    [ld] = [m.group(1) for m in INLINE_SCRIPT.finditer(page) if "FAQPage" in m.group(1)]
    names = [q["name"] for q in json.loads(ld)["mainEntity"]]
    assert any(HOSTILE_NAME in name for name in names)  # escaped, not dropped


def test_hostile_text_is_shown_as_text(hostile_site: Path) -> None:
    """Escaping, not deletion: the payloads appear verbatim as text where the records put them."""
    page = (hostile_site / "models/internlm-20b/index.html").read_text(encoding="utf-8")
    h1 = re.search(r"<h1>(.*?)</h1>", page, re.S)
    assert h1 is not None
    assert "<" not in h1.group(1), "the name is escaped"
    assert unescape(h1.group(1)) == HOSTILE_NAME
    assert unescape(re.sub(r"<[^>]+>", "", page)).count(HOSTILE_DESC) >= 1
    fam = (hostile_site / "families/internlm/index.html").read_text(encoding="utf-8")
    fam_h1 = re.search(r"<h1>(.*?)</h1>", fam, re.S)
    assert fam_h1 is not None and unescape(fam_h1.group(1)) == HOSTILE_TITLE
    assert "Hostile section" in fam


def test_feed_and_api_stay_well_formed(hostile_site: Path) -> None:
    root = ET.parse(hostile_site / "feed.xml").getroot()
    titles = [e.findtext("{http://www.w3.org/2005/Atom}title") for e in root.iter("{http://www.w3.org/2005/Atom}entry")]
    assert HOSTILE_NAME in titles
    listing = json.loads((hostile_site / "api/v1/models.json").read_text(encoding="utf-8"))
    assert HOSTILE_NAME in [m["name"] for m in listing]
    detail = json.loads((hostile_site / "api/v1/models/internlm-20b.json").read_text(encoding="utf-8"))
    assert detail["record"]["description"] == HOSTILE_DESC
