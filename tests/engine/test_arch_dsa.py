"""DeepSeek sparse attention (indexer), Gemma 4 global layers, KV shared across layers and MTP modules: parameter
counts against hand arithmetic and the checkpoints' tensor element counts, KV cache per token by hand, and the
importer's refusal of features the engine cannot count."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from record_support import record_of

from site_builder.engine import memory
from site_builder.engine.memory import ModelFacts, kv_bytes, kv_bytes_per_token, kv_share_per_gpu
from site_builder.engine.params import count_params, shape_of
from site_builder.hfimport import HfConfigError, architecture_from_config, import_hf_config
from site_builder.problems import Report
from site_builder.records import Architecture, ModelRecord
from site_builder.validate import validate_catalog

CONFIGS = Path(__file__).resolve().parents[1] / "data" / "hf-configs-2026"


def config(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CONFIGS / f"{name}.json").read_text())
    return data


def record(arch: Architecture, vision: int | None = None) -> ModelRecord:
    return record_of(arch, vision)


def facts_of(arch: Architecture) -> ModelFacts:
    m = record(arch)
    return ModelFacts(arch, shape_of(arch), count_params(m), m.context_window)


def imported(name: str) -> Architecture:
    return architecture_from_config(config(name))


# --- GLM-5: MLA + DSA indexer + MTP without embedding copies -------------------------------------------------


def glm5_by_hand(indexer_layers: int) -> int:
    h, layers, vocab, q_rank, kv_rank, rope, nope, v_dim, heads = 6144, 78, 154880, 2048, 512, 64, 192, 256, 64
    experts, expert_ffn, dense_ffn, idx_heads, idx_dim = 256, 2048, 12288, 32, 128
    q = h * q_rank + q_rank + q_rank * heads * (nope + rope)  # q_a, q_a_layernorm, q_b
    kv = h * (kv_rank + rope) + kv_rank + kv_rank * heads * (nope + v_dim)  # kv_a_proj_with_mqa, norm, kv_b
    attention = q + kv + heads * v_dim * h  # + o_proj
    indexer = q_rank * idx_heads * idx_dim + h * idx_dim + 2 * idx_dim + h * idx_heads  # wq_b, wk, k_norm, weights
    moe = experts * 3 * h * expert_ffn + 3 * h * expert_ffn + experts * h + experts  # experts, shared, gate, bias
    dense = 3 * h * dense_ffn
    norms = 2 * h
    main = 2 * vocab * h + layers * (attention + norms) + 3 * dense + 75 * moe + h + indexer_layers * indexer
    mtp = attention + indexer + norms + moe + 3 * h + 2 * h * h  # enorm, hnorm, shared_head.norm, eh_proj
    return main + mtp


def test_glm_5_1_matches_the_checkpoint_element_count() -> None:
    counted = count_params(record(imported("zai-org--GLM-5.1")))
    assert counted.total == glm5_by_hand(indexer_layers=78) == 753_864_139_008


def test_glm_5_2_has_indexers_only_in_its_full_layers() -> None:
    arch = imported("zai-org--GLM-5.2")
    assert arch.indexer_layers == [0, 1, 2, *range(6, 78, 4)]
    assert count_params(record(arch)).total == glm5_by_hand(indexer_layers=21) == 753_329_940_480


def test_glm_5_kv_cache_holds_latent_rope_key_and_indexer_keys() -> None:
    facts = facts_of(imported("zai-org--GLM-5.2"))
    # 78 layers x (512 latent + 64 rope key) + 21 indexer layers x 128-wide key, 2 bytes each.
    assert kv_bytes_per_token(facts, "bf16") == (78 * 576 + 21 * 128) * 2 == 95_232
    assert kv_bytes_per_token(facts, "fp8") == 78 * 576 + 21 * 128
    # Nothing is windowed: the cache grows linearly with context and concurrency.
    assert kv_bytes(facts, "bf16", 100_000, 3) == 3 * 100_000 * 95_232


# --- DeepSeek-V3.2: FP8 checkpoint, element count includes the block scales -----------------------------------


def v32_scale_elements() -> int:
    """float32 weight_scale_inv tensors of the FP8 checkpoint, shapes as the tensor listing gives them."""
    dense = 3 * (56 * 144 + 144 * 56 + 144 * 56)  # layers 0-2 down, gate, up
    attention = 56 + 64 * 12 + 5 * 56 + 256 * 4 + 56 * 128 + 12 * 56 + 192 * 12  # wk, wq_b, kv_a, kv_b, o, q_a, q_b
    moe = 256 * (56 * 16 + 16 * 56 + 16 * 56) + (56 * 16 + 16 * 56 + 16 * 56)  # routed and shared experts
    return dense + 62 * attention + 59 * moe  # 61 layers + the MTP layer; MoE in layers 3-61


def test_deepseek_v3_2_plus_fp8_scales_matches_the_checkpoint_element_count() -> None:
    counted = count_params(record(imported("deepseek-ai--DeepSeek-V3.2")))
    assert counted.total + v32_scale_elements() == 685_396_921_376
    # "671B" without the 14B-class MTP module; about 37B active.
    assert 670.5e9 < counted.total - counted.mtp < 672.5e9
    assert 36.5e9 < counted.active < 38e9


def test_deepseek_v3_2_indexer_key_per_token() -> None:
    facts = facts_of(imported("deepseek-ai--DeepSeek-V3.2"))
    assert kv_bytes_per_token(facts, "bf16") == 61 * (512 + 64 + 128) * 2


# --- GLM-4.7-Flash: MLA + MoE, MTP layer with its own embedding and head --------------------------------------


def test_glm_4_7_flash_matches_the_checkpoint_element_count() -> None:
    arch = imported("zai-org--GLM-4.7-Flash")
    assert arch.index_n_heads is None and arch.mtp_shares_embeddings is False
    counted = count_params(record(arch))
    assert counted.total == 31_221_488_576
    assert counted.mtp > 2 * 154880 * 2048  # the copies are in it


# --- Gemma 4 31B: global layers with their own heads, K = V, per-layer scalar ----------------------------------


def gemma4_vision_by_hand() -> int:
    h, ffn, layers = 1152, 4304, 27
    encoder = layers * (4 * h * h + 3 * h * ffn + 4 * h + 2 * 72)  # q,k,v,o; gated MLP; 4 norms; q/k norm
    patches = h * 768 + 2 * 10240 * h + 2 * h  # input_proj, 2-D position table, std bias and scale
    return encoder + patches + 5376 * h  # + projection into the language model


def test_gemma_4_31b_matches_the_checkpoint_element_count() -> None:
    arch = imported("google--gemma-4-31B-it")
    h, vocab, ffn = 5376, 262144, 21504
    local = 2 * h * 32 * 256 + 2 * h * 16 * 256 + 2 * 256  # q, o; k, v; q/k norms
    global_ = 2 * h * 32 * 512 + h * 4 * 512 + 2 * 512  # q, o; k only (values reuse it); q/k norms
    per_layer = 3 * h * ffn + 4 * h + 1  # MLP, four norms, layer_scalar
    language = vocab * h + 50 * local + 10 * global_ + 60 * per_layer + h
    counted = count_params(record(arch, vision=gemma4_vision_by_hand()))
    assert counted.total - counted.vision == language
    assert counted.total == 31_273_088_876


def test_gemma_4_kv_cache_by_layer_kind_and_window() -> None:
    facts = facts_of(imported("google--gemma-4-31B-it"))
    local, global_ = 2 * 16 * 256 * 2, 2 * 4 * 512 * 2  # bytes per token and layer, bf16
    assert kv_bytes_per_token(facts, "bf16") == 50 * local + 10 * global_
    context = 131072
    assert kv_bytes(facts, "bf16", context, 1) == 50 * local * 1024 + 10 * global_ * context
    # Within the window every layer keeps every token.
    assert kv_bytes(facts, "bf16", 1000, 2) == 2 * 1000 * (50 * local + 10 * global_)


def test_gemma_4_tensor_parallel_replicates_the_four_global_kv_heads() -> None:
    facts = facts_of(imported("google--gemma-4-31B-it"))
    context = 131072
    local = 50 * 16 * 256 * 1024  # per-layer K (or V) elements held in the local layers, windowed
    global_ = 10 * 4 * 512 * context
    # Over 8 GPUs each local layer keeps 2 of its 16 heads, but each global layer 1 of its 4 (replicated).
    expected = (local * 2 / 16 + global_ * 1 / 4) / (local + global_)
    assert kv_share_per_gpu(facts, 8, context) == pytest.approx(expected)
    assert kv_share_per_gpu(facts, 4, context) == pytest.approx(1 / 4)  # both kinds split evenly
    assert kv_share_per_gpu(facts, 1, context) == 1.0


# --- KV shared across layers (Gemma 3n) ---------------------------------------------------------------------


def small_arch(**extra: Any) -> Architecture:
    base = {
        "model_type": "synthetic",
        "hidden_size": 512,
        "num_hidden_layers": 10,
        "num_attention_heads": 8,
        "num_key_value_heads": 2,
        "head_dim": 64,
        "intermediate_size": 1024,
        "vocab_size": 1000,
        "max_position_embeddings": 4096,
    }
    return Architecture.model_validate(base | extra)


def test_kv_shared_layers_add_no_cache_but_keep_their_weights() -> None:
    plain, shared = small_arch(), small_arch(num_kv_shared_layers=4)
    per_layer = 2 * 2 * 64 * 2
    assert kv_bytes_per_token(facts_of(plain), "bf16") == 10 * per_layer
    assert kv_bytes_per_token(facts_of(shared), "bf16") == 6 * per_layer
    assert count_params(record(plain)).total == count_params(record(shared)).total


def test_mtp_module_with_and_without_embedding_copies() -> None:
    with_copies = count_params(record(small_arch(num_nextn_predict_layers=1)))
    without = count_params(record(small_arch(num_nextn_predict_layers=1, mtp_shares_embeddings=True)))
    assert with_copies.mtp - without.mtp == 2 * 1000 * 512
    h = 512
    layer = 2 * h * 8 * 64 + 2 * h * 2 * 64 + 3 * h * 1024 + 2 * h  # attention, MLP, two norms
    assert without.mtp == layer + 3 * h + 2 * h * h
    assert with_copies.total - with_copies.mtp == count_params(record(small_arch())).total


# --- the importer refuses what it cannot count ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value"),
    [("altup_num_inputs", 4), ("laurel_rank", 64), ("hidden_size_per_layer_input", 256), ("enable_moe_block", True)],
)
def test_gemma_3n_and_gemma_4_variants_are_refused(key: str, value: object) -> None:
    cfg = config("google--gemma-4-31B-it")
    cfg["text_config"] = cfg["text_config"] | {key: value}
    with pytest.raises(HfConfigError, match=key):
        architecture_from_config(cfg)


def test_neutral_values_of_those_keys_are_accepted() -> None:
    cfg = config("google--gemma-4-31B-it")  # hidden_size_per_layer_input 0, enable_moe_block false, audio null
    assert architecture_from_config(cfg).layer_scalars is True


def test_audio_tower_in_the_outer_config_asks_for_its_count() -> None:
    """The decoder is counted; the audio encoder goes to the record's `audio` block, which the import asks for."""
    cfg = config("google--gemma-4-31B-it") | {"audio_config": {"hidden_size": 1536}}
    assert architecture_from_config(cfg) == architecture_from_config(config("google--gemma-4-31B-it"))
    text = import_hf_config(cfg, "gemma-4-31b-audio", None, "google/gemma-4-31B-it")
    assert "# audio: {name: ..., params: ...}  # config.json has an audio encoder (audio_config)" in text


