"""Batching that saturates: each running sequence's own step cost, by hand and against published batch sweeps."""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_engine_memory_speed import GPUS, MODELS

from site_builder.engine import constants as C
from site_builder.engine.calibrate import with_efficiency, with_stack_per_sequence
from site_builder.engine.estimate import Workload, per_sequence_step_s, speed
from site_builder.engine.hardware import make_setup
from site_builder.engine.plan import facts_of
from site_builder.engine.precision import PRECISIONS


def _step(
    gpu: str,
    batch: int,
    count: int = 1,
    model: str = "llama-3.1-8b",
    prec: str = "bf16",
    assume: C.Assumptions = C.DEFAULT_ASSUMPTIONS,
) -> float:
    # One-token contexts: the batch's KV reads are a rounding error, so what grows with the batch is its own cost.
    s = speed(
        facts_of(MODELS[model]),
        PRECISIONS[prec],
        make_setup(GPUS[gpu], GPUS, count),
        Workload(1, batch, 0, 1),
        "batched-server",
        assume=assume,
    )
    assert s is not None
    return s.step_time_s


def _server_per_sequence(assume: C.Assumptions, seconds: float) -> C.Assumptions:
    eff = assume.efficiency["batched-server"]
    return with_efficiency(
        assume, "batched-server", C.Efficiency(eff.memory, eff.compute, eff.step_overhead_s, seconds)
    )


def test_each_running_sequence_adds_its_own_cost_by_hand() -> None:
    # With 1 ms per sequence and no vendor term, 128 more sequences add 128 ms to a memory-bound step.
    assume = _server_per_sequence(
        dataclasses.replace(C.DEFAULT_ASSUMPTIONS, stack_per_sequence_s=MappingProxyType({})), 1e-3
    )
    base = _step("h100-sxm", 1, assume=assume)
    assert _step("h100-sxm", 129, assume=assume) - base == pytest.approx(0.128, rel=0.01)


def test_a_vendor_stack_term_applies_only_to_its_vendor() -> None:
    # A 62.5 us AMD term per sequence and layer: Llama 3.1 8B has 32 layers, so 2 ms per sequence, and 64 more
    # sequences cost 128 ms more on an MI300X and nothing more on an H100.
    term = with_stack_per_sequence(C.DEFAULT_ASSUMPTIONS, ("batched-server", "amd"), 62.5e-6)
    assume = _server_per_sequence(term, 0.0)
    assert _step("mi300x", 65, assume=assume) - _step("mi300x", 1, assume=assume) == pytest.approx(0.128, rel=0.01)
    assert _step("h100-sxm", 65, assume=assume) - _step("h100-sxm", 1, assume=assume) < 0.002
    local = per_sequence_step_s(make_setup(GPUS["mi300x"], GPUS), "local", 32, assume)
    assert local == assume.efficiency["local"].per_sequence_s


def test_trial_assumptions_leave_the_defaults_alone() -> None:
    # Calibration builds trial values; the module's defaults (what every page uses) never change under it.
    before = dict(C.DEFAULT_ASSUMPTIONS.efficiency)
    trial = _server_per_sequence(C.DEFAULT_ASSUMPTIONS, 5e-3)
    assert trial.efficiency["batched-server"].per_sequence_s == 5e-3
    assert dict(C.DEFAULT_ASSUMPTIONS.efficiency) == before
    with pytest.raises(TypeError):
        C.DEFAULT_ASSUMPTIONS.efficiency["local"] = trial.efficiency["local"]  # type: ignore[index]


def test_mi300x_batch_sweep_grows_like_the_published_one() -> None:
    # Oracle's ROCm vLLM sweep of Llama 3.1 405B FP8 on eight MI300X (128 in, 128 out): output throughput 36 tok/s at
    # batch 1 and 1,846 at batch 256, a 51x gain from 256x the users (the batch latency grew 3.53 s -> 17.75 s).
    facts = facts_of(MODELS["llama-3.1-405b"])
    setup = make_setup(GPUS["mi300x"], GPUS, 8)
    tput = []
    for batch in (1, 256):
        s = speed(facts, PRECISIONS["fp8"], setup, Workload(256, batch, 128, 128), "batched-server")
        assert s is not None and s.output_tokens_per_s is not None
        tput.append(s.output_tokens_per_s)
    assert tput[1] / tput[0] == pytest.approx(1846 / 36, rel=0.3)
    # Far from linear: the step at 256 sequences is several times the batch-1 step, as the issue measured.
    assert _step("mi300x", 256, 8, "llama-3.1-405b", "fp8") > 3 * _step("mi300x", 1, 8, "llama-3.1-405b", "fp8")


