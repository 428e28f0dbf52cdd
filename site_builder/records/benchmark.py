"""Measured inference results, used to calibrate the engine and shown beside its estimates."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from site_builder.records.common import PrecisionId, Record, Slug, Url

Metric = Literal[
    "decode_tok_s",
    "aggregate_decode_tok_s",
    "prefill_tok_s",
    "aggregate_output_tok_s",
    "aggregate_output_tok_s_per_gpu",
    "ttft_ms",
    "itl_ms",
    "tpot_ms",
    "e2e_latency_ms",
    "model_weights_gib",
    "model_weights_gib_per_gpu",
    "activation_peak_gib",
    "non_torch_memory_gib",
    "kv_cache_capacity_tokens",
    "achieved_matmul_tflops",
    "achieved_memory_bandwidth_tbs",
]


class Workload(Record):
    concurrency: int | None = Field(default=None, ge=1, description="Concurrent requests (batch); absent if unstated.")
    prompt_tokens: int | None = Field(default=None, ge=0)
    output_tokens: int | None = Field(default=None, ge=0)
    kv_precision: str | None = Field(default=None, description="KV-cache dtype when the source states it.")
    flash_attention: bool | None = Field(
        default=None, description="Whether the run fused attention (flash attention); absent when the source is silent."
    )
    identical_sequences: bool | None = Field(
        default=None,
        description="Whether every sequence of the batch feeds the same tokens (llama-batched-bench's synthetic "
        "prompts and decode token): a mixture-of-experts layer then routes the whole batch to one token's experts.",
    )
    memory_fraction: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="The engine's memory share as launched when not its default (vLLM --gpu-memory-utilization, SGLang "
        "--mem-fraction-static, TensorRT-LLM free_gpu_memory_fraction); absent: the default.",
    )
    batch_tokens: int | None = Field(
        default=None,
        ge=1,
        description="Tokens of the batch the engine profiles or warms up with when not its default (vLLM "
        "max_num_batched_tokens, which is max_model_len with chunked prefill off; TGI --max-batch-prefill-tokens).",
    )
    notes: str | None = None


class BenchmarkSource(Record):
    url: Url
    quote: str = Field(description="The table row or sentence the value was read from.")
    section: str | None = None
    source_type: Literal["primary", "vendor_blog", "third_party_blog", "self-measured"] = "primary"


class BenchmarkRecord(Record):
    id: Slug
    model_note: str | None = Field(default=None, description="The model as the source names it, if it differs.")
    model: Slug | None = Field(default=None, description="Absent for hardware microbenchmarks.")
    precision: PrecisionId | None = Field(default=None, description="Absent when the source does not say.")
    framework: Slug | None = Field(default=None, description="Framework id; absent for raw PyTorch/microbenchmarks.")
    framework_version: str | None = None
    gpu: Slug | None = Field(default=None, description="Absent when the source does not identify the SKU.")
    gpu_count: int = Field(default=1, ge=1)
    workload: Workload
    metric: Metric
    value: float = Field(gt=0)
    unit: str
    kind: Literal["measured", "random-weights"] = Field(
        default="measured", description="random-weights: this architecture run with random weights."
    )
    date: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}(-\d{2})?$")
    source: BenchmarkSource
    notes: str | None = None
