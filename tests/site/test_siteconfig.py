"""site.toml: absolute URLs everywhere a crawler or feed reader needs them; bad settings are reported."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from site_builder.build import build_site
from site_builder.output import MARKER, MARKER_TEXT
from site_builder.siteconfig import ConfigError, SiteConfig, find_config, load_config

BASE = "https://models.example.net/catalog/"


def test_a_missing_file_means_defaults(tmp_path: Path) -> None:
    assert load_config(tmp_path / "site.toml") == SiteConfig()


def test_the_shipped_config_loads() -> None:
    config = load_config(find_config(Path("catalog")))
    assert config.base_url.endswith("/") and "://" in config.base_url


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('base_url = "https://x.org/"\ntitle = \n', ":2:9: "),
        ('title = "T"\nbase_url = "https://x.org/a"\n', ":2:1: base_url: must end with '/'"),
        ('base_url = "ftp://x.org/"\n', ":1:1: base_url: must be an absolute http(s) URL"),
        ('repository = "github.com/x/y"\n', ":1:1: repository: must be an absolute http(s) URL"),
        ("title = 3\n", ":1:1: title: must be a string"),
        ('\nbase = "/"\n', ":2:1: base: unknown setting"),
    ],
)
def test_bad_settings_are_reported_with_their_line(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "site.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert expected in err.value.problems[0].format()


def test_a_bad_config_fails_the_build_and_keeps_the_old_site(tmp_path: Path, catalog_copy: Path) -> None:
    (catalog_copy.parent / "site.toml").write_text('base_url = "nope"\n')
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("old")
    (out / MARKER).write_text(MARKER_TEXT)  # a previous build, which only a good build may replace
    result = build_site(catalog_copy, out, search=False)
    assert not result.ok and result.report.errors[0].field == "base_url"
    assert (out / "keep.txt").read_text() == "old"


@pytest.fixture(scope="module")
def configured(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import shutil

    root = tmp_path_factory.mktemp("configured")
    shutil.copytree("catalog", root / "catalog", ignore=shutil.ignore_patterns("schema"))
    (root / "site.toml").write_text(
        f'base_url = "{BASE}"\ntitle = "Open Model Sizes"\nrepository = "https://git.example.net/catalog"\n'
    )
    assert build_site(root / "catalog", root / "site", search=False).ok
    return root / "site"


def test_crawler_and_feed_urls_are_absolute(configured: Path) -> None:
    html = (configured / "models/internlm-20b/index.html").read_text()
    assert f'<link rel="canonical" href="{BASE}models/internlm-20b/">' in html
    assert f'<meta property="og:url" content="{BASE}models/internlm-20b/">' in html
    assert 'href="/catalog/static/site.css"' in html  # links stay root-relative under the base path
    assert "<title>InternLM" in html and "· Open Model Sizes</title>" in html
    assert '<a href="https://git.example.net/catalog">Source</a>' in html
    assert f"Sitemap: {BASE}sitemap.xml" in (configured / "robots.txt").read_text()
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "a": "http://www.w3.org/2005/Atom"}
    locs = [e.text or "" for e in ET.parse(configured / "sitemap.xml").getroot().iterfind(".//s:loc", ns)]
    assert locs and all(loc.startswith(BASE) for loc in locs)
    feed = ET.parse(configured / "feed.xml").getroot()
    links = [e.attrib["href"] for e in feed.iterfind(".//a:link", ns)]
    assert links and all(link.startswith(BASE) for link in links)
    assert feed.findtext("a:title", namespaces=ns) == "Open Model Sizes: models added"
    summaries = json.loads((configured / "api/v1/models.json").read_text())
    assert {s["url"] for s in summaries} == {f"{BASE}models/{s['id']}/" for s in summaries}
    detail = json.loads((configured / "api/v1/models/internlm-20b.json").read_text())
    assert detail["url"] == f"{BASE}models/internlm-20b/"


def test_base_url_argument_overrides_the_config(tmp_path: Path, catalog_copy: Path) -> None:
    (catalog_copy.parent / "site.toml").write_text(f'base_url = "{BASE}"\n')
    out = tmp_path / "site"
    assert build_site(catalog_copy, out, base_url="https://other.example.org/", search=False).ok
    html = (out / "index.html").read_text()
    assert '<link rel="canonical" href="https://other.example.org/">' in html
    assert "Sitemap: https://other.example.org/sitemap.xml" in (out / "robots.txt").read_text()
