"""Incremental builds: after a record edit only the pages whose bytes change are rewritten, and the site is
byte-identical to a clean build of the edited catalog (which is what proves every page declares its inputs)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from site_builder.build import build_site
from site_builder.incremental import MANIFEST, affected

ROOT = Path(__file__).resolve().parents[2]
# A small catalog cut from the shipped one, so that each build takes about a second: models with and without
# benchmark records and API prices, in three families; single GPUs, a bundle, a CPU, an Apple chip and an AMD GPU.
MODELS = {
    "internlm-20b",
    "internvl2-26b",
    "llama-3.1-8b",
    "qwen2.5-7b",
    "mistral-7b-v0.1",
    "qwen3-30b-a3b",
    "gpt-oss-20b",
}
GPUS = {
    "h100-sxm",
    "l40s",
    "rtx-4090",
    "dual-rtx-4090",
    "a100-80gb-sxm",
    "cpu-desktop-ddr5-2ch",
    "apple-m4-max",
    "mi300x",
}


@pytest.fixture
def small_catalog(tmp_path: Path) -> Path:
    target = tmp_path / "catalog"
    shutil.copytree(ROOT / "catalog", target, ignore=shutil.ignore_patterns("schema"))
    for f in (target / "models").glob("*.yaml"):
        if f.stem not in MODELS:
            f.unlink()
    for f in (target / "gpus").glob("*.yaml"):
        if f.stem not in GPUS:
            f.unlink()
    for f in (target / "benchmarks").glob("*.yaml"):
        bench = yaml.safe_load(f.read_text())
        if bench.get("model") not in MODELS or bench.get("gpu") not in GPUS:
            f.unlink()
    for f in (target / "providers").glob("*.yaml"):
        provider = yaml.safe_load(f.read_text())
        provider["api_prices"] = [p for p in provider.get("api_prices", []) if p["model"] in MODELS]
        f.write_text(yaml.safe_dump(provider, sort_keys=False))
    return target


def _files(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file of a built site: its bytes and inode."""
    return {p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_ino) for p in root.rglob("*") if p.is_file()}


def _folders(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_dir()}


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def _set_reviewed(families: Path, date: str) -> None:
    for f in families.glob("*.md"):
        f.write_text(re.sub(r"(?m)^reviewed: .*$", f"reviewed: {date}", f.read_text(), count=1))


def _rebuild(catalog: Path, out: Path, *, search: bool = False) -> dict[str, tuple[bytes, int]]:
    """Rebuild `out` incrementally; check it against a clean build of the same catalog; return the previous files."""
    before = _files(out)
    assert build_site(catalog, out, search=search).ok
    _matches_a_clean_build(catalog, out, search=search)
    return before


def _matches_a_clean_build(catalog: Path, out: Path, *, search: bool = False) -> None:
    clean = out.with_name("clean")
    shutil.rmtree(clean, ignore_errors=True)
    assert build_site(catalog, clean, search=search).ok
    after, fresh = _files(out), _files(clean)
    assert sorted(after) == sorted(fresh)
    assert _folders(out) == _folders(clean), "a folder the previous site had and a clean build does not"
    differ = [rel for rel in fresh if after[rel][0] != fresh[rel][0]]
    assert not differ, f"an incremental build differs from a clean one in {differ[:10]}"


def _rewritten_pages(before: dict[str, tuple[bytes, int]], out: Path) -> set[str]:
    return {
        rel
        for rel, (_, inode) in _files(out).items()
        if rel.endswith(".html") and rel in before and before[rel][1] != inode
    }


def _changed_pages(before: dict[str, tuple[bytes, int]], out: Path) -> set[str]:
    return {
        rel for rel, (data, _) in _files(out).items() if rel.endswith(".html") and before.get(rel, (b"",))[0] != data
    }