# --- GLM-4.5V: GLM's attention bias is on q, k and v only -------------------------------------------------------


def glm45v_vision_by_hand() -> int:
    """Every vision tensor of the GLM-4.5V checkpoint, shapes as its tensor listing gives them."""
    width, ffn, out, merger_ffn = 1536, 4096, 4096, 10944
    blocks = 24 * (width * width + 3 * width * width + 3 * ffn * width + 2 * width)  # proj, qkv, MLP, 2 norms
    patches = width * 3 * 2 * 14 * 14 + width + width  # 3D conv weight and bias, post-conv norm
    stem = 576 * width + width + out * width * 2 * 2 + out  # position table, post norm, 2x2 downsample + bias
    merger = out * out + 2 * out + 3 * out * merger_ffn  # proj, LayerNorm, gated MLP
    return blocks + patches + stem + merger


def test_glm_4_5v_matches_the_checkpoint_element_count() -> None:
    arch = imported("zai-org--GLM-4.5V")
    assert arch.qkv_bias is True and arch.attention_bias is False
    counted = count_params(record(arch, vision=glm45v_vision_by_hand()))
    assert counted.total == 107_710_933_120


# --- DeepSeek V4: compressed attention, grouped output projection, hyper-connections, hash routing -------------


def v4_flash_by_hand() -> int:
    h, vocab, layers, heads, head, q_rank, groups, o_rank = 4096, 129280, 43, 64, 512, 1024, 8, 1024
    experts, expert_ffn, idx_heads, idx_dim, streams = 256, 2048, 64, 128, 4
    ratios = [0, 0, *[4, 128] * 20, 4, 0]  # 43 layers, then the MTP layer

    def attention(ratio: int) -> int:
        queries = h * q_rank + q_rank + q_rank * heads * head  # wq_a, q_norm, wq_b
        kv = h * head + head  # one shared KV head and its norm
        output = heads * head * o_rank + groups * o_rank * h + heads  # wo_a, wo_b, attention sinks
        total = queries + kv + output
        if ratio:
            width = head * (2 if ratio == 4 else 1)  # the ratio-4 compressor overlaps two blocks
            total += 2 * h * width + ratio * width + head  # wkv, wgate, position bias, norm
        if ratio == 4:
            total += q_rank * idx_heads * idx_dim + h * idx_heads  # indexer queries and head weights
            total += 2 * h * 2 * idx_dim + 4 * 2 * idx_dim + idx_dim  # the indexer's own compressor
        return total

    mix = (2 + streams) * streams
    hyper = 2 * (mix * streams * h + mix + 3)  # attention and FFN sublayers
    head_mix = streams * streams * h + streams + 1
    moe = experts * 3 * h * expert_ffn + 3 * h * expert_ffn + experts * h

    def layer(index: int) -> int:
        score_bias = 0 if index < 3 else experts  # the first three layers route by token-id hash
        return attention(ratios[index]) + hyper + 2 * h + moe + score_bias

    main = 2 * vocab * h + h + head_mix + sum(layer(i) for i in range(layers))
    mtp = layer(layers) + 3 * h + 2 * h * h + head_mix  # enorm, hnorm, norm; e_proj, h_proj; own head mix
    return main + mtp


