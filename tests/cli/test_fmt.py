"""site-builder fmt: canonical key order and layout, comments kept, idempotent, --check reports."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from site_builder.fmt import FmtOptions, field_order, fmt_command, format_text
from site_builder.records import GpuRecord, ModelRecord

ROOT = Path(__file__).resolve().parents[2]
GPU_SCHEMA = "# yaml-language-server: $schema=../schema/gpu.schema.json"
LONG = " that is well over one hundred and ten characters wide" * 2

CANONICAL_GPU = f"""{GPU_SCHEMA}
id: test-gpu
name: Test GPU 48GB  # the vendor's name
short_name: Test GPU
vendor: nvidia
segment: workstation
architecture: Ada Lovelace
memory_gb: 48
memory_bandwidth_gbps: 960
compute:
  bf16: 181
  fp8: 362
prices:
- provider: Example Cloud
  usd_per_gpu_hour: 0.99
  as_of: '2025-01-01'
  source: https://example.com/pricing
notes: A long note{LONG}, to show that fmt never re-wraps strings.
sources:
- url: https://example.com/datasheet
  title: Datasheet
  supports: [memory_gb, memory_bandwidth_gbps, compute]
"""

# The same record: keys shuffled at every level, 4-space indentation, sequences indented, no schema line.
SHUFFLED_GPU = f"""sources:
    - supports: [memory_gb, memory_bandwidth_gbps, compute]
      title: Datasheet
      url: https://example.com/datasheet
vendor: nvidia
notes: A long note{LONG}, to show that fmt never re-wraps strings.
name: Test GPU 48GB  # the vendor's name
id: test-gpu
compute:
    fp8: 362
    bf16: 181
short_name: Test GPU
segment: workstation
prices:
    - source: https://example.com/pricing
      as_of: '2025-01-01'
      provider: Example Cloud
      usd_per_gpu_hour: 0.99
architecture: Ada Lovelace
memory_bandwidth_gbps: 960
memory_gb: 48
"""


def test_field_order_puts_own_fields_first_and_sources_last() -> None:
    order = field_order(ModelRecord)
    assert order[:3] == ["id", "name", "hf_repo"]
    assert order[-1] == "sources"
    assert order.index("architecture") < order.index("scores")
    assert field_order(GpuRecord)[-2:] == ["resolved_conflicts", "sources"]


def test_shuffled_record_becomes_canonical() -> None:
    assert format_text(SHUFFLED_GPU, "gpus") == CANONICAL_GPU


def test_canonical_record_is_unchanged_and_formatting_is_idempotent() -> None:
    assert format_text(CANONICAL_GPU, "gpus") == CANONICAL_GPU
    once = format_text(SHUFFLED_GPU, "gpus")
    assert format_text(once, "gpus") == once


def test_content_is_unchanged() -> None:
    assert yaml.safe_load(format_text(SHUFFLED_GPU, "gpus")) == yaml.safe_load(SHUFFLED_GPU)


def test_wrong_schema_line_is_replaced() -> None:
    wrong = CANONICAL_GPU.replace("gpu.schema.json", "model.schema.json")
    assert format_text(wrong, "gpus") == CANONICAL_GPU


def test_unknown_keys_go_last_in_their_order() -> None:
    text = CANONICAL_GPU.replace("vendor: nvidia\n", "zeta: 1\nvendor: nvidia\nalpha: 2\n")
    lines = format_text(text, "gpus").splitlines()
    assert lines[-2:] == ["zeta: 1", "alpha: 2"]


def test_a_comment_line_stays_above_its_key() -> None:
    text = f"""{GPU_SCHEMA}
name: X  # eol stays
id: x
# about the vendor
vendor: nvidia
# about the sources
sources:
- url: https://example.com
"""
    assert (
        format_text(text, "gpus")
        == f"""{GPU_SCHEMA}
