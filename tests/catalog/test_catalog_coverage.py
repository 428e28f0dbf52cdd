"""The shipped catalog covers the reference data: every reference GPU id and every reference config."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _ids(kind: str) -> set[str]:
    return {p.stem for p in (ROOT / "catalog" / kind).glob("*.yaml")}


def test_every_reference_gpu_is_in_the_catalog_with_the_same_id(reference: Path) -> None:
    data = yaml.safe_load((reference / "gpus.yaml").read_text())
    wanted = {g["id"] for g in data["gpus"]}
    assert len(wanted) >= 46
    assert wanted <= _ids("gpus"), sorted(wanted - _ids("gpus"))


def test_seed_models_and_required_models_are_present() -> None:
    required = {
        "internlm-20b",
        "internvl2-26b",
        "llama-2-7b",
        "llama-2-13b",
        "llama-2-70b",
        "llama-3-8b",
        "llama-3-70b",
        "llama-3.3-70b",
        "llama-3.2-1b",
        "llama-4-maverick",
        "llama-4-scout",
        "qwen2.5-72b",
        "gemma-2-9b",
        "gemma-2-27b",
        "gemma-3-27b",
        "phi-3-mini",
        "phi-3-medium",
        "phi-4",
        "deepseek-r1",
        "deepseek-r1-distill-qwen-14b",
        "deepseek-r1-distill-qwen-32b",
        "dbrx",
        "command-r",
        "internlm2-1.8b",
        "internlm2-7b",
        "internlm2.5-20b",
    }
    models = _ids("models")
    assert required <= models, sorted(required - models)
    assert len(models) >= 45


def test_bundles_cpu_profiles_and_unified_memory() -> None:
    gpus = {p.stem: yaml.safe_load(p.read_text()) for p in (ROOT / "catalog" / "gpus").glob("*.yaml")}
    assert {"b200-pair", "h100-nvl-pair"} <= {g for g, d in gpus.items() if d.get("bundle")}
    assert len([g for g in gpus.values() if g["segment"] == "cpu"]) >= 3
    apple = [g for g in gpus.values() if g["segment"] == "apple-silicon"]
    assert apple and all(0 < g["usable_memory_fraction"] < 1 for g in apple)


def test_every_measured_reference_result_is_a_benchmark_record(reference: Path) -> None:
    data = yaml.safe_load((reference / "measured.yaml").read_text())
    wanted = {e["id"].lower() for e in data["entries"]}
    assert wanted <= _ids("benchmarks"), sorted(wanted - _ids("benchmarks"))


def test_every_family_of_a_model_has_an_article() -> None:
    families = {p.stem for p in (ROOT / "catalog" / "families").glob("*.md")}
    used = {yaml.safe_load(p.read_text())["family"] for p in (ROOT / "catalog" / "models").glob("*.yaml")}
    assert used <= families
