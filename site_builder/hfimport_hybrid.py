"""Importer support for linear-attention and state-space hybrids: the `linear_attention` block of a record.

Each supported model type spells the same few quantities differently (Qwen's `linear_*` keys, Kimi's
`linear_attn_config`, Mamba-2's `mamba_*` / `ssm_*` keys, MiniMax's `attn_type_list`); this module maps them
onto one block. A config that signals a token mixer this engine does not model raises an error naming the field,
so a count is never silently wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Config = Mapping[str, Any]


class UnsupportedArchitecture(ValueError):
    """The config uses an architecture feature the engine cannot count; the message names the field."""


GATED_DELTANET_TYPES = frozenset({"qwen3_next", "qwen3_5_moe", "qwen3_5_moe_text", "qwen3_5", "qwen3_5_text"})
MAMBA_TYPES = frozenset({"nemotron_h", "granitemoehybrid", "falcon_h1"})
# MiniMax-Text-01 and MiniMax-M1 (remote code): `attn_type_list` marks each layer 0 (lightning) or 1 (softmax).
LIGHTNING_TYPES = frozenset({"minimax_text_01", "minimax_m1"})
LIGHTNING_LAYER_KINDS = {0: "linear", 1: "attention"}

# Keys that announce a token mixer; a config carrying one outside the model types handled here is refused.
MIXER_KEYS = (
    "linear_attn_config",
    "linear_num_value_heads",
    "hybrid_override_pattern",
    "mamba_n_heads",
    "mamba_num_heads",
    "mamba_d_ssm",
    "ssm_state_size",
    "mamba_d_state",
    "block_types",
    "attn_layer_indices",
)

GDN_LAYER_KINDS = {"linear_attention": "linear", "full_attention": "attention"}
GRANITE_LAYER_KINDS = {"mamba": "linear", "attention": "attention"}
# Nemotron-H's pattern: M a Mamba-2 block, * an attention block, - a dense MLP block, E an MoE block.
NEMOTRON_BLOCKS = {"M": "linear", "*": "attention", "-": "none", "E": "none"}


def _state_bytes(cfg: Config) -> int:
    dtype = cfg.get("mamba_ssm_cache_dtype") or cfg.get("mamba_ssm_dtype")
    return 4 if dtype in ("float32", "fp32") else 2


def _require(cfg: Config, *keys: str) -> list[Any]:
    missing = [key for key in keys if cfg.get(key) is None]
    if missing:
        raise UnsupportedArchitecture(f"config.json lacks {', '.join(missing)} needed to count its linear layers")
    return [cfg[key] for key in keys]


def _mixers_from_names(names: Any, table: Mapping[Any, str], field: str, layers: int) -> list[str]:
    if not isinstance(names, list) or len(names) != layers:
        raise UnsupportedArchitecture(f"config.json `{field}` must list one entry for each of the {layers} layers")
    unknown = sorted({str(n) for n in names if n not in table})
    if unknown:
        raise UnsupportedArchitecture(f"config.json `{field}` has unsupported layer kind(s): {', '.join(unknown)}")
    return [table[n] for n in names]


def gated_deltanet(cfg: Config, layers: int) -> dict[str, Any]:
    """Qwen3-Next and Qwen3.5: three Gated DeltaNet layers, then one gated full-attention layer, repeated."""
    if cfg.get("mlp_only_layers"):
        raise UnsupportedArchitecture("config.json `mlp_only_layers` (dense layers among MoE layers) is not supported")
    names = cfg.get("layer_types")
    if names is None:
        interval = int(_require(cfg, "full_attention_interval")[0])
        names = ["full_attention" if (i + 1) % interval == 0 else "linear_attention" for i in range(layers)]
    nv, nk, dk, dv, kernel = _require(
        cfg,
        "linear_num_value_heads",
        "linear_num_key_heads",
        "linear_key_head_dim",
        "linear_value_head_dim",
        "linear_conv_kernel_dim",
    )
    return {
        "kind": "gated_deltanet",
        "layer_mixers": _mixers_from_names(names, GDN_LAYER_KINDS, "layer_types", layers),
        "num_heads": nv,
        "num_key_heads": nk,
        "key_head_dim": dk,
        "value_head_dim": dv,
        "conv_kernel": kernel,
        "state_dtype_bytes": _state_bytes(cfg),
        # Qwen3-Next's config class gates attention output by default; Qwen3.5 writes the flag.
        "attention_output_gate": bool(cfg.get("attn_output_gate", True)),
        "mtp_shares_embeddings": not cfg.get("mtp_use_dedicated_embeddings", False),
    }


# Kimi-Linear-style configs that add weights this engine does not count yet (Kimi K3: full-rank KDA gates, gated
# MLA output, a latent MoE projection, block attention residuals).
KIMI_UNSUPPORTED = (
    "mla_use_output_gate",
    "routed_expert_hidden_size",
    "latent_moe_use_norm",
    "attn_res_block_size",
    "linear_attn_config.use_full_rank_gate",
)


def _refuse_present(cfg: Config, keys: tuple[str, ...], model_type: str) -> None:
    for key in keys:
        value: Any = cfg
        for part in key.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if value:
            raise UnsupportedArchitecture(f"config.json field `{key}` ({model_type}) is not supported yet")


def kimi_delta(cfg: Config, layers: int) -> dict[str, Any]:
    """Kimi Linear: `linear_attn_config` lists its full-attention (MLA) layers, 1-based."""
    _refuse_present(cfg, KIMI_UNSUPPORTED, "kimi_linear")
    la = cfg["linear_attn_config"]
    if not isinstance(la, Mapping):
        raise UnsupportedArchitecture("config.json `linear_attn_config` must be a mapping")
    full, heads, dim, kernel = _require(la, "full_attn_layers", "num_heads", "head_dim", "short_conv_kernel_size")
    if not isinstance(full, list):
        raise UnsupportedArchitecture("config.json `linear_attn_config.full_attn_layers` must be a list")
    full_set = {int(n) - 1 for n in full}
    return {
        "kind": "kimi_delta",
        "layer_mixers": ["attention" if i in full_set else "linear" for i in range(layers)],
        "num_heads": heads,
        "key_head_dim": dim,
        "value_head_dim": dim,
        "conv_kernel": kernel,
        "state_dtype_bytes": _state_bytes(cfg),
    }


# Nemotron-H variants whose extra weights this engine does not count yet (Nemotron 3 Super's latent MoE and MTP).
NEMOTRON_UNSUPPORTED = ("moe_latent_size", "mtp_hybrid_override_pattern", "num_nextn_predict_layers")


def nemotron_h(cfg: Config, layers: int) -> dict[str, Any]:
    _refuse_present(cfg, NEMOTRON_UNSUPPORTED, "nemotron_h")
    pattern = str(_require(cfg, "hybrid_override_pattern")[0])
    if "-" in pattern and "E" in pattern:
        raise UnsupportedArchitecture(
            "config.json `hybrid_override_pattern` mixes dense (-) and MoE (E) blocks, which is not supported"
        )
    heads, head_dim, groups, state, kernel = _require(
        cfg, "mamba_num_heads", "mamba_head_dim", "n_groups", "ssm_state_size", "conv_kernel"
    )
    return {
        "kind": "mamba2",
        "layer_mixers": _mixers_from_names(list(pattern), NEMOTRON_BLOCKS, "hybrid_override_pattern", layers),
        "mixer_only_layers": True,
        "num_heads": heads,
        "num_key_heads": groups,
        "key_head_dim": state,
        "value_head_dim": head_dim,
        "conv_kernel": kernel,
        "conv_bias": bool(cfg.get("use_conv_bias", True)),
        "proj_bias": bool(cfg.get("mamba_proj_bias", cfg.get("use_bias", False))),
        "state_dtype_bytes": _state_bytes(cfg),
    }


def _mamba2_block(cfg: Config, mixers: list[str], proj_bias_key: str) -> dict[str, Any]:
    """Mamba-2 dimensions as Granite 4.0 and Falcon-H1 spell them (`mamba_*`)."""
    heads, head_dim, groups, state, kernel = _require(
        cfg, "mamba_n_heads", "mamba_d_head", "mamba_n_groups", "mamba_d_state", "mamba_d_conv"
    )
    inner = int(heads) * int(head_dim)
    d_ssm = cfg.get("mamba_d_ssm")
    if d_ssm is not None and int(d_ssm) != inner:
        raise UnsupportedArchitecture("config.json `mamba_d_ssm` differs from mamba_n_heads x mamba_d_head")
    expand, hidden = cfg.get("mamba_expand"), cfg.get("hidden_size")
    if d_ssm is None and expand is not None and hidden is not None and int(expand) * int(hidden) != inner:
        # Without mamba_d_ssm, transformers sizes the mixer as mamba_expand x hidden_size: the heads disagree.
        raise UnsupportedArchitecture(
            "config.json lacks `mamba_d_ssm` and mamba_expand x hidden_size differs from mamba_n_heads x mamba_d_head"
        )
    return {
        "kind": "mamba2",
        "layer_mixers": mixers,
        "num_heads": heads,
        "num_key_heads": groups,
        "key_head_dim": state,
        "value_head_dim": head_dim,
        "conv_kernel": kernel,
        "conv_bias": bool(cfg.get("mamba_conv_bias", True)),
        "proj_bias": bool(cfg.get(proj_bias_key, False)),
        "state_dtype_bytes": _state_bytes(cfg),
    }


def granite_hybrid(cfg: Config, layers: int) -> dict[str, Any]:
    mixers = _mixers_from_names(cfg.get("layer_types"), GRANITE_LAYER_KINDS, "layer_types", layers)
    return _mamba2_block(cfg, mixers, "mamba_proj_bias")


def falcon_h1(cfg: Config, layers: int) -> dict[str, Any]:
    """Falcon-H1 runs attention and Mamba-2 side by side in every layer; its gated norm is optional."""
    block = _mamba2_block(cfg, ["parallel"] * layers, "projectors_bias")
    block["gated_norm"] = bool(cfg.get("mamba_rms_norm", False))
    return block


def lightning(cfg: Config, layers: int) -> dict[str, Any]:
    """MiniMax-Text-01 / M1: a lightning layer has as many heads, each as wide, as the softmax layers' queries."""
    if cfg.get("shared_intermediate_size"):
        # A shared MLP plus its h->1 coefficient gate sit beside the experts when this is set; no release sets it.
        raise UnsupportedArchitecture("config.json field `shared_intermediate_size` (minimax) is not supported yet")
    heads, hidden = _require(cfg, "num_attention_heads", "hidden_size")
    head_dim = cfg.get("head_dim") or int(hidden) // int(heads)
    return {
        "kind": "lightning",
        "layer_mixers": _mixers_from_names(cfg.get("attn_type_list"), LIGHTNING_LAYER_KINDS, "attn_type_list", layers),
        "num_heads": heads,
        "key_head_dim": head_dim,
        "value_head_dim": head_dim,
        "conv_kernel": 0,
        "state_dtype_bytes": _state_bytes(cfg),
    }


