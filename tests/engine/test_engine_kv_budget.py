"""Each engine's KV budget from its own start-up rule, by hand, and its properties.

The hand arithmetic follows each engine's source (cited in constants.ENGINE_BUDGETS and beside the vLLM/TGI constants)
with the model's published sizes, not the engine's own helpers.
"""

from __future__ import annotations

import math

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from test_engine_memory_speed import GPUS, MODELS, ROOT

from site_builder.engine import constants as C
from site_builder.engine.budget import KvCapacity, Launch, kv_capacity
from site_builder.engine.estimate import Workload, memory
from site_builder.engine.hardware import make_setup
from site_builder.engine.money import throughput_optimal
from site_builder.engine.plan import evaluate, facts_of, serving_workload
from site_builder.engine.precision import PRECISIONS
from site_builder.query import EstimateQuery, estimate, query_catalog
from site_builder.records.framework import EngineClass, FrameworkRecord

GIB = 2**30
# Llama 3.1 8B: 32 layers, 8 KV heads of 128, hidden 4096, MLP 14336, vocabulary 128,256 (its config.json).
L8_KV_PER_TOKEN = 2 * 32 * 8 * 128 * 2  # K and V, 16-bit
L8_WEIGHTS = 8_030_261_248 * 2  # the model card's parameter count, bf16
L8_ACT_PER_TOKEN = (3 * 14336 + 4 * 4096) * 2  # gate/up output, activated product, four hidden-sized buffers; 16-bit
L8_VOCAB = 128_256
WORK = Workload(8192, 1, 8192, 0)


def _capacity(
    framework: str, gpu: str, gpus: int = 1, launch: Launch | None = None, mid: str = "llama-3.1-8b"
) -> KvCapacity:
    facts = facts_of(MODELS[mid])
    setup = make_setup(GPUS[gpu], GPUS, gpus)
    engine: EngineClass = "local" if framework in ("llama-cpp", "ollama", "mlx") else "batched-server"
    mem = memory(facts, PRECISIONS["bf16"], setup, WORK, engine)
    assert mem is not None
    return kv_capacity(facts, setup, WORK, mem, framework, engine, launch or Launch())


def _visible(gb: float) -> float:
    return gb * GIB * (1 - C.DRIVER_RESERVED_FRACTION)


def test_vllm_on_an_h100_keeps_its_profile_peak_out_of_the_pool() -> None:
    # 0.9 of the visible memory, less the weights, the larger of the forward pass (8192 tokens) and the sampler
    # (1024 sequences x the vocabulary, 3.8 fp32 copies), and one GPU's non-torch memory (0.25 GiB).
    peak = math.ceil(max(8192 * L8_ACT_PER_TOKEN, 1024 * L8_VOCAB * 4 * 3.8))
    room = int(0.9 * _visible(80) - (L8_WEIGHTS + peak + int(0.25 * GIB)))
    cap = _capacity("vllm", "h100-sxm")
    assert cap.bytes_per_gpu == room
    assert cap.tokens == room // L8_KV_PER_TOKEN


def test_vllm_on_an_a100_profiles_the_small_defaults() -> None:
    # vLLM keeps 2048 batched tokens and 256 sequences on A100s whatever their memory.
    peak = math.ceil(max(2048 * L8_ACT_PER_TOKEN, 256 * L8_VOCAB * 4 * 3.8))
    room = int(0.9 * _visible(80) - (L8_WEIGHTS + peak + int(0.25 * GIB)))
    assert _capacity("vllm", "a100-80gb-sxm").bytes_per_gpu == room


def test_vllm_matches_its_own_log_on_an_h100() -> None:
    # vLLM 0.19.0 at --gpu-memory-utilization 0.95 logged "GPU KV cache size: 476,016 tokens" for this model on an
    # 80 GB H100 (llm-d-planner sweep; the catalog record vllm019-l31-8b-h100-tp1-kv).
    cap = _capacity("vllm", "h100-sxm", launch=Launch(memory_fraction=0.95))
    assert abs(cap.tokens / 476_016 - 1) < 0.02


def test_vllm_tensor_parallel_ranks_pay_for_nccl() -> None:
    # Two ranks: each holds its share of the weights (counted and tested in test_engine_memory_speed) and half the KV
    # heads, pays 2.1 GiB of non-torch memory, and profiles the same full-vocabulary sampler.
    facts = facts_of(MODELS["llama-3.1-8b"])
    mem = memory(facts, PRECISIONS["bf16"], make_setup(GPUS["h100-sxm"], GPUS, 2), WORK, "batched-server")
    assert mem is not None
    peak = math.ceil(max(8192 * (3 * 14336 / 2 + 4 * 4096) * 2, 1024 * L8_VOCAB * 4 * 3.8))
    room = int(0.9 * _visible(80) - (mem.weights_bytes + peak + int(2.1 * GIB)))
    cap = _capacity("vllm", "h100-sxm", gpus=2)
    assert cap.bytes_per_gpu == room
    assert cap.tokens == room // (L8_KV_PER_TOKEN // 2)


