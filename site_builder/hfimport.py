"""Turn a Hugging Face `config.json` into a model record that a contributor finishes by hand.

The architecture block is derived entirely from the config (plus a few facts that configs leave
implicit, such as which model types use a plain MLP). Everything a config cannot know (release date,
license, capabilities...) gets a valid placeholder and a comment telling the contributor what to put
there, so the file passes `site-builder check` as soon as it is saved and the comments guide the rest.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from site_builder import hfimport_attention
from site_builder.hfimport_hybrid import UnsupportedArchitecture, linear_attention_block
from site_builder.records import Architecture, ModelRecord
from site_builder.records.common import SLUG_RE
from site_builder.records.model import RopeScaling
from site_builder.visiontowers import UncountedVisionTower, vision_tower

SCHEMA_LINE = "# yaml-language-server: $schema=../schema/model.schema.json"
HF_REPO_RE = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
# The reference folder and the Hugging Face cache both name files after the repo: `org--name`.
REPO_IN_FILENAME_RE = re.compile(r"^(?:models--)?([A-Za-z0-9_.-]+?)--([A-Za-z0-9_.-]+)$")

Config = Mapping[str, Any]

REQUIRED = (
    "model_type",
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "intermediate_size",
    "vocab_size",
    "max_position_embeddings",
)
# Other spellings of the same quantity in configs that predate the Llama naming (DBRX, GPT-2, Falcon...).
ALIASES: dict[str, tuple[str, ...]] = {
    "hidden_size": ("d_model", "n_embd"),
    "num_hidden_layers": ("n_layers", "n_layer", "num_layers"),
    "num_attention_heads": ("n_heads", "n_head"),
    "num_key_value_heads": ("attn_config.kv_n_heads", "num_kv_heads", "multi_query_group_num"),
    # A config with experts in every layer (Qwen3.5 MoE) may name no dense width at all.
    "intermediate_size": ("ffn_config.ffn_hidden_size", "ffn_hidden_size", "n_inner", "moe_intermediate_size"),
    "max_position_embeddings": ("max_seq_len", "n_positions", "seq_length", "model_max_length"),
    "hidden_act": ("hidden_activation", "activation_function"),
}

FAMILY_BY_MODEL_TYPE = {
    "llama": "llama",
    "llama4": "llama",
    "llama4_text": "llama",
    "mistral": "mistral",
    "mixtral": "mistral",
    "qwen2": "qwen",
    "qwen2_moe": "qwen",
    "qwen2_5_vl": "qwen",
    "qwen3": "qwen",
    "qwen3_moe": "qwen",
    "qwen3_vl_text": "qwen",
    "qwen3_vl_moe_text": "qwen",
    "deepseek_v2": "deepseek",
    "deepseek_v3": "deepseek",
    "deepseek_v32": "deepseek",
    "deepseek_v4": "deepseek",
    "glm4_moe": "glm",
    "glm4_moe_lite": "glm",
    "glm4v_moe": "glm",
    "glm4v_moe_text": "glm",
    "glm_moe_dsa": "glm",
    "gpt_oss": "gpt-oss",
    "internlm": "internlm",
    "internlm2": "internlm",
    "internlm3": "internlm",
    "phi3": "phi",
    "dbrx": "dbrx",
    "cohere": "command-r",
    "hunyuan": "hunyuan",
    "hunyuan_v1_moe": "hunyuan",
    "hunyuan_v1_dense": "hunyuan",
    "ernie4_5": "ernie",
    "olmo2": "olmo",
    "smollm3": "smollm",
    "qwen3_next": "qwen",
    "qwen3_5_moe": "qwen",
    "qwen3_5_moe_text": "qwen",
    "qwen3_5": "qwen",
    "qwen3_5_text": "qwen",
    "kimi_linear": "kimi",
    "kimi_k2": "kimi",
    "minimax_m2": "minimax",
    "minimax_text_01": "minimax",
    "minimax_m1": "minimax",
    "nemotron_h": "nemotron",
    "granitemoehybrid": "granite",
    "falcon_h1": "falcon",
    "gemma": "gemma",
    "gemma2": "gemma",
    "gemma3": "gemma",
    "gemma3_text": "gemma",
    "gemma4": "gemma",
    "gemma4_text": "gemma",
    "mimo_v2": "mimo",
    "deepseek_vl_v2": "deepseek",
    "laguna": "laguna",
}
# Ministral 3's decoder is Mistral's with position-dependent attention scaling, which adds no weights.
FAMILY_BY_MODEL_TYPE["ministral3"] = "mistral"
ORGANIZATION_BY_HF_ORG = {
    "meta-llama": "Meta",
    "qwen": "Alibaba Cloud (Qwen team)",
    "mistralai": "Mistral AI",
    "deepseek-ai": "DeepSeek",
    "openai": "OpenAI",
    "internlm": "Shanghai AI Laboratory",
    "google": "Google DeepMind",
    "microsoft": "Microsoft",
    "cohereforai": "Cohere",
    "coherelabs": "Cohere",
    "databricks": "Databricks",
    "opengvlab": "OpenGVLab / Shanghai AI Laboratory",
    "tencent": "Tencent (Hunyuan team)",
    "baidu": "Baidu",
    "allenai": "Allen Institute for AI (Ai2)",
    "huggingfacetb": "Hugging Face",
    "moonshotai": "Moonshot AI",
    "minimaxai": "MiniMax",
    "nvidia": "NVIDIA",
    "ibm-granite": "IBM",
    "tiiuae": "Technology Innovation Institute",
    "zai-org": "Z.ai",
    "xiaomimimo": "Xiaomi",
    "poolside": "Poolside",
}

# Model types whose MLP is up-projection, activation, down-projection (2 matrices) rather than gated.
PLAIN_MLP_TYPES = frozenset(
    {"gpt2", "gpt_neox", "gptj", "gpt_bigcode", "falcon", "phi", "starcoder2", "bloom", "opt", "mpt", "nemotron_h"}
)
# Model types that normalise with LayerNorm; the value says whether the norms carry a bias vector.
LAYERNORM_TYPES = {
    "gpt2": True,
    "gpt_neox": True,
    "gptj": True,
    "gpt_bigcode": True,
    "falcon": True,
    "phi": True,
    "starcoder2": True,
    "bloom": True,
    "opt": True,
    "mpt": False,
    "cohere": False,
    "dbrx": False,
}
# transformers writes `tie_word_embeddings` only when it differs from the class default; these classes
# default to tied embeddings, so an absent key means tied for them (and untied for everything else).
TIED_BY_DEFAULT_TYPES = frozenset(
    {"gemma", "gemma2", "gemma3", "gemma3_text", "gemma4", "gemma4_text", "cohere", "cohere2", "smollm3"}
)
QWEN2_TYPES = frozenset({"qwen2", "qwen2_moe", "qwen2_5_vl"})
QK_NORM_TYPES = frozenset(
    {
        "qwen3",
        "qwen3_moe",
        "qwen3_vl_text",
        "qwen3_vl_moe_text",
        "gemma3",
        "gemma3_text",
        "gemma4",
        "gemma4_text",
        "olmo2",
        "qwen3_next",
        "qwen3_5",
        "qwen3_5_text",
        "qwen3_5_moe",
        "qwen3_5_moe_text",
    }
)
GLM_QKV_BIAS_TYPES = frozenset({"glm4", "glm4_moe", "glm4v", "glm4v_moe", "glm4v_moe_text"})
# MoE routers with a per-expert score correction bias (`e_score_correction_bias`) whatever `topk_method` says.
SCORE_BIAS_TYPES = frozenset(
    {"deepseek_v32", "deepseek_v4", "glm4_moe", "glm4_moe_lite", "glm4v_moe", "glm4v_moe_text", "glm_moe_dsa"}
)

ROPE_KEYS = tuple(RopeScaling.model_fields)
MOE_KEYS = (
    "num_local_experts",
    "num_experts",
    "n_routed_experts",
    "num_experts_per_tok",
    "moe_intermediate_size",
    "n_shared_experts",
    "shared_expert_intermediate_size",
    "first_k_dense_replace",
    "moe_layer_freq",
    "decoder_sparse_step",
)
MLA_KEYS = ("q_lora_rank", "kv_lora_rank", "qk_rope_head_dim", "qk_nope_head_dim", "v_head_dim")

DTYPES = {"bfloat16": "bf16", "float16": "fp16", "float32": "fp32"}
QUANT_METHODS = {"fp8": "fp8", "mxfp4": "mxfp4"}
FOUR_BIT_QUANT_METHODS = {"awq": "awq-int4", "gptq": "gptq-int4"}


class HfConfigError(ValueError):
    """A config that cannot become a model record; the message is shown to the user as one line."""


# --- reading the config ---------------------------------------------------------------------------


def language_config(config: Config) -> Config:
    """The part of the config that describes the language model (multimodal configs nest it)."""
    for key in ("text_config", "llm_config"):
        inner = config.get(key)
        if isinstance(inner, Mapping):
            return with_outer_tying(inner, config)
    return config


def with_outer_tying(inner: Config, outer: Config) -> Config:
    """Qwen3-VL writes `tie_word_embeddings` only on the outer config, where the LM head lives."""
    if "tie_word_embeddings" in inner or "tie_word_embeddings" not in outer:
        return inner
    return {**inner, "tie_word_embeddings": outer["tie_word_embeddings"]}


def lookup(config: Config, name: str) -> Any:
    """A config value by its Llama-style name, trying the known aliases; dotted names reach nested dicts."""
    for candidate in (name, *ALIASES.get(name, ())):
        value: Any = config
        for part in candidate.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if value is not None:
            return value
    return None


def missing_required(config: Config) -> list[str]:
    # DeepSeek V4 has no dense layers and names only the expert width.
    all_moe = config.get("compress_ratios") is not None and config.get("moe_intermediate_size")
    return [name for name in REQUIRED if lookup(config, name) is None and not (all_moe and name == "intermediate_size")]


# --- the architecture block -----------------------------------------------------------------------


# Gemma 2/3/4 normalise before and after both attention and MLP; Cohere runs them in parallel from one norm;
# a Nemotron-H block is one norm and one mixer or FFN.
NORMS_PER_LAYER = {
    "gemma2": 4,
    "gemma3": 4,
    "gemma3_text": 4,
    "gemma4": 4,
    "gemma4_text": 4,
    "cohere": 1,
    "nemotron_h": 1,
}


def core_fields(cfg: Config, model_type: str) -> dict[str, Any]:
    fields: dict[str, Any] = {name: lookup(cfg, name) for name in REQUIRED}
    fields["num_key_value_heads"] = lookup(cfg, "num_key_value_heads")
    fields["head_dim"] = cfg.get("head_dim")
    tied = cfg.get("tie_word_embeddings")
    fields["tie_word_embeddings"] = bool(tied) if tied is not None else model_type in TIED_BY_DEFAULT_TYPES
    fields["hidden_act"] = lookup(cfg, "hidden_act") or "silu"
    fields["gated_mlp"] = model_type not in PLAIN_MLP_TYPES
    fields["norm_type"] = "layernorm" if model_type in LAYERNORM_TYPES else "rmsnorm"
    fields["norm_bias"] = LAYERNORM_TYPES.get(model_type, False)
    fields["norms_per_layer"] = NORMS_PER_LAYER.get(model_type, 2)
    return fields


def bias_and_norm_flags(cfg: Config, model_type: str) -> dict[str, Any]:
    # InternLM's remote code calls the attention bias plain `bias`.
    attention_bias = cfg.get("attention_bias", cfg.get("bias", False))
    # GLM-4.x's `attention_bias` puts a bias on q, k and v only; o_proj has none (GLM-4.5V tensor listing).
    glm_qkv_bias = model_type in GLM_QKV_BIAS_TYPES and bool(attention_bias)
    attention_bias = attention_bias and not glm_qkv_bias
    is_gpt_oss = model_type == "gpt_oss"
    deepseek_v3_router = model_type in ("deepseek_v3", "kimi_k2") and cfg.get("topk_method") == "noaux_tc"
    deepseek_v3_router = deepseek_v3_router or model_type in SCORE_BIAS_TYPES
    # Kimi Linear, Nemotron-H and MiniMax-M2 route with sigmoid scores plus a per-expert correction bias.
    corrected_router = model_type in ("kimi_linear", "nemotron_h") or bool(cfg.get("use_routing_bias"))
    return {
        "attention_bias": bool(attention_bias),
        "qkv_bias": model_type in QWEN2_TYPES or glm_qkv_bias or bool(cfg.get("qkv_bias")),
        "mlp_bias": is_gpt_oss or bool(cfg.get("mlp_bias")),
        "qk_norm": model_type in QK_NORM_TYPES or bool(cfg.get("use_qk_norm")),
        "attention_sinks": is_gpt_oss,
        "router_bias": is_gpt_oss,
        "expert_score_bias": deepseek_v3_router or corrected_router,
    }


def rope_scaling(cfg: Config) -> dict[str, Any] | None:
    raw = cfg.get("rope_scaling") or cfg.get("rope_parameters")
    if not isinstance(raw, Mapping):
        # First-generation InternLM keeps its dynamic NTK scaling in a `rotary` block instead.
        rotary = cfg.get("rotary")
        raw = {"type": rotary["type"]} if isinstance(rotary, Mapping) and rotary.get("type") else None
    if raw is None:
        return None
    rope_type = raw.get("rope_type") or raw.get("type")
    # Qwen2.5-VL's "mrope" splits rotary dimensions between time, height and width; it extends nothing.
    if not rope_type or rope_type in ("default", "mrope"):
        return None
    scaling: dict[str, Any] = {"rope_type": rope_type}
    scaling.update({key: raw[key] for key in ROPE_KEYS if key != "rope_type" and raw.get(key) is not None})
    return scaling


def one_per_model(cfg: Config, key: str) -> Any:
    """Hunyuan writes MoE widths and counts once per layer; the engine takes one value for every MoE layer."""
    value = cfg.get(key)
    if not isinstance(value, list):
        return value
    if len(set(value)) > 1:
        raise ValueError(f"{key} differs between layers ({sorted(set(value))}), which the engine does not model")
    return value[0] if value else None


def moe_fields(cfg: Config, model_type: str) -> dict[str, Any]:
    fields = {key: cfg.get(key) for key in MOE_KEYS}
    fields["moe_intermediate_size"] = one_per_model(cfg, "moe_intermediate_size")
    if fields["shared_expert_intermediate_size"] == 0:
        fields["shared_expert_intermediate_size"] = None  # Qwen3-Coder writes 0 for "no shared expert"
    if fields["num_experts_per_tok"] is None:
        # gpt-oss's own name; then Hunyuan's
        fields["num_experts_per_tok"] = cfg.get("experts_per_token") or one_per_model(cfg, "moe_topk")
    if fields["n_shared_experts"] is None and cfg.get("use_mixed_mlp_moe"):
        fields["n_shared_experts"] = one_per_model(cfg, "num_shared_expert")  # Hunyuan: a shared MLP beside the experts
    if "interleave_moe_layer_step" in cfg and "intermediate_size_mlp" in cfg:
        # Llama 4: `intermediate_size` is the expert width, `intermediate_size_mlp` the dense layers' width,
        # and every MoE layer adds one shared expert.
        fields["moe_intermediate_size"] = cfg["intermediate_size"]
        fields["decoder_sparse_step"] = cfg["interleave_moe_layer_step"]
        fields["n_shared_experts"] = 1
    if model_type == "dbrx":
        ffn = cfg.get("ffn_config") or {}
        fields["num_local_experts"] = ffn.get("moe_num_experts")
        fields["num_experts_per_tok"] = ffn.get("moe_top_k")
        fields["moe_intermediate_size"] = ffn.get("ffn_hidden_size")
    return fields


def llama4_dense_width(cfg: Config) -> dict[str, Any]:
    if "interleave_moe_layer_step" in cfg and "intermediate_size_mlp" in cfg:
        return {"intermediate_size": cfg["intermediate_size_mlp"]}
    return {}


def mla_fields(cfg: Config) -> dict[str, Any]:
    fields = {key: cfg.get(key) for key in MLA_KEYS}
    fields["num_nextn_predict_layers"] = cfg.get("num_nextn_predict_layers")
    return fields


def chunked_attention_fields(cfg: Config) -> dict[str, Any]:
    """Llama 4: layers with RoPE attend within chunks; every layer flagged 0 in `no_rope_layers` is global."""
    chunk = cfg.get("attention_chunk_size")
    if not chunk:
        return {}
    layers = int(lookup(cfg, "num_hidden_layers"))
    flags = cfg.get("no_rope_layers")
    if not isinstance(flags, list) or len(flags) != layers:
        interval = int(cfg.get("no_rope_layer_interval") or 4)
        flags = [int((i + 1) % interval != 0) for i in range(layers)]
    return {
        "attention_chunk_size": chunk,
        "layer_types": ["chunked_attention" if flag else "full_attention" for flag in flags],
    }


def sliding_window_fields(cfg: Config, model_type: str) -> dict[str, Any]:
    window = cfg.get("sliding_window")
    if not window:
        return {}
    if isinstance(cfg.get("layer_types"), list):
        return {"sliding_window": window, "layer_types": list(cfg["layer_types"])}
    if cfg.get("use_sliding_window") is False:
        return {}  # Qwen2/2.5/3 write a window size but do not use it
    is_sliding = sliding_layer_rule(cfg, model_type)
    if is_sliding is None:
        return {"sliding_window": window}  # every layer slides (Mistral 7B v0.1)
    layers = [is_sliding(i) for i in range(int(lookup(cfg, "num_hidden_layers")))]
    return {
        "sliding_window": window,
        "layer_types": ["sliding_attention" if sliding else "full_attention" for sliding in layers],
    }


def sliding_layer_rule(cfg: Config, model_type: str) -> Callable[[int], bool] | None:
    """Which layers slide, for configs that imply the pattern instead of listing `layer_types`."""
    if model_type == "gemma2":
        return lambda i: i % 2 == 0  # alternates, starting with a sliding-window layer
    pattern = cfg.get("sliding_window_pattern")
    if isinstance(pattern, int) and pattern > 0:
        return lambda i: (i + 1) % pattern != 0  # Gemma 3, Command R7B: every pattern-th layer is global
    first = cfg.get("max_window_layers")
    if cfg.get("use_sliding_window") and isinstance(first, int):
        return lambda i: i >= first  # Qwen2 with the window switched on: the later layers slide
    return None


def hybrid_fields(cfg: Config, model_type: str) -> dict[str, Any]:
    """Linear-attention / SSM hybrids and the MoE spellings of the model types that bring them."""
    layers = int(lookup(cfg, "num_hidden_layers"))
    fields: dict[str, Any] = {"linear_attention": linear_attention_block(cfg, model_type, layers)}
    if cfg.get("qk_norm_type") == "per_layer":
        fields["qk_norm_per_layer"] = True  # MiniMax-M2: one norm over all heads' queries (keys)
    if model_type == "qwen3_next":
        # The released checkpoints hold one MTP layer (mtp.* tensors) that this config does not declare.
        fields["num_nextn_predict_layers"] = 1
    if cfg.get("mtp_num_hidden_layers") is not None:
        fields["num_nextn_predict_layers"] = cfg["mtp_num_hidden_layers"]  # Qwen3.5
    if model_type == "kimi_linear":
        fields["num_experts_per_tok"] = cfg.get("num_experts_per_token")
        fields["n_shared_experts"] = cfg.get("num_shared_experts")
    if model_type == "nemotron_h":
        fields["hidden_act"] = cfg.get("mlp_hidden_act") or "relu2"
        fields["shared_expert_intermediate_size"] = cfg.get("moe_shared_expert_intermediate_size")
    if model_type == "granitemoehybrid":
        fields.update(granite_ffn(cfg))
    return fields


def granite_ffn(cfg: Config) -> dict[str, Any]:
    """Granite 4.0: `intermediate_size` is one expert's width and every layer adds a shared MLP of
    `shared_intermediate_size`; without experts (H-Micro) the shared MLP is the dense FFN."""
    shared = cfg.get("shared_intermediate_size")
    if not cfg.get("num_local_experts"):
        return {"intermediate_size": shared, "num_local_experts": None, "num_experts_per_tok": None}
    return {
        "moe_intermediate_size": cfg["intermediate_size"],
        "shared_expert_intermediate_size": shared,
        "n_shared_experts": 1 if shared else None,
    }


# --- attention variants: Gemma 4 global layers, shared KV, DeepSeek sparse attention -------------------------

# Model types whose decoder layers each carry one learned output scalar (`layer_scalar`).
LAYER_SCALAR_TYPES = frozenset({"gemma4", "gemma4_text"})
# GLM-5 checkpoints hold no MTP copies of the embedding and LM head (checked against the GLM-5.1 and GLM-5.2
# tensor listings); DeepSeek's and GLM-4.7-Flash's do.
MTP_SHARES_EMBEDDINGS_TYPES = frozenset({"glm_moe_dsa", "deepseek_v4"})
# Config keys of DeepSeek V4's compressed attention, grouped output projection, hyper-connections and hash routing,
# copied as they are.
COMPRESSED_ATTENTION_KEYS = ("compress_ratios", "o_groups", "o_lora_rank", "hc_mult", "num_hash_layers")


def attention_variant_fields(cfg: Config, model_type: str) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "global_head_dim": cfg.get("global_head_dim"),
        "num_global_key_value_heads": cfg.get("num_global_key_value_heads"),
        "attention_k_eq_v": bool(cfg.get("attention_k_eq_v")),
        "layer_scalars": model_type in LAYER_SCALAR_TYPES,
        "num_kv_shared_layers": cfg.get("num_kv_shared_layers") or None,
        "index_n_heads": cfg.get("index_n_heads"),
        "index_head_dim": cfg.get("index_head_dim"),
        "index_topk": cfg.get("index_topk"),
        "mtp_shares_embeddings": model_type in MTP_SHARES_EMBEDDINGS_TYPES,
    }
    fields.update({key: cfg.get(key) for key in COMPRESSED_ATTENTION_KEYS})
    if cfg.get("compress_ratios") is not None:
        # V4 has no dense layers; its config names only the expert width. Every layer has attention sinks.
        fields["intermediate_size"] = cfg.get("intermediate_size") or cfg.get("moe_intermediate_size")
        fields["attention_sinks"] = True
        # Its rotary width applies to the one shared KV head; V4 has no MLA latent, so MLA fields would mislead.
        fields["qk_rope_head_dim"] = None
    kinds = cfg.get("indexer_types")
    if isinstance(kinds, list) and cfg.get("index_n_heads"):
        # "full" layers run their own indexer; "shared" ones reuse the previous full layer's selection.
        fields["indexer_layers"] = [i for i, kind in enumerate(kinds) if kind == "full"]
    return fields


# Config keys for architecture features the engine does not count. A config that uses one is refused with its
# name rather than imported with a silently wrong parameter count or KV cache.
UNSUPPORTED_KEYS = {
    "altup_num_inputs": "AltUp residual streams (Gemma 3n)",
    "laurel_rank": "LAuReL residual blocks (Gemma 3n)",
    "hidden_size_per_layer_input": "per-layer input embeddings (Gemma 3n, Gemma 4 E-sizes)",
    "enable_moe_block": "a mixture-of-experts block beside the MLP (Gemma 4 MoE)",
    "use_double_wide_mlp": "double-width MLP in KV-shared layers (Gemma 4)",
}


def unsupported_fields(config: Config) -> list[str]:
    """`key (meaning)` for every unsupported feature the config switches on, in the outer or language config."""
    found: dict[str, str] = {}
    for part in (config, language_config(config)):
        for key, meaning in UNSUPPORTED_KEYS.items():
            if part.get(key) not in (None, False, 0, [], {}):
                found[key] = meaning
    return [f"{key} ({meaning})" for key, meaning in found.items()]


# transformers writes only the values that differ from the config class's defaults, so the published Gemma 3
# 4B/12B/27B configs leave out heads, head width, vocabulary and positions; these are Gemma3TextConfig's defaults
# (transformers, src/transformers/models/gemma3/configuration_gemma3.py).
CLASS_DEFAULTS: dict[str, dict[str, Any]] = {
    "gemma3_text": {
        "vocab_size": 262_208,
        "hidden_size": 2304,
        "intermediate_size": 9216,
        "num_hidden_layers": 26,
        "num_attention_heads": 8,
        "num_key_value_heads": 4,
        "head_dim": 256,
        "hidden_activation": "gelu_pytorch_tanh",
        "max_position_embeddings": 131_072,
        "sliding_window": 4096,
        "sliding_window_pattern": 6,
    },
}


def with_class_defaults(cfg: Config) -> Config:
    defaults = CLASS_DEFAULTS.get(str(cfg.get("model_type")))
    return {**defaults, **cfg} if defaults else cfg


# Decoders whose tensors the importer's rules account for, each checked against a real checkpoint's count.
KNOWN_MODEL_TYPES = frozenset(FAMILY_BY_MODEL_TYPE) | {"gpt_neox"}


def architecture_from_config(config: Config) -> Architecture:
    """The Architecture a config describes; raises HfConfigError when it cannot describe one."""
    cfg = with_class_defaults(language_config(config))
    unsupported = unsupported_fields(config)
    if unsupported:
        raise HfConfigError(
            "config.json uses architecture fields the engine cannot count yet: " + "; ".join(unsupported)
        )
    missing = missing_required(cfg)
    if missing:
        raise HfConfigError(f"config.json lacks required architecture fields: {', '.join(missing)}")
    model_type = str(cfg["model_type"])
    try:
        fields = collect_fields(cfg, model_type)
    except UnsupportedArchitecture as exc:
        raise HfConfigError(str(exc)) from None
    except (TypeError, ValueError, AttributeError) as exc:
        # A value of the wrong shape (a string where a number belongs, a list where a mapping does).
        raise HfConfigError(f"config.json has a value of an unexpected type: {exc}") from None
    if model_type not in KNOWN_MODEL_TYPES:
        raise HfConfigError(
            f"model_type {model_type!r} is not one the importer has been taught: its layers may hold tensors a "
            "Llama-style count would miss, so no record is written (teach site_builder/hfimport.py its rules, with "
            "a test against the checkpoint's tensor count)"
        )
    try:
        return Architecture.model_validate({k: v for k, v in fields.items() if v is not None})
    except ValidationError as exc:
        raise HfConfigError(f"config.json does not describe a valid architecture: {one_line(exc)}") from None


def collect_fields(cfg: Config, model_type: str) -> dict[str, Any]:
    fields = core_fields(cfg, model_type)
    for part in (
        bias_and_norm_flags(cfg, model_type),
        moe_fields(cfg, model_type),
        llama4_dense_width(cfg),
        mla_fields(cfg),
        sliding_window_fields(cfg, model_type),
        chunked_attention_fields(cfg),
        hybrid_fields(cfg, model_type),
        attention_variant_fields(cfg, model_type),
        hfimport_attention.extra_fields(cfg, model_type),
    ):
        fields.update(part)
    fields["rope_scaling"] = rope_scaling(cfg)
    return fields


def one_line(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())


def native_precision(config: Config) -> str | None:
    """Precision of the released weights: a quantization_config wins over torch_dtype (DeepSeek-V3)."""
    cfg = language_config(config)
    quant = cfg.get("quantization_config") or config.get("quantization_config")
    if isinstance(quant, Mapping):
        method = str(quant.get("quant_method", "")).lower()
        if method in QUANT_METHODS:
            return QUANT_METHODS[method]
        if method in FOUR_BIT_QUANT_METHODS and quant.get("bits") == 4:
            return FOUR_BIT_QUANT_METHODS[method]
        if method == "compressed-tensors":
            return compressed_tensors_precision(quant)
    dtype = cfg.get("torch_dtype") or cfg.get("dtype") or config.get("torch_dtype") or config.get("dtype")
    return DTYPES.get(str(dtype)) if dtype else None


def compressed_tensors_precision(quant: Config) -> str | None:
    """llm-compressor's format names its weights' bits per config group (Kimi K2.5: int4 experts)."""
    groups = quant.get("config_groups")
    bits = set()
    if isinstance(groups, Mapping):
        for group in groups.values():
            weights = group.get("weights") if isinstance(group, Mapping) else None
            if isinstance(weights, Mapping):
                bits.add((weights.get("num_bits"), weights.get("type"), weights.get("group_size")))
    if len(bits) != 1:
        return None
    [(num_bits, kind, group_size)] = bits
    if num_bits == 4 and kind == "int":
        return "int4-experts" if group_size == 32 and _ignores_all_but_experts(quant) else "int4"
    if num_bits == 8:
        return "fp8" if kind == "float" else "int8"
    return None


def _ignores_all_but_experts(quant: Config) -> bool:
    """The ignore list keeps attention and shared experts in 16-bit, so only routed experts are 4-bit (Kimi K2.5)."""
    ignore = quant.get("ignore")
    patterns = [str(p) for p in ignore] if isinstance(ignore, list) else []
    return any("self_attn" in p for p in patterns) and any("shared_experts" in p for p in patterns)


# --- the rest of the record -----------------------------------------------------------------------


def hf_repo_from_config(config: Config) -> str | None:
    """`_name_or_path` when it is a Hub repo id (not a local path); only the outer config names the model."""
    value = config.get("_name_or_path")
    return value if isinstance(value, str) and HF_REPO_RE.match(value) else None


def hf_repo_from_path(path: Path) -> str | None:
    """`org--name.json` (this repo's reference configs, the Hugging Face cache) names the repo."""
    match = REPO_IN_FILENAME_RE.match(path.stem)
    return f"{match[1]}/{match[2]}" if match else None


def name_from_id(model_id: str) -> str:
    """A display name guess: `qwen2.5-7b-instruct` -> `Qwen2.5 7B Instruct`."""
    words = []
    for part in model_id.split("-"):
        if re.fullmatch(r"(?:\d+x|a)?\d+(?:\.\d+)?[bmk]", part):
            words.append(re.sub(r"^a|[bmk]$", lambda m: m[0].upper(), part))  # sizes: 7B, 8x7B, A3B
        else:
            words.append(part[:1].upper() + part[1:])
    return " ".join(words)


def organization_for(hf_repo: str) -> str:
    org = hf_repo.split("/", 1)[0]
    return ORGANIZATION_BY_HF_ORG.get(org.lower(), org)


def family_for(model_type: str) -> str:
    if model_type in FAMILY_BY_MODEL_TYPE:
        return FAMILY_BY_MODEL_TYPE[model_type]
    # An unknown type becomes its own family id; `site-builder check` then asks for the family article.
    slug = re.sub(r"[^a-z0-9]+", "-", model_type.lower()).strip("-")
    return slug or "unknown"


# --- writing YAML ---------------------------------------------------------------------------------


def scalar(value: Any) -> str:
    """One YAML scalar (or flow list) as PyYAML writes it, quoted only when YAML needs quotes."""
    text = yaml.safe_dump(value, default_flow_style=True, width=1_000_000, allow_unicode=True)
    return text.removesuffix("\n").removesuffix("\n...").strip()


def line(key: str, value: Any, comment: str = "", indent: int = 0) -> str:
    shown = "" if value is None else f" {scalar(value)}"
    note = f"  # {comment}" if comment else ""
    return f"{' ' * indent}{key}:{shown}{note}"


def block(data: Mapping[str, Any], indent: int) -> list[str]:
    """A nested mapping in block style; lists of strings longer than a line's worth go one per line."""
    lines: list[str] = []
    pad = " " * indent
    for key, value in data.items():
        if isinstance(value, Mapping):
            lines.append(f"{pad}{key}:")
            lines.extend(block(value, indent + 2))
        elif isinstance(value, list) and len(value) > 8:
            lines.append(f"{pad}{key}:")
            lines.extend(f"{pad}- {scalar(item)}" for item in value)
        else:
            lines.append(line(key, value, indent=indent))
    return lines


def architecture_yaml(arch: Architecture) -> list[str]:
    """Every field the config determined; false flags and absent values are left out to keep it short."""
    keep_always = {"tie_word_embeddings", "hidden_act", "gated_mlp", "norm_type"}
    dumped = arch.model_dump(mode="json", exclude_none=True)
    shown = {k: v for k, v in dumped.items() if v is not False or k in keep_always}
    return block(shown, 2)


def record_lines(arch: Architecture, model_id: str, name: str, hf_repo: str, native: str | None) -> list[str]:
    precision = native or "bf16"
    precision_note = "from config.json" if native else "config.json does not say: check the model card"
    config_url = f"https://huggingface.co/{hf_repo}/blob/main/config.json"
    card_url = f"https://huggingface.co/{hf_repo}"
    return [
        SCHEMA_LINE,
        line("id", model_id),
        line("name", name, "display name as the model card writes it"),
        line("hf_repo", hf_repo),
        line("organization", organization_for(hf_repo), "who released it, as the model card names it"),
        line("family", family_for(arch.model_type), "id of catalog/families/<family>.md (add one if new)"),
        "# release_date: YYYY-MM-DD  # first public release, cited under sources; null if no source states it",
        "# license: {id: SPDX id, name: ..., url: ..., commercial_use: ...}  # from the model card; null if no source"
        " states it",
        line(
            "context_window",
            arch.max_position_embeddings,
            "max_position_embeddings; use the usable context the model card states",
        ),
        line("description", None, "one or two plain sentences: what it is and what sets it apart"),
        line(
            "capabilities",
            [],
            "any of chat, tool-use, vision, code, math, reasoning, multilingual, structured-output, long-context",
        ),
        line("frameworks", [], "ids in catalog/frameworks/ that serve it, e.g. [vllm, sglang, llama-cpp]"),
        line("precisions", [precision], "every precision/format it is served in (fp8, awq-int4, q4_k_m...)"),
        line("native_precision", precision, precision_note),
        "# stated_params: {total: 7000000000, exact: false}  # count the model card states: 7B -> 7000000000",
        line("architecture", None, "from config.json by site-builder import-hf-config"),
        *architecture_yaml(arch),
        "sources:",
        f"- url: {scalar(config_url)}",
        f"  title: {scalar(hf_repo + ' config.json')}",
        "  supports: [architecture, native_precision]",
        "# add a source for every other field you fill in, e.g. the model card:",
        f"# - url: {card_url}",
        "#   supports: [release_date, license, context_window, capabilities, description]",
    ]


def vision_yaml(config: Config) -> list[str]:
    """The `vision:` block counted from `vision_config`; a tower nobody can count yet asks for the figure."""
    try:
        tower = vision_tower(config)
    except UncountedVisionTower as exc:
        return [f"# vision: {{name: ..., params: ...}}  # {exc}: add the tower's parameters, with a source"]
    if tower is None:
        return []
    return ["vision:", line("name", tower[0], indent=2), line("params", tower[1], "counted from vision_config", 2)]


def audio_yaml(config: Config) -> list[str]:
    """An audio encoder is counted in the record's `audio` block, which a config alone cannot fill."""
    if not any(part.get("audio_config") for part in (config, language_config(config))):
        return []
    return [
        "# audio: {name: ..., params: ...}  # config.json has an audio encoder (audio_config): add its parameters"
        ", with a source"
    ]


def import_hf_config(config: dict[str, Any], id: str, name: str | None, hf_repo: str | None) -> str:
    """The text of a model record for `config`; raises HfConfigError when it cannot be made valid."""
    if not SLUG_RE.match(id):
        raise HfConfigError(f"--id must be a lowercase slug (letters, digits, '-' or '.'), got {id!r}")
    repo = hf_repo or hf_repo_from_config(config)
    if repo is None:
        raise HfConfigError("cannot tell the Hugging Face repo from config.json; pass --hf-repo ORG/NAME")
    if not HF_REPO_RE.match(repo):
        raise HfConfigError(f"--hf-repo must look like ORG/NAME, got {repo!r}")
    arch = architecture_from_config(config)
    lines = record_lines(arch, id, name or name_from_id(id), repo, native_precision(config))
    at = lines.index("sources:")
    try:
        lines[at:at] = vision_yaml(config) + audio_yaml(config)
    except (TypeError, ValueError, KeyError) as exc:
        raise HfConfigError(f"config.json has a vision_config of an unexpected shape: {exc}") from None
    text = "\n".join(lines) + "\n"
    check_record(text)
    return text


# Required fields a config.json cannot tell: left for the contributor, so `check` fails until they are filled.
TO_FILL = {"release_date", "license", "description", "frameworks"}


def check_record(text: str) -> None:
    """Guard against producing a record the catalog would reject (a bug here, or an odd config)."""
    try:
        ModelRecord.model_validate(yaml.safe_load(text))
    except ValidationError as exc:
        errors = [e for e in exc.errors() if str(e["loc"][0]) not in TO_FILL]
        if errors:
            shown = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)
            raise HfConfigError(f"the generated record is not valid: {shown}") from None