@settings(max_examples=30, deadline=None)
@given(
    gpu=st.sampled_from(("mi300x", "h100-sxm", "rtx-4090", "apple-m2-ultra")),
    small=st.integers(1, 512),
    extra=st.integers(1, 512),
)
def test_aggregate_decode_never_falls_with_more_sequences(gpu: str, small: int, extra: int) -> None:
    # A per-sequence cost flattens aggregate throughput; it never turns it down (B / (a + c B) rises with B).
    facts = facts_of(MODELS["llama-3.1-8b"])
    setup = make_setup(GPUS[gpu], GPUS)
    rates = []
    for batch in (small, small + extra):
        s = speed(facts, PRECISIONS["q4_k_m"], setup, Workload(1024, batch, 512, 512), "batched-server")
        assert s is not None
        rates.append(s.decode_tokens_per_s)
    assert rates[1] >= rates[0] * (1 - 1e-9)


def test_unfused_attention_adds_its_score_traffic_by_hand() -> None:
    # Llama 3.1 8B (32 layers x 32 query heads), an 8,192-token prompt on an RTX 4090 (1,008 GB/s): without flash
    # attention every one of the 32 x 32 x 8192 x 8193 / 2 causal scores is written, soft-maxed (read + write) and read
    # back in fp32: 16 bytes each, in memory-bound kernels of their own.
    facts = facts_of(MODELS["llama-3.1-8b"])
    setup = make_setup(GPUS["rtx-4090"], GPUS)
    prec = PRECISIONS["q4_k_m"]
    times = []
    for fused in (True, False):
        s = speed(facts, prec, setup, Workload(8192, 1, 8192, 0, "fp16", fused), "local")
        assert s is not None and s.prefill_time_s is not None
        times.append(s.prefill_time_s)
    scores = 32 * 32 * 8192 * 8193 / 2 * 16
    assert times[1] - times[0] == pytest.approx(scores / (1008e9 * C.EFFICIENCY["local"].memory), rel=1e-6)


def test_calibration_categories_stay_within_their_bounds() -> None:
    """Regression guard per issue-15 category: the mechanisms above brought these medians under 20%."""
    from record_support import catalog_records

    from site_builder.engine.calibrate import compare_all
    from site_builder.engine.errorbars import summarize_categories
    from site_builder.records import BenchmarkRecord, FrameworkRecord

    benches = list(catalog_records("benchmarks", BenchmarkRecord).values())
    frameworks = catalog_records("frameworks", FrameworkRecord)
    rows = {
        r.category: r
        for r in summarize_categories(compare_all(benches, MODELS, GPUS, frameworks), MODELS, GPUS, frameworks)
    }
    for category in (
        "batched servers",
        "local runtimes, one user",
        "local runtimes under many users",
        "AMD/Intel",
        "Apple",
        "long context",
        "MoE decode",
    ):
        row = rows[category]
        assert row.count >= 6 and row.median_ape is not None and row.median_ape < 0.20, (category, row)


# --- Local runtimes' parallel slots --------------------------------------------------------------------------------


def _local(
    model: str,
    gpu: str,
    batch: int,
    prec: str = "q4_k_m",
    assume: C.Assumptions = C.DEFAULT_ASSUMPTIONS,
    identical: bool = False,
    prompt: int = 0,
    output: int = 1,
) -> float:
    """Aggregate decode tokens/s of `batch` llama.cpp slots."""
    s = speed(
        facts_of(MODELS[model]),
        PRECISIONS[prec],
        make_setup(GPUS[gpu], GPUS),
        Workload(max(prompt + output, 1), batch, prompt, output, identical_sequences=identical),
        "local",
        assume=assume,
    )
    assert s is not None
    assert s.step_time_s >= s.step_floor_s  # the physics floor holds at every batch
    return s.decode_tokens_per_s


def _local_costs(per_sequence: float, routing: float) -> C.Assumptions:
    eff = C.DEFAULT_ASSUMPTIONS.efficiency["local"]
    return with_efficiency(
        C.DEFAULT_ASSUMPTIONS,
        "local",
        dataclasses.replace(eff, per_sequence_s=per_sequence, moe_token_layer_s=routing),
    )


def test_local_slot_and_routing_costs_by_hand() -> None:
    # Qwen3 30B-A3B: 48 layers, every one MoE. With 1 ms per added sequence and 50 us per token and MoE layer, and every
    # sequence identical (the same experts, so the weight reads do not grow), 16 more sequences on one-token contexts
    # add 16 x 1 ms + 16 x 48 x 50 us = 54.4 ms to the step, and batch 1 pays 48 x 50 us = 2.4 ms of routing.
    costs, none = _local_costs(1e-3, 50e-6), _local_costs(0.0, 0.0)
    one = 1 / _local("qwen3-30b-a3b", "h100-sxm", 1, assume=costs, identical=True)
    seventeen = 17 / _local("qwen3-30b-a3b", "h100-sxm", 17, assume=costs, identical=True)
    assert seventeen - one == pytest.approx(0.0544, rel=0.02)
    bare = 1 / _local("qwen3-30b-a3b", "h100-sxm", 1, assume=none, identical=True)
    assert one - bare == pytest.approx(48 * 50e-6, rel=1e-6)
    # A dense model has no MoE layer: only the per-sequence cost, 16 x 1 ms.
    dense = 17 / _local("llama-3.1-8b", "h100-sxm", 17, assume=costs) - 1 / _local(
        "llama-3.1-8b", "h100-sxm", 1, assume=costs
    )
    assert dense == pytest.approx(0.016, rel=0.05)