def test_an_edited_description_rewrites_only_the_pages_it_changes(small_catalog: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    assert build_site(small_catalog, out, search=False).ok
    model = small_catalog / "models" / "llama-3.1-8b.yaml"
    _edit(model, "description: '", "description: 'An edited description. ")
    own = [p for p in out.rglob("index.html") if "llama-3.1-8b" in p.relative_to(out).as_posix()]
    assert len(own) > 3  # its page, its deployment pages and the compare pages with it
    assert build_site(small_catalog, out, search=False).rendered == len(own), "only the pages that show the text"
    _edit(model, "description: 'An edited", "description: 'Another edited")
    before = _rebuild(small_catalog, out)
    assert "Another edited description." in (out / "models/llama-3.1-8b/index.html").read_text()
    changed = _changed_pages(before, out)
    assert "models/llama-3.1-8b/index.html" in changed
    assert _rewritten_pages(before, out) == changed & set(before), "a page with the same bytes stays as it was"
    untouched = [rel for rel in before if rel.startswith("deploy/qwen2.5-7b/") or rel.startswith("about/")]
    assert untouched and all(rel not in changed for rel in untouched)


def test_an_edited_size_matches_a_clean_build(small_catalog: Path, tmp_path: Path) -> None:
    """A field the engine reads: weights, fit, speed, recommendations and so deployment pages change."""
    out = tmp_path / "site"
    assert build_site(small_catalog, out, search=False).ok
    _edit(small_catalog / "models" / "qwen2.5-7b.yaml", "  intermediate_size: 18944", "  intermediate_size: 29568")
    before = _rebuild(small_catalog, out)
    changed = _changed_pages(before, out)
    assert "models/qwen2.5-7b/index.html" in changed
    assert _rewritten_pages(before, out) == changed & set(before)
    assert not any(rel.startswith("deploy/internlm-20b/") for rel in changed)


EDITS: dict[str, Callable[[Path], object]] = {
    "a release date": lambda c: _edit(
        c / "models" / "qwen2.5-7b.yaml", "release_date: 2024-09-19", "release_date: 2024-09-20"
    ),
    "the newest date of the catalog (every page's footer)": lambda c: _set_reviewed(c / "families", "2026-01-01"),
    "a GPU's bandwidth": lambda c: _edit(
        c / "gpus" / "l40s.yaml", "memory_bandwidth_gbps: 864", "memory_bandwidth_gbps: 900"
    ),
    "the GPU of a bundle": lambda c: _edit(
        c / "gpus" / "rtx-4090.yaml", "memory_bandwidth_gbps: 1008", "memory_bandwidth_gbps: 1100"
    ),
    "a measured benchmark": lambda c: _edit(
        c / "benchmarks" / "lambda-l31-8b-fp8-1xh100-itl.yaml", "value: 19.75", "value: 9.75"
    ),
    "an API price": lambda c: _edit(
        c / "providers" / "deepinfra.yaml",
        "- model: qwen2.5-7b\n  input_usd_per_mtok: ",
        "- model: qwen2.5-7b\n  input_usd_per_mtok: 1",
    ),
    "a licence": lambda c: _edit(
        c / "models" / "qwen2.5-7b.yaml", "name: Apache License 2.0", "name: Apache License, Version 2.0"
    ),
    "a model's capabilities": lambda c: _edit(
        c / "models" / "qwen2.5-7b.yaml", "capabilities: [", "capabilities: [tool-use, "
    ),
    "a new model": lambda c: (c / "models" / "qwen3-8b.yaml").write_bytes(
        (ROOT / "catalog" / "models" / "qwen3-8b.yaml").read_bytes()
    ),
    "a deleted model": lambda c: (c / "models" / "internvl2-26b.yaml").unlink(),
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_an_edit_rebuilds_to_the_same_bytes_as_a_clean_build(small_catalog: Path, tmp_path: Path, edit: str) -> None:
    out = tmp_path / "site"
    assert build_site(small_catalog, out, search=False).ok
    EDITS[edit](small_catalog)
    before = _rebuild(small_catalog, out)
    assert _rewritten_pages(before, out) == _changed_pages(before, out) & set(before)


def test_gpu_pages_render_for_what_they_print_of_a_model(
    small_catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GPU pages show each model's fit and speed as printed (analysis.gpu_rows_digests), not its dates or its exact
    byte counts: an edit to a release date renders the model's own pages and the listings and no GPU page; a size
    edit of one unit moves every byte count of the model but renders only the GPU pages whose printed cells or speeds
    it changes; a large one renders more, each of them changed. Each rebuild matches a clean build."""
    from site_builder import rendering

    out = tmp_path / "site"
    assert build_site(small_catalog, out, search=False).ok
    rendered: list[str] = []
    real = rendering.render_page

    def spy(env: object, page: rendering.Page, settings: rendering.RenderSettings) -> str:
        rendered.append(page.path)
        return real(env, page, settings)  # type: ignore[arg-type]

    def gpu_pages_rendered_by(edit: Callable[[], object]) -> tuple[set[str], set[str]]:
        """The GPU pages an incremental build after `edit` renders, and those whose bytes change."""
        rendered.clear()
        edit()
        before = _files(out)
        with monkeypatch.context() as m:
            m.setattr(rendering, "render_page", spy)
            assert build_site(small_catalog, out, search=False, jobs=1).ok
        _matches_a_clean_build(small_catalog, out)
        gpu = {p for p in rendered if p.startswith("gpus/") and p != "gpus/index.html"}
        return gpu, {p for p in _changed_pages(before, out) if p.startswith("gpus/") and p != "gpus/index.html"}

    model = small_catalog / "models" / "qwen2.5-7b.yaml"
    release = gpu_pages_rendered_by(lambda: EDITS["a release date"](small_catalog))
    assert "models/qwen2.5-7b/index.html" in rendered and "index.html" in rendered
    assert release == (set(), set())

    one_unit, changed = gpu_pages_rendered_by(
        lambda: _edit(model, "  intermediate_size: 18944", "  intermediate_size: 18945")
    )
    assert "models/qwen2.5-7b/index.html" in rendered
    assert changed <= one_unit and len(one_unit) < len(GPUS), one_unit

    large, changed = gpu_pages_rendered_by(
        lambda: _edit(model, "  intermediate_size: 18945", "  intermediate_size: 29568")
    )
    assert changed == large and len(large) > len(one_unit), "every GPU page rendered shows a new figure"


def test_dependencies_match_by_record_and_by_kind() -> None:
    """A page names the records it shows, or all of a kind; a change names records, or all of a kind where its
    maker cannot tell which (the preview server for GPU rows)."""
    assert affected({"gpu-rows/h100-sxm"}, {"gpu-rows/h100-sxm"})
    assert not affected({"gpu-rows/h100-sxm"}, {"gpu-rows/l40s", "models/qwen2.5-7b"})
    assert affected({"gpus/*"}, {"gpus/l40s"})
    assert affected({"gpu-rows/h100-sxm", "frameworks/*"}, {"gpu-rows/*"})
    assert not affected({"models/qwen2.5-7b", "model-figures/qwen3-8b"}, {"gpu-rows/*"})
    assert affected({"about"}, {"*"}) and affected({"*"}, {"models/x"})


def test_a_deleted_model_loses_its_pages(small_catalog: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    assert build_site(small_catalog, out, search=False).ok
    assert (out / "models/internvl2-26b/index.html").is_file() and any((out / "deploy/internvl2-26b").iterdir())
    (small_catalog / "models" / "internvl2-26b.yaml").unlink()
    _rebuild(small_catalog, out)
    assert not (out / "models/internvl2-26b").exists() and not (out / "deploy/internvl2-26b").exists()
    assert not (out / "api/v1/models/internvl2-26b.json").exists()


def test_a_bad_edit_fails_and_leaves_the_site_as_it_was(small_catalog: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    assert build_site(small_catalog, out, search=False).ok
    before = _files(out)
    _edit(small_catalog / "models" / "qwen2.5-7b.yaml", "  num_hidden_layers: 28", "  num_hidden_layers: -28")
    assert not build_site(small_catalog, out, search=False).ok
    assert _files(out) == before  # the same bytes in the same files: nothing written through a link
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".site.")], "the staging directory is removed"


def test_search_index_is_rebuilt_for_an_edit_and_reused_when_no_page_changed(
    small_catalog: Path, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    assert build_site(small_catalog, out).ok
    model = small_catalog / "models" / "llama-3.1-8b.yaml"
    _edit(model, "description: '", "description: 'Searchable edit. ")
    before = _rebuild(small_catalog, out, search=True)
    entry = "pagefind/pagefind-entry.json"
    assert before[entry][1] != _files(out)[entry][1]
    _edit(model, "\nfamily:", "\n# a comment changes the record's file, not its pages\nfamily:")
    before = _rebuild(small_catalog, out, search=True)
    after = _files(out)
    assert all(after[rel][1] == inode for rel, (_, inode) in before.items() if rel.startswith("pagefind/"))
    assert not _rewritten_pages(before, out)


def test_a_damaged_manifest_means_a_full_build(small_catalog: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    assert build_site(small_catalog, out, search=False).ok
    (out / MANIFEST).write_text("{not json")
    _edit(small_catalog / "models" / "llama-3.1-8b.yaml", "description: '", "description: 'Edited. ")
    before = _rebuild(small_catalog, out)
    assert _rewritten_pages(before, out) == {rel for rel in before if rel.endswith(".html")}