def linear_attention_block(cfg: Config, model_type: str, layers: int) -> dict[str, Any] | None:
    """The record's `linear_attention` block, or None for a config with softmax attention only."""
    if model_type in GATED_DELTANET_TYPES:
        return gated_deltanet(cfg, layers)
    if model_type == "kimi_linear":
        return kimi_delta(cfg, layers)
    if model_type == "nemotron_h":
        return nemotron_h(cfg, layers)
    if model_type == "granitemoehybrid":
        return granite_hybrid(cfg, layers)
    if model_type == "falcon_h1":
        return falcon_h1(cfg, layers)
    if model_type in LIGHTNING_TYPES:
        return lightning(cfg, layers)
    refuse_unknown_mixers(cfg, model_type)
    return None


def refuse_unknown_mixers(cfg: Config, model_type: str) -> None:
    """Raise for a token mixer the engine does not model, naming the field that announces it."""
    for key in MIXER_KEYS:
        if key in cfg:
            raise UnsupportedArchitecture(
                f"config.json field `{key}` announces linear-attention or state-space layers, which the engine "
                f"does not model for model_type {model_type!r}"
            )
    kinds = cfg.get("attn_type_list")
    if isinstance(kinds, list) and any(k != 1 for k in kinds):
        raise UnsupportedArchitecture(
            f"config.json field `attn_type_list` marks lightning (linear) attention layers (0), which the engine "
            f"models only for model_type minimax_text_01 and minimax_m1, not {model_type!r}"
        )
    layer_types = cfg.get("layer_types")
    if isinstance(layer_types, list) and any(t in ("linear_attention", "mamba") for t in layer_types):
        raise UnsupportedArchitecture(
            f"config.json field `layer_types` lists linear-attention layers, which the engine does not model for "
            f"model_type {model_type!r}"
        )
