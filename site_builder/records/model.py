"""Model records: identity, licensing, capabilities and the architecture in Hugging Face config terms."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, model_validator

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
    factor: float | None = Field(default=None, gt=0, description="Context scaling factor.", examples=[8.0])
    original_max_position_embeddings: int | None = Field(
        default=None, gt=0, description="Positions the model was pre-trained with, in tokens.", examples=[8192]
    )
    low_freq_factor: float | None = None
    high_freq_factor: float | None = None
    beta_fast: float | None = None
    beta_slow: float | None = None
    mscale: float | None = None
    mscale_all_dim: float | None = None


MixerKind = Literal["linear", "attention", "parallel", "none"]


class LinearAttention(Record):
    """A token mixer whose per-sequence state has a fixed size instead of a KV cache that grows with context.

    The dimensions share one vocabulary across kinds: the recurrent state of one layer holds
    `num_heads x key_head_dim x value_head_dim` numbers (for Mamba-2, heads x d_state x head_dim), and a
    short causal convolution keeps the last `conv_kernel - 1` inputs of its channels (lightning attention has
    none: conv_kernel 0).
    """

    kind: Literal["gated_deltanet", "kimi_delta", "mamba2", "lightning"] = Field(
        description="gated_deltanet: Gated DeltaNet (Qwen3-Next, Qwen3.5); kimi_delta: Kimi delta attention "
        "(Kimi Linear); mamba2: Mamba-2 SSM (Nemotron-H, Granite 4.0 hybrids, Falcon-H1); lightning: "
        "lightning attention, linear attention with a fixed per-head decay (MiniMax-Text-01, MiniMax-M1)."
    )
    layer_mixers: list[MixerKind] = Field(
        description="Per decoder layer, its token mixer: linear (this block's kind), attention (softmax "
        "attention with a KV cache), parallel (both side by side, Falcon-H1), none (an FFN-only block)."
    )
    mixer_only_layers: bool = Field(
        default=False,
        description="A layer holds either a token mixer or an FFN, never both (Nemotron-H's M, *, -, E blocks).",
    )
    num_heads: int = Field(gt=0, description="Value heads (Gated DeltaNet, KDA) or SSM heads (Mamba-2).")
    num_key_heads: int | None = Field(
        default=None,
        gt=0,
        description="Query/key heads (Gated DeltaNet) or B/C groups (Mamba-2 n_groups); absent means num_heads.",
    )
    key_head_dim: int = Field(gt=0, description="Key width per head; Mamba-2: the state size d_state.")
    value_head_dim: int = Field(gt=0, description="Value width per head; Mamba-2: the head dim.")
    conv_kernel: int = Field(
        ge=0,
        description="Width of the short causal depthwise convolution; 0 for lightning attention, which has none.",
        examples=[4],
    )
    conv_bias: bool = Field(default=False, description="The convolution carries a bias (Mamba-2 conv_bias).")
    proj_bias: bool = Field(default=False, description="In and out projections carry a bias (Mamba-2).")
    gated_norm: bool = Field(
        default=True,
        description="A gated RMSNorm before the output projection (per head for Gated DeltaNet "
        "and KDA, over the whole inner width for Mamba-2).",
    )
    state_dtype_bytes: Literal[2, 4] = Field(
        default=2, description="Bytes per number of the recurrent state (4 where the config keeps it in float32)."
    )
    attention_output_gate: bool = Field(
        default=False,
        description="Full-attention layers gate their output per query channel, so q_proj is "
        "twice as wide (Qwen3-Next, Qwen3.5).",
    )
    mtp_shares_embeddings: bool = Field(
        default=False, description="MTP layers reuse the main embedding and LM head instead of storing copies."
    )

    @model_validator(mode="after")
    def _conv_matches_kind(self) -> LinearAttention:
        # Only lightning attention goes without the short convolution; a 0 elsewhere is a typo, not a design.
        if (self.kind == "lightning") != (self.conv_kernel == 0):
            raise ValueError("conv_kernel must be 0 for kind lightning and at least 1 for every other kind")
        return self


class Architecture(Record):
    """Field names follow Hugging Face `config.json`, so a contributor can copy them across.

    Fields that configs leave implicit (gated MLP, which projections carry a bias, q/k norms) are
    stated explicitly; `site-builder import-hf-config` fills them from the model type.
    """

    model_type: str = Field(description="config.json `model_type`, e.g. llama, qwen2, deepseek_v3.")
    hidden_size: int = Field(gt=0, description="Width of the residual stream (d_model).", examples=[4096])
    num_hidden_layers: int = Field(gt=0, description="Decoder layers.", examples=[32])
    num_attention_heads: int = Field(gt=0, description="Query heads per layer.", examples=[32])
    num_key_value_heads: int | None = Field(default=None, gt=0, description="Absent means MHA (= heads).")
    head_dim: int | None = Field(default=None, gt=0, description="Absent means hidden_size / heads.")
    intermediate_size: int = Field(gt=0, description="FFN width of dense layers.")
    vocab_size: int = Field(gt=0, description="Tokens in the vocabulary (rows of the embedding).", examples=[128256])
    max_position_embeddings: int = Field(
        gt=0, description="Positions the config declares, in tokens.", examples=[131072]
    )
    tie_word_embeddings: bool = Field(default=False, description="LM head shares the embedding matrix.")
    hidden_act: str = Field(default="silu", description="MLP activation as in config.json.", examples=["silu"])
    gated_mlp: bool = Field(default=True, description="SwiGLU/GeGLU (3 matrices) vs plain MLP (2).")
    norm_type: Literal["rmsnorm", "layernorm"] = "rmsnorm"
    norm_bias: bool = Field(default=False, description="Norms carry a bias vector (classic LayerNorm).")
    norms_per_layer: int = Field(
        default=2,
        ge=1,
        description="Norm vectors per decoder layer: 2 (before attention and MLP); 4 in Gemma 2/3 (also after "
        "each); 1 where attention and MLP run in parallel from one norm (Cohere).",
    )
    attention_bias: bool = Field(default=False, description="Bias on q, k, v and o projections.")
    qkv_bias: bool = Field(default=False, description="Bias on q, k, v only (Qwen2).")
    mlp_bias: bool = Field(default=False, description="Bias on MLP / expert projections (gpt-oss).")
    qk_norm: bool = Field(default=False, description="Per-head RMSNorm on queries and keys (Qwen3).")
    attention_sinks: bool = Field(default=False, description="One learned sink logit per head (gpt-oss).")
    rope_scaling: RopeScaling | None = Field(default=None, description="config.json `rope_scaling`, if any.")
    # Mixture of experts (field names as in the respective configs; only one of the expert counts is set).
    num_local_experts: int | None = Field(default=None, gt=0, description="Routed experts (Mixtral, gpt-oss).")
    num_experts: int | None = Field(default=None, gt=0, description="Routed experts (Qwen MoE).")
    n_routed_experts: int | None = Field(default=None, gt=0, description="Routed experts (DeepSeek).")
    num_experts_per_tok: int | None = Field(default=None, gt=0, description="Routed experts per token (top-k).")
    moe_intermediate_size: int | None = Field(default=None, gt=0, description="FFN width of one expert.")
    n_shared_experts: int | None = Field(default=None, ge=0, description="Always-active shared experts.")
    shared_expert_intermediate_size: int | None = Field(
        default=None, gt=0, description="FFN width of the shared expert(s) together (Qwen MoE)."
    )
    first_k_dense_replace: int | None = Field(default=None, ge=0, description="Dense layers before MoE.")
    moe_layer_freq: int | None = Field(default=None, gt=0, description="Every n-th layer is MoE (DeepSeek).")
    decoder_sparse_step: int | None = Field(
        default=None, gt=0, description="Layer i (0-based) is MoE when (i+1) % step == 0 (Qwen, Llama 4)."
    )
    router_bias: bool = Field(default=False, description="Bias on the router linear (gpt-oss).")
    expert_score_bias: bool = Field(default=False, description="Per-expert score correction bias (DeepSeek-V3).")
    # Multi-head latent attention (DeepSeek).
    q_lora_rank: int | None = Field(default=None, gt=0, description="MLA query compression rank.", examples=[1536])
    kv_lora_rank: int | None = Field(
        default=None, gt=0, description="MLA compressed KV width: what the cache stores.", examples=[512]
    )
    qk_rope_head_dim: int | None = Field(default=None, gt=0, description="MLA rotary part of q/k per head.")
    qk_nope_head_dim: int | None = Field(default=None, gt=0, description="MLA non-rotary part of q/k per head.")
    v_head_dim: int | None = Field(
        default=None,
        gt=0,
        description="Value width per head: MLA's, or that of softmax attention whose values are narrower than its "
        "queries and keys (MiMo-V2: 192 for q/k, 128 for v). Absent means head_dim.",
    )
    # Sliding-window attention.
    sliding_window: int | None = Field(
        default=None, gt=0, description="Tokens a sliding-window layer attends to (and caches).", examples=[4096]
    )
    layer_types: list[Literal["sliding_attention", "chunked_attention", "full_attention"]] | None = Field(
        default=None, description="Per-layer attention kind, when sliding, chunked and full layers alternate."
    )
    attention_chunk_size: int | None = Field(
        default=None,
        gt=0,
        description="Chunked local attention (Llama 4): a chunked layer attends within its chunk of this many "
        "tokens, so it caches at most that many.",
        examples=[8192],
    )
    # --- Per-layer attention variants: Gemma 4 global layers, KV shared across layers, DeepSeek sparse attention.
    global_head_dim: int | None = Field(
        default=None, gt=0, description="Head width of full-attention layers where it differs from head_dim (Gemma 4)."
    )
    num_global_key_value_heads: int | None = Field(
        default=None, gt=0, description="KV heads of the full-attention layers where they differ (Gemma 4)."
    )
    attention_k_eq_v: bool = Field(
        default=False,
        description="Full-attention layers have no v_proj: values are the key projection, normalised separately "
        "(Gemma 4). The cache still holds K and V.",
    )
    layer_scalars: bool = Field(default=False, description="One learned output scale per decoder layer (Gemma 4).")
    num_kv_shared_layers: int | None = Field(
        default=None,
        ge=0,
        description="The last n layers compute no K and V of their own and read the cache of the last earlier layer "
        "of the same attention kind (Gemma 3n): they add no KV cache.",
    )
    index_n_heads: int | None = Field(
        default=None, gt=0, description="Query heads of the DeepSeek sparse attention (DSA) indexer.", examples=[64]
    )
    index_head_dim: int | None = Field(
        default=None,
        gt=0,
        description="Width of one indexer head; each indexer layer caches one key of this width per token.",
        examples=[128],
    )
    index_topk: int | None = Field(
        default=None, gt=0, description="Tokens the indexer selects for each query to attend to.", examples=[2048]
    )
    indexer_layers: list[int] | None = Field(
        default=None,
        description="0-based decoder layers that own an indexer (absent: all of them); the others reuse the "
        "previous indexer's selection (GLM-5.2 `indexer_types`).",
    )
    compress_ratios: list[int] | None = Field(
        default=None,
        description="DeepSeek V4 compressed attention, per layer (MTP layers after the decoder's): 0 keeps only the "
        "sliding window; r > 0 also caches one entry per r tokens (r = 4 with overlapping blocks and an indexer, "
        "compressed sparse attention; larger r attends to all entries, heavily compressed attention).",
    )
    o_groups: int | None = Field(default=None, gt=0, description="Groups of the low-rank output projection (V4).")
    o_lora_rank: int | None = Field(default=None, gt=0, description="Rank of each output-projection group (V4).")
    hc_mult: int | None = Field(
        default=None, gt=0, description="Hyper-connection streams: the residual is this many copies wide (V4)."
    )
    num_hash_layers: int | None = Field(
        default=None,
        ge=0,
        description="First n MoE layers route by a token-id table instead of a learned score bias (V4).",
    )
    mtp_shares_embeddings: bool = Field(
        default=False,
        description="MTP modules reuse the main embedding table and LM head instead of storing copies (GLM-5, "
        "MiMo-V2; hybrids say it in linear_attention).",
    )
    num_nextn_predict_layers: int | None = Field(default=None, ge=0, description="MTP modules (DeepSeek-V3).")
    # Linear-attention and state-space layers (Qwen3-Next, Kimi Linear, Nemotron-H, Granite 4.0, Falcon-H1),
    # with the attention details that only these hybrids use.
    linear_attention: LinearAttention | None = Field(
        default=None, description="Linear-attention / state-space token mixers and which layers use them."
    )
    qk_norm_per_layer: bool = Field(
        default=False,
        description="The q/k RMSNorm spans all heads of the layer (MiniMax-M2 qk_norm_type per_layer), so its "
        "weights are heads x head_dim wide instead of head_dim.",
    )
    # MiMo-V2: sinks only where attention slides, and MTP modules unlike DeepSeek's.
    sliding_num_attention_heads: int | None = Field(
        default=None,
        gt=0,
        description="Query heads of the sliding-window layers where they differ from num_attention_heads (Laguna "
        "num_attention_heads_per_layer: 64 or 72 against 48 in the global layers).",
    )
    attention_gate: Literal["per_head", "elementwise"] | None = Field(
        default=None,
        description="A learned output gate on softmax attention, projected from the layer input: one value per query "
        "head (Laguna g_proj, hidden -> heads) or one per channel (hidden -> heads x head_dim).",
    )
    sliding_num_key_value_heads: int | None = Field(
        default=None,
        gt=0,
        description="KV heads of the sliding-window layers (and MTP layers) where they differ from "
        "num_key_value_heads (MiMo-V2.5 swa_num_key_value_heads: 8 against 4 in its global layers).",
    )
    attention_sinks_sliding_only: bool = Field(
        default=False,
        description="With attention_sinks: only the sliding-window layers carry them, MTP layers included (MiMo-V2 "
        "add_swa_attention_sink_bias without add_full_attention_sink_bias); otherwise every layer does (gpt-oss).",
    )
    mtp_dense_ffn: bool = Field(
        default=False,
        description="MTP modules use a dense FFN of intermediate_size even when the model's layers use experts "
        "(MiMo-V2).",
    )


class VisionTower(Record):
    name: str = Field(description="Encoder name, e.g. InternViT-6B.")
    params: int = Field(gt=0, description="Parameters of the vision encoder and projector together.")


class StatedParams(Record):
    total: int = Field(gt=0, description="Parameter count as the source states it.")
    active: int | None = Field(default=None, gt=0, description="Active parameters per token (MoE).")
    exact: bool = Field(default=False, description="True for an exact count (safetensors metadata).")


class License(Record):
    id: str = Field(description="SPDX id (Apache-2.0, MIT) or a named custom license (llama3.1).")
    name: str = Field(description="The license as its text names it.", examples=["Llama 3.1 Community License"])
    url: Url | None = Field(default=None, description="Where the license text is.")
    commercial_use: bool | None = Field(default=None, description="Whether the weights may be used commercially.")


class Score(Record):
    benchmark: str = Field(description="Benchmark name, e.g. MMLU, GSM8K, HumanEval.")
    value: float = Field(ge=0, le=100, description="Score in percent.")
    setting: str = Field(description="Evaluation setting, e.g. '5-shot', '0-shot CoT'.")
    source: Url = Field(description="Model card or technical report stating the score.")


HF_REPO = r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$"


class Checkpoint(Record):
    """A published checkpoint of the model in another weight format, which deployment commands point at."""

    precision: PrecisionId = Field(description="Its weight format (one of the model's precisions).")
    repo: str = Field(pattern=HF_REPO, description="Its Hugging Face repo id.", examples=["Qwen/Qwen3-8B-FP8"])


class ModelRecord(Sourced):
    id: Slug = Field(description="Equals the file name.", examples=["llama-3.1-8b"])
    name: str = Field(min_length=1, description="Display name.", examples=["Llama 3.1 8B"])
    hf_repo: str = Field(pattern=HF_REPO, description="Hugging Face repo id.")
    organization: str = Field(description="Who released the weights.", examples=["Meta"])
    family: Slug = Field(description="Id of an article in catalog/families/.", examples=["llama"])
    # Required, so a new record cannot pass without them; `release_date: null` states "unknown" on purpose.
    release_date: dt.date | None = Field(description="First public release (YYYY-MM-DD), or null if unknown.")
    license: License | None = Field(description="License of the weights, or null if no source states it.")
    context_window: int = Field(gt=0, description="Usable context in tokens as the model card states it.")
    context_note: str | None = Field(
        default=None,
        description="Why context_window may exceed max_position_embeddings when the config has no rope_scaling "
        "(e.g. a rope_theta trained for long context), with the source in `sources` supporting context_window.",
    )
    description: str = Field(min_length=1, description="One or two sentences, plain text.")
    capabilities: list[Capability] = Field(default_factory=list, description="What the model card says it does.")
    frameworks: list[Slug] = Field(min_length=1, description="Framework ids that can serve it.")
    precisions: list[PrecisionId] = Field(min_length=1, description="Precisions/formats it is served in.")
    native_precision: PrecisionId = Field(default="bf16", description="Precision of the released weights.")
    checkpoints: list[Checkpoint] = Field(
        default_factory=list,
        description="Published checkpoints in other formats (FP8, NVFP4, AWQ...), each cited by a source that "
        "supports `checkpoints`; deployment pages load them instead of converting hf_repo.",
    )
    stated_params: StatedParams | None = Field(default=None, description="Parameter count as a source states it.")
    architecture: Architecture = Field(description="Copied from config.json (import-hf-config does it).")
    vision: VisionTower | None = Field(default=None, description="Vision encoder of a multimodal model.")
    audio: VisionTower | None = Field(
        default=None, description="Audio encoder of an omnimodal model (name and parameters, like the vision tower)."
    )
    scores: list[Score] = Field(default_factory=list, description="Sourced benchmark scores (quality index).")

    @model_validator(mode="after")
    def _checkpoints_are_served_formats(self) -> ModelRecord:
        for c in self.checkpoints:
            if c.precision not in self.precisions:
                raise ValueError(f"checkpoint {c.repo}: {c.precision} is not in precisions")
        if self.checkpoints and not any("checkpoints" in src.supports for src in self.sources):
            raise ValueError("checkpoints: no source supports them")
        return self
