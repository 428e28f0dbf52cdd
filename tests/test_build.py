"""Builds are atomic (a failure leaves the old site untouched) and deterministic (same bytes twice)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

from site_builder.build import build_site


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
    import pytest

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


def test_error_in_a_render_worker_fails_the_build_and_keeps_old_site(tmp_path: Path) -> None:
    import pytest

    from site_builder import build as build_mod

    out = tmp_path / "site"
    out.mkdir()
    (out / "old.html").write_text("old")
    real = build_mod._render_one

    def explode_on_one_page(env: object, page: build_mod.Page, settings: object) -> str:
        if page.path == "gpus/h100-sxm/index.html":
            raise OSError("disk full")
        return real(env, page, settings)  # type: ignore[arg-type]

    mp = pytest.MonkeyPatch()
    mp.setattr(build_mod, "_render_one", explode_on_one_page)
    try:
        with pytest.raises(RuntimeError, match="OSError: disk full"):
            build_site(Path("catalog"), out, search=False, jobs=2)
    finally:
        mp.undo()
    assert [p.name for p in out.iterdir()] == ["old.html"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".site.")]
