"""The built site's plumbing, without a browser: the link checker, sitemap, Atom feed and the JSON API.

The real catalog is built once per session without the search index; a second build under a sub-path checks
that no page links outside the base path it is served from.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml
from browser_support import CATALOG, build, html_files, parse_tags, url_path

from site_builder import linkcheck
from site_builder.linkcheck import check_links, served_file

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


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


def test_every_internal_link_resolves(site: Path) -> None:
    broken, checked = check_links(site, "/", "/")
    assert checked > 1000, f"only {checked} internal links found"
    assert not broken, f"{len(broken)} broken internal links:\n" + "\n".join(p.format() for p in broken[:40])


def test_links_stay_under_a_sub_path_base(sub_site: Path) -> None:
    broken, checked = check_links(sub_site, "/catalog/", "https://example.org/catalog/")
    assert checked > 1000
    assert not broken, f"{len(broken)} links escape or miss under /catalog/:\n" + "\n".join(
        p.format() for p in broken[:40]
    )
    page = (sub_site / "models/internlm-20b/index.html").read_text(encoding="utf-8")
    canonical = [t.attrs["href"] for t in parse_tags(page) if t.name == "link" and t.attrs.get("rel") == "canonical"]
    assert canonical == ["https://example.org/catalog/models/internlm-20b/"]


SAMPLE_PAGES = (
    "index.html",
    "models/internlm-20b/index.html",
    "models/internvl2-26b/index.html",
    "gpus/h100-sxm/index.html",
    "methodology/index.html",
    "404.html",
)


@pytest.mark.parametrize("rel", SAMPLE_PAGES)
def test_the_checker_reads_the_links_and_ids_an_html_parser_reads(site: Path, rel: str) -> None:
    """The build's checker scans attributes with a regular expression; an HTML parser must find the same."""
    tags = parse_tags((site / rel).read_text(encoding="utf-8"))
    links = {t.attrs[a] for t in tags for a in ("href", "src", "action") if a in t.attrs}
    ids = {t.attrs["id"] for t in tags if "id" in t.attrs}
    page = linkcheck.read_page(site / rel)
    assert set(page.links) == links
    assert ids == page.ids
    assert len(links) > 5


def _page(root: Path, rel: str, body: str) -> None:
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_text(f"<!doctype html>\n<html><body>\n{body}\n</body></html>\n", encoding="utf-8")


def _staging(root: Path) -> Path:
    _page(root, "index.html", '<a href="/a/">A</a> <a href="/a/#x">x</a> <link href="/static/s.css" rel="stylesheet">')
    _page(root, "a/index.html", '<h2 id="x">X</h2> <a href="#x">self</a> <a href="https://example.org/">out</a>')
    _page(root, "b/index.html", '<script>const s = \' href="/nowhere/"\';</script><a href="/a/">a</a>')
    (root / "static").mkdir()
    (root / "static" / "s.css").write_text("body{}", encoding="utf-8")
    return root


def test_the_checker_passes_a_staging_dir_whose_links_resolve(tmp_path: Path) -> None:
    broken, checked = check_links(_staging(tmp_path), "/", "/")
    assert broken == []
    # index: /a/, /a/#x, the stylesheet; a: its own #x (the external link is not checked); b: /a/, not the script's
    assert checked == 5


def test_the_checker_names_page_position_link_and_reason(tmp_path: Path) -> None:
    root = _staging(tmp_path)
    body = '<a href="/missing/">m</a>\n  <a href="/a/#nope">n</a>\n<img alt="" src="/static/s.css#y">\n'
    body += '<a href="../a/">r</a>'
    _page(root, "c/index.html", body)
    broken, _ = check_links(root, "/", "/")
    assert [p.format() for p in broken] == [
        "c/index.html:3:4: /missing/: no such file",
        "c/index.html:4:6: /a/#nope: no id 'nope' in a/index.html",
        "c/index.html:5:13: /static/s.css#y: no id 'y' in static/s.css",
        "c/index.html:6:4: ../a/: outside the base path /",
    ]


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
    named = [line.removeprefix("Sitemap: ") for line in robots.splitlines() if line.startswith("Sitemap: ")]
    assert len(named) == 1 and named[0].endswith("/sitemap.xml"), robots


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
        assert link is not None and served_file(site, link.get("href", "")) is not None, (
            f"{title}: link does not resolve"
        )
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


@pytest.mark.parametrize("model", ["internlm-20b", "internvl2-26b"])
def test_recommend_json_prints_the_api_setup_objects(site: Path, model: str) -> None:
    """`recommend --json` and the JSON API share one serializer: the API's recommendations are among the CLI's
    ranked setups, key for key and value for value, and the best one leads both."""
    api = json.loads((site / f"api/v1/models/{model}.json").read_text(encoding="utf-8"))["engine"]
    command = [sys.executable, "-m", "site_builder", "recommend", "--model", model, "--json", "--limit", "1000"]
    cli = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
    assert cli["model"] == model
    assert cli["workload"] == api["workload"]
    assert api["recommendations"], "the seed models have recommendations"
    assert cli["setups"][0] == api["recommendations"][0]
    missing = [r for r in api["recommendations"] if r not in cli["setups"]]
    assert not missing, missing


def test_gpus_json_lists_every_gpu(site: Path) -> None:
    gpus = json.loads((site / "api/v1/gpus.json").read_text(encoding="utf-8"))
    expected = {yaml.safe_load(p.read_text(encoding="utf-8"))["id"] for p in (CATALOG / "gpus").glob("*.yaml")}
    assert {g["id"] for g in gpus} == expected