# --- command line ---------------------------------------------------------------------------------


def read_config(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise HfConfigError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise HfConfigError(f"{path}: cannot read: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise HfConfigError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise HfConfigError(f"{path}: expected a JSON object (config.json), got {type(data).__name__}")
    return data


def record_from_file(path: Path, model_id: str, name: str | None, hf_repo: str | None) -> str:
    """Read `path` and build the record; the file name may name the repo when the config does not."""
    config = read_config(path)
    repo = hf_repo or hf_repo_from_config(config) or hf_repo_from_path(path)
    try:
        return import_hf_config(config, model_id, name, repo)
    except HfConfigError as exc:
        raise HfConfigError(f"{path}: {exc}") from None


@dataclass(frozen=True)
class ImportOptions:
    """`site-builder import-hf-config`: the config file, the new record's id, and where to write (None: stdout)."""

    config: Path
    id: str
    name: str | None = None
    hf_repo: str | None = None
    output: Path | None = None


def import_hf_config_command(options: ImportOptions) -> int:
    try:
        text = record_from_file(options.config, options.id, options.name, options.hf_repo)
        if options.output:
            options.output.write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
    except HfConfigError as exc:
        print(f"site-builder import-hf-config: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"site-builder import-hf-config: error: cannot write {options.output}: {exc.strerror}", file=sys.stderr)
        return 1
    return 0