def test_tgi_keeps_five_percent_of_what_its_warm_up_leaves() -> None:
    # TGI 2.x: after a 4096-token warm-up prefill (one request), 95% of the free memory becomes KV blocks, and the
    # warm-up batch's own blocks are added back.
    warmup_kv = 4096 * L8_KV_PER_TOKEN
    peak = math.ceil(max(4096 * L8_ACT_PER_TOKEN, 1 * L8_VOCAB * 4 * 3.8))
    free = _visible(80) - (L8_WEIGHTS + peak + C.RUNTIME_OVERHEAD_BYTES) - warmup_kv
    assert _capacity("tgi", "a100-80gb-sxm").bytes_per_gpu == int(0.95 * free + warmup_kv)


def test_tensorrt_llm_and_lmdeploy_take_a_share_of_what_is_free() -> None:
    # TensorRT-LLM: free_gpu_memory_fraction 0.9 of what is free after the weights and buffers; LMDeploy: 0.8.
    facts = facts_of(MODELS["llama-3.1-8b"])
    mem = memory(facts, PRECISIONS["bf16"], make_setup(GPUS["h100-sxm"], GPUS), WORK, "batched-server")
    assert mem is not None
    free = _visible(80) - (L8_WEIGHTS + mem.activations_bytes + C.RUNTIME_OVERHEAD_BYTES)
    assert _capacity("tensorrt-llm", "h100-sxm").bytes_per_gpu == int(0.9 * free)
    assert _capacity("lmdeploy", "h100-sxm").bytes_per_gpu == int(0.8 * free)


def test_sglang_with_a_stated_fraction_keeps_that_share_for_weights_and_kv() -> None:
    # --mem-fraction-static f: the static share of the memory holds what is in use after loading (the weights and
    # 0.25 GiB of CUDA runtime on one GPU) and the KV pool.
    assert _capacity("sglang", "h100-sxm", launch=Launch(memory_fraction=0.85)).bytes_per_gpu == int(
        _visible(80) - 0.15 * _visible(80) - L8_WEIGHTS - int(0.25 * GIB)
    )


def test_sglang_matches_its_own_log_for_a_large_moe() -> None:
    # SGLang at --mem-fraction-static 0.93 logged "KV Cache is allocated. #tokens: 367404" for Qwen3-235B-A22B-FP8 on
    # four 80 GB H100s (vLLM issue #21348); tensor-parallel ranks also hold NCCL's buffers.
    facts = facts_of(MODELS["qwen3-235b-a22b"])
    setup = make_setup(GPUS["h100-sxm"], GPUS, 4)
    work = Workload(40960, 1, 40960, 0)
    mem = memory(facts, PRECISIONS["fp8"], setup, work, "batched-server")
    assert mem is not None
    cap = kv_capacity(facts, setup, work, mem, "sglang", "batched-server", Launch(memory_fraction=0.93))
    assert abs(cap.tokens / 367_404 - 1) < 0.05


def test_llama_cpp_holds_exactly_what_it_was_launched_with() -> None:
    assert _capacity("llama-cpp", "rtx-4090").tokens == 8192


ENGINES = ("vllm", "sglang", "tensorrt-llm", "tgi", "lmdeploy")


@settings(max_examples=40, deadline=None)
@given(fid=st.sampled_from(ENGINES), gpu=st.sampled_from(("h100-sxm", "a100-80gb-sxm", "l40s", "rtx-4090", "a10")))
def test_capacity_never_falls_with_more_memory(fid: str, gpu: str) -> None:
    facts = facts_of(MODELS["llama-3.1-8b"])
    base = GPUS[gpu]
    assert base.memory_gb is not None
    caps = []
    for extra in (0, 8, 40):
        record = base.model_copy(update={"memory_gb": base.memory_gb + extra})
        setup = make_setup(record, {**GPUS, gpu: record})
        mem = memory(facts, PRECISIONS["bf16"], setup, WORK, "batched-server")
        assert mem is not None
        caps.append(kv_capacity(facts, setup, WORK, mem, fid, "batched-server").tokens)
    assert caps == sorted(caps)


@settings(max_examples=40, deadline=None)
@given(fid=st.sampled_from(ENGINES), low=st.floats(0.5, 0.95), step=st.floats(0.0, 0.05))
def test_capacity_never_falls_with_a_larger_budget_fraction(fid: str, low: float, step: float) -> None:
    a = _capacity(fid, "h100-sxm", launch=Launch(memory_fraction=low))
    b = _capacity(fid, "h100-sxm", launch=Launch(memory_fraction=min(low + step, 1.0)))
    assert b.tokens >= a.tokens


