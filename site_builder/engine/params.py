"""Parameter counts from a Hugging Face-style architecture.

Conventions (shown on the methodology page):
- `total` is every tensor of the checkpoint, including MTP modules and vision towers.
- `active` counts the weights a token is multiplied by: routed experts only for the top-k, all shared
  experts, the LM head, and NOT the input-embedding table (a token reads one row of it), nor MTP modules
  (used only for speculative decoding), nor a vision tower (it encodes images once per image, not once per token).
  With tied embeddings the table is the LM head and counts.
"""

from __future__ import annotations

from dataclasses import dataclass

from site_builder.records.model import Architecture, ModelRecord


@dataclass(frozen=True)
class Shape:
    """Derived dimensions every other computation needs."""

    hidden: int
    layers: int
    heads: int
    kv_heads: int
    head_dim: int
    vocab: int
    dense_ffn: int
    experts: int
    experts_per_token: int
    expert_ffn: int
    shared_ffn: int
    moe_layers: int
    is_mla: bool

    @property
    def dense_layers(self) -> int:
        return self.layers - self.moe_layers

    @property
    def is_moe(self) -> bool:
        return self.experts > 0


@dataclass(frozen=True)
class ParamCount:
    total: int
    active: int
    embedding: int
    lm_head: int
    attention: int
    dense_mlp: int
    experts: int
    shared_experts: int
    router: int
    norms: int
    mtp: int
    vision: int

    @property
    def transformer_linear(self) -> int:
        """Weights of the linear layers inside decoder blocks: what weight quantization compresses."""
        return self.attention + self.dense_mlp + self.experts + self.shared_experts


def routed_expert_count(a: Architecture) -> int:
    return a.num_local_experts or a.num_experts or a.n_routed_experts or 0


def is_moe_layer(a: Architecture, index: int) -> bool:
    if routed_expert_count(a) == 0:
        return False
    if index < (a.first_k_dense_replace or 0):
        return False
    step = a.decoder_sparse_step or a.moe_layer_freq or 1
    if a.decoder_sparse_step:
        return (index + 1) % step == 0
    return index % step == 0


def shape_of(a: Architecture) -> Shape:
    experts = routed_expert_count(a)
    expert_ffn = a.moe_intermediate_size or a.intermediate_size
    shared = a.n_shared_experts or 0
    shared_ffn = a.shared_expert_intermediate_size or (shared * expert_ffn)
    moe_layers = sum(is_moe_layer(a, i) for i in range(a.num_hidden_layers))
    return Shape(
        hidden=a.hidden_size,
        layers=a.num_hidden_layers,
        heads=a.num_attention_heads,
        kv_heads=a.num_key_value_heads or a.num_attention_heads,
        head_dim=a.head_dim or a.hidden_size // a.num_attention_heads,
        vocab=a.vocab_size,
        dense_ffn=a.intermediate_size,
        experts=experts,
        experts_per_token=a.num_experts_per_tok or 0 if experts else 0,
        expert_ffn=expert_ffn if experts else 0,
        shared_ffn=shared_ffn if experts else 0,
        moe_layers=moe_layers,
        is_mla=a.kv_lora_rank is not None,
    )


def norm_params(a: Architecture) -> int:
    return a.hidden_size * (2 if a.norm_bias else 1)


