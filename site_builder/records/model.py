"""Model records: identity, licensing, capabilities and the architecture in Hugging Face config terms."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from site_builder.records.common import PrecisionId, Record, Slug, Sourced, Url

Capability = Literal[
    "chat",
    "tool-use",
    "vision",
    "code",
    "math",
    "reasoning",
    "multilingual",
    "structured-output",
    "long-context",
]


class RopeScaling(Record):
    rope_type: str = Field(description="Scaling method as in config.json (yarn, dynamic, linear, llama3...).")
    factor: float | None = Field(default=None, gt=0)
    original_max_position_embeddings: int | None = Field(default=None, gt=0)
    low_freq_factor: float | None = None
    high_freq_factor: float | None = None
    beta_fast: float | None = None
    beta_slow: float | None = None
    mscale: float | None = None
    mscale_all_dim: float | None = None


class Architecture(Record):
    """Field names follow Hugging Face `config.json`, so a contributor can copy them across.

    Fields that configs leave implicit (gated MLP, which projections carry a bias, q/k norms) are
    stated explicitly; `site-builder import-hf-config` fills them from the model type.
    """

    model_type: str = Field(description="config.json `model_type`, e.g. llama, qwen2, deepseek_v3.")
    hidden_size: int = Field(gt=0)
    num_hidden_layers: int = Field(gt=0)
    num_attention_heads: int = Field(gt=0)
    num_key_value_heads: int | None = Field(default=None, gt=0, description="Absent means MHA (= heads).")
    head_dim: int | None = Field(default=None, gt=0, description="Absent means hidden_size / heads.")
    intermediate_size: int = Field(gt=0, description="FFN width of dense layers.")
    vocab_size: int = Field(gt=0)
    max_position_embeddings: int = Field(gt=0)
    tie_word_embeddings: bool = False
    hidden_act: str = "silu"
    gated_mlp: bool = Field(default=True, description="SwiGLU/GeGLU (3 matrices) vs plain MLP (2).")
    norm_type: Literal["rmsnorm", "layernorm"] = "rmsnorm"
    norm_bias: bool = Field(default=False, description="Norms carry a bias vector (classic LayerNorm).")
    attention_bias: bool = Field(default=False, description="Bias on q, k, v and o projections.")
    qkv_bias: bool = Field(default=False, description="Bias on q, k, v only (Qwen2).")
    mlp_bias: bool = False
    qk_norm: bool = Field(default=False, description="Per-head RMSNorm on queries and keys (Qwen3).")
    attention_sinks: bool = Field(default=False, description="One learned sink logit per head (gpt-oss).")
    rope_scaling: RopeScaling | None = None
    # Mixture of experts (field names as in the respective configs; only one of the expert counts is set).
    num_local_experts: int | None = Field(default=None, gt=0, description="Routed experts (Mixtral, gpt-oss).")
    num_experts: int | None = Field(default=None, gt=0, description="Routed experts (Qwen MoE).")
    n_routed_experts: int | None = Field(default=None, gt=0, description="Routed experts (DeepSeek).")
    num_experts_per_tok: int | None = Field(default=None, gt=0)
    moe_intermediate_size: int | None = Field(default=None, gt=0, description="FFN width of one expert.")
    n_shared_experts: int | None = Field(default=None, ge=0)
    shared_expert_intermediate_size: int | None = Field(default=None, gt=0)
    first_k_dense_replace: int | None = Field(default=None, ge=0, description="Dense layers before MoE.")
    moe_layer_freq: int | None = Field(default=None, gt=0)
    decoder_sparse_step: int | None = Field(default=None, gt=0)
    router_bias: bool = Field(default=False, description="Bias on the router linear (gpt-oss).")
    expert_score_bias: bool = Field(default=False, description="Per-expert score correction bias (DeepSeek-V3).")
    # Multi-head latent attention (DeepSeek).
    q_lora_rank: int | None = Field(default=None, gt=0)
    kv_lora_rank: int | None = Field(default=None, gt=0)
    qk_rope_head_dim: int | None = Field(default=None, gt=0)
    qk_nope_head_dim: int | None = Field(default=None, gt=0)
    v_head_dim: int | None = Field(default=None, gt=0)
    # Sliding-window attention.
    sliding_window: int | None = Field(default=None, gt=0)
    layer_types: list[Literal["sliding_attention", "full_attention"]] | None = None
    num_nextn_predict_layers: int | None = Field(default=None, ge=0, description="MTP modules (DeepSeek-V3).")


class VisionTower(Record):
    name: str = Field(description="Encoder name, e.g. InternViT-6B.")
    params: int = Field(gt=0, description="Parameters of the vision encoder and projector together.")


class StatedParams(Record):
    total: int = Field(gt=0, description="Parameter count as the source states it.")
    active: int | None = Field(default=None, gt=0, description="Active parameters per token (MoE).")
    exact: bool = Field(default=False, description="True for an exact count (safetensors metadata).")


class License(Record):
    id: str = Field(description="SPDX id (Apache-2.0, MIT) or a named custom license (llama3.1).")
    name: str
    url: Url | None = None
    commercial_use: bool | None = None


class Score(Record):
    benchmark: str = Field(description="Benchmark name, e.g. MMLU, GSM8K, HumanEval.")
    value: float = Field(ge=0, le=100, description="Score in percent.")
    setting: str = Field(description="Evaluation setting, e.g. '5-shot', '0-shot CoT'.")
    source: Url


class ModelRecord(Sourced):
    id: Slug
    name: str = Field(min_length=1)
    hf_repo: str = Field(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", description="Hugging Face repo id.")
    organization: str
    family: Slug
    release_date: dt.date | None = None
    license: License | None = None
    context_window: int = Field(gt=0, description="Usable context in tokens as the model card states it.")
    context_note: str | None = Field(
        default=None,
        description="Why context_window may exceed max_position_embeddings when the config has no rope_scaling "
        "(e.g. a rope_theta trained for long context), with the source in `sources` supporting context_window.",
    )
    description: str | None = Field(default=None, description="One or two sentences, plain text.")
    capabilities: list[Capability] = Field(default_factory=list)
    frameworks: list[Slug] = Field(default_factory=list, description="Framework ids that can serve it.")
    precisions: list[PrecisionId] = Field(min_length=1, description="Precisions/formats it is served in.")
    native_precision: PrecisionId = Field(default="bf16", description="Precision of the released weights.")
    stated_params: StatedParams | None = None
    architecture: Architecture
    vision: VisionTower | None = None
    scores: list[Score] = Field(default_factory=list)
