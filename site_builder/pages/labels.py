"""Words the pages use for the engine's ids: fit levels, KV-cache precisions, capabilities, device kinds."""

from __future__ import annotations

from site_builder.engine.fit import CellState, FitLevel, MatrixLevel

FIT_LABELS: dict[FitLevel, str] = {
    FitLevel.EXCELLENT: "Excellent",
    FitLevel.GOOD: "Good",
    FitLevel.MODERATE: "Moderate",
    FitLevel.TIGHT: "Tight",
    FitLevel.VERY_TIGHT: "Very tight",
    FitLevel.NO_FIT: "No fit",
}
# A matrix cell shows its level, or why it has none.
MATRIX_LABELS: dict[MatrixLevel, str] = dict(FIT_LABELS.items()) | {
    CellState.NOT_APPLICABLE: "n/a",
    CellState.UNKNOWN: "unknown",
}
# The legend reads from no headroom to plenty, the way the eye scans a row of cells left to right.
FIT_LEGEND_ORDER: tuple[FitLevel, ...] = tuple(reversed(FitLevel))

# KV-cache dtypes as the engine names them (precision.KV_BYTES) → how a sentence names them.
KV_PRECISION_LABELS = {
    "fp32": "32-bit",
    "bf16": "16-bit",
    "fp16": "16-bit",
    "fp8": "FP8",
    "q8_0": "8-bit (Q8_0)",
}


# The calculator's KV-cache choices: 16-bit names its format, since FP16 and BF16 are both offered.
KV_CHOICE_LABELS = {
    "fp32": "32-bit (FP32)",
    "fp16": "16-bit (FP16)",
    "bf16": "16-bit (BF16)",
    "fp8": "FP8",
    "q8_0": "Q8_0",
}


def kv_cache_label(kv_precision: str) -> str:
    """'16-bit KV cache', from the workload's KV precision."""
    return f"{KV_PRECISION_LABELS.get(kv_precision, kv_precision)} KV cache"


CAPABILITY_LABELS = {
    "chat": "Chat",
    "tool-use": "Tool use",
    "vision": "Vision",
    "code": "Code",
    "math": "Math",
    "reasoning": "Reasoning",
    "multilingual": "Multilingual",
    "structured-output": "Structured output",
    "long-context": "Long context",
}

VENDOR_LABELS = {"nvidia": "NVIDIA", "amd": "AMD", "intel": "Intel", "apple": "Apple", "cpu": "CPU"}
# The calculator's GPU groups read "<vendor> <words>" ("NVIDIA datacenter", "Apple silicon (unified memory)"), in
# this order of segments.
GROUP_SEGMENT_WORDS = {
    "datacenter": "datacenter",
    "workstation": "workstation",
    "consumer": "consumer",
    "apple-silicon": "silicon (unified memory)",
    "cpu": "only (system memory)",
}

SEGMENT_LABELS = {
    "consumer": "Consumer GPU",
    "workstation": "Workstation GPU",
    "apple-silicon": "Mac (unified memory)",
    "cpu": "CPU only",
}

LINEAR_KIND_LABELS = {
    "gated_deltanet": "Gated DeltaNet",
    "kimi_delta": "Kimi delta attention",
    "mamba2": "Mamba-2 state-space",
}
