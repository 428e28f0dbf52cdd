"""import-hf-config: each reference config.json becomes a valid record with the catalog's architecture."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from site_builder.fmt import format_text
from site_builder.hfimport import (
    SCHEMA_LINE,
    HfConfigError,
    ImportOptions,
    architecture_from_config,
    hf_repo_from_path,
    import_hf_config,
    import_hf_config_command,
    name_from_id,
)
from site_builder.problems import Report
from site_builder.records import Architecture, ModelRecord
from site_builder.validate import validate_catalog

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "catalog"


# Copied into the repository (tests/data/SOURCES.md), so these tests never skip.
CONFIG_DIR = Path(__file__).resolve().parents[1] / "data" / "reference" / "hf-configs"
CONFIG_FILES = sorted(CONFIG_DIR.glob("*.json"))


def test_reference_configs_are_in_the_repository() -> None:
    assert len(CONFIG_FILES) >= 20, f"{CONFIG_DIR} lost its config.json copies: the tests below would not run"


Capture = pytest.CaptureFixture[str]


def reference(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CONFIG_DIR / name).read_text())
    return data


def imported(config: dict[str, Any], hf_repo: str = "org/model", model_id: str = "m") -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(import_hf_config(config, model_id, None, hf_repo))
    return data


@functools.cache
def catalog_models_by_repo() -> dict[str, ModelRecord]:
    """Catalog models keyed by lower-cased hf_repo (the Hub treats repo ids case-insensitively)."""
    found: dict[str, ModelRecord] = {}
    for path in sorted((CATALOG / "models").glob("*.yaml")):
        record = ModelRecord.model_validate(yaml.safe_load(path.read_text()))
        found[record.hf_repo.lower()] = record
    return found


# --- every reference config -----------------------------------------------------------------------


@pytest.mark.parametrize("path", CONFIG_FILES, ids=lambda p: p.stem)
def test_reference_config_imports_to_the_catalog_architecture(path: Path) -> None:
    repo = hf_repo_from_path(path)
    assert repo is not None, f"{path.name} does not follow the org--name.json convention"
    text = import_hf_config(json.loads(path.read_text()), "imported", None, repo)
    assert text.splitlines()[0] == SCHEMA_LINE
    ours = Architecture.model_validate(yaml.safe_load(text)["architecture"])
    catalog = catalog_models_by_repo().get(repo.lower())
    if catalog is None:
        pytest.fail(f"no catalog/models/*.yaml has hf_repo {repo}: add the model or fix its hf_repo")
    theirs = catalog.architecture
    mismatches = [
        f"{name}: imported {getattr(ours, name)!r}, catalog {getattr(theirs, name)!r}"
        for name in Architecture.model_fields
        if getattr(ours, name) != getattr(theirs, name)
    ]
    assert not mismatches, f"{catalog.id} ({repo}) differs from its config.json:\n" + "\n".join(mismatches)


@pytest.mark.parametrize("path", CONFIG_FILES, ids=lambda p: p.stem)
def test_reference_config_output_is_already_formatted(path: Path) -> None:
    text = import_hf_config(json.loads(path.read_text()), "imported", None, hf_repo_from_path(path))
    assert format_text(text, "models") == text


# --- specific configs, checked against values read from the files by hand ------------------------


def test_deepseek_v3_mla_moe_and_fp8() -> None:
    record = imported(reference("deepseek-ai--DeepSeek-V3.json"), "deepseek-ai/DeepSeek-V3")
    arch = record["architecture"]
    assert record["native_precision"] == "fp8"  # quantization_config wins over torch_dtype bfloat16
    assert record["precisions"] == ["fp8"]
    assert arch["n_routed_experts"] == 256 and "num_local_experts" not in arch and "num_experts" not in arch
    assert arch["n_shared_experts"] == 1
    assert (arch["first_k_dense_replace"], arch["moe_intermediate_size"]) == (3, 2048)
    assert (arch["q_lora_rank"], arch["kv_lora_rank"], arch["qk_rope_head_dim"]) == (1536, 512, 64)
    assert arch["expert_score_bias"] is True
    assert arch["num_nextn_predict_layers"] == 1
    assert arch["rope_scaling"] == {
        "rope_type": "yarn",
        "factor": 40.0,
        "original_max_position_embeddings": 4096,
        "beta_fast": 32.0,
        "beta_slow": 1.0,
        "mscale": 1.0,
        "mscale_all_dim": 1.0,
    }
    assert record["family"] == "deepseek" and record["organization"] == "DeepSeek"


def test_deepseek_v2_lite_omits_null_q_lora_rank_and_has_no_score_bias() -> None:
    arch = imported(reference("deepseek-ai--DeepSeek-V2-Lite.json"))["architecture"]
    assert "q_lora_rank" not in arch
    assert "expert_score_bias" not in arch  # topk_method greedy: no correction bias, so the flag stays false
    assert arch["rope_scaling"]["mscale"] == 0.707


def test_gpt_oss_flags_layer_types_and_mxfp4() -> None:
    record = imported(reference("openai--gpt-oss-20b.json"), "openai/gpt-oss-20b")
    arch = record["architecture"]
    assert record["native_precision"] == "mxfp4"
    for flag in ("attention_sinks", "router_bias", "mlp_bias", "attention_bias"):
        assert arch[flag] is True, flag
    assert arch["num_local_experts"] == 32 and arch["num_experts_per_tok"] == 4
    assert arch["sliding_window"] == 128
    assert arch["layer_types"] == ["sliding_attention", "full_attention"] * 12
    assert record["family"] == "gpt-oss"


def test_qwen2_has_qkv_bias_and_an_unused_window_is_dropped() -> None:
    arch = imported(reference("Qwen--Qwen2.5-7B.json"))["architecture"]
    assert arch["qkv_bias"] is True
    assert "sliding_window" not in arch and "layer_types" not in arch  # use_sliding_window: false
    assert "attention_bias" not in arch


def test_qwen3_has_qk_norm_and_qwen3_moe_keeps_num_experts() -> None:
    assert imported(reference("Qwen--Qwen3-8B.json"))["architecture"]["qk_norm"] is True
    moe = imported(reference("Qwen--Qwen3-30B-A3B.json"))["architecture"]
    assert (moe["num_experts"], moe["num_experts_per_tok"], moe["moe_intermediate_size"]) == (128, 8, 768)
    assert moe["decoder_sparse_step"] == 1 and "qkv_bias" not in moe


def test_internlm_rotary_block_becomes_dynamic_rope_scaling() -> None:
    arch = imported(reference("internlm--internlm-20b.json"))["architecture"]
    assert arch["rope_scaling"] == {"rope_type": "dynamic"}
    assert "attention_bias" not in arch  # `bias: false`


def test_internlm2_5_legacy_type_key_and_factor() -> None:
    arch = imported(reference("internlm--internlm2_5-7b-chat.json"))["architecture"]
    assert arch["rope_scaling"] == {"rope_type": "dynamic", "factor": 2.0}


def test_mistral_window_kept_and_mixtral_null_window_omitted() -> None:
    mistral = imported(reference("mistralai--Mistral-7B-v0.1.json"))["architecture"]
    assert mistral["sliding_window"] == 4096 and "layer_types" not in mistral
    mixtral = imported(reference("mistralai--Mixtral-8x7B-v0.1.json"))["architecture"]
    assert "sliding_window" not in mixtral
    assert (mixtral["num_local_experts"], mixtral["num_experts_per_tok"]) == (8, 2)


def test_llama_2_repo_from_name_or_path_and_fp16() -> None:
    config = reference("meta-llama--Llama-2-70b-hf.json")
    record = yaml.safe_load(import_hf_config(config, "llama-2-70b", None, None))
    assert record["hf_repo"] == "meta-llama/Llama-2-70b-hf"
    assert record["native_precision"] == "fp16"
    assert record["organization"] == "Meta" and record["family"] == "llama"
    assert record["context_window"] == 4096


def test_defaults_of_the_rest_of_the_record() -> None:
    record = imported(reference("Qwen--Qwen2.5-7B.json"), "Qwen/Qwen2.5-7B", "qwen2.5-7b-instruct")
    assert record["name"] == "Qwen2.5 7B Instruct"
    assert record["context_window"] == 131072
    assert record["precisions"] == ["bf16"] and record["native_precision"] == "bf16"
    assert record["family"] == "qwen" and record["organization"] == "Alibaba Cloud (Qwen team)"
    assert record["sources"] == [
        {
            "url": "https://huggingface.co/Qwen/Qwen2.5-7B/blob/main/config.json",
            "title": "Qwen/Qwen2.5-7B config.json",
            "supports": ["architecture", "native_precision"],
        }
    ]
    assert record["description"] is None
    # required: check names them until a value (or null, unknown) is written
    assert "release_date" not in record and "license" not in record


def test_fields_the_config_cannot_know_carry_a_comment() -> None:
    text = import_hf_config(reference("Qwen--Qwen2.5-7B.json"), "q", None, "Qwen/Qwen2.5-7B")
    lines = {ln.split(":", 1)[0]: ln for ln in text.splitlines() if not ln.startswith(("#", " ", "-"))}
    for key in (
        "name",
        "organization",
        "family",
        "context_window",
        "description",
        "capabilities",
        "frameworks",
        "precisions",
    ):
        assert "  # " in lines[key], f"{key} has no guidance comment: {lines[key]!r}"
    assert "\n# release_date: YYYY-MM-DD  # " in text
    assert "\n# license: {id: SPDX id, name: ..., url: ..., commercial_use: ...}  # " in text


# --- synthetic configs for the model types the reference folder lacks ----------------------------

BASE = {
    "model_type": "llama",
    "hidden_size": 64,
    "num_hidden_layers": 4,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "intermediate_size": 128,
    "vocab_size": 1000,
    "max_position_embeddings": 2048,
    "torch_dtype": "bfloat16",
}


def test_llama4_moe_mapping() -> None:
    text_config = {
        **BASE,
        "model_type": "llama4_text",
        "intermediate_size": 8192,
        "intermediate_size_mlp": 16384,
        "interleave_moe_layer_step": 1,
        "num_local_experts": 16,
        "num_experts_per_tok": 1,
    }
    arch = architecture_from_config({"model_type": "llama4", "text_config": text_config})
    assert arch.moe_intermediate_size == 8192
    assert arch.intermediate_size == 16384
    assert arch.decoder_sparse_step == 1
    assert arch.n_shared_experts == 1
    assert arch.num_local_experts == 16


def test_multimodal_uses_the_language_config() -> None:
    config = {
        "model_type": "internvl_chat",
        "torch_dtype": "bfloat16",
        "_name_or_path": "OpenGVLab/InternVL2-26B",
        "llm_config": {
            **BASE,
            "model_type": "internlm2",
            "hidden_size": 6144,
            "_name_or_path": "internlm/internlm2-chat-20b",
        },
    }
    record = yaml.safe_load(import_hf_config(config, "internvl2-26b", None, None))
    assert record["architecture"]["model_type"] == "internlm2"
    assert record["architecture"]["hidden_size"] == 6144
    assert record["hf_repo"] == "OpenGVLab/InternVL2-26B"  # the outer model, not its language model


def test_gemma_layer_patterns_are_spelled_out() -> None:
    gemma2 = architecture_from_config({**BASE, "model_type": "gemma2", "sliding_window": 4096})
    assert gemma2.layer_types == ["sliding_attention", "full_attention"] * 2
    assert gemma2.tie_word_embeddings is True  # absent key, and Gemma ties by default
    gemma3 = architecture_from_config(
        {
            **BASE,
            "model_type": "gemma3_text",
            "num_hidden_layers": 12,
            "sliding_window": 1024,
            "sliding_window_pattern": 6,
        }
    )
    assert gemma3.layer_types == (["sliding_attention"] * 5 + ["full_attention"]) * 2
    assert gemma3.qk_norm is True


def test_plain_mlp_layernorm_and_internlm_bias() -> None:
    neox = architecture_from_config({**BASE, "model_type": "gpt_neox", "hidden_act": "gelu"})
    assert (neox.gated_mlp, neox.norm_type, neox.norm_bias) == (False, "layernorm", True)
    internlm = architecture_from_config({**BASE, "model_type": "internlm", "bias": True})
    assert internlm.attention_bias is True
    assert architecture_from_config({**BASE, "use_qk_norm": True}).qk_norm is True
    assert architecture_from_config(BASE).tie_word_embeddings is False


def test_dbrx_nested_config() -> None:
    config = {
        "model_type": "dbrx",
        "d_model": 6144,
        "n_layers": 40,
        "n_heads": 48,
        "vocab_size": 100352,
        "max_seq_len": 32768,
        "attn_config": {"kv_n_heads": 8},
        "ffn_config": {"ffn_hidden_size": 10752, "moe_num_experts": 16, "moe_top_k": 4},
    }
    arch = architecture_from_config(config)
    assert (arch.hidden_size, arch.num_hidden_layers, arch.num_key_value_heads) == (6144, 40, 8)
    assert (arch.num_local_experts, arch.num_experts_per_tok, arch.moe_intermediate_size) == (16, 4, 10752)
    assert (arch.norm_type, arch.norm_bias) == ("layernorm", False)


@pytest.mark.parametrize(
    ("model_type", "family"),
    [
        ("llama", "llama"),
        ("mistral", "mistral"),
        ("mixtral", "mistral"),
        ("qwen2", "qwen"),
        ("qwen3_moe", "qwen"),
        ("deepseek_v2", "deepseek"),
        ("gpt_oss", "gpt-oss"),
        ("internlm3", "internlm"),
        ("gemma2", "gemma"),
        ("phi3", "phi"),
        ("dbrx", "dbrx"),
        ("cohere", "command-r"),
    ],
)
def test_family_defaults_to_an_existing_family(model_type: str, family: str) -> None:
    record = imported({**BASE, "model_type": model_type})
    assert record["family"] == family
    assert (CATALOG / "families" / f"{family}.md").is_file()


def test_quantized_and_dtype_precisions() -> None:
    assert imported({**BASE, "torch_dtype": "float32"})["native_precision"] == "fp32"
    awq = {**BASE, "torch_dtype": "float16", "quantization_config": {"quant_method": "awq", "bits": 4}}
    assert imported(awq)["native_precision"] == "awq-int4"
    unstated = {k: v for k, v in BASE.items() if k != "torch_dtype"}
    text = import_hf_config(unstated, "m", None, "org/m")
    assert "native_precision: bf16  # config.json does not say" in text


def test_name_from_id() -> None:
    assert name_from_id("mixtral-8x7b") == "Mixtral 8x7B"
    assert name_from_id("qwen3-30b-a3b") == "Qwen3 30B A3B"
    assert name_from_id("llama-3.1-8b") == "Llama 3.1 8B"


def test_output_passes_check_in_the_catalog_except_the_facts_a_config_cannot_give(catalog_copy: Path) -> None:
    config = reference("Qwen--Qwen2.5-7B.json")
    text = import_hf_config(config, "qwen2.5-7b-imported", None, "Qwen/Qwen2.5-7B")
    target = catalog_copy / "models" / "qwen2.5-7b-imported.yaml"
    target.write_text(text)
    report = Report()
    validate_catalog(catalog_copy, report)
    mine = {p.field for p in report.problems if p.path.endswith(target.name)}
    assert mine == {"release_date", "license", "description", "frameworks"}


# --- errors -----------------------------------------------------------------------------------------


def test_errors_from_the_function() -> None:
    with pytest.raises(HfConfigError, match="hidden_size, vocab_size"):
        incomplete = {k: v for k, v in BASE.items() if k not in {"hidden_size", "vocab_size"}}
        import_hf_config(incomplete, "m", None, "o/m")
    with pytest.raises(HfConfigError, match="pass --hf-repo"):
        import_hf_config(BASE, "m", None, None)
    with pytest.raises(HfConfigError, match="lowercase slug"):
        import_hf_config(BASE, "Not A Slug", None, "o/m")
    with pytest.raises(HfConfigError, match="ORG/NAME"):
        import_hf_config(BASE, "m", None, "just-a-name")
    with pytest.raises(HfConfigError, match="num_hidden_layers"):
        import_hf_config({**BASE, "num_hidden_layers": 0}, "m", None, "o/m")
    with pytest.raises(HfConfigError, match="unexpected type"):
        import_hf_config(
            {**BASE, "num_hidden_layers": "four", "sliding_window": 8, "sliding_window_pattern": 2}, "m", None, "o/m"
        )
    with pytest.raises(HfConfigError, match="unexpected type"):
        import_hf_config({**BASE, "model_type": "dbrx", "ffn_config": [1]}, "m", None, "o/m")


def run(config: str, *, hf_repo: str | None = "org/model", output: str | None = None) -> ImportOptions:
    return ImportOptions(Path(config), "test-model", None, hf_repo, Path(output) if output else None)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        (json.dumps({"model_type": "llama"}), "lacks required architecture fields: hidden_size"),
    ],
)
def test_command_errors_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, message: str
) -> None:
    path = tmp_path / "config.json"
    if content is not None:
        path.write_text(content)
    assert import_hf_config_command(run(str(path))) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("site-builder import-hf-config: error: ") and message in err
    assert "Traceback" not in err


def test_command_takes_the_repo_from_the_file_name(tmp_path: Path, capsys: Capture) -> None:
    path = tmp_path / "myorg--My-Model.json"
    path.write_text(json.dumps(BASE))
    assert import_hf_config_command(run(str(path), hf_repo=None)) == 0
    assert "hf_repo: myorg/My-Model\n" in capsys.readouterr().out


def test_command_without_a_derivable_repo_asks_for_one(tmp_path: Path, capsys: Capture) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(BASE))
    assert import_hf_config_command(run(str(path), hf_repo=None)) == 1
    assert "--hf-repo" in capsys.readouterr().err


def test_command_writes_the_output_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(BASE))
    out_file = tmp_path / "m.yaml"
    assert import_hf_config_command(run(str(path), output=str(out_file))) == 0
    assert capsys.readouterr().out == ""
    assert out_file.read_text() == import_hf_config(dict(BASE), "test-model", None, "org/model")


def test_command_line_entry_point(tmp_path: Path) -> None:
    """The real CLI dispatches here and prints the record (subprocess-free: main() with argv)."""
    from site_builder.cli import main

    path = tmp_path / "config.json"
    path.write_text(json.dumps(BASE))
    target = tmp_path / "out.yaml"
    repo = ["--hf-repo", "o/m"]
    assert main(["import-hf-config", str(path), "--id", "cli-model", *repo, "-o", str(target)]) == 0
    assert yaml.safe_load(target.read_text())["id"] == "cli-model"
    assert main(["import-hf-config", str(tmp_path / "missing" / "c.json"), "--id", "x", *repo]) == 1


def test_an_unknown_model_type_is_refused_by_name() -> None:
    """A decoder the importer was never taught (e.g. StepFun's step3p7) must not be counted as if it were Llama."""
    cfg = reference("Qwen--Qwen2.5-7B.json") | {"model_type": "step3p7"}
    with pytest.raises(HfConfigError, match="model_type 'step3p7' is not one the importer has been taught"):
        architecture_from_config(cfg)