id: x
name: X  # eol stays
# about the vendor
vendor: nvidia
# about the sources
sources:
- url: https://example.com
"""
    )


def test_comment_above_a_key_moved_to_the_top_stays_with_it() -> None:
    text = f"{GPU_SCHEMA}\nname: X\n# the id\nid: x\n"
    assert format_text(text, "gpus") == f"{GPU_SCHEMA}\n# the id\nid: x\nname: X\n"


MODEL_KEYS = field_order(ModelRecord)


@settings(max_examples=30, deadline=None)
@given(st.permutations(["id", "name", "hf_repo", "family", "context_window", "precisions", "sources"]))
def test_any_key_order_formats_to_the_same_text(order: list[str]) -> None:
    values = {
        "id": "m",
        "name": "M",
        "hf_repo": "o/m",
        "family": "llama",
        "context_window": 4096,
        "precisions": "[bf16]",
        "sources": "\n- url: https://example.com\n  supports: [architecture]",
    }
    text = "".join(f"{key}: {values[key]}\n" for key in order)
    formatted = format_text(text, "models")
    keys = [line.split(":")[0] for line in formatted.splitlines()[1:] if line and line[0].isalpha()]
    assert keys == sorted(keys, key=MODEL_KEYS.index)
    canonical = "".join(f"{k}: {values[k]}\n" for k in sorted(order, key=MODEL_KEYS.index))
    assert formatted == format_text(canonical, "models")


# --- the command on temporary catalogs ---------------------------------------------------------------


def args(catalog: Path, *paths: Path, check: bool = False) -> FmtOptions:
    return FmtOptions(catalog, paths, check)


@pytest.fixture
def small_catalog(tmp_path: Path) -> Path:
    catalog = tmp_path / "catalog"
    (catalog / "gpus").mkdir(parents=True)
    (catalog / "families").mkdir()
    (catalog / "gpus" / "good.yaml").write_text(CANONICAL_GPU)
    (catalog / "gpus" / "shuffled.yaml").write_text(SHUFFLED_GPU)
    (catalog / "families" / "fam.md").write_text("---\ntitle: x\nid: fam\n---\nBody\n")
    return catalog


Capture = pytest.CaptureFixture[str]


def test_check_reports_only_unformatted_files(small_catalog: Path, capsys: Capture) -> None:
    assert fmt_command(args(small_catalog, check=True)) == 1
    err = capsys.readouterr().err.splitlines()
    shuffled = small_catalog / "gpus" / "shuffled.yaml"
    assert err[0] == f"{shuffled}:1:1: format: not in canonical order/style (run site-builder fmt)"
    assert err[1] == "1 file would be reformatted, 1 unchanged"
    assert shuffled.read_text() == SHUFFLED_GPU  # --check never writes


def test_rewrite_then_check_passes(small_catalog: Path, capsys: Capture) -> None:
    assert fmt_command(args(small_catalog)) == 0
    assert (small_catalog / "gpus" / "shuffled.yaml").read_text() == CANONICAL_GPU
    assert (small_catalog / "families" / "fam.md").read_text() == "---\ntitle: x\nid: fam\n---\nBody\n"
    capsys.readouterr()
    assert fmt_command(args(small_catalog, check=True)) == 0
    assert capsys.readouterr().err == "0 files would be reformatted, 2 unchanged\n"


def test_explicit_paths_and_non_records(small_catalog: Path, capsys: Capture) -> None:
    family = small_catalog / "families" / "fam.md"
    good = small_catalog / "gpus" / "good.yaml"
    assert fmt_command(args(small_catalog, good, check=True)) == 0
    assert fmt_command(args(small_catalog, family, check=True)) == 1
    assert f"{family}:1:1: format: not a YAML record" in capsys.readouterr().err


def test_broken_yaml_is_reported_with_its_line(small_catalog: Path, capsys: Capture) -> None:
    broken = small_catalog / "gpus" / "broken.yaml"
    broken.write_text("id: broken\nname: [unclosed\nvendor: nvidia\n")
    assert fmt_command(args(small_catalog, broken)) == 1
    err = capsys.readouterr().err
    assert f"{broken}:3:" in err and "YAML syntax error" in err
    assert broken.read_text() == "id: broken\nname: [unclosed\nvendor: nvidia\n"


def test_the_whole_catalog_keeps_its_content(tmp_path: Path) -> None:
    """Formatting every shipped record changes layout only, and a second pass changes nothing."""
    catalog = tmp_path / "catalog"
    shutil.copytree(ROOT / "catalog", catalog, ignore=shutil.ignore_patterns("schema", "families"))
    before = {p: yaml.safe_load(p.read_text()) for p in catalog.glob("*/*.yaml")}
    assert before, "the catalog has no YAML records"
    fmt_command(args(catalog))
    assert {p: yaml.safe_load(p.read_text()) for p in before} == before
    assert fmt_command(args(catalog, check=True)) == 0