def attention_params(a: Architecture, s: Shape) -> int:
    """One layer's attention block, without its input norm."""
    h = s.hidden
    if s.is_mla:
        rope = a.qk_rope_head_dim or 0
        nope = a.qk_nope_head_dim or 0
        v_dim = a.v_head_dim or s.head_dim
        q_dim = s.heads * (nope + rope)
        kv_rank = a.kv_lora_rank or 0
        q = h * a.q_lora_rank + a.q_lora_rank + a.q_lora_rank * q_dim if a.q_lora_rank else h * q_dim
        kv = h * (kv_rank + rope) + kv_rank + kv_rank * s.heads * (nope + v_dim)
        out = s.heads * v_dim * h
        bias = (q_dim + kv_rank + rope + h) if a.attention_bias else 0
        return q + kv + out + bias
    q_dim = s.heads * s.head_dim
    kv_dim = s.kv_heads * s.head_dim
    weights = h * q_dim + 2 * h * kv_dim + q_dim * h
    if a.attention_bias:
        bias = q_dim + 2 * kv_dim + h
    elif a.qkv_bias:
        bias = q_dim + 2 * kv_dim
    else:
        bias = 0
    qk_norm = 2 * s.head_dim if a.qk_norm else 0
    sinks = s.heads if a.attention_sinks else 0
    return weights + bias + qk_norm + sinks


def mlp_params(a: Architecture, hidden: int, ffn: int) -> int:
    matrices = 3 if a.gated_mlp else 2
    bias = ((2 * ffn if a.gated_mlp else ffn) + hidden) if a.mlp_bias else 0
    return matrices * hidden * ffn + bias


@dataclass(frozen=True)
class _Layer:
    attention: int
    dense_mlp: int
    experts: int
    active_experts: int
    shared: int
    router: int
    norms: int


def _layer(a: Architecture, s: Shape, moe: bool) -> _Layer:
    attn = attention_params(a, s)
    norms = a.norms_per_layer * norm_params(a)
    if not moe:
        return _Layer(attn, mlp_params(a, s.hidden, s.dense_ffn), 0, 0, 0, 0, norms)
    one_expert = mlp_params(a, s.hidden, s.expert_ffn)
    router = s.hidden * s.experts + (s.experts if a.router_bias else 0) + (s.experts if a.expert_score_bias else 0)
    shared = mlp_params(a, s.hidden, s.shared_ffn) if s.shared_ffn else 0
    return _Layer(attn, 0, s.experts * one_expert, s.experts_per_token * one_expert, shared, router, norms)


def count_params(model: ModelRecord) -> ParamCount:
    a = model.architecture
    s = shape_of(a)
    dense = _layer(a, s, moe=False)
    sparse = _layer(a, s, moe=True) if s.is_moe else dense
    nd, nm = s.dense_layers, s.moe_layers

    embedding = s.vocab * s.hidden
    lm_head = 0 if a.tie_word_embeddings else s.vocab * s.hidden
    attention = nd * dense.attention + nm * sparse.attention
    dense_mlp = nd * dense.dense_mlp
    experts = nm * sparse.experts
    shared = nm * sparse.shared
    router = nm * sparse.router
    norms = nd * dense.norms + nm * sparse.norms + norm_params(a)

    # An MTP module (DeepSeek-V3) is one more MoE decoder layer plus two input norms, a 2h->h projection,
    # an output norm, and its own copies of the embedding and LM head, all stored in the checkpoint.
    mtp_layer = sparse if s.is_moe else dense
    one_mtp = (
        mtp_layer.attention
        + mtp_layer.dense_mlp
        + mtp_layer.experts
        + mtp_layer.shared
        + mtp_layer.router
        + mtp_layer.norms
        + 3 * norm_params(a)
        + 2 * s.hidden * s.hidden
        + 2 * s.vocab * s.hidden
    )
    mtp = (a.num_nextn_predict_layers or 0) * one_mtp
    vision = model.vision.params if model.vision else 0

    total = embedding + lm_head + attention + dense_mlp + experts + shared + router + norms + mtp + vision
    active_experts = nm * sparse.active_experts
    head_active = lm_head if lm_head else embedding
    active = head_active + attention + dense_mlp + active_experts + shared + router + norms
    return ParamCount(
        total=total,
        active=active,
        embedding=embedding,
        lm_head=lm_head,
        attention=attention,
        dense_mlp=dense_mlp,
        experts=experts,
        shared_experts=shared,
        router=router,
        norms=norms,
        mtp=mtp,
        vision=vision,
    )
