"""Serving under load and money per request: hand arithmetic from published figures, and properties."""

from __future__ import annotations

import itertools

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from test_engine_memory_speed import GPUS, MODELS, ROOT

from site_builder.engine import constants as C
from site_builder.engine.budget import kv_capacity
from site_builder.engine.estimate import Workload, memory, speed
from site_builder.engine.hardware import make_setup
from site_builder.engine.money import (
    api_usd_per_request,
    breakeven_share,
    self_usd_per_request,
    throughput_optimal,
)
from site_builder.engine.plan import analyse, engine_class_for, facts_of
from site_builder.engine.precision import PRECISIONS, compute_rate_for, supported_on
from site_builder.records import FrameworkRecord
from site_builder.records.framework import EngineClass

# Llama 3.1 8B from its config.json (hidden 4096, 32 layers, 32 query / 8 KV heads of 128, MLP 14336, vocab
# 128256): weights a decoded token multiplies, per layer q,o (4096²) + k,v (4096×1024) + gate,up,down (3×4096×14336),
# plus the untied LM head.
L8_LAYER = 2 * 4096 * 4096 + 2 * 4096 * 1024 + 3 * 4096 * 14336
L8_ACTIVE = 32 * L8_LAYER + 4096 * 128256
L8_KV_PER_TOKEN = 2 * 32 * 8 * 128 * 2  # K and V, 16-bit
L8_ATTN_PER_CTX = 2 * 32 * 32 * 256  # scores and weighted sum: 2 x layers x heads x (qk + v dims) per cached token
# H100 SXM datasheet: 989 TFLOPS dense BF16, 3.35 TB/s.
H100_FLOPS = 989e12
H100_BW = 3.35e12


def _h100_8b(concurrency: int, prompt: int, output: int) -> tuple[object, ...]:
    facts = facts_of(MODELS["llama-3.1-8b"])
    setup = make_setup(GPUS["h100-sxm"], GPUS)
    work = Workload(prompt + output, concurrency, prompt, output)
    return facts, setup, work


def test_loaded_itl_carries_the_other_users_prefill_by_hand() -> None:
    # 64 users, 2,048-token prompts, 128-token answers: each decode step also carries 63 x 2048 / 128 = 1,008 prompt
    # tokens of the other users; that step is compute-bound on an H100.
    facts, setup, work = _h100_8b(64, 2048, 128)
    eff = C.EFFICIENCY["batched-server"]
    others = 63 * 2048 // 128
    flops = 2 * L8_ACTIVE * (64 + others) + 64 * L8_ATTN_PER_CTX * (2048 + 64) + others * L8_ATTN_PER_CTX * 1024
    expected = flops / (H100_FLOPS * eff.compute) + eff.step_overhead_s
    s = speed(facts, PRECISIONS["bf16"], setup, work, "batched-server")  # type: ignore[arg-type]
    assert s is not None
    assert s.itl_ms / 1000 == pytest.approx(expected, rel=0.08)
    # Without the interleaved prefill the step is memory-bound: weights (less the embedding table) plus 64 KV caches.
    weights = 2 * (L8_ACTIVE + 32 * 2 * 4096 + 4096)
    kv = 64 * (2048 + 64) * L8_KV_PER_TOKEN
    assert s.step_time_s == pytest.approx((weights + kv) / (H100_BW * eff.memory) + eff.step_overhead_s, rel=0.08)


