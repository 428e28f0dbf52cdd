"""Error bars from calibration residuals and the calibration categories, against hand-made residuals."""

from __future__ import annotations

import pytest
from test_engine_memory_speed import GPUS, MODELS

from site_builder.engine.calibrate import Comparison
from site_builder.engine.errorbars import categories, error_bars, hardware_class
from site_builder.records import BenchmarkRecord


def _bench(rid: str, metric: str, gpu: str, value: float, **workload: int) -> BenchmarkRecord:
    return BenchmarkRecord.model_validate(
        {
            "id": rid,
            "model": "llama-3.1-8b",
            "precision": "bf16",
            "gpu": gpu,
            "workload": workload,
            "metric": metric,
            "value": value,
            "unit": "x",
            "source": {"url": "https://example.com", "quote": "q"},
        }
    )


def test_error_bar_is_the_median_of_the_cell_and_falls_back_when_thin() -> None:
    # Three decode residuals on H100s (+10%, -20%, +40%): median |error| 20%; one on an MI300X (+100%).
    comps = [
        Comparison(_bench("a", "decode_tok_s", "h100-sxm", 100), 110),
        Comparison(_bench("b", "decode_tok_s", "h100-sxm", 100), 80),
        Comparison(_bench("c", "decode_tok_s", "h100-sxm", 100), 140),
        Comparison(_bench("d", "decode_tok_s", "mi300x", 100), 200),
    ]
    bars = error_bars(comps, GPUS, {})
    nvidia = bars.lookup("decode_tokens_per_s", "batched-server", hardware_class(GPUS["h100-sxm"]))
    assert nvidia is not None
    assert nvidia.pct == pytest.approx(0.20) and nvidia.count == 3
    assert nvidia.text.startswith("±20%, from 3 measured results")
    # One AMD residual is too few: the class-wide median over all four (|0.1|, |0.2|, |0.4|, |1.0| -> 0.3) answers.
    amd = bars.lookup("decode_tokens_per_s", "batched-server", hardware_class(GPUS["mi300x"]))
    assert amd is not None and amd.count == 4 and amd.pct == pytest.approx(0.30)
    assert "any hardware" in amd.scope
    assert bars.lookup("itl_ms", "batched-server", "NVIDIA datacenter GPUs") is None


def test_categories_of_a_record() -> None:
    long_prompt = _bench("e", "prefill_tok_s", "mi300x", 100, concurrency=1, prompt_tokens=8192, output_tokens=0)
    cats = categories(long_prompt, MODELS, GPUS, {})
    assert "AMD/Intel" in cats and "long context" in cats and "batched servers" in cats
    moe = BenchmarkRecord.model_validate(
        {**long_prompt.model_dump(), "id": "f", "model": "qwen3-30b-a3b", "metric": "decode_tok_s"}
    )
    assert "MoE decode" in categories(moe, MODELS, GPUS, {})
