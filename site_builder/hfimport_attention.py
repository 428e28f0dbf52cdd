"""Importer rules for per-layer attention shapes: MiMo-V2, Poolside Laguna, DeepSeek-OCR's language model,
and refusals of per-layer layouts the engine does not model (so such a config fails with the field's name instead
of importing with a wrong count)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from site_builder.hfimport_hybrid import UnsupportedArchitecture

Config = Mapping[str, Any]


# MiMo-V2 spells the sliding-window layers' attention shape separately. The engine lets their KV-head count differ
# (MiMo-V2.5: 8 against 4) but not these.
MIMO_SWA_TWINS = (
    ("swa_num_attention_heads", "num_attention_heads"),
    ("swa_head_dim", "head_dim"),
    ("swa_v_head_dim", "v_head_dim"),
)
# The released MiMo-V2.5 checkpoints hold three MTP layers (model.mtp.layers.0-2) that the config does not declare.
MIMO_MTP_LAYERS = 3


def extra_fields(cfg: Config, model_type: str) -> dict[str, Any]:
    refuse_per_layer_attention(cfg)
    if model_type == "mimo_v2":
        return mimo_v2_fields(cfg)
    if model_type == "laguna":
        return laguna_fields(cfg)
    if model_type == "deepseek_vl_v2":
        return deepseek_vl_v2_fields(cfg)
    return {}


# With `use_mla: false` DeepSeek-OCR's DeepSeek-V2 decoder writes the unused MLA widths as 0 (and ranks as null):
# it is plain multi-head attention with head_dim = hidden_size / heads.
MLA_WIDTHS = ("q_lora_rank", "kv_lora_rank", "qk_rope_head_dim", "qk_nope_head_dim", "v_head_dim")


def deepseek_vl_v2_fields(cfg: Config) -> dict[str, Any]:
    if cfg.get("use_mla", True):
        raise UnsupportedArchitecture(
            "deepseek_vl_v2 config.json: use_mla true is not supported (only DeepSeek-OCR's MHA)"
        )
    return dict.fromkeys(MLA_WIDTHS)


def refuse_per_layer_attention(cfg: Config) -> None:
    """Query-head counts that change from layer to layer in any other way than sliding against global layers."""
    heads = cfg.get("num_attention_heads_per_layer")
    if not isinstance(heads, list) or len(set(heads)) == 1:
        return
    if sliding_heads(cfg) is None:
        counts = ", ".join(str(h) for h in sorted(set(heads)))
        raise UnsupportedArchitecture(
            "config.json uses what the engine does not model: num_attention_heads_per_layer: query-head counts "
            f"({counts}) that do not follow the sliding-window / global split of layer_types"
        )


def sliding_heads(cfg: Config) -> int | None:
    """The sliding layers' query-head count when every global layer has num_attention_heads and every sliding
    layer one other count; None otherwise."""
    heads, kinds = cfg.get("num_attention_heads_per_layer"), cfg.get("layer_types")
    if not (isinstance(heads, list) and isinstance(kinds, list) and len(heads) == len(kinds)):
        return None
    by_kind: dict[str, set[Any]] = {}
    for count, kind in zip(heads, kinds, strict=True):
        by_kind.setdefault(kind, set()).add(count)
    if by_kind.get("full_attention", {cfg.get("num_attention_heads")}) != {cfg.get("num_attention_heads")}:
        return None
    sliding = by_kind.get("sliding_attention", set())
    return (
        next(iter(sliding)) if len(sliding) == 1 and set(by_kind) <= {"full_attention", "sliding_attention"} else None
    )


# Laguna writes its output gate as "per-head" (S-2.1) or `true` (XS.2). A per-head gate is what makes XS.2 add up to
# the 33.4B total its serving docs state (a per-channel gate would make it 34.1B), so `true` reads as per-head.
LAGUNA_GATES = {"per-head": "per_head", True: "per_head", "per-element": "elementwise"}


def laguna_fields(cfg: Config) -> dict[str, Any]:
    """Poolside Laguna: more query heads in the sliding layers, a softplus output gate, a dense first layer, one
    ungated shared expert beside the routed ones, and a sigmoid router with a selection bias."""
    problems = []
    gate = cfg.get("gating")
    if gate not in LAGUNA_GATES:
        problems.append(f"gating: {gate!r}")
    kinds = cfg.get("mlp_layer_types")
    dense_first = None
    if isinstance(kinds, list) and set(kinds) <= {"dense", "sparse"}:
        dense_first = leading_dense_layers([int(kind == "sparse") for kind in kinds], len(kinds))
    elif kinds is None and cfg.get("mlp_only_layers") is not None:
        only = cfg["mlp_only_layers"]
        dense_first = len(only) if only == list(range(len(only))) else None
    if dense_first is None:
        problems.append("mlp_layer_types / mlp_only_layers: dense layers other than a leading run")
    if cfg.get("moe_router_logit_softcapping"):
        problems.append("moe_router_logit_softcapping")
    if problems:
        raise UnsupportedArchitecture("laguna config.json uses what the engine does not model: " + "; ".join(problems))
    heads = sliding_heads(cfg)
    return {
        "sliding_num_attention_heads": heads if heads != cfg.get("num_attention_heads") else None,
        "attention_gate": LAGUNA_GATES[gate],
        "first_k_dense_replace": dense_first,
        "decoder_sparse_step": None,
        "n_shared_experts": 1,
        "qk_norm": True,
        "expert_score_bias": True,
    }


def mimo_v2_fields(cfg: Config) -> dict[str, Any]:
    """Sliding-window and global layers from `hybrid_layer_pattern` (1 = sliding), sinks from the two
    `add_*_attention_sink_bias` flags, leading dense layers from the `moe_layer_freq` list, narrower values, and the
    sliding layers' own KV-head count. Vision and audio encoders are left to the record, as for every
    multimodal config."""
    layers = int(cfg["num_hidden_layers"])
    problems = [
        f"{swa} ({cfg[swa]}) differs from {key} ({cfg.get(key)})"
        for swa, key in MIMO_SWA_TWINS
        if cfg.get(swa) is not None and cfg[swa] != cfg.get(key)
    ]
    pattern = cfg.get("hybrid_layer_pattern")
    if not (isinstance(pattern, list) and len(pattern) == layers and set(pattern) <= {0, 1}):
        problems.append(f"hybrid_layer_pattern: expected {layers} entries of 0 (global) or 1 (sliding)")
    dense_first = leading_dense_layers(cfg.get("moe_layer_freq"), layers)
    if dense_first is None:
        problems.append("moe_layer_freq: dense layers other than a leading run")
    full_sinks, swa_sinks = bool(cfg.get("add_full_attention_sink_bias")), bool(cfg.get("add_swa_attention_sink_bias"))
    if full_sinks and not swa_sinks:
        problems.append("add_full_attention_sink_bias: sinks on global layers only")
    if problems:
        raise UnsupportedArchitecture("mimo_v2 config.json uses what the engine does not model: " + "; ".join(problems))
    assert isinstance(pattern, list)
    swa_kv = cfg.get("swa_num_key_value_heads")
    return {
        "layer_types": ["sliding_attention" if kind else "full_attention" for kind in pattern],
        # Its attention_chunk_size repeats the window for the kernels; no layer attends in Llama 4-style chunks.
        "attention_chunk_size": None,
        "moe_layer_freq": None,
        "first_k_dense_replace": dense_first,
        "v_head_dim": cfg.get("v_head_dim"),
        "sliding_num_key_value_heads": swa_kv if swa_kv != cfg.get("num_key_value_heads") else None,
        "attention_sinks": swa_sinks,
        "attention_sinks_sliding_only": not full_sinks,
        # Sigmoid routing with a per-expert correction bias (model.layers.*.mlp.gate.e_score_correction_bias).
        "expert_score_bias": cfg.get("topk_method") == "noaux_tc",
        "num_nextn_predict_layers": MIMO_MTP_LAYERS,
        "mtp_dense_ffn": True,
        "mtp_shares_embeddings": True,
    }


def leading_dense_layers(freq: Any, layers: int) -> int | None:
    """How many dense layers lead a per-layer MoE flag list [0, ..., 0, 1, ..., 1]; None for any other shape."""
    if isinstance(freq, int):
        return 0 if freq == 1 else None
    if not isinstance(freq, list) or len(freq) != layers or not set(freq) <= {0, 1}:
        return None
    first_moe = freq.index(1) if 1 in freq else layers
    return first_moe if all(freq[first_moe:]) else None