def test_loaded_ttft_waits_for_the_prefill_queue_by_hand() -> None:
    facts, setup, work = _h100_8b(64, 2048, 128)
    eff = C.EFFICIENCY["batched-server"]
    prompt_flops = 2 * L8_ACTIVE * 2048 + L8_ATTN_PER_CTX * 2048 * 2049 / 2
    idle = prompt_flops / (H100_FLOPS * eff.compute) + eff.step_overhead_s
    # Loaded: the prompt shares its step with 63 decodes; the step budget on an 80 GB GPU is 8,192 tokens, and the
    # other users' prefill fills 1,008 / 8,129 of what the decodes leave, so the M/D/1 wait adds load / 2(1 - load).
    own = (prompt_flops + 63 * 2 * L8_ACTIVE) / (H100_FLOPS * eff.compute) + eff.step_overhead_s
    load = 1008 / (8192 - 63)
    loaded = own * (1 + load / (2 * (1 - load)))
    s = speed(facts, PRECISIONS["bf16"], setup, work, "batched-server")  # type: ignore[arg-type]
    assert s is not None and s.ttft_idle_ms is not None and s.ttft_ms is not None
    assert s.ttft_idle_ms / 1000 == pytest.approx(idle, rel=0.08)
    assert s.ttft_ms / 1000 == pytest.approx(loaded, rel=0.08)
    assert s.queue_ms == 0


def test_users_beyond_the_slots_queue_for_a_request_time() -> None:
    # Twice as many users as slots: by Little's law each waits one whole request time (first token + the rest).
    facts, setup, work = _h100_8b(64, 512, 256)
    s = speed(facts, PRECISIONS["bf16"], setup, work, "batched-server", slots=32)  # type: ignore[arg-type]
    assert s is not None and s.ttft_ms is not None
    assert s.batch == 32
    request = (s.ttft_ms - s.queue_ms) + 255 * s.itl_ms
    assert s.queue_ms == pytest.approx(request, rel=1e-9)


def test_api_cost_counts_input_and_output_at_their_prices() -> None:
    # 2,048 prompt tokens at $0.55/M plus 512 answer tokens at $2.19/M.
    assert api_usd_per_request(0.55, 2.19, 2048, 512) == pytest.approx(2048 * 0.55e-6 + 512 * 2.19e-6)


def test_self_hosted_cost_per_request_by_hand() -> None:
    # $10/h at 1,000 output tokens/s with 500-token answers: 2 requests/s, 7,200 an hour.
    assert self_usd_per_request(10.0, 1000.0, 500) == pytest.approx(10 / 7200)


def test_unreachable_breakeven_is_none_never_above_one() -> None:
    assert breakeven_share(0.001, 0.002) == pytest.approx(0.5)
    assert breakeven_share(0.003, 0.002) is None


CASES = [
    (mid, gid, pid)
    for mid in ("llama-3.1-8b", "qwen3-30b-a3b", "deepseek-v3", "mistral-7b-v0.1")
    if mid in MODELS
    for gid, g in GPUS.items()
    if g.memory_bandwidth_gbps and not g.bundle
    for pid in MODELS[mid].precisions
    if supported_on(PRECISIONS[pid], g) and compute_rate_for(PRECISIONS[pid], g)
]


@settings(max_examples=60, deadline=None)
@given(
    case=st.sampled_from(CASES),
    users=st.integers(1, 512),
    prompt=st.integers(1, 16384),
    output=st.integers(1, 4096),
    gpus=st.sampled_from((1, 2, 4, 8)),
)
def test_loaded_latency_never_beats_idle(
    case: tuple[str, str, str], users: int, prompt: int, output: int, gpus: int
) -> None:
    mid, gid, pid = case
    facts = facts_of(MODELS[mid])
    setup = make_setup(GPUS[gid], GPUS, gpus)
    prec = PRECISIONS[pid]
    work = Workload(prompt + output, users, prompt, output)
    if setup.count > 1 and not setup.splittable:
        assert speed(facts, prec, setup, work, "batched-server") is None  # no link recorded: no guess
        return
    engines: tuple[EngineClass, ...] = ("batched-server", "local")
    for engine in engines:
        s = speed(facts, prec, setup, work, engine)
        assert s is not None
        assert s.itl_ms / 1000 >= s.step_time_s * (1 - 1e-9)
        if s.ttft_ms is not None and s.ttft_idle_ms is not None:
            assert s.ttft_ms >= s.ttft_idle_ms * (1 - 1e-9)


