"""Parameter counts from a Hugging Face-style architecture.

Conventions (shown on the methodology page):
- `total` is every tensor of the checkpoint, including MTP modules and vision and audio encoders.
- `active` counts the weights a token is multiplied by: routed experts only for the top-k, all shared
  experts, the LM head, and NOT the input-embedding table (a token reads one row of it), nor MTP modules
  (used only for speculative decoding), nor a vision tower (it encodes images once per image, not once per token).
  With tied embeddings the table is the LM head and counts.
- Linear-attention and state-space layers (Gated DeltaNet, Kimi delta attention, lightning attention, Mamba-2)
  count every projection, convolution, gate, A_log/dt/D vector and gated norm, all active; an MTP layer is a
  full-attention layer, with its own embedding and LM head copies unless it shares the main ones (Qwen).
- Layers are counted one by one: a full-attention layer among sliding ones may have its own KV heads and head
  width (Gemma 4), and a DeepSeek-sparse-attention layer adds its lightning indexer where it owns one.
- An MTP module stores its own embedding and LM head copies unless the record says it shares them (GLM-5).
- Softmax attention whose values are narrower than its queries and keys (MiMo-V2: 192 and 128 per head) counts
  v_proj and o_proj at the value width; sinks count once per head on every layer that carries them (gpt-oss:
  all, MiMo-V2: the sliding-window ones and its MTP layers); MiMo-V2.5's sliding-window and MTP layers have
  twice the KV heads of its global layers, in their projections and in their cache; MiMo-V2's three MTP layers
  have a dense FFN and reuse the main embedding and LM head. Laguna's sliding-window layers have more query
  heads than its global ones, and a per-head output gate (one hidden -> heads projection) in every layer.
"""

from __future__ import annotations

from dataclasses import dataclass

from site_builder.records.model import Architecture, LinearAttention, MixerKind, ModelRecord


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
    linear_mixer: int = 0

    @property
    def transformer_linear(self) -> int:
        """Weights of the linear layers inside decoder blocks: what weight quantization compresses."""
        return self.attention + self.linear_mixer + self.dense_mlp + self.experts + self.shared_experts


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


def layer_mixer(a: Architecture, index: int) -> MixerKind:
    """The token mixer of layer `index`: softmax attention unless a linear-attention block says otherwise."""
    return a.linear_attention.layer_mixers[index] if a.linear_attention else "attention"


def has_ffn(a: Architecture, index: int) -> bool:
    la = a.linear_attention
    return not (la and la.mixer_only_layers and la.layer_mixers[index] != "none")


def shape_of(a: Architecture) -> Shape:
    experts = routed_expert_count(a)
    expert_ffn = a.moe_intermediate_size or a.intermediate_size
    shared = a.n_shared_experts or 0
    shared_ffn = a.shared_expert_intermediate_size or (shared * expert_ffn)
    moe_layers = sum(is_moe_layer(a, i) and has_ffn(a, i) for i in range(a.num_hidden_layers))
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


def is_global_layer(a: Architecture, index: int) -> bool:
    """A full-attention layer among sliding or chunked ones (an MTP layer, index >= layers, attends fully unless
    the model's MTP layers attend through the sliding window)."""
    if index >= a.num_hidden_layers:
        return a.layer_types is not None and not mtp_slides(a)
    return a.layer_types is not None and a.layer_types[index] == "full_attention"


def is_sliding_layer(a: Architecture, index: int) -> bool:
    """A sliding-window layer; MiMo-V2's MTP layers (index >= layers) attend through the window too."""
    if index >= a.num_hidden_layers:
        return mtp_slides(a)
    return a.layer_types is not None and a.layer_types[index] == "sliding_attention"


def mtp_slides(a: Architecture) -> bool:
    """MiMo-V2's MTP layers carry the sinks and KV heads that only its sliding-window layers have."""
    return a.attention_sinks_sliding_only or a.sliding_num_key_value_heads is not None


@dataclass(frozen=True)
class AttentionDims:
    """The shape of one softmax-attention layer, which may differ between sliding and global layers."""

    heads: int
    kv_heads: int
    head_dim: int  # query and key width per head
    v_head_dim: int  # value width per head (narrower than head_dim in MiMo-V2)
    k_eq_v: bool  # no v_proj: the values come from the key projection (Gemma 4's global layers)
    sinks: bool


