"""Reference rules: each id a record names is a record of that kind; references to broken records are counted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rule_support import at, family_text, model_data, run, shipped, shipped_text, start

FRAMEWORK = {"frameworks/vllm.yaml": shipped_text("frameworks", "vllm")}
FAMILY = {"families/f.md": family_text("Cited. [^a]", ["a"])}
# The shipped B200 pair: a bundle of two B200s (b200.yaml).
B200 = {"gpus/b200.yaml": shipped_text("gpus", "b200")}
PAIR = shipped("gpus", "b200-pair")


def bundle(record_id: str, of: str) -> dict[str, Any]:
    return PAIR | {"id": record_id, "bundle": PAIR["bundle"] | {"gpu": of}}


def test_model_references_resolve(tmp_path: Path) -> None:
    rule = "model.references-resolve"
    assert run(rule, tmp_path / "good", {"models/m.yaml": model_data(), **FAMILY, **FRAMEWORK}) == []
    bad = model_data() | {"family": "g", "frameworks": ["vllm", "nosuch"]}
    lines = run(rule, tmp_path / "bad", {"models/m.yaml": bad, **FAMILY, **FRAMEWORK})
    path = tmp_path / "bad" / "models" / "m.yaml"
    assert lines == [
        f"{at(path, 'family: ')}: family: unknown family 'g' (no catalog/families/g.md)",
        f"{start(path, 'nosuch')}: frameworks.1: unknown framework 'nosuch'",
    ]


def test_bundle_resolves(tmp_path: Path) -> None:
    assert run("gpu.bundle-resolves", tmp_path / "good", {"gpus/b200-pair.yaml": PAIR} | B200) == []
    lines = run("gpu.bundle-resolves", tmp_path / "bad", {"gpus/b200-pair.yaml": bundle("b200-pair", "b300x")} | B200)
    path = tmp_path / "bad" / "gpus" / "b200-pair.yaml"
    assert lines == [f"{at(path, '  gpu: ')}: bundle.gpu: unknown GPU 'b300x'"]


def test_bundle_not_nested(tmp_path: Path) -> None:
    assert run("gpu.bundle-not-nested", tmp_path / "good", {"gpus/b200-pair.yaml": PAIR} | B200) == []
    files = {"gpus/b200-pair.yaml": PAIR, "gpus/quad.yaml": bundle("quad", "b200-pair")} | B200
    lines = run("gpu.bundle-not-nested", tmp_path / "bad", files)
    path = tmp_path / "bad" / "gpus" / "quad.yaml"
    assert lines == [f"{at(path, '  gpu: ')}: bundle.gpu: a bundle cannot contain another bundle"]


def provider(model: str) -> dict[str, Any]:
    data = shipped("providers", "deepinfra")
    return data | {"id": "p", "api_prices": [data["api_prices"][0] | {"model": model}]}


def test_provider_references_resolve(tmp_path: Path) -> None:
    rule = "provider.references-resolve"
    assert run(rule, tmp_path / "good", {"providers/p.yaml": provider("m"), "models/m.yaml": model_data()}) == []
    lines = run(rule, tmp_path / "bad", {"providers/p.yaml": provider("nosuch"), "models/m.yaml": model_data()})
    path = tmp_path / "bad" / "providers" / "p.yaml"
    assert lines == [f"{at(path, 'model: ')}: api_prices.0.model: unknown model 'nosuch'"]


def test_benchmark_references_resolve(tmp_path: Path) -> None:
    rule = "benchmark.references-resolve"
    measured = shipped("benchmarks", "azure-gb200-fp8-gemm") | {"id": "b", "gpu": "b200"}
    assert run(rule, tmp_path / "good", {"benchmarks/b.yaml": measured} | B200) == []
    lines = run(rule, tmp_path / "bad", {"benchmarks/b.yaml": measured | {"gpu": "b300x"}} | B200)
    path = tmp_path / "bad" / "benchmarks" / "b.yaml"
    assert lines == [f"{at(path, 'gpu: ')}: gpu: unknown gpu 'b300x'"]


def test_references_hidden(tmp_path: Path) -> None:
    rule = "record.references-hidden"
    models = {"models/m.yaml": model_data(), "models/m2.yaml": model_data() | {"id": "m2"}}
    assert run(rule, tmp_path / "good", models | FRAMEWORK) == []
    broken = {"frameworks/vllm.yaml": "id: vllm\nname: [unclosed\n"}
    lines = run(rule, tmp_path / "bad", models | broken, loads=False)
    # Two models name the framework that failed to load: one line about both, at the broken file.
    path = tmp_path / "bad" / "frameworks" / "vllm.yaml"
    assert lines == [f"{path}:1:1: warning: 2 more problems in records that reference 'vllm'"]
