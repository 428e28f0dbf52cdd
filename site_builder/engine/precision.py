"""Weight and KV-cache formats: how many bytes each kind of tensor takes, and which tensor cores run it.

A format compresses the linear layers of the decoder blocks (attention and MLP/expert matrices). The
embedding table, LM head, norms, biases and MoE routers stay in 16-bit for the GPU formats, as vLLM,
AutoAWQ/GPTQ and the gpt-oss MXFP4 checkpoints do. GGUF files quantize every matrix, so their bits per
weight apply to the whole model (llama.cpp's published sizes include the embedding and output tensors).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from site_builder.engine.constants import GIB
from site_builder.records.gpu import GpuRecord

ComputeRate = Literal["fp32", "bf16", "fp16", "fp8", "int8", "int4", "fp4"]


@dataclass(frozen=True)
class Precision:
    id: str
    label: str
    bits_per_weight: float
    scope: Literal["all", "linear", "experts"]
    compute: ComputeRate
    native_compute_needed: bool
    family: Literal["float", "integer", "gguf", "microscaling"]
    note: str

    @property
    def bytes_per_weight(self) -> float:
        return self.bits_per_weight / 8


# Group-wise 4-bit (AWQ/GPTQ, group size 128): 4 bits + one fp16 scale and one packed 4-bit zero point
# per 128 weights -> 4 + (16 + 4) / 128 = 4.15625 bits.
_GROUP_INT4_BITS = 4 + (16 + 4) / 128
# compressed-tensors W4A16 "pack-quantized", symmetric, group size 32 (Kimi K2.5/K2.6): 4 bits plus one bf16 scale
# per 32 weights and no zero point -> 4 + 16 / 32 = 4.5 bits. The two-int32 weight_shape tensor per matrix is
# negligible (8 bytes per expert matrix of millions of weights).
_EXPERT_INT4_G32_BITS = 4 + 16 / 32
# GGUF: average bits per weight of llama.cpp's published file sizes for Llama-3-8B (8,030,261,248
# parameters): size_GiB * 2**30 * 8 / params. Sizes from llama.cpp's quantize tool table.
_LLAMA3_8B_PARAMS = 8_030_261_248


def _gguf_bits(size_gib: float) -> float:
    return round(size_gib * GIB * 8 / _LLAMA3_8B_PARAMS, 3)


GGUF_SIZES_GIB = {"q8_0": 7.96, "q6_k": 6.14, "q5_k_m": 5.33, "q4_k_m": 4.58, "q4_0": 4.34}

PRECISIONS: dict[str, Precision] = {
    p.id: p
    for p in [
        Precision("fp32", "FP32", 32, "all", "fp32", False, "float", "Full precision; rarely used for serving."),
        Precision("bf16", "BF16", 16, "all", "bf16", True, "float", "Native weights of most releases."),
        Precision("fp16", "FP16", 16, "all", "fp16", True, "float", "Same size as BF16."),
        Precision(
            "fp8",
            "FP8",
            8,
            "linear",
            "fp8",
            False,
            "float",
            "E4M3 weights with per-channel or block scales; on GPUs without FP8 tensor cores vLLM runs them "
            "weight-only (dequantized to 16-bit), at the 16-bit rate.",
        ),
        Precision("int8", "INT8", 8, "linear", "int8", False, "integer", "W8A8 or W8A16 with per-channel scales."),
        Precision(
            "awq-int4",
            "AWQ INT4",
            _GROUP_INT4_BITS,
            "linear",
            "bf16",
            False,
            "integer",
            "4-bit weights, group size 128, fp16 scales and 4-bit zero points; computed in 16-bit.",
        ),
        Precision(
            "gptq-int4",
            "GPTQ INT4",
            _GROUP_INT4_BITS,
            "linear",
            "bf16",
            False,
            "integer",
            "4-bit weights, group size 128; computed in 16-bit.",
        ),
        Precision("int4", "INT4", _GROUP_INT4_BITS, "linear", "bf16", False, "integer", "Generic group-wise 4-bit."),
        Precision(
            "int4-experts",
            "INT4 experts",
            _EXPERT_INT4_G32_BITS,
            "experts",
            "bf16",
            False,
            "integer",
            "Routed MoE experts in symmetric 4-bit with a bf16 scale per 32 weights (compressed-tensors W4A16, as "
            "Kimi K2.5 ships); attention, shared experts, dense layers, embeddings and head stay 16-bit. Computed "
            "in 16-bit.",
        ),
        Precision(
            "mxfp4",
            "MXFP4",
            4.25,
            "experts",
            "bf16",
            False,
            "microscaling",
            "OCP microscaling FP4: 4-bit elements with an 8-bit scale per 32, applied to MoE experts (as gpt-oss "
            "ships them; dense layers use it for all linear weights). Weight-only on GPUs without FP4 units.",
        ),
        Precision(
            "nvfp4",
            "NVFP4",
            4.5,
            "linear",
            "fp4",
            True,
            "microscaling",
            "NVIDIA FP4: 4-bit elements with an FP8 scale per 16; needs Blackwell FP4 tensor cores.",
        ),
        *[
            Precision(
                pid,
                pid.upper(),
                _gguf_bits(size),
                "all",
                "bf16",
                False,
                "gguf",
                f"GGUF {pid.upper()} (llama.cpp: {size} GiB for Llama-3-8B)",
            )
            for pid, size in GGUF_SIZES_GIB.items()
        ],
    ]
}

KV_BYTES: dict[str, float] = {"fp32": 4, "bf16": 2, "fp16": 2, "fp8": 1, "q8_0": 34 / 32}

# Engine recipes that keep the KV cache in FP8 unless the launch says otherwise: (framework id or None for any,
# GPU id prefix or None for any, weight formats).
# - TensorRT-LLM serves NVIDIA Model Optimizer checkpoints, whose FP8 and NVFP4 exports record kv_cache_quant_algo FP8
#   in hf_quant_config.json, and its KV-cache dtype "auto" inherits the checkpoint's
#   (https://nvidia.github.io/TensorRT-LLM/1.4.0rc4/features/quantization.html); NVIDIA's own FP8 performance tables
#   (the catalog's trtllm014-*-fp8 records) ran with an FP8 KV cache.
# - vLLM's FP8 recipe on Intel Gaudi quantizes the KV cache with Intel Neural Compressor: "vllm serve ... --quantization
#   inc --kv-cache-dtype fp8_inc" (https://docs.vllm.ai/en/v0.10.0/features/quantization/inc.html).
FP8_KV_RECIPES: tuple[tuple[str | None, str | None, tuple[str, ...]], ...] = (
    ("tensorrt-llm", None, ("fp8", "nvfp4")),
    (None, "gaudi", ("fp8",)),
)


def default_kv_precision(prec: Precision, gpu_id: str, framework_id: str | None) -> str:
    """The KV-cache precision a setup's engine recipe uses when the reader names none: FP8 where the recipe stores the
    cache in FP8 (FP8_KV_RECIPES), else 16-bit."""
    for framework, gpu_prefix, formats in FP8_KV_RECIPES:
        if prec.id not in formats or (framework is not None and framework != framework_id):
            continue
        if gpu_prefix is None or gpu_id.startswith(gpu_prefix):
            return "fp8"
    return "fp16"


def precision(pid: str) -> Precision:
    return PRECISIONS[pid]


SIXTEEN_BIT_RATES = ("bf16", "fp16")


def supported_on(prec: Precision, gpu: GpuRecord) -> bool:
    """Whether a GPU can run weights in this precision at all.

    Formats needing native units (NVFP4) run only where the GPU has them. Other compressed formats run
    weight-only (dequantized in the matmul kernels) on any GPU with 16-bit tensor cores, at the 16-bit
    rate; CPUs and Apple GPUs run GGUF and the 16-bit formats through llama.cpp/MLX.
    """
    c = gpu.compute
    if prec.native_compute_needed and prec.compute not in SIXTEEN_BIT_RATES:
        return getattr(c, prec.compute) is not None
    if gpu.segment in ("cpu", "apple-silicon"):
        return (prec.family in ("gguf", "float") and prec.id not in ("fp8",)) or prec.id in ("int4", "int8")
    return True


def compute_rate_for(prec: Precision, gpu: GpuRecord) -> str | None:
    """The tensor rate the matmuls run at: the precision's own if the GPU has it, else 16-bit, else fp32."""
    c = gpu.compute
    for rate in (prec.compute, "bf16", "fp16", "fp32"):
        if getattr(c, rate) is not None:
            return rate
    return None