def layer_attention_dims(a: Architecture, s: Shape, index: int) -> AttentionDims:
    """Heads, KV heads and widths of layer `index`: Gemma 4's global layers have their own KV heads and width;
    Laguna's and MiMo-V2.5's sliding-window layers have their own query or KV heads."""
    sinks = a.attention_sinks and (is_sliding_layer(a, index) or not a.attention_sinks_sliding_only)
    if is_global_layer(a, index) and (a.num_global_key_value_heads or a.global_head_dim):
        width = a.global_head_dim or s.head_dim
        kv = a.num_global_key_value_heads or s.kv_heads
        return AttentionDims(s.heads, kv, width, width, a.attention_k_eq_v, sinks)
    v_width = a.v_head_dim or s.head_dim
    if is_sliding_layer(a, index):
        heads = a.sliding_num_attention_heads or s.heads
        kv = a.sliding_num_key_value_heads or s.kv_heads
        return AttentionDims(heads, kv, s.head_dim, v_width, False, sinks)
    return AttentionDims(s.heads, s.kv_heads, s.head_dim, v_width, False, sinks)


def attention_params(a: Architecture, s: Shape) -> int:
    """A uniform layer's attention block (MLA, or every layer alike), without its input norm."""
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
    v_width = a.v_head_dim or s.head_dim
    return gqa_attention_params(a, s, AttentionDims(s.heads, s.kv_heads, s.head_dim, v_width, False, a.attention_sinks))


def gqa_attention_params(a: Architecture, s: Shape, d: AttentionDims) -> int:
    """One non-MLA attention block of the given shape, without its input norm."""
    h = s.hidden
    q_dim = d.heads * d.head_dim
    kv_dim = d.kv_heads * d.head_dim
    v_dim = 0 if d.k_eq_v else d.kv_heads * d.v_head_dim
    out_dim = d.heads * d.v_head_dim
    elementwise_gate = a.attention_gate == "elementwise" or (
        a.linear_attention is not None and a.linear_attention.attention_output_gate
    )
    gate = q_dim if elementwise_gate else d.heads if a.attention_gate == "per_head" else 0
    weights = h * (q_dim + gate) + h * (kv_dim + v_dim) + out_dim * h
    if a.attention_bias:
        bias = q_dim + kv_dim + v_dim + h
    elif a.qkv_bias:
        bias = q_dim + kv_dim + v_dim
    else:
        bias = 0
    qk_norm = (q_dim + kv_dim if a.qk_norm_per_layer else 2 * d.head_dim) if a.qk_norm else 0
    sinks = d.heads if d.sinks else 0
    return weights + bias + qk_norm + sinks


def linear_mixer_params(la: LinearAttention, hidden: int) -> int:
    """One linear-attention / SSM layer's token mixer, without its input norm (tensor names in comments)."""
    nv, dk, dv = la.num_heads, la.key_head_dim, la.value_head_dim
    key_dim = (la.num_key_heads or nv) * dk
    value_dim = nv * dv
    conv_channels = 2 * key_dim + value_dim
    conv = conv_channels * la.conv_kernel + (conv_channels if la.conv_bias else 0)
    if la.kind == "gated_deltanet":
        # in_proj_qkvz (q, k, v and the output gate z), in_proj_ba (beta and decay per value head),
        # dt_bias and A_log per value head, a per-head gated norm, out_proj.
        norm = dv if la.gated_norm else 0
        return hidden * (2 * key_dim + 2 * value_dim) + hidden * 2 * nv + conv + 2 * nv + norm + value_dim * hidden
    if la.kind == "lightning":
        # qkv_proj (q, k and v in one matrix), output_gate (hidden -> inner width), an RMSNorm over the inner
        # width, out_proj. The per-head decay rates are fixed by the head index (buffers, not weights).
        return hidden * (2 * key_dim + value_dim) + hidden * value_dim + value_dim + value_dim * hidden
    if la.kind == "kimi_delta":
        # q/k/v_proj, their three short convolutions, low-rank forget-gate (f_a, f_b) and output-gate (g_a, g_b)
        # projections of rank head_dim, b_proj (beta per head), A_log per head, dt_bias per key channel,
        # a per-head gated norm, o_proj.
        rank = dv
        gates = hidden * rank + rank * key_dim + hidden * rank + rank * value_dim
        norm = dv if la.gated_norm else 0
        qkv = hidden * (2 * key_dim + value_dim)
        return qkv + conv + gates + hidden * nv + nv + key_dim + norm + value_dim * hidden
    # Mamba-2: in_proj makes z, x, B, C and dt in one matrix; dt_bias, A_log and D per head; a gated norm
    # over the inner width; out_proj. The convolution runs over x, B and C.
    in_width = 2 * value_dim + 2 * key_dim + nv
    bias = (in_width + hidden) if la.proj_bias else 0
    norm = value_dim if la.gated_norm else 0
    return hidden * in_width + conv + 3 * nv + norm + value_dim * hidden + bias


