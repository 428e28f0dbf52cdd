"""Vision-tower parameter counts from a multimodal `config.json`.

Each counter follows the tower's modules in transformers, weights and biases included, so the result is
the number of tensor elements the checkpoint stores for the tower and its projector into the language
model. The tests check them against published checkpoint element counts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Config = Mapping[str, Any]


class UncountedVisionTower(ValueError):
    """The config has a vision tower of a kind no counter here knows; the message names it."""


def _int(cfg: Config, key: str) -> int:
    value = cfg.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise UncountedVisionTower(f"vision_config.{key} is missing or not an integer")
    return value


def _linear(inputs: int, outputs: int, bias: bool) -> int:
    return inputs * outputs + (outputs if bias else 0)


def qwen3_vl(config: Config) -> tuple[str, int]:
    """Qwen3-VL: biased Conv3d patches, learned positions, LayerNorm blocks with a plain GELU MLP, a patch
    merger and one DeepStack merger per listed ViT depth (those normalise after the 2x2 shuffle)."""
    v = config["vision_config"]
    h, ffn, out = _int(v, "hidden_size"), _int(v, "intermediate_size"), _int(v, "out_hidden_size")
    kernel = _int(v, "in_channels") * _int(v, "temporal_patch_size") * _int(v, "patch_size") ** 2
    block = 2 * 2 * h + _linear(h, 3 * h, True) + _linear(h, h, True) + _linear(h, ffn, True) + _linear(ffn, h, True)
    wide = h * _int(v, "spatial_merge_size") ** 2

    def merger(norm_width: int) -> int:
        return 2 * norm_width + _linear(wide, wide, True) + _linear(wide, out, True)

    deepstack = len(v.get("deepstack_visual_indexes") or []) * merger(wide)
    total = _linear(kernel, h, True) + _int(v, "num_position_embeddings") * h
    total += _int(v, "depth") * block + merger(h) + deepstack
    return f"Qwen3-VL ViT ({v['depth']} blocks, {h} wide) with patch merger and DeepStack mergers", total


def qwen2_5_vl(config: Config) -> tuple[str, int]:
    """Qwen2.5-VL: bias-free Conv3d patches, RMSNorm blocks with a biased SwiGLU MLP, one patch merger."""
    v = config["vision_config"]
    h, ffn, out = _int(v, "hidden_size"), _int(v, "intermediate_size"), _int(v, "out_hidden_size")
    channels = v.get("in_channels", v.get("in_chans", 3))
    kernel = int(channels) * _int(v, "temporal_patch_size") * _int(v, "patch_size") ** 2
    block = 2 * h + _linear(h, 3 * h, True) + _linear(h, h, True) + 2 * _linear(h, ffn, True) + _linear(ffn, h, True)
    wide = h * _int(v, "spatial_merge_size") ** 2
    merger = h + _linear(wide, wide, True) + _linear(wide, out, True)
    total = kernel * h + _int(v, "depth") * block + merger
    return f"Qwen2.5-VL ViT ({v['depth']} blocks, {h} wide, window attention) with patch merger", total


def mistral3_pixtral(config: Config) -> tuple[str, int]:
    """Mistral 3: Pixtral encoder (RMSNorm, bias-free gated MLP) and the projector (norm, 2x2 patch merger,
    two linears into the language model's width)."""
    v, text = config["vision_config"], config["text_config"]
    h, ffn, text_width = _int(v, "hidden_size"), _int(v, "intermediate_size"), _int(text, "hidden_size")
    layer = 2 * h + 4 * h * h + 3 * h * ffn
    encoder = _int(v, "num_channels") * _int(v, "patch_size") ** 2 * h + h + _int(v, "num_hidden_layers") * layer
    bias = bool(config.get("multimodal_projector_bias", False))
    merge = int(config.get("spatial_merge_size", 2))
    projector = h + h * merge * merge * h + _linear(h, text_width, bias) + _linear(text_width, text_width, bias)
    return f"Pixtral vision encoder ({v['num_hidden_layers']} layers, {h} wide) with patch-merger projector", (
        encoder + projector
    )


COUNTERS: dict[str, Callable[[Config], tuple[str, int]]] = {
    "qwen3_vl": qwen3_vl,
    "qwen3_vl_moe": qwen3_vl,
    "qwen2_5_vl": qwen2_5_vl,
    "mistral3": mistral3_pixtral,
}
# Ministral 3 (December 2025) ships the same Mistral3ForConditionalGeneration class, Pixtral tower and projector
# as Mistral Small 3.1, but names its config type after itself.
COUNTERS["ministral3"] = mistral3_pixtral


def vision_tower(config: Config) -> tuple[str, int] | None:
    """(name, parameters) of the config's vision tower; None when it has none.

    Raises UncountedVisionTower for a `vision_config` of a model type without a counter, so the caller can
    ask for the count instead of leaving the tower out of the total.
    """
    if not isinstance(config.get("vision_config"), Mapping):
        return None
    model_type = str(config.get("model_type", ""))
    counter = COUNTERS.get(model_type)
    if counter is None:
        raise UncountedVisionTower(f"no vision-tower counter for model_type {model_type!r}")
    return counter(config)
