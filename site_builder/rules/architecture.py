"""Rules on a model's `architecture`: the values the engine counts parameters and KV-cache bytes from must agree.

Each check is one fact a config.json cannot contradict; a record that breaks one would be counted wrongly
without any error, so these are errors.
"""

from __future__ import annotations

from collections.abc import Iterator

from site_builder.records import ModelRecord
from site_builder.rules.registry import Finding, each_model, rule

EXPERT_COUNTS = ("num_local_experts", "num_experts", "n_routed_experts")


def _experts(m: ModelRecord) -> list[str]:
    """The routed-expert count fields the record sets (configs name the same count three ways)."""
    return [n for n in EXPERT_COUNTS if getattr(m.architecture, n)]


@rule("architecture.kv-heads-divide-heads", "num_key_value_heads divides num_attention_heads")
@each_model
def kv_heads_divide_heads(m: ModelRecord) -> Iterator[Finding]:
    a = m.architecture
    kv = a.num_key_value_heads
    if kv is not None and a.num_attention_heads % kv:
        yield (
            ("architecture", "num_key_value_heads"),
            f"must divide num_attention_heads ({a.num_attention_heads}), got {kv}",
        )


@rule("architecture.head-dim-derivable", "head_dim is set where hidden_size / num_attention_heads is no integer")
@each_model
def head_dim_derivable(m: ModelRecord) -> Iterator[Finding]:
    a = m.architecture
    if a.head_dim is None and a.kv_lora_rank is None and a.hidden_size % a.num_attention_heads:
        yield (
            ("architecture", "head_dim"),
            f"required: hidden_size ({a.hidden_size}) is not divisible by "
            f"num_attention_heads ({a.num_attention_heads})",
        )


@rule("architecture.layer-types-cover-layers", "layer_types has one entry per decoder layer")
@each_model
def layer_types_cover_layers(m: ModelRecord) -> Iterator[Finding]:
    a = m.architecture
    if a.layer_types is not None and len(a.layer_types) != a.num_hidden_layers:
        yield (
            ("architecture", "layer_types"),
            f"has {len(a.layer_types)} entries, expected num_hidden_layers ({a.num_hidden_layers})",
        )


def _required_by(m: ModelRecord, layer_type: str, field: str) -> Iterator[Finding]:
    """`field` sizes layers of `layer_type`: without it their KV cache cannot be counted."""
    a = m.architecture
    if a.layer_types and layer_type in a.layer_types and getattr(a, field) is None:
        yield ("architecture", field), f"required when layer_types has {layer_type} layers"


@rule("architecture.chunk-size-set", "attention_chunk_size is set when layer_types has chunked_attention layers")
@each_model
def chunk_size_set(m: ModelRecord) -> Iterator[Finding]:
    return _required_by(m, "chunked_attention", "attention_chunk_size")


@rule("architecture.sliding-window-set", "sliding_window is set when layer_types has sliding_attention layers")
@each_model
def sliding_window_set(m: ModelRecord) -> Iterator[Finding]:
    return _required_by(m, "sliding_attention", "sliding_window")


@rule("architecture.one-expert-count", "at most one of the routed-expert count fields is set")
@each_model
def one_expert_count(m: ModelRecord) -> Iterator[Finding]:
    experts = _experts(m)
    if len(experts) > 1:
        yield ("architecture", experts[1]), f"set only one routed-expert count (also {experts[0]})"


@rule("architecture.experts-per-token-set", "a mixture-of-experts model sets num_experts_per_tok")
@each_model
def experts_per_token_set(m: ModelRecord) -> Iterator[Finding]:
    if _experts(m) and not m.architecture.num_experts_per_tok:
        yield ("architecture", "num_experts_per_tok"), "required for a mixture-of-experts model"


@rule("architecture.experts-per-token-within-count", "num_experts_per_tok does not exceed the routed-expert count")
@each_model
def experts_per_token_within_count(m: ModelRecord) -> Iterator[Finding]:
    a = m.architecture
    experts = _experts(m)
    count = getattr(a, experts[0]) if experts else 0
    if experts and a.num_experts_per_tok and a.num_experts_per_tok > count:
        yield ("architecture", "num_experts_per_tok"), f"must not exceed the expert count ({count})"


@rule("architecture.mla-complete", "MLA sets kv_lora_rank, qk_rope_head_dim and qk_nope_head_dim together")
@each_model
def mla_complete(m: ModelRecord) -> Iterator[Finding]:
    a = m.architecture
    mla = (a.kv_lora_rank, a.qk_rope_head_dim, a.qk_nope_head_dim)
    if any(v is not None for v in mla) and not all(v is not None for v in mla):
        yield ("architecture", "kv_lora_rank"), "MLA needs kv_lora_rank, qk_rope_head_dim and qk_nope_head_dim"


def _with_mtp(m: ModelRecord) -> int:
    return m.architecture.num_hidden_layers + (m.architecture.num_nextn_predict_layers or 0)


@rule(
    "architecture.compress-ratios-cover-layers",
    "compress_ratios has one entry per decoder layer (or per decoder and MTP layer)",
)
@each_model
def compress_ratios_cover_layers(m: ModelRecord) -> Iterator[Finding]:
    layers, ratios = m.architecture.num_hidden_layers, m.architecture.compress_ratios
    if ratios is not None and len(ratios) not in (layers, _with_mtp(m)):
        yield (
            ("architecture", "compress_ratios"),
            f"has {len(ratios)} entries, expected num_hidden_layers ({layers}) "
            f"or that plus the MTP layers ({_with_mtp(m)})",
        )


@rule("architecture.compress-ratios-not-negative", "compress_ratios are 0 or positive")
@each_model
def compress_ratios_not_negative(m: ModelRecord) -> Iterator[Finding]:
    ratios = m.architecture.compress_ratios
    if ratios is not None and any(r < 0 for r in ratios):
        yield ("architecture", "compress_ratios"), "ratios must be 0 or positive"


@rule("architecture.indexer-layers-in-range", "indexer_layers name decoder layers that exist")
@each_model
def indexer_layers_in_range(m: ModelRecord) -> Iterator[Finding]:
    last = m.architecture.num_hidden_layers - 1
    if any(not 0 <= i <= last for i in m.architecture.indexer_layers or ()):
        yield ("architecture", "indexer_layers"), f"layer indices must lie in 0..{last}"


@rule("architecture.indexer-dims-set", "a sparse-attention indexer sets index_n_heads and index_head_dim")
@each_model
def indexer_dims_set(m: ModelRecord) -> Iterator[Finding]:
    a = m.architecture
    # In DeepSeek V4's compress_ratios, 4 marks the layers that carry an indexer.
    indexed = a.indexer_layers is not None or (a.compress_ratios is not None and 4 in a.compress_ratios)
    if indexed and not (a.index_n_heads and a.index_head_dim):
        yield ("architecture", "index_n_heads"), "an indexer needs index_n_heads and index_head_dim"


@rule("architecture.kv-shared-layers-below-layers", "num_kv_shared_layers leaves some layer computing K and V")
@each_model
def kv_shared_layers_below_layers(m: ModelRecord) -> Iterator[Finding]:
    a = m.architecture
    layers = a.num_hidden_layers
    if a.num_kv_shared_layers is not None and a.num_kv_shared_layers >= layers:
        yield (
            ("architecture", "num_kv_shared_layers"),
            f"must be below num_hidden_layers ({layers}): some layer has to compute K and V",
        )