# DeepSeek V4: layers compressing every 4 tokens use overlapping blocks (the compressor emits two entries' worth
# of width) and carry the sparse-attention indexer; layers with a larger ratio do neither (checkpoint listings).
SPARSE_COMPRESS_RATIO = 4


def compress_ratio(a: Architecture, index: int) -> int:
    """Layer `index`'s compression ratio (0: none); MTP layers follow the decoder's in `compress_ratios`."""
    ratios = a.compress_ratios or []
    return ratios[index] if index < len(ratios) else 0


def has_indexer(a: Architecture, index: int) -> bool:
    """Whether decoder layer `index` owns a DSA lightning indexer (MTP layers, index >= layers, always do)."""
    if not a.index_n_heads:
        return False
    if a.compress_ratios is not None:
        return compress_ratio(a, index) == SPARSE_COMPRESS_RATIO
    return a.indexer_layers is None or index >= a.num_hidden_layers or index in a.indexer_layers


def compressor_params(hidden: int, width: int, ratio: int) -> int:
    """Token compressor: KV and gate projections to `width`, a learned position bias per slot, and a norm of the
    entry width (half of `width` where blocks overlap)."""
    overlap = ratio == SPARSE_COMPRESS_RATIO
    out = width * (2 if overlap else 1)
    return 2 * hidden * out + ratio * out + width


def indexer_params(a: Architecture) -> int:
    """DSA lightning indexer: queries from the compressed query (or the hidden state) and a per-head weight
    projection; keys from one shared projection with a LayerNorm (weight and bias) or, in V4, from its own
    overlapping compressor."""
    heads, dim = a.index_n_heads or 0, a.index_head_dim or 0
    q_in = a.q_lora_rank or a.hidden_size
    queries = q_in * heads * dim + a.hidden_size * heads
    if a.compress_ratios is not None:
        return queries + compressor_params(a.hidden_size, dim, SPARSE_COMPRESS_RATIO)
    return queries + a.hidden_size * dim + 2 * dim


def compressed_attention_params(a: Architecture, s: Shape, ratio: int) -> int:
    """DeepSeek V4 attention: low-rank queries with a norm, one shared KV head with a norm, a grouped low-rank
    output projection, per-head sinks, and the layer's compressor."""
    h, q_rank = s.hidden, a.q_lora_rank or s.hidden
    q_dim = s.heads * s.head_dim
    queries = h * q_rank + q_rank + q_rank * q_dim if a.q_lora_rank else h * q_dim
    kv = s.kv_heads * (h * s.head_dim + s.head_dim)
    groups, rank = a.o_groups or 1, a.o_lora_rank or h
    output = q_dim * rank + groups * rank * h
    sinks = s.heads if a.attention_sinks else 0
    compressor = compressor_params(h, s.head_dim, ratio) if ratio else 0
    return queries + kv + output + sinks + compressor


def layer_attention_params(a: Architecture, s: Shape, index: int) -> int:
    """Layer `index`'s attention block including its indexer, without the input norm."""
    if a.compress_ratios is not None:
        base = compressed_attention_params(a, s, compress_ratio(a, index))
    elif s.is_mla:
        base = attention_params(a, s)
    else:
        base = gqa_attention_params(a, s, layer_attention_dims(a, s, index))
    return base + (indexer_params(a) if has_indexer(a, index) else 0)


def hyper_connection_params(a: Architecture) -> tuple[int, int]:
    """(per decoder layer, per output head) mixing weights of hyper-connections with `hc_mult` streams: each
    sublayer maps the n-wide residual to n input weights, n output weights and an n x n mix, plus biases and
    three scales; the output head collapses the n streams with its own n weights."""
    n = a.hc_mult or 0
    if not n:
        return 0, 0
    mix = (2 + n) * n
    width = n * a.hidden_size
    per_sublayer = mix * width + mix + 3
    return 2 * per_sublayer, n * width + n + 1


def mlp_params(a: Architecture, hidden: int, ffn: int) -> int:
    matrices = 3 if a.gated_mlp else 2
    bias = ((2 * ffn if a.gated_mlp else ffn) + hidden) if a.mlp_bias else 0
    return matrices * hidden * ffn + bias


@dataclass(frozen=True)
class _Ffn:
    dense_mlp: int
    experts: int
    active_experts: int
    shared: int
    router: int


NO_FFN = _Ffn(0, 0, 0, 0, 0)


