"""Builds are atomic (a failure leaves the old site untouched) and deterministic (same bytes twice)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from site_builder.build import build_site
from site_builder.output import MARKER, MARKER_TEXT


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_two_builds_are_byte_identical(tmp_path: Path) -> None:
    """Also across process counts: a serial build and one rendered by three forked workers."""
    a, b = tmp_path / "a", tmp_path / "b"
    assert build_site(Path("catalog"), a, search=False, jobs=1).ok
    assert build_site(Path("catalog"), b, search=False, jobs=3).ok
    assert _digest(a) == _digest(b)
    assert (a / "models" / "internlm-20b" / "index.html").is_file()
    assert (a / "models" / "internvl2-26b" / "index.html").is_file()
    assert (a / ".site-builder-output").is_file()  # marked, so the next build may replace it
    assert (a / "api" / "v1" / "engine" / "shared.json").is_file()  # engine.js's inputs, byte-identical too
    assert (a / "api" / "v1" / "engine" / "models" / "internlm-20b.json").is_file()


def test_failed_build_leaves_previous_site_untouched(tmp_path: Path, catalog_copy: Path) -> None:
    out = tmp_path / "site"
    assert build_site(catalog_copy, out, search=False).ok
    before = _digest(out)
    (catalog_copy / "models" / "broken.yaml").write_text("id: broken\nname: [\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "site_builder",
            "build",
            "--catalog",
            str(catalog_copy),
            "--out",
            str(out),
            "--no-search",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "broken.yaml:3:1: YAML syntax error" in result.stderr
    assert "Traceback" not in result.stderr
    assert _digest(out) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".site.")]  # no staging leftovers


def test_render_error_midway_keeps_old_site(tmp_path: Path, monkeypatch: object) -> None:
    from site_builder import build as build_mod

    out = tmp_path / "site"
    assert build_site(Path("catalog"), out, search=False).ok
    (out / ".build-inputs").unlink()  # same inputs would make the second build a no-op
    before = _digest(out)

    def explode(*_: object) -> None:
        raise RuntimeError("disk full")

    mp = pytest.MonkeyPatch()
    mp.setattr(build_mod, "write_api", explode)
    try:
        with pytest.raises(RuntimeError):
            build_site(Path("catalog"), out, search=False)
    finally:
        mp.undo()
    assert _digest(out) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".site.")]


def test_sub_path_base_url(tmp_path: Path) -> None:
    out = tmp_path / "site"
    assert build_site(Path("catalog"), out, base_url="https://example.org/catalog/", search=False).ok
    html = (out / "models" / "internlm-20b" / "index.html").read_text()
    assert 'href="/catalog/static/site.css"' in html
    assert '<link rel="canonical" href="https://example.org/catalog/models/internlm-20b/">' in html


# --- the output directory: only an absent or empty directory, or a previous build, is ever replaced ---------


def _build_cli(catalog: Path, out: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "site_builder", "build", "--catalog", str(catalog), "--out", out, "--no-search"],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )


def _refused(result: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("site-builder build: error: refusing to replace") and fragment in line, line


def test_build_refuses_a_folder_of_unrelated_files(tmp_path: Path, catalog_copy: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "notes.txt").write_text("keep me")
    _refused(_build_cli(catalog_copy, str(docs)), "not a previous build")
    assert [p.name for p in docs.iterdir()] == ["notes.txt"]
    assert (docs / "notes.txt").read_text() == "keep me"


def test_build_refuses_the_catalog_the_working_directory_and_their_parents(tmp_path: Path, catalog_copy: Path) -> None:
    before = _digest(catalog_copy)
    _refused(_build_cli(catalog_copy, str(catalog_copy)), "it is the catalog")
    _refused(_build_cli(catalog_copy, str(catalog_copy.parent)), "it contains the catalog")
    work = tmp_path / "work"
    work.mkdir()
    (work / "mine.txt").write_text("keep me")
    _refused(_build_cli(catalog_copy, ".", cwd=work), "it is the working directory")
    assert (work / "mine.txt").read_text() == "keep me"
    assert _digest(catalog_copy) == before


def test_build_refuses_a_file_and_the_repository(tmp_path: Path) -> None:
    from site_builder.output import UnsafeOutputError, check_output_dir

    a_file = tmp_path / "site.html"
    a_file.write_text("x")
    with pytest.raises(UnsafeOutputError, match="is a file"):
        check_output_dir(a_file, Path("catalog"))
    repo = Path(__file__).resolve().parents[2]
    with pytest.raises(UnsafeOutputError, match="repository"):
        check_output_dir(repo, tmp_path / "elsewhere")


def test_build_marks_its_output_and_may_replace_it_or_an_empty_folder(tmp_path: Path) -> None:
    from site_builder.output import MARKER, check_output_dir

    empty = tmp_path / "empty"
    empty.mkdir()
    check_output_dir(empty, Path("catalog"))  # empty: fine
    check_output_dir(tmp_path / "absent", Path("catalog"))  # absent: fine
    previous = tmp_path / "previous"
    previous.mkdir()
    (previous / "index.html").write_text("old page")
    (previous / MARKER).write_text("")
    check_output_dir(previous, Path("catalog"))  # marked by an earlier build: fine


def test_pages_are_replaced_by_rename_never_truncated_in_place(tmp_path: Path) -> None:
    from site_builder.output import write_text

    write_text(tmp_path, "a/index.html", "old page")
    with (tmp_path / "a" / "index.html").open(encoding="utf-8") as reader:  # a request being served
        write_text(tmp_path, "a/index.html", "new page")
        assert reader.read() == "old page"
    assert (tmp_path / "a" / "index.html").read_text() == "new page"
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["index.html"]


def test_error_in_a_render_worker_fails_the_build_and_keeps_old_site(tmp_path: Path) -> None:
    import pytest

    from site_builder import rendering as build_mod

    out = tmp_path / "site"
    out.mkdir()
    (out / "old.html").write_text("old")
    (out / MARKER).write_text(MARKER_TEXT)  # a previous build, which only a good build may replace
    real = build_mod._render_one

    def explode_on_one_page(env: object, page: build_mod.Page, settings: object) -> str:
        if page.path == "gpus/h100-sxm/index.html":
            raise OSError("disk full")
        return real(env, page, settings)  # type: ignore[arg-type]

    mp = pytest.MonkeyPatch()
    mp.setattr(build_mod, "_render_one", explode_on_one_page)
    try:
        with pytest.raises(
            RuntimeError, match=r"^error rendering gpus/h100-sxm/index.html \(gpu.html\): OSError: disk full"
        ):
            build_site(Path("catalog"), out, search=False, jobs=2)
    finally:
        mp.undo()
    assert sorted(p.name for p in out.iterdir()) == sorted([MARKER, "old.html"])
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".site.")]


def _previous_build(out: Path) -> dict[str, str]:
    out.mkdir()
    (out / "old.html").write_text("old")
    (out / MARKER).write_text(MARKER_TEXT)  # a previous build, which only a good build may replace
    return _digest(out)


def test_a_failing_page_model_names_its_page_and_template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from site_builder import build as build_mod
    from site_builder.pages.gpu_page import gpu_page as real
    from site_builder.rendering import RenderError

    out = tmp_path / "site"
    before = _previous_build(out)

    def broken_gpu_page(g: Any, *args: Any) -> object:
        if g.id == "l40s":
            raise KeyError("price")
        return real(g, *args)

    monkeypatch.setattr(build_mod, "gpu_page", broken_gpu_page)
    failed = r"^error rendering gpus/l40s/index.html \(gpu.html\): KeyError: 'price'$"
    with pytest.raises(RenderError, match=failed):
        build_site(Path("catalog"), out, search=False, jobs=1)
    assert _digest(out) == before


def test_a_broken_internal_link_fails_the_build_and_keeps_the_old_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from site_builder import build as build_mod

    out = tmp_path / "site"
    before = _previous_build(out)
    real = build_mod.write_static

    def static_with_a_stray_page(target: Path) -> None:
        real(target)
        page = '<!doctype html>\n<p><a href="/models/no-such-model/">gone</a> <a href="/#no-such-id">top</a></p>\n'
        (target / "static" / "stray.html").write_text(page, encoding="utf-8")

    monkeypatch.setattr(build_mod, "write_static", static_with_a_stray_page)
    result = build_site(Path("catalog"), out, search=False)
    assert not result.ok
    assert [p.format() for p in result.report.errors] == [
        "static/stray.html:2:7: /models/no-such-model/: no such file",
        "static/stray.html:2:49: /#no-such-id: no id 'no-such-id' in index.html",
    ]
    assert _digest(out) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".site.")]
