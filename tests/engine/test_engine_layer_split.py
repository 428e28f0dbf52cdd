"""llama.cpp's layer split over several GPUs: decode runs the GPUs one after another, prefill pipelines micro-batches.

Hand arithmetic of the pipeline's fill and drain, and properties: a split decode is never faster than one GPU streaming
every weight, and a prompt of many micro-batches never gets slower with more GPUs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from site_builder.engine import constants as C
from site_builder.engine.estimate import Workload, pipeline_share, speed
from site_builder.engine.hardware import make_setup
from site_builder.engine.memory import weight_bytes
from site_builder.engine.plan import facts_of
from site_builder.engine.precision import PRECISIONS
from site_builder.records import GpuRecord, ModelRecord

ROOT = Path(__file__).resolve().parents[2]
MODEL_IDS = ("llama-3-8b", "llama-3-70b", "qwen2.5-0.5b", "mistral-7b-v0.1")


def _yaml(kind: str, rid: str) -> object:
    return yaml.safe_load((ROOT / "catalog" / kind / f"{rid}.yaml").read_text())


MODELS = {m: ModelRecord.model_validate(_yaml("models", m)) for m in MODEL_IDS}
CARD = GpuRecord.model_validate(_yaml("gpus", "rtx-4090"))
GPUS = {"rtx-4090": CARD}


def test_pipeline_share_by_hand() -> None:
    # 8,192 tokens in micro-batches of 512 = 16 micro-batches, 4 calls of 2,048 tokens, over 8 GPUs. Each call holds
    # 4 micro-batches; with each GPU taking T/8 per micro-batch, a call ends after 4 + 7 = 11 slots of T/8, against
    # 4 T one GPU after another: 11/32 of the time, for all 4 calls alike.
    assert pipeline_share(16, 4, 8) == pytest.approx(11 / 32)
    # One micro-batch (a 512-token prompt) has nothing to overlap: 1 + 7 slots of T/8 = T.
    assert pipeline_share(1, 1, 8) == pytest.approx(1.0)
    # 5 micro-batches over 2 GPUs in 2 calls (4 + 1): (4 + 1) + (1 + 1) slots of T/2 against 5 T.
    assert pipeline_share(5, 2, 2) == pytest.approx(7 / 2 / 5)
    assert pipeline_share(3, 1, 1) == 1.0


def test_layer_split_prefill_by_hand() -> None:
    """An 8-GPU layer split of a 4,096-token prompt: the one-after-another work times (8 + 2 x 7) / (8 x 8), plus each
    micro-batch's 7 hops and step overhead (activations cross each GPU boundary once)."""
    facts = facts_of(MODELS["llama-3-8b"])
    prec = PRECISIONS["fp16"]
    work = Workload(4096, 1, 4096, 0)
    one = speed(facts, prec, make_setup(CARD, GPUS, 1), work, "local")
    eight = speed(facts, prec, make_setup(CARD, GPUS, 8), work, "local")
    assert one is not None and eight is not None and one.prefill_time_s and eight.prefill_time_s
    eff = C.EFFICIENCY["local"]
    micro_batches = 4096 // 512
    link_bytes_s = 32e9  # the 4090 record's PCIe 4.0 x16: 64 GB/s both directions, one way is what a hop uses
    hop = 43e-6 + 512 * 4096 * 2 / link_bytes_s  # PCIe latency + one micro-batch's hidden states in 16 bits
    work_one = one.prefill_time_s - micro_batches * eff.step_overhead_s
    expected = work_one * (8 + 2 * 7) / (8 * 8) + micro_batches * (7 * hop + eff.step_overhead_s)
    assert eight.prefill_time_s == pytest.approx(expected, rel=1e-9)


def test_layer_split_decode_by_hand() -> None:
    """One token through 2 GPUs: every weight but the gathered embedding table at the memory efficiency, the step's
    overhead, and one hop of the hidden state."""
    facts = facts_of(MODELS["llama-3-70b"])
    prec = PRECISIONS["fp16"]
    two = speed(facts, prec, make_setup(CARD, GPUS, 2), Workload(1, 1, 0, 1), "local")
    assert two is not None
    table = 128256 * 8192 * 2  # Llama 3's vocabulary x hidden size, 16-bit; its rows are gathered, not streamed
    streamed = weight_bytes(facts, prec) - table
    eff = C.EFFICIENCY["local"]
    hop = 43e-6 + 8192 * 2 / 32e9
    assert two.step_time_s == pytest.approx(streamed / (1008e9 * eff.memory) + eff.step_overhead_s + hop, rel=1e-6)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(sorted(MODELS)), st.sampled_from((2, 3, 4, 6, 8)), st.integers(1, 64))
def test_split_decode_never_beats_one_gpu_streaming_every_weight(mid: str, gpus: int, batch: int) -> None:
    facts = facts_of(MODELS[mid])
    prec = PRECISIONS["q4_k_m"]
    spd = speed(facts, prec, make_setup(CARD, GPUS, gpus), Workload(1024, batch, 512, 512), "local")
    assert spd is not None
    p = facts.params
    whole = weight_bytes(facts, prec)
    table = 0 if facts.arch.tie_word_embeddings else p.embedding * whole / p.total
    assert spd.step_time_s >= (whole - table) / 1008e9


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(sorted(MODELS)), st.integers(2048, 32768), st.sampled_from(("fp16", "q4_k_m")))
def test_prefill_throughput_never_falls_with_more_gpus(mid: str, prompt: int, prec_id: str) -> None:
    """With at least one full call of micro-batches (2,048 tokens) in flight, each doubling of the GPUs shortens the
    prompt's time: the pipeline's overlap gains more than the added hops cost."""
    facts = facts_of(MODELS[mid])
    prec = PRECISIONS[prec_id]
    work = Workload(prompt, 1, prompt, 0)
    times = []
    for n in (1, 2, 4, 8):
        spd = speed(facts, prec, make_setup(CARD, GPUS, n), work, "local")
        assert spd is not None and spd.prefill_time_s is not None
        times.append(spd.prefill_time_s)
    assert times == sorted(times, reverse=True)