@settings(max_examples=40, deadline=None)
@given(case=st.sampled_from(CASES), small=st.integers(1, 300), extra=st.integers(0, 300))
def test_throughput_never_falls_with_a_larger_kv_budget(case: tuple[str, str, str], small: int, extra: int) -> None:
    mid, gid, pid = case
    facts = facts_of(MODELS[mid])
    setup = make_setup(GPUS[gid], GPUS)
    prec = PRECISIONS[pid]
    work = Workload(2560, 32, 2048, 512)
    engine = engine_class_for(prec, setup.base, None)
    a = throughput_optimal(facts, prec, setup, work, engine, small)
    b = throughput_optimal(facts, prec, setup, work, engine, small + extra)
    assert a is not None and b is not None
    assert a.concurrency <= small and b.concurrency <= small + extra
    assert (b.speed.output_tokens_per_s or 0) >= (a.speed.output_tokens_per_s or 0) * (1 - 1e-9)


def test_full_load_fits_and_beats_the_stated_load() -> None:
    facts = facts_of(MODELS["llama-3.1-8b"])
    setup = make_setup(GPUS["h100-sxm"], GPUS)
    prec = PRECISIONS["bf16"]
    work = Workload(2560, 32, 2048, 512)
    mem = memory(facts, prec, setup, work, "batched-server")
    assert mem is not None
    full = throughput_optimal(facts, prec, setup, work, "batched-server", mem.max_concurrency)
    stated = speed(facts, prec, setup, work, "batched-server")
    assert full is not None and stated is not None
    assert full.concurrency <= mem.max_concurrency
    assert (full.speed.output_tokens_per_s or 0) >= (stated.output_tokens_per_s or 0)


def _capacity(framework: str, gpu: str = "h100-sxm", concurrency: int = 32) -> tuple[int, int]:
    facts = facts_of(MODELS["llama-3.1-8b"])
    setup = make_setup(GPUS[gpu], GPUS)
    work = Workload(2560, concurrency, 2048, 512)
    engine = "local" if framework in ("llama-cpp", "ollama") else "batched-server"
    mem = memory(facts, PRECISIONS["bf16"], setup, work, engine)  # type: ignore[arg-type]
    assert mem is not None
    cap = kv_capacity(facts, setup, work, mem, framework, engine)  # type: ignore[arg-type]
    return cap.tokens, mem.weights_bytes


def test_sglang_capacity_is_memory_less_its_reserve_and_weights() -> None:
    # 80 GiB H100 (1% kept by the driver), one rank: SGLang reserves 9.5 + 1/2 GiB; the rest beyond the weights and
    # the CUDA runtime (0.25 GiB) is KV at 131,072 bytes/token.
    tokens, weights = _capacity("sglang")
    assert tokens == int(80 * 2**30 * 0.99 - 10 * 2**30 - weights - int(0.25 * 2**30)) // L8_KV_PER_TOKEN


def test_llama_cpp_capacity_is_what_the_launch_asks_for() -> None:
    tokens, _ = _capacity("llama-cpp", concurrency=4)
    assert tokens == 2560 * 4


def test_engines_rank_by_their_documented_budgets() -> None:
    # TGI takes all memory, TensorRT-LLM 90% of what is free, vLLM 90% of the total, LMDeploy 80% of what is free.
    tgi, trt, vllm, lmd = (_capacity(f)[0] for f in ("tgi", "tensorrt-llm", "vllm", "lmdeploy"))
    assert tgi > trt > vllm > lmd > 0


@settings(max_examples=40, deadline=None)
@given(fid=st.sampled_from(sorted(C.ENGINE_BUDGETS)), gpu=st.sampled_from(sorted(g for g in GPUS if GPUS[g].memory_gb)))
def test_capacity_is_never_negative(fid: str, gpu: str) -> None:
    facts = facts_of(MODELS["llama-3.1-8b"])
    work = Workload(2560, 8, 2048, 512)
    small = make_setup(GPUS[gpu], GPUS)
    engine = "local" if fid in ("llama-cpp", "ollama", "mlx") else "batched-server"
    mem = memory(facts, PRECISIONS["bf16"], small, work, engine)  # type: ignore[arg-type]
    assert mem is not None
    cap = kv_capacity(facts, small, work, mem, fid, engine)  # type: ignore[arg-type]
    assert cap.tokens >= 0 and cap.bytes_per_gpu >= 0


