"""The broken-file corpus: every mistake is one clear `path:line:col: field: message` line, never a traceback."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from site_builder.problems import Report
from site_builder.validate import validate_catalog

CATALOG = Path(__file__).resolve().parents[2] / "catalog"
GOOD_MODEL = (CATALOG / "models" / "internlm-20b.yaml").read_text()
GOOD_GPU = (CATALOG / "gpus" / "h100-sxm.yaml").read_text()
GOOD_FRAMEWORK = (CATALOG / "frameworks" / "vllm.yaml").read_text()


def line_of(needle: str, record: str = GOOD_MODEL) -> int:
    """1-based line of the fixture record that starts with `needle` (indentation ignored)."""
    for number, line in enumerate(record.splitlines(), 1):
        if line.strip().startswith(needle):
            return number
    raise AssertionError(f"{needle!r} is not in the fixture record")


def model(new_id: str, old: str, new: str) -> str:
    """The fixture model under another id, with one line changed."""
    assert old in GOOD_MODEL, old
    return GOOD_MODEL.replace("id: internlm-20b", f"id: {new_id}").replace(old, new, 1)


def gpu(new_id: str, old: str, new: str) -> str:
    assert old in GOOD_GPU, old
    return GOOD_GPU.replace("id: h100-sxm", f"id: {new_id}").replace(old, new, 1)


# (file name, content, expected line, expected field, a fragment of the message)
CASES: list[tuple[str, str | bytes, int, str, str]] = [
    (
        "models/typo.yaml",
        GOOD_MODEL.replace("id: internlm-20b", "id: typo").replace("  hidden_size: 5120", "  hiden_size: 5120"),
        line_of("hidden_size:"),
        "architecture.hiden_size",
        "unknown field (did you mean 'hidden_size'?)",
    ),
    (
        "models/kvheads.yaml",
        GOOD_MODEL.replace("id: internlm-20b", "id: kvheads").replace(
            "num_key_value_heads: 40", "num_key_value_heads: 7"
        ),
        line_of("num_key_value_heads:"),
        "architecture.num_key_value_heads",
        "must divide num_attention_heads (40), got 7",
    ),
    (
        "models/missing.yaml",
        GOOD_MODEL.replace("id: internlm-20b", "id: missing").replace("hf_repo: internlm/internlm-20b\n", ""),
        2,
        "hf_repo",
        "required field is missing",
    ),
    (
        "models/wrongtype.yaml",
        GOOD_MODEL.replace("id: internlm-20b", "id: wrongtype").replace(
            "  num_hidden_layers: 60", "  num_hidden_layers: sixty"
        ),
        line_of("num_hidden_layers:"),
        "architecture.num_hidden_layers",
        "valid integer",
    ),
    (
        "models/dupkey.yaml",
        GOOD_MODEL.replace("id: internlm-20b", "id: dupkey").replace(
            "context_window: 16384", "context_window: 16384\ncontext_window: 8192"
        ),
        line_of("context_window:") + 1,
        "context_window",
        f"duplicate key 'context_window' (first defined at line {line_of('context_window:')})",
    ),
    (
        "models/badfamily.yaml",
        GOOD_MODEL.replace("id: internlm-20b", "id: badfamily").replace("family: internlm", "family: nosuchfamily"),
        line_of("family:"),
        "family",
        "unknown family 'nosuchfamily'",
    ),
    (
        "models/stem.yaml",
        GOOD_MODEL.replace("id: internlm-20b", "id: other-id"),
        2,
        "id",
        "must equal the file name 'stem'",
    ),
    (
        "models/badprecision.yaml",
        GOOD_MODEL.replace("id: internlm-20b", "id: badprecision").replace(
            "native_precision: bf16", "native_precision: bf17"
        ),
        line_of("native_precision:"),
        "native_precision",
        "got 'bf17'",
    ),
    (
        "models/future.yaml",
        GOOD_MODEL.replace("id: internlm-20b", "id: future").replace(
            "release_date: 2023-09-20", "release_date: 2999-01-01"
        ),
        line_of("release_date:"),
        "release_date",
        "is in the future",
    ),
    (
        "models/badurl.yaml",
        GOOD_MODEL.replace("id: internlm-20b", "id: badurl").replace(
            "\n- url: https://huggingface.co/internlm/internlm-20b\n", "\n- url: huggingface.co/internlm\n"
        ),
        GOOD_MODEL.splitlines().index("- url: https://huggingface.co/internlm/internlm-20b") + 1,
        "sources.1.url",
        "must be an http(s) URL",
    ),
    (
        "models/longctx.yaml",
        GOOD_MODEL.replace("id: internlm-20b", "id: longctx")
        .replace("context_window: 16384", "context_window: 99999")
        .replace("  rope_scaling:\n    rope_type: dynamic\n", ""),
        line_of("context_window:"),
        "context_window",
        "exceeds max_position_embeddings (4096) without rope_scaling",
    ),
    ("models/empty.yaml", "", 1, "", "file is empty"),
    ("models/comments.yaml", "# only a comment\n", 1, "", "file is empty"),
    ("models/binary.yaml", b"\x00\x01\x02binary", 1, "", "binary"),
    ("models/latin1.yaml", "id: caf\xe9\n".encode("latin-1"), 1, "", "not valid UTF-8"),
    ("models/syntax.yaml", "id: x\nname: [unclosed\n", 3, "", "YAML syntax error"),
    ("models/list.yaml", "- a\n- b\n", 1, "", "must be a YAML mapping"),
    ("models/pyobj.yaml", "id: !!python/object/apply:os.system ['echo pwned']\n", 1, "id", "unsupported YAML"),
    (
        "models/bomb.yaml",
        "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n",
        2,  # the first alias, `*a` on line 2, not its anchor on line 1
        "b.0",
        "anchors and aliases are not allowed",
    ),
    (
        "models/scalaralias.yaml",
        model("scalaralias", "organization: Shanghai AI Laboratory", "organization: *n").replace(
            "name: InternLM 20B", "name: &n InternLM 20B"
        ),
        line_of("organization:"),
        "organization",
        "anchors and aliases are not allowed",
    ),
    (
        "models/baddate.yaml",
        model("baddate", "release_date: 2023-09-20", "release_date: 2023-13-45"),
        line_of("release_date:"),
        "release_date",
        "invalid value '2023-13-45': month must be in 1..12",
    ),
    ("models/deep.yaml", "a: " + "[" * 5000 + "]" * 5000 + "\n", 1, "", "nesting depth"),
    (
        "models/boolctx.yaml",
        model("boolctx", "context_window: 16384", "context_window: true"),
        line_of("context_window:"),
        "context_window",
        "valid integer",
    ),
    (
        "models/fractionctx.yaml",
        model("fractionctx", "context_window: 16384", "context_window: 16384.5"),
        line_of("context_window:"),
        "context_window",
        "valid integer",
    ),
    (
        "models/hugelayers.yaml",
        model("hugelayers", "  num_hidden_layers: 60", "  num_hidden_layers: 100000000000000000000"),
        line_of("num_hidden_layers:"),
        "architecture.num_hidden_layers",
        "must be a finite number no larger than 1e+15",
    ),
    (
        "models/controlchar.yaml",
        model("controlchar", "name: InternLM 20B", 'name: "InternLM\\e[31m 20B"'),
        line_of("name:"),
        "name",
        "control character U+001B",
    ),
    (
        "models/nodescription.yaml",
        model("nodescription", GOOD_MODEL.splitlines()[line_of("description:") - 1] + "\n", ""),
        2,
        "description",
        "required field is missing",
    ),
    (
        "models/noframeworks.yaml",
        model("noframeworks", "frameworks: [lmdeploy]", "frameworks: []"),
        line_of("frameworks:"),
        "frameworks",
        "at least 1 item",
    ),
    (
        "models/nolicense.yaml",
        re.sub(r"\nlicense:\n(  .*\n)+", "\n", model("nolicense", "", ""), count=1),
        2,
        "license",
        "required field is missing",
    ),
    (
        "gpus/infmemory.yaml",
        gpu("infmemory", "memory_gb: 80", "memory_gb: .inf"),
        line_of("memory_gb:", GOOD_GPU),
        "memory_gb",
        "finite number",
    ),
    (
        "gpus/boolmemory.yaml",
        gpu("boolmemory", "memory_gb: 80", "memory_gb: true"),  # YAML's true is no 1 GB
        line_of("memory_gb:", GOOD_GPU),
        "memory_gb",
        "valid number",
    ),
    (
        "gpus/nanbandwidth.yaml",
        gpu("nanbandwidth", "memory_bandwidth_gbps: 3350", "memory_bandwidth_gbps: .nan"),
        line_of("memory_bandwidth_gbps:", GOOD_GPU),
        "memory_bandwidth_gbps",
        "finite number",
    ),
    (
        "gpus/petabyte.yaml",
        gpu("petabyte", "memory_gb: 80", "memory_gb: 1000000"),  # 1 PB on one GPU
        line_of("memory_gb:", GOOD_GPU),
        "memory_gb",
        "less than or equal to 16384",
    ),
    (
        "gpus/fastmemory.yaml",
        gpu("fastmemory", "memory_bandwidth_gbps: 3350", "memory_bandwidth_gbps: 33500000"),
        line_of("memory_bandwidth_gbps:", GOOD_GPU),
        "memory_bandwidth_gbps",
        "less than or equal to 100000",
    ),
    (
        "gpus/dearprice.yaml",
        gpu("dearprice", "usd_per_gpu_hour: 3.99", "usd_per_gpu_hour: 3990000000.0"),
        line_of("usd_per_gpu_hour:", GOOD_GPU),
        "prices.0.usd_per_gpu_hour",
        "less than or equal to 1000",
    ),
    (
        "frameworks/quote.yaml",
        GOOD_FRAMEWORK.replace("id: vllm", "id: quote").replace(
            "command: vllm serve {model}", "command: vllm serve '{model}"
        ),
        line_of("command:", GOOD_FRAMEWORK),
        "launch.command",
        "not a valid shell command (No closing quotation)",
    ),
    ("models/huge.yaml", "description: " + "x" * 1_100_000 + "\n", 1, "", "limited to"),
    (
        "gpus/bundle.yaml",
        "id: bundle\nname: x\nshort_name: x\nvendor: nvidia\nsegment: datacenter\n"
        "architecture: Hopper\nbundle: {gpu: nosuch, count: 2}\nsources:\n  - url: https://example.com\n",
        7,
        "bundle.gpu",
        "unknown GPU 'nosuch'",
    ),
    ("families/nofront.md", "# no front matter\n", 1, "", "must start with '---'"),
]


def _problems(catalog: Path) -> Report:
    report = Report()
    validate_catalog(catalog, report)
    return report


@pytest.mark.parametrize(("name", "content", "line", "field", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_broken_file_gives_one_clear_line(
    catalog_copy: Path, name: str, content: str | bytes, line: int, field: str, fragment: str
) -> None:
    path = catalog_copy / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    mine = [p for p in _problems(catalog_copy).errors if p.path.endswith(name)]
    assert len(mine) == 1, [p.format() for p in mine]
    problem = mine[0]
    assert fragment in problem.message
    assert problem.field == field
    if line:
        assert problem.line == line, problem.format()
    text = problem.format()
    assert text.startswith(f"{problem.path}:{problem.line}:{problem.col}: ")


def test_check_reports_every_problem_at_once_and_exits_1(catalog_copy: Path) -> None:
    for name, content, *_ in CASES[:6]:
        (catalog_copy / name).write_text(str(content), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "site_builder", "check", "--catalog", str(catalog_copy)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = [ln for ln in result.stdout.splitlines() if ".yaml:" in ln]  # the report is check's output
    assert len(lines) == 6
    assert "6 errors" in result.stdout


def test_shipped_catalog_is_clean_under_strict() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "site_builder", "check", "--strict"],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 0, result.stderr


def test_warning_fails_only_under_strict(catalog_copy: Path) -> None:
    path = catalog_copy / "models" / "internlm-20b.yaml"
    path.write_text(path.read_text().replace("total: 20000000000", "total: 30000000000"))
    report = _problems(catalog_copy)
    assert not report.errors
    [warning] = report.warnings
    assert "stated 30,000,000,000 but the architecture gives 20,088,714,240" in warning.message
    assert report.fails(strict=True) and not report.fails(strict=False)


def test_unformatted_record_is_a_warning_that_strict_fails_on(catalog_copy: Path) -> None:
    path = catalog_copy / "models" / "internlm-20b.yaml"
    lines = path.read_text().splitlines()
    name = next(i for i, line in enumerate(lines) if line.startswith("name:"))
    lines.insert(name + 1, lines.pop(name))  # `name` after `hf_repo`: valid, but not canonical order
    path.write_text("\n".join(lines) + "\n")
    report = _problems(catalog_copy)
    assert not report.errors
    [warning] = report.warnings
    assert warning.format().endswith(
        "models/internlm-20b.yaml:1:1: warning: format: not in canonical key order and style (run `site-builder fmt`)"
    )
    assert report.fails(strict=True)


# --- files that are not records, and catalogs that are not catalogs ------------------------------------


def _lines(report: Report) -> list[str]:
    return [p.format() for p in report.sorted()]


def test_files_that_are_not_records_are_named(catalog_copy: Path, tmp_path: Path) -> None:
    (catalog_copy / "models" / "qwen3-8b.yaml").rename(catalog_copy / "models" / "qwen3-8b.yml")
    (catalog_copy / "gpus" / "notes.txt").write_text("todo")
    outside = tmp_path / "outside.yaml"
    outside.write_text((catalog_copy / "gpus" / "h100-sxm.yaml").read_text().replace("h100-sxm", "linked"))
    (catalog_copy / "gpus" / "linked.yaml").symlink_to(outside)
    errors = [p.format() for p in _problems(catalog_copy).errors if "qwen3-8b" in p.path or "gpus/" in p.path]
    assert any(
        e.endswith("models/qwen3-8b.yml:1:1: not a record: models/ holds only *.yaml files; rename it to qwen3-8b.yaml")
        for e in errors
    ), errors
    assert any(e.endswith("gpus/notes.txt:1:1: not a record: gpus/ holds only *.yaml files") for e in errors)
    assert any(
        e.endswith("gpus/linked.yaml:1:1: is a symbolic link to a file outside the catalog; copy the record in instead")
        for e in errors
    )


def test_a_models_file_instead_of_a_folder_is_one_error(catalog_copy: Path) -> None:
    shutil.rmtree(catalog_copy / "models")
    (catalog_copy / "models").write_text("")
    [error] = _problems(catalog_copy).errors  # not one "unknown model" per benchmark and price
    assert error.format().endswith("models:1:1: must be a folder of *.yaml records, but it is a file")


def test_an_empty_catalog_is_an_error(tmp_path: Path) -> None:
    assert sorted(e.message for e in _problems(tmp_path).errors) == [
        f"the catalog has no gpus records (is --catalog {tmp_path} right?)",
        f"the catalog has no models records (is --catalog {tmp_path} right?)",
    ]


def test_a_broken_record_is_reported_once_without_the_cascade(catalog_copy: Path) -> None:
    path = catalog_copy / "models" / "llama-3.1-8b.yaml"
    referencing = [
        p for p in catalog_copy.glob("*/*.yaml") if p != path and "llama-3.1-8b\n" in p.read_text().replace("'", "")
    ]
    assert len(referencing) >= 3  # benchmarks and provider prices name it
    path.write_text("id: llama-3.1-8b\nname: [\n")
    report = _problems(catalog_copy)
    assert not [p for p in report.problems if "unknown model 'llama-3.1-8b'" in p.message]
    [own] = [p for p in report.problems if p.path.endswith("llama-3.1-8b.yaml")]
    assert own.message.startswith("YAML syntax error")
    assert own.message.endswith("more problems in records that reference 'llama-3.1-8b')")


def test_bidi_controls_warn_and_control_characters_in_an_article_fail(catalog_copy: Path) -> None:
    model = catalog_copy / "models" / "internlm-20b.yaml"
    model.write_text(model.read_text().replace("name: InternLM 20B", 'name: "InternLM \\u202e02B"'))
    family = next(iter(sorted((catalog_copy / "families").glob("*.md"))))
    lines = family.read_text().splitlines()
    lines.append("A bell \x07 in the body.")
    family.write_text("\n".join(lines) + "\n")
    report = _problems(catalog_copy)
    [warning] = [p for p in report.warnings if p.path.endswith("internlm-20b.yaml") and p.field == "name"]
    assert "bidirectional control U+202E" in warning.message
    [error] = [p for p in report.errors if p.path.endswith(family.name)]
    assert (error.line, error.col, error.field) == (len(lines), 8, "body")
    assert "control character U+0007" in error.message


def test_windows_line_endings_in_an_article_are_no_control_characters(catalog_copy: Path) -> None:
    family = next(iter(sorted((catalog_copy / "families").glob("*.md"))))
    family.write_bytes(family.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
    assert not [p.format() for p in _problems(catalog_copy).errors if p.path.endswith(family.name)]