def test_identical_sequences_read_one_tokens_experts() -> None:
    # 32 sequences of the same token route to one token's experts: the step reads what batch 1 reads (plus KV), where
    # 32 distinct tokens touch 1 - (1 - 8/128)^32 = 87% of Qwen3 30B-A3B's experts.
    facts = facts_of(MODELS["qwen3-30b-a3b"])
    setup = make_setup(GPUS["h100-sxm"], GPUS)
    reads = {}
    for identical in (False, True):
        s = speed(facts, PRECISIONS["q8_0"], setup, Workload(1, 32, 0, 1, identical_sequences=identical), "local")
        assert s is not None
        reads[identical] = s.bytes_per_step
    one = speed(facts, PRECISIONS["q8_0"], setup, Workload(1, 1, 0, 1), "local")
    assert one is not None
    assert reads[True] == pytest.approx(one.bytes_per_step, rel=0.01)
    assert reads[False] > 5 * reads[True]


def test_llama_cpp_batch_sweeps_grow_like_the_published_ones() -> None:
    # llama.cpp's benches/dgx-spark.md (llama-batched-bench, 512-token prompts, 32 decoded tokens): Qwen2.5-Coder-7B
    # Q8_0 decodes 29.24 tokens/s alone and 593.27 in aggregate at 32 sequences (20x), gpt-oss-20b 81.11 and 614.82
    # (7.6x): a MoE model's slots saturate sooner than a dense model's.
    def gain(model: str, prec: str) -> float:
        def rate(b: int) -> float:
            return _local(model, "dgx-spark", b, prec, identical=True, prompt=512, output=32)

        return rate(32) / rate(1)

    assert gain("qwen2.5-coder-7b-instruct", "q8_0") == pytest.approx(593.27 / 29.24, rel=0.25)
    assert gain("gpt-oss-20b", "mxfp4") == pytest.approx(614.82 / 81.11, rel=0.25)


def test_llama_cpp_on_an_h100_is_no_longer_the_fastest_way_to_serve_32_users() -> None:
    # The case: 32 users of Llama 3.1 8B on one H100 (2,048-token prompts, 512-token answers). llama.cpp's
    # slots flatten towards 1 / 0.5 ms = 2,000 tokens/s, below a batched server's FP8 throughput on the same GPU.
    facts = facts_of(MODELS["llama-3.1-8b"])
    setup = make_setup(GPUS["h100-sxm"], GPUS)
    work = Workload(2560, 32, 2048, 512)
    local = speed(facts, PRECISIONS["q4_k_m"], setup, work, "local")
    server = speed(facts, PRECISIONS["fp8"], setup, work, "batched-server")
    assert local is not None and server is not None
    assert local.decode_tokens_per_s < 1 / C.EFFICIENCY["local"].per_sequence_s
    assert local.output_tokens_per_s is not None and server.output_tokens_per_s is not None
    assert local.output_tokens_per_s < server.output_tokens_per_s


@settings(max_examples=40, deadline=None)
@given(
    gpu=st.sampled_from(("h100-sxm", "rtx-4090", "apple-m2-ultra", "dgx-spark")),
    model=st.sampled_from(("llama-3.1-8b", "qwen3-30b-a3b", "gpt-oss-20b", "qwen2.5-0.5b")),
    users=st.integers(1, 256),
)
def test_local_slots_saturate_and_never_speed_a_user_up(gpu: str, model: str, users: int) -> None:
    prec = "mxfp4" if model == "gpt-oss-20b" else "q4_k_m"
    here, more = _local(model, gpu, users, prec), _local(model, gpu, users + 1, prec)
    # Per-user speed never rises with another user.
    assert more / (users + 1) <= here / users * (1 + 1e-9)
    # Aggregate never falls, and past 64 slots one more slot adds under 1%.
    assert more >= here * (1 - 1e-9)
    if users >= 64:
        assert more <= here * 1.01
    # Never above the asymptote 1 / (per-sequence cost + MoE layers x routing cost).
    eff = C.EFFICIENCY["local"]
    layers = facts_of(MODELS[model]).shape.moe_layers
    assert more < 1 / (eff.per_sequence_s + layers * eff.moe_token_layer_s)