def test_many_users_on_an_h100_are_served_by_a_batching_server() -> None:
    # The symptom: "Q4_K_M with llama.cpp" ranked fastest for 32 users on an H100. A continuous-batching
    # server that fits is always preferred for the serving workload.
    frameworks = {
        p.stem: FrameworkRecord.model_validate(yaml.safe_load(p.read_text()))
        for p in sorted((ROOT / "catalog" / "frameworks").glob("*.yaml"))
    }
    for mid in ("llama-3.1-8b", "qwen3-30b-a3b", "mistral-7b-v0.1"):
        if mid not in MODELS:
            continue
        best = analyse(MODELS[mid], GPUS, frameworks).single["h100-sxm"]
        assert best.engine == "batched-server", (mid, best.precision.id)


def test_estimate_json_has_loaded_latency_capacity_and_error_bars() -> None:
    import json
    import subprocess
    import sys

    args = ["--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--concurrency", "64", "--prompt", "2048"]
    out = subprocess.run(
        [sys.executable, "-m", "site_builder", "estimate", *args, "--output", "128", "--json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    data = json.loads(out)
    assert isinstance(data["kv_cache_capacity_tokens"], int) and data["kv_cache_capacity_tokens"] > 64 * 2176
    assert data["kv_cache_capacity_flag"] == "--gpu-memory-utilization"
    assert data["ttft_ms"] >= data["ttft_idle_ms"] > 0
    # Full load fits the engine's KV pool and never costs more per request than the stated 64 users.
    assert 64 <= data["full_load_concurrency"] <= data["kv_cache_capacity_tokens"] // data["context"]
    assert 0 < data["cost_per_request_full_load_usd"] <= data["cost_per_request_usd"]
    for key in ("decode_tokens_per_s", "output_tokens_per_s", "itl_ms", "ttft_ms"):
        pct = data[f"{key}_error_pct"]
        assert pct is None or pct >= 0, key
        assert (pct is None) == (data[f"{key}_error_results"] == 0), key


# Models that multiply at least 7B weights per token: below that (a 3B-active MoE at batch 1), two NVLink all-reduces
# per layer can cost more than halving the reads saves, and a second GPU does raise ITL.
NVLINK_MODELS = [mid for mid in ("llama-3.1-8b", "llama-3.1-70b", "mixtral-8x7b", "deepseek-v3") if mid in MODELS]


@settings(max_examples=40, deadline=None)
@given(mid=st.sampled_from(NVLINK_MODELS), users=st.integers(1, 256), gpu=st.sampled_from(("h100-sxm", "b200")))
def test_more_gpus_never_raise_itl_on_nvlink(mid: str, users: int, gpu: str) -> None:
    # Each doubling halves the weights and KV every GPU streams; NVLink's all-reduce (10 us per call plus the
    # activations over 450+ GB/s) costs less than the halving saves.
    facts = facts_of(MODELS[mid])
    prec = PRECISIONS["fp8"]
    work = Workload(2560, users, 2048, 512)
    itls = []
    for n in (1, 2, 4, 8):
        setup = make_setup(GPUS[gpu], GPUS, n)
        assert setup.link_kind == "nvlink"
        s = speed(facts, prec, setup, work, "batched-server")
        assert s is not None
        itls.append(s.itl_ms)
    assert all(b <= a * (1 + 1e-9) for a, b in itertools.pairwise(itls)), itls


def test_a_gpu_without_a_recorded_link_gets_no_multi_gpu_estimate() -> None:
    bare = GPUS["h100-sxm"].model_copy(update={"interconnect": None})
    facts = facts_of(MODELS["llama-3.1-8b"])
    work = Workload(2560, 8, 2048, 512)
    assert speed(facts, PRECISIONS["bf16"], make_setup(bare, GPUS, 1), work, "batched-server") is not None
    assert speed(facts, PRECISIONS["bf16"], make_setup(bare, GPUS, 2), work, "batched-server") is None


def test_pcie_all_reduce_by_hand() -> None:
    # Two GPUs over PCIe 4.0 x16 (64 GB/s both ways, 32 GB/s each way), 8 tokens of a 4096-wide model, 32 layers:
    # 2 all-reduces per layer of 43 us + (2 x 1/2) x 8 x 4096 x 2 bytes / 32 GB/s.
    from site_builder.engine.estimate import _allreduce_s
    from site_builder.records.gpu import Interconnect

    card = GPUS["h100-sxm"].model_copy(
        update={"interconnect": Interconnect(type="PCIe Gen4 x16", kind="pcie", bandwidth_gbps=64)}
    )
    expected = 2 * 32 * (43e-6 + 8 * 4096 * 2 / 32e9)
    assert _allreduce_s(make_setup(card, GPUS, 2), 32, 8, 4096) == pytest.approx(expected)


def test_vision_tower_is_not_read_per_decoded_token() -> None:
    # InternVL2-26B's language model is internlm2-chat-20b (its config's llm_config); the 5.64B InternViT tower
    # encodes images. Per decoded token the two differ only by the 9 extra vocabulary rows of the LM head.
    vl, lm = facts_of(MODELS["internvl2-26b"]), facts_of(MODELS["internlm2-20b"])
    assert vl.params.active - lm.params.active == (92553 - 92544) * 6144
    setup = make_setup(GPUS["h100-sxm"], GPUS)
    work = Workload(1024, 1, 512, 512)
    a = speed(vl, PRECISIONS["bf16"], setup, work, "batched-server")
    b = speed(lm, PRECISIONS["bf16"], setup, work, "batched-server")
    assert a is not None and b is not None
    assert a.decode_tokens_per_s == pytest.approx(b.decode_tokens_per_s, rel=1e-3)


# Published GGUF sizes. llama.cpp's quantize README table for Llama-3-8B (GiB), the same figures the GGUF precisions'
# labels quote; and the Q4_K_M file of Llama-2-13B, 7.87 GB (huggingface.co/localmodels/Llama-2-13B-ggml README,
# "Provided files"), whose rule ("Q6_K for half of the attention.wv and feed_forward.w2 tensors, else Q4_K") is the
# mix modelled here.
GGUF_PUBLISHED = [
    ("llama-3-8b", "q4_k_m", 4.58 * 2**30),
    ("llama-3-8b", "q5_k_m", 5.33 * 2**30),
    ("llama-3-8b", "q6_k", 6.14 * 2**30),
    ("llama-3-8b", "q8_0", 7.96 * 2**30),
    ("llama-3-8b", "q4_0", 4.34 * 2**30),
    ("llama-2-13b", "q4_k_m", 7.87e9),
]


@pytest.mark.parametrize(("mid", "pid", "published"), GGUF_PUBLISHED)
def test_gguf_size_matches_published_files(mid: str, pid: str, published: float) -> None:
    from site_builder.engine.memory import weight_bytes

    assert weight_bytes(facts_of(MODELS[mid]), PRECISIONS[pid]) == pytest.approx(published, rel=0.02)


def test_q4_k_m_promotes_half_of_the_value_and_down_projections_by_hand() -> None:
    from site_builder.engine.gguf import promoted_share

    # 32 layers: 0-3, 28-31, and 6, 9, ..., 27 (every third from the first eighth on): 16 of 32.
    assert promoted_share(32) == 16 / 32
    # 40 layers: 0-4, 35-39, and 7, 10, ..., 34: 20 of 40.
    assert promoted_share(40) == 20 / 40