def _ffn(a: Architecture, s: Shape, moe: bool) -> _Ffn:
    if not moe:
        return _Ffn(mlp_params(a, s.hidden, s.dense_ffn), 0, 0, 0, 0)
    one_expert = mlp_params(a, s.hidden, s.expert_ffn)
    router = s.hidden * s.experts + (s.experts if a.router_bias else 0) + (s.experts if a.expert_score_bias else 0)
    shared = mlp_params(a, s.hidden, s.shared_ffn) if s.shared_ffn else 0
    if a.shared_expert_intermediate_size and not a.n_shared_experts:
        router += s.hidden  # Qwen's shared expert is scaled by a sigmoid gate: one h->1 linear per layer
    return _Ffn(0, s.experts * one_expert, s.experts_per_token * one_expert, shared, router)


@dataclass
class _Sum:
    attention: int = 0
    linear_mixer: int = 0
    dense_mlp: int = 0
    experts: int = 0
    active_experts: int = 0
    shared: int = 0
    router: int = 0
    norms: int = 0

    def add_layer(self, a: Architecture, s: Shape, index: int, mixer: MixerKind, ffn: _Ffn) -> None:
        la = a.linear_attention
        if mixer in ("attention", "parallel"):
            self.attention += layer_attention_params(a, s, index)
        if la and mixer in ("linear", "parallel"):
            self.linear_mixer += linear_mixer_params(la, s.hidden)
        self.dense_mlp += ffn.dense_mlp
        self.experts += ffn.experts
        self.active_experts += ffn.active_experts
        self.shared += ffn.shared
        self.router += ffn.router
        self.norms += a.norms_per_layer * norm_params(a) + (1 if a.layer_scalars else 0) + hyper_connection_params(a)[0]

    @property
    def total(self) -> int:
        return (
            self.attention + self.linear_mixer + self.dense_mlp + self.experts + self.shared + self.router + self.norms
        )


def _layers(a: Architecture, s: Shape) -> _Sum:
    """Every decoder layer, each with its own token mixer and FFN (dense, MoE, or none)."""
    dense, sparse = _ffn(a, s, moe=False), _ffn(a, s, moe=s.is_moe)
    acc = _Sum()
    for i in range(s.layers):
        ffn = (sparse if is_moe_layer(a, i) else dense) if has_ffn(a, i) else NO_FFN
        acc.add_layer(a, s, i, layer_mixer(a, i), ffn)
    if a.expert_score_bias:
        # Hash-routed layers (V4) look experts up by token id and keep no score-correction bias.
        acc.router -= min(a.num_hash_layers or 0, s.moe_layers) * s.experts
    return acc


def _mtp_module(a: Architecture, s: Shape) -> int:
    """One MTP module: a decoder layer with the model's FFN (MoE where the model has experts; MiMo-V2 a dense
    one), two input norms, a 2h->h projection, an output norm, and (DeepSeek-V3) its own copies of the embedding
    and LM head; Qwen3-Next, Qwen3.5, GLM-5 and MiMo-V2 reuse the main ones. Where the model has DSA indexers, the
    MTP layer has one too; MiMo-V2's MTP layers attend through the sliding window (they carry the sinks that only
    its sliding layers have)."""
    layer = _Sum()
    layer.add_layer(a, s, s.layers, "attention", _ffn(a, s, moe=s.is_moe and not a.mtp_dense_ffn))
    shares = a.mtp_shares_embeddings or (a.linear_attention is not None and a.linear_attention.mtp_shares_embeddings)
    copies = 0 if shares else 2 * s.vocab * s.hidden
    return layer.total + 3 * norm_params(a) + 2 * s.hidden * s.hidden + copies + hyper_connection_params(a)[1]


def count_params(model: ModelRecord) -> ParamCount:
    a = model.architecture
    s = shape_of(a)
    body = _layers(a, s)
    embedding = s.vocab * s.hidden
    lm_head = 0 if a.tie_word_embeddings else s.vocab * s.hidden
    final = norm_params(a) + hyper_connection_params(a)[1]  # the output norm, and the hyper-connection head
    norms = body.norms + final
    mtp = (a.num_nextn_predict_layers or 0) * _mtp_module(a, s)
    # Encoders count in total and active alike: every image or audio clip runs through all of them.
    vision = (model.vision.params if model.vision else 0) + (model.audio.params if model.audio else 0)

    total = embedding + lm_head + body.total + final + mtp + vision
    head_active = lm_head if lm_head else embedding
    active = head_active + body.total - body.experts + body.active_experts + final
    return ParamCount(
        total=total,
        active=active,
        embedding=embedding,
        lm_head=lm_head,
        attention=body.attention,
        dense_mlp=body.dense_mlp,
        experts=body.experts,
        shared_experts=body.shared,
        router=body.router,
        norms=norms,
        mtp=mtp,
        vision=vision,
        linear_mixer=body.linear_mixer,
    )