def fp8_block_scales(rows: int, cols: int) -> int:
    return -(-rows // 128) * -(-cols // 128)


def v4_checkpoint_elements(arch: Architecture, params: int) -> int:
    """What the safetensors element count adds to the parameters: experts are FP4 packed two per int8 with one
    scale per 32 weights, FP8 matrices carry one scale per 128 x 128 block, and the hash layers store a
    [vocab, top-k] table of expert ids."""
    h, q_rank, heads, head = arch.hidden_size, arch.q_lora_rank or 0, arch.num_attention_heads, arch.head_dim or 0
    groups, o_rank, ffn = arch.o_groups or 0, arch.o_lora_rank or 0, arch.moe_intermediate_size or 0
    experts, layers = arch.n_routed_experts or 0, arch.num_hidden_layers + 1
    fp8 = (
        fp8_block_scales(q_rank, h)
        + fp8_block_scales(heads * head, q_rank)
        + fp8_block_scales(head, h)
        + fp8_block_scales(groups * o_rank, heads * head // groups)
        + fp8_block_scales(h, groups * o_rank)
        + 3 * fp8_block_scales(ffn, h)
    )
    fp4_scales = experts * (2 * ffn * h // 32 + h * ffn // 32)
    indexers = sum(1 for r in (arch.compress_ratios or [])[:layers] if r == 4)
    index_scales = indexers * fp8_block_scales((arch.index_n_heads or 0) * (arch.index_head_dim or 0), q_rank)
    mtp_scales = 2 * fp8_block_scales(h, h)
    packed = layers * experts * 3 * h * ffn // 2
    hash_table = (arch.num_hash_layers or 0) * arch.vocab_size * (arch.num_experts_per_tok or 0)
    return params - packed + layers * (fp8 + fp4_scales) + index_scales + mtp_scales + hash_table


def test_deepseek_v4_flash_matches_hand_count_and_checkpoint_elements() -> None:
    arch = imported("deepseek-ai--DeepSeek-V4-Flash")
    counted = count_params(record(arch))
    assert counted.total == v4_flash_by_hand()
    assert v4_checkpoint_elements(arch, counted.total) == 158_069_433_298
    # Published: 284B total, 13B active (without the MTP layer).
    assert 283.5e9 < counted.total - counted.mtp < 285e9
    assert 12.5e9 < counted.active < 14e9


def test_deepseek_v4_pro_matches_checkpoint_elements() -> None:
    arch = imported("deepseek-ai--DeepSeek-V4-Pro")
    counted = count_params(record(arch))
    assert v4_checkpoint_elements(arch, counted.total) == 861_608_274_846
    assert 1.55e12 < counted.total - counted.mtp < 1.65e12  # "1.6T"


def v4_cache_elements(arch: Architecture, context: int) -> float:
    """Per layer: a 128-token window of 512-wide entries, one entry per `ratio` tokens, and in ratio-4 layers one
    128-wide indexer key per 4 tokens."""
    total = 0.0
    for ratio in (arch.compress_ratios or [])[: arch.num_hidden_layers]:
        total += min(context, 128) * 512
        if ratio:
            total += context / ratio * 512
        if ratio == 4:
            total += context / 4 * 128
    return total


def test_deepseek_v4_kv_cache_is_compressed_along_the_sequence() -> None:
    pro = imported("deepseek-ai--DeepSeek-V4-Pro")
    facts = facts_of(pro)
    context = 1_048_576
    assert kv_bytes(facts, "bf16", context, 1) == v4_cache_elements(pro, context) * 2
    # An independent write-up puts Pro's 16-bit cache at a 1M context at about 9.6 GiB.
    assert 9.5 < kv_bytes(facts, "bf16", context, 1) / 2**30 < 9.7
    # Against DeepSeek-V3.2's 61 x (512 + 64 + 128) x 2 bytes per token, about a tenth.
    v32 = 61 * (512 + 64 + 128) * 2 * context
    assert 0.08 < kv_bytes(facts, "bf16", context, 1) / v32 < 0.12
    flash = facts_of(imported("deepseek-ai--DeepSeek-V4-Flash"))
    assert kv_bytes(flash, "fp8", 4096, 3) == 3 * kv_bytes(flash, "fp8", 4096, 1)


def test_v4_import_keeps_its_layer_plan() -> None:
    arch = imported("deepseek-ai--DeepSeek-V4-Flash")
    assert arch.compress_ratios is not None and len(arch.compress_ratios) == 44  # 43 layers + the MTP layer
    assert arch.compress_ratios[:4] == [0, 0, 4, 128]
    assert (arch.num_hash_layers, arch.hc_mult, arch.o_groups) == (3, 4, 8)
    assert arch.attention_sinks and arch.mtp_shares_embeddings and arch.kv_lora_rank is None
    assert arch.intermediate_size == arch.moe_intermediate_size == 2048  # no dense layers


def broken_copy(catalog: Path, source: str, new_id: str, change: dict[str, object]) -> str:
    data = yaml.safe_load((catalog / "models" / f"{source}.yaml").read_text())
    data["id"] = new_id
    data["architecture"] = data["architecture"] | change
    (catalog / "models" / f"{new_id}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return f"{new_id}.yaml"


def test_per_layer_lists_must_cover_the_layers(catalog_copy: Path) -> None:
    short = broken_copy(catalog_copy, "deepseek-v4-flash", "v4-short", {"compress_ratios": [0, 0, 4, 128]})
    outside = broken_copy(catalog_copy, "glm-5.2", "glm-outside", {"indexer_layers": [0, 78]})
    report = Report()
    validate_catalog(catalog_copy, report)
    problems = [p.format() for p in report.problems]
    assert any(short in p and "compress_ratios" in p and "expected num_hidden_layers (43)" in p for p in problems)
    assert any(outside in p and "indexer_layers" in p for p in problems)


# --- what sparse and compressed attention read and compute per decode step ------------------------------------


def test_dense_models_keep_the_full_context_assumption() -> None:
    facts = facts_of(small_arch())
    assert memory.attended_tokens(facts, 3000) == 10 * 3000
    assert memory.prefill_attended_tokens(facts, 100) == 10 * 100 * 101 / 2
    assert memory.kv_read_bytes(facts, "bf16", 3000, 2) == kv_bytes(facts, "bf16", 3000, 2)
    assert memory.indexer_flops(facts, 3000) == 0


def test_dsa_attends_to_top_k_but_its_indexer_scores_every_key() -> None:
    facts = facts_of(imported("deepseek-ai--DeepSeek-V3.2"))
    context = 131072
    assert memory.attended_tokens(facts, context) == 61 * 2048
    assert memory.attended_tokens(facts, 1000) == 61 * 1000  # below top-k every token is selected
    # 61 indexers of 64 heads x 128 wide, 2 FLOPs per multiply-add, over every cached key.
    assert memory.indexer_flops(facts, context) == 61 * 2 * 64 * 128 * context
    # Reads: 2,048 latents of 576 plus every 128-wide indexer key, per layer, 2 bytes each.
    assert memory.kv_read_bytes(facts, "bf16", context, 1) == 61 * (2048 * 576 + context * 128) * 2
    # Prefill: positions beyond 2,048 all attend to 2,048 tokens.
    p = 10_000
    assert memory.prefill_attended_tokens(facts, p) == 61 * (2048 * 2049 / 2 + (p - 2048) * 2048)


def test_v4_attends_to_its_window_and_compressed_entries() -> None:
    flash = imported("deepseek-ai--DeepSeek-V4-Flash")  # index_topk 512, window 128
    facts = facts_of(flash)
    context = 1_048_576
    ratios = (flash.compress_ratios or [])[:43]
    expected = sum(128 + (min(context / 4, 512) if r == 4 else context / r if r else 0) for r in ratios)
    assert memory.attended_tokens(facts, context) == expected
    sparse_layers = sum(1 for r in ratios if r == 4)
    assert memory.indexer_flops(facts, context) == sparse_layers * 2 * 64 * 128 * context / 4
    read = sum(
        128 * 512 + ((min(context / 4, 512) * 512 + context / 4 * 128) if r == 4 else context / r * 512 if r else 0)
        for r in ratios
    )
    assert memory.kv_read_bytes(facts, "fp8", context, 1) == read


def test_sparse_gemma_3_config_takes_the_class_defaults() -> None:
    # The published gemma-3-12b-it config.json names only what differs from Gemma3TextConfig's defaults.
    sparse = {
        "architectures": ["Gemma3ForConditionalGeneration"],
        "model_type": "gemma3",
        "text_config": {
            "hidden_size": 3840,
            "intermediate_size": 15360,
            "model_type": "gemma3_text",
            "num_attention_heads": 16,
            "num_hidden_layers": 48,
            "num_key_value_heads": 8,
            "rope_scaling": {"factor": 8.0, "rope_type": "linear"},
            "sliding_window": 1024,
        },
        "torch_dtype": "bfloat16",
    }
    arch = architecture_from_config(sparse)
    assert (arch.head_dim, arch.vocab_size, arch.max_position_embeddings) == (256, 262208, 131072)
    assert arch.layer_types is not None and arch.layer_types.count("full_attention") == 8  # every sixth of 48
    # Keras Hub's gemma3_12b_text preset holds 11,765,788,416 parameters with a 262,144-row vocabulary; the
    # Hugging Face checkpoint's embedding has 64 more rows.
    assert count_params(record(arch)).total == 11_765_788_416 + 64 * 3840
