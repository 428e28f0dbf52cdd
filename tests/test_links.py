"""The built site's plumbing, without a browser: internal links, sitemap, Atom feed and the JSON API.

The real catalog is built once per session without the search index; a second build under a sub-path checks
that no page links outside the base path it is served from.
"""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import yaml
from browser_support import CATALOG, build, html_files, parse_tags, url_path

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
LINK_ATTRS = ("href", "src", "action")


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("links") / "site", search=False)


@pytest.fixture(scope="session")
def sub_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("links-sub") / "site", search=False, base_url="https://example.org/catalog/")


@pytest.fixture(scope="session")
def yaml_models() -> dict[str, dict[str, Any]]:
    records: dict[str, dict[str, Any]] = {}
    for path in sorted((CATALOG / "models").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert isinstance(data, dict), path
        records[data["id"]] = data
    assert records
    return records


def _target(site: Path, path: str) -> Path | None:
    """The file a URL path (below the site root, already without the base) is served from, or None."""
    rel = unquote(path).lstrip("/")
    candidate = site / rel
    if path.endswith("/") or not rel:
        candidate = candidate / "index.html"
    return candidate if candidate.is_file() else None


class _Ids:
    """The element ids of each built page, parsed once."""

    def __init__(self) -> None:
        self._cache: dict[Path, set[str]] = {}

    def of(self, file: Path) -> set[str]:
        if file not in self._cache:
            tags = parse_tags(file.read_text(encoding="utf-8"))
            self._cache[file] = {t.attrs["id"] for t in tags if "id" in t.attrs} | {
                t.attrs["name"] for t in tags if t.name == "a" and "name" in t.attrs
            }
        return self._cache[file]


def _check_links(site: Path, base: str, absolute: str) -> tuple[list[str], int]:
    """Every internal href/src/action of every page resolves to a built file (and to an id for #fragments)."""
    broken: list[str] = []
    checked = 0
    ids = _Ids()
    for file in html_files(site):
        page = url_path(site, file, base)
        for tag in parse_tags(file.read_text(encoding="utf-8")):
            for attr in LINK_ATTRS:
                value = tag.attrs.get(attr)
                if value is None:
                    continue
                if value.startswith(absolute):  # canonical and og:url carry the origin
                    value = base + value[len(absolute) :]
                parts = urlsplit(value)
                if parts.scheme or parts.netloc:
                    continue  # external (https:, mailto:) or data: URLs
                where = f"{page} (line {tag.line}) <{tag.name} {attr}={value!r}>"
                path = parts.path or page
                if not path.startswith(base):
                    broken.append(f"{where}: outside the base path {base}")
                    continue
                if path.startswith(base + "pagefind/") and not (site / "pagefind").is_dir():
                    continue  # a --no-search build has no Pagefind bundle; the browser tests load it
                target = _target(site, path[len(base) :])
                checked += 1
                if target is None:
                    broken.append(f"{where}: no such file")
                elif parts.fragment and unquote(parts.fragment) not in ids.of(target):
                    broken.append(f"{where}: no id {parts.fragment!r} in {target.relative_to(site)}")
    return broken, checked


def test_every_internal_link_resolves(site: Path) -> None:
    broken, checked = _check_links(site, "/", "/")
    assert checked > 1000, f"only {checked} internal links found"
    assert not broken, f"{len(broken)} broken internal links:\n" + "\n".join(broken[:40])


def test_links_stay_under_a_sub_path_base(sub_site: Path) -> None:
    broken, checked = _check_links(sub_site, "/catalog/", "https://example.org/catalog/")
    assert checked > 1000
    assert not broken, f"{len(broken)} links escape or miss under /catalog/:\n" + "\n".join(broken[:40])
    page = (sub_site / "models/internlm-20b/index.html").read_text(encoding="utf-8")
    canonical = [t.attrs["href"] for t in parse_tags(page) if t.name == "link" and t.attrs.get("rel") == "canonical"]
    assert canonical == ["https://example.org/catalog/models/internlm-20b/"]


def test_every_page_but_404_is_in_the_sitemap(site: Path) -> None:
    root = ET.parse(site / "sitemap.xml").getroot()
    assert root.tag == f"{SITEMAP}urlset"
    locs = [loc.text or "" for loc in root.iter(f"{SITEMAP}loc")]
    assert len(locs) == len(set(locs)), "the sitemap lists a page twice"
    pages = {url_path(site, f) for f in html_files(site) if f.name != "404.html" or f.parent != site}
    assert "/404.html" not in locs
    missing = sorted(pages - set(locs))
    extra = sorted(set(locs) - pages)
    assert not missing, f"pages missing from sitemap.xml: {missing[:20]}"
    assert not extra, f"sitemap.xml lists pages that were not built: {extra[:20]}"
    robots = (site / "robots.txt").read_text()
    assert "Sitemap: /sitemap.xml" in robots or "sitemap.xml" in robots


def _rfc3339(text: str | None) -> dt.datetime:
    assert text, "empty date"
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_feed_is_valid_atom(site: Path, yaml_models: dict[str, dict[str, Any]]) -> None:
    root = ET.parse(site / "feed.xml").getroot()
    assert root.tag == f"{ATOM}feed"
    for child in ("id", "title", "updated"):
        assert (root.findtext(f"{ATOM}{child}") or "").strip(), f"feed has no <{child}>"
    feed_updated = _rfc3339(root.findtext(f"{ATOM}updated"))
    assert root.find(f"{ATOM}author/{ATOM}name") is not None, "Atom requires an author"
    entries = root.findall(f"{ATOM}entry")
    assert entries, "the feed has entries"
    seen: set[str] = set()
    names = {m["name"] for m in yaml_models.values()}
    for e in entries:
        eid, title = e.findtext(f"{ATOM}id") or "", e.findtext(f"{ATOM}title") or ""
        assert eid and title, f"entry without id or title: {ET.tostring(e)[:200]!r}"
        assert eid not in seen, f"duplicate entry id {eid}"
        seen.add(eid)
        assert title in names, f"entry {title!r} is not a catalog model"
        assert _rfc3339(e.findtext(f"{ATOM}updated")) <= feed_updated
        link = e.find(f"{ATOM}link")
        assert link is not None and _target(site, link.get("href", "")) is not None, f"{title}: link does not resolve"
    updated = [_rfc3339(e.findtext(f"{ATOM}updated")) for e in entries]
    assert updated == sorted(updated, reverse=True), "entries newest first"
    assert max(updated) == feed_updated


def test_models_json_lists_every_record(site: Path, yaml_models: dict[str, dict[str, Any]]) -> None:
    listing = json.loads((site / "api/v1/models.json").read_text(encoding="utf-8"))
    assert isinstance(listing, list)
    ids = [m["id"] for m in listing]
    assert len(ids) == len(set(ids)), "models.json repeats an id"
    assert set(ids) == set(yaml_models), set(ids) ^ set(yaml_models)
    for entry in listing:
        rec = yaml_models[entry["id"]]
        assert entry["name"] == rec["name"]
        assert entry["context_window"] == rec["context_window"]
        assert entry["hf_repo"] == rec["hf_repo"]
        assert entry["organization"] == rec["organization"]
        assert entry["family"] == rec["family"]
        assert entry["release_date"] == (str(rec["release_date"]) if rec.get("release_date") else None)
        assert entry["capabilities"] == rec.get("capabilities", [])
        assert entry["params_total"] > 0


KEY_FIELDS = (
    "id",
    "name",
    "hf_repo",
    "organization",
    "family",
    "context_window",
    "description",
    "capabilities",
    "frameworks",
    "precisions",
    "native_precision",
    "license",
    "stated_params",
    "scores",
    "sources",
)


def _plain(value: Any) -> Any:
    """YAML values as the JSON API writes them (dates as ISO strings)."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _subset_mismatches(expected: Any, actual: Any, where: str) -> list[str]:
    """Every value the YAML states appears unchanged in the API (which may add defaults)."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{where}: {actual!r} is not an object"]
        return [m for k, v in expected.items() for m in _subset_mismatches(v, actual.get(k), f"{where}.{k}")]
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{where}: {actual!r} != {expected!r}"]
        return [
            m
            for i, (e, a) in enumerate(zip(expected, actual, strict=True))
            for m in _subset_mismatches(e, a, f"{where}[{i}]")
        ]
    if isinstance(expected, float) or isinstance(actual, float):
        ok = isinstance(actual, int | float) and abs(float(actual) - float(expected)) < 1e-9
        return [] if ok else [f"{where}: {actual!r} != {expected!r}"]
    return [] if expected == actual else [f"{where}: {actual!r} != {expected!r}"]


