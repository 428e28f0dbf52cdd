"""The two Apple outliers' mechanisms: unfused attention re-reading the KV cache per query head on Metal, and weights
that exceed what macOS lets the GPU keep resident."""

from __future__ import annotations

from test_engine_memory_speed import GPUS, MODELS

from site_builder.engine.calibrate import weights_exceed_resident
from site_builder.engine.estimate import Workload, bytes_read_per_step
from site_builder.engine.hardware import make_setup
from site_builder.engine.plan import facts_of
from site_builder.engine.precision import PRECISIONS

# Llama 3 8B: 32 layers, 32 query heads, 8 KV heads of 128 (its config.json); a 16-bit cache.
L3_KV_PER_TOKEN = 2 * 32 * 8 * 128 * 2


def _extra_kv_bytes(gpu: str) -> float:
    facts = facts_of(MODELS["llama-3-8b"])
    setup = make_setup(GPUS[gpu], GPUS)
    fused = Workload(8192, 1, 0, 8192, "fp16", True)
    unfused = Workload(8192, 1, 0, 8192, "fp16", False)
    prec = PRECISIONS["q4_k_m"]
    return bytes_read_per_step(facts, prec, setup, unfused, 1) - bytes_read_per_step(facts, prec, setup, fused, 1)


def test_unfused_attention_on_metal_reads_the_cache_once_per_query_head() -> None:
    # Decoding at an average context of 4096 tokens (tg 8192 from empty): 32 / 8 = 4 reads of the cache instead of 1.
    assert abs(_extra_kv_bytes("apple-m2-ultra") - 3 * 4096 * L3_KV_PER_TOKEN) < 1e-3 * 4096 * L3_KV_PER_TOKEN


def test_unfused_attention_on_cuda_reads_the_cache_once() -> None:
    assert _extra_kv_bytes("rtx-4090") == 0


def test_weights_beyond_the_metal_working_set_are_not_a_calibration_point() -> None:
    facts = facts_of(MODELS["llama-2-70b"])
    prec = PRECISIONS["q4_0"]
    # 36.2 GiB of Q4_0 weights against 75% of 48 GB = 36 GiB resident on the 48 GB M3 Max; 96 GiB on the 128 GB one.
    assert weights_exceed_resident(facts, prec, make_setup(GPUS["apple-m3-max-48gb"], GPUS))
    assert not weights_exceed_resident(facts, prec, make_setup(GPUS["apple-m3-max"], GPUS))
    # A discrete card keeps what fits in its memory: 15 GiB of Llama 3 8B f16 on a 16 GB RTX 4080 ran (llama-bench).
    assert not weights_exceed_resident(
        facts_of(MODELS["llama-3-8b"]), PRECISIONS["fp16"], make_setup(GPUS["rtx-4080"], GPUS)
    )
