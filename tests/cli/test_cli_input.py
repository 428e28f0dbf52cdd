"""Careless and hostile command-line input: one clear line (or `path:line:col` lines) and exit 1, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from site_builder.cli import main

Capture = pytest.CaptureFixture[str]


def run(capsys: Capture, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def one_error(capsys: Capture, *argv: str) -> str:
    code, _, err = run(capsys, *argv)
    assert code == 1
    [line] = err.strip().splitlines()
    assert line.startswith(f"site-builder {argv[0]}: error: "), line
    return line


# internlm-20b has 40 attention heads and 40 KV heads; llama-3.1-8b 32 and 8 (their config.json files).
def test_estimate_refuses_a_gpu_count_that_cannot_split_the_heads(capsys: Capture) -> None:
    line = one_error(capsys, "estimate", "--model", "internlm-20b", "--gpu", "h100-sxm", "--gpus", "3")
    assert "internlm-20b: 3 GPUs cannot split 40 attention heads" in line  # 40 / 3 is no whole number
    line = one_error(capsys, "estimate", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--gpus", "64")
    assert "32 attention heads" in line  # more GPUs than heads


def test_estimate_accepts_a_count_that_replicates_kv_heads(capsys: Capture) -> None:
    # 32 query heads over 16 GPUs is 2 each; 8 KV heads are replicated twice: what vLLM does.
    code, out, _ = run(capsys, "estimate", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--gpus", "16")
    assert code == 0 and '"gpus": 16' in out


def test_estimate_refuses_a_context_shorter_than_prompt_plus_output(capsys: Capture) -> None:
    argv = ("estimate", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--prompt", "512", "--output", "256")
    line = one_error(capsys, *argv, "--context", "700")
    assert "--context 700 is shorter than --prompt + --output (512 + 256)" in line


def _impossible_date(catalog: Path) -> Path:
    path = catalog / "models" / "internlm-20b.yaml"
    text = path.read_text()
    assert "release_date: 2023-09-20" in text
    path.write_text(text.replace("release_date: 2023-09-20", "release_date: 2023-13-45"))
    return path


@pytest.mark.parametrize("command", ["check", "estimate", "fmt"])
def test_an_impossible_date_is_a_positioned_error(catalog_copy: Path, capsys: Capture, command: str) -> None:
    path = _impossible_date(catalog_copy)
    extra = ["--model", "internlm-20b", "--gpu", "h100-sxm"] if command == "estimate" else []
    code, out, err = run(capsys, command, "--catalog", str(catalog_copy), *extra)
    assert code == 1
    line = next(ln for ln in (out + err).splitlines() if "2023-13-45" in ln)
    assert line.startswith(f"{path}:7:15: ") and "month must be in 1..12" in line, line


def test_an_impossible_date_fails_the_build_and_keeps_the_site(
    catalog_copy: Path, tmp_path: Path, capsys: Capture
) -> None:
    _impossible_date(catalog_copy)
    out = tmp_path / "site"
    code, _, err = run(capsys, "build", "--catalog", str(catalog_copy), "--out", str(out), "--no-search")
    assert code == 1 and "release_date: invalid value '2023-13-45'" in err
    assert not out.exists()


def test_fmt_on_a_deeply_nested_file(catalog_copy: Path, capsys: Capture) -> None:
    path = catalog_copy / "models" / "deep.yaml"
    path.write_text("a:\n" + "".join("  " * i + "b:\n" for i in range(1, 200)) + "  " * 200 + "c: 1\n")
    code, _, err = run(capsys, "fmt", str(path))
    assert code == 1 and "document nests deeper than" in err


def test_an_empty_catalog_builds_nothing(tmp_path: Path, capsys: Capture) -> None:
    empty = tmp_path / "catalog"
    empty.mkdir()
    out = tmp_path / "site"
    code, _, err = run(capsys, "build", "--catalog", str(empty), "--out", str(out), "--no-search")
    assert code == 1
    assert "the catalog has no models records" in err and "the catalog has no gpus records" in err
    assert not out.exists()


def test_check_prints_its_report_on_stdout_and_still_fails(catalog_copy: Path, capsys: Capture) -> None:
    _impossible_date(catalog_copy)
    code, out, err = run(capsys, "check", "--catalog", str(catalog_copy))
    assert code == 1
    assert "2023-13-45" in out and "1 error" in out
    assert err == ""


def test_the_licence_is_an_spdx_expression() -> None:
    """The table form ({text = ...}) is deprecated by PEP 639 and makes setuptools warn on every install."""
    import tomllib

    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    assert pyproject["project"]["license"] == "Apache-2.0"
    assert not [c for c in pyproject["project"].get("classifiers", []) if c.startswith("License ::")]