def test_model_json_records_match_the_yaml(site: Path, yaml_models: dict[str, dict[str, Any]]) -> None:
    files = {p.stem for p in (site / "api/v1/models").glob("*.json")}
    assert files == set(yaml_models), files ^ set(yaml_models)
    problems: dict[str, list[str]] = defaultdict(list)
    for mid, rec in yaml_models.items():
        detail = json.loads((site / f"api/v1/models/{mid}.json").read_text(encoding="utf-8"))
        record = detail["record"]
        for key in KEY_FIELDS:
            if key in rec:
                problems[mid] += _subset_mismatches(_plain(rec[key]), record.get(key), key)
        if "release_date" in rec:
            problems[mid] += _subset_mismatches(_plain(rec["release_date"]), record.get("release_date"), "release_date")
        problems[mid] += _subset_mismatches(_plain(rec["architecture"]), record.get("architecture"), "architecture")
        engine = detail["engine"]
        assert engine["params_total"] > 0 and engine["kv_cache_bytes_per_token"] > 0, mid
        assert set(engine["weights_bytes"]) <= set(rec["precisions"]) | {rec.get("native_precision", "bf16")}
    bad = {k: v for k, v in problems.items() if v}
    assert not bad, json.dumps(bad, indent=1)[:3000]


def test_gpus_json_lists_every_gpu(site: Path) -> None:
    gpus = json.loads((site / "api/v1/gpus.json").read_text(encoding="utf-8"))
    expected = {yaml.safe_load(p.read_text(encoding="utf-8"))["id"] for p in (CATALOG / "gpus").glob("*.yaml")}
    assert {g["id"] for g in gpus} == expected