@settings(max_examples=20, deadline=None)
@given(low=st.floats(0.3, 0.9), step=st.floats(0.0, 0.1))
def test_throughput_never_falls_when_the_engine_holds_more_kv(low: float, step: float) -> None:
    # A larger memory share holds more sequences; the throughput-optimal load over them never drops.
    facts = facts_of(MODELS["llama-3.1-8b"])
    setup = make_setup(GPUS["h100-sxm"], GPUS)
    work = Workload(2560, 32, 2048, 512)
    mem = memory(facts, PRECISIONS["bf16"], setup, work, "batched-server")
    assert mem is not None
    seqs = [
        kv_capacity(facts, setup, work, mem, "vllm", "batched-server", Launch(memory_fraction=f)).sequences
        for f in (low, min(low + step, 1.0))
    ]
    tps = []
    for n in seqs:
        full = throughput_optimal(facts, PRECISIONS["bf16"], setup, work, "batched-server", int(n))
        assert full is not None
        tps.append(full.speed.output_tokens_per_s or 0)
    assert seqs[1] >= seqs[0]
    assert tps[1] >= tps[0] * (1 - 1e-9)


def _cli_kv(gpu: str, precision: str, framework: str | None, kv: str | None = None) -> str:
    q = EstimateQuery(
        model="llama-3.1-8b",
        gpu=gpu,
        gpus=1,
        precision=precision,
        kv_precision=kv,
        context=None,
        concurrency="1",
        prompt=None,
        output=None,
        framework=framework,
    )
    out = estimate(query_catalog(str(ROOT / "catalog"), q.model), q)
    return str(out["kv_precision"])


def test_fp8_recipes_default_to_an_fp8_kv_cache() -> None:
    # TensorRT-LLM inherits Model Optimizer's FP8 KV cache with FP8 and NVFP4 checkpoints; vLLM's INC recipe on Gaudi
    # serves FP8 weights with --kv-cache-dtype fp8_inc. Other setups keep a 16-bit cache, and a stated one wins.
    assert _cli_kv("h100-sxm", "fp8", "tensorrt-llm") == "fp8"
    assert _cli_kv("b200", "nvfp4", "tensorrt-llm") == "fp8"
    assert _cli_kv("gaudi3", "fp8", None) == "fp8"
    assert _cli_kv("h100-sxm", "fp8", "vllm") == "fp16"
    assert _cli_kv("h100-sxm", "bf16", "tensorrt-llm") == "fp16"
    assert _cli_kv("h100-sxm", "fp8", "tensorrt-llm", "fp16") == "fp16"


def test_site_recommendations_start_with_the_recipes_kv_cache() -> None:
    """The pages' serving workload names no KV precision: a Gaudi FP8 setup is estimated with the FP8 cache its recipe
    starts with, an H100 served by vLLM keeps 16-bit. Llama 3.1 8B holds 32 layers x 8 KV heads x 128 dims for K and
    V per token: 65,536 values, one byte each in FP8 and two in 16-bit."""
    model = MODELS["llama-3.1-8b"]
    facts = facts_of(model)
    frameworks = {
        p.stem: FrameworkRecord.model_validate(yaml.safe_load(p.read_text()))
        for p in sorted((ROOT / "catalog" / "frameworks").glob("*.yaml"))
    }
    work = serving_workload(model)
    assert work.kv_precision == "fp16"
    gaudi = evaluate(model, facts, make_setup(GPUS["gaudi3"], GPUS), PRECISIONS["fp8"], work, frameworks)
    h100 = evaluate(model, facts, make_setup(GPUS["h100-sxm"], GPUS), PRECISIONS["fp8"], work, frameworks)
    assert gaudi is not None and h100 is not None
    assert gaudi.workload.kv_precision == "fp8" and gaudi.memory.kv_cache_bytes_per_token == 65_536
    assert h100.workload.kv_precision == "fp16" and h100.memory.kv_cache_bytes_per_token == 2 * 65_536


def test_each_servers_printed_memory_flag_is_the_share_its_pool_is_sized_under() -> None:
    """The deploy pages and `estimate` print the memory-budget flag's value; launching with it must give the pool
    the estimate assumed. TGI's --cuda-memory-fraction and vLLM's --gpu-memory-utilization default to 1.0 and 0.9
    (their launchers); SGLang's printed static share, passed back as --mem-fraction-static, sizes the same pool
    (to the flag's three decimals)."""
    from site_builder.engine.launch import budget_setting

    setup = make_setup(GPUS["h100-sxm"], GPUS, 1)
    assert budget_setting("tgi", "batched-server", setup) == 1.0
    assert budget_setting("vllm", "batched-server", setup) == 0.9
    share = budget_setting("sglang", "batched-server", setup)
    assert share is not None
    default = _capacity("sglang", "h100-sxm").bytes_per_gpu
    stated = _capacity("sglang", "h100-sxm", launch=Launch(memory_fraction=share)).bytes_per_gpu
    assert abs(stated - default) <= 0.0005 * _visible(80)
