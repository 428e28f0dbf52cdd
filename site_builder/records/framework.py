"""Inference frameworks: what they run, and how a model is launched with them."""

from __future__ import annotations

import shlex
from typing import Literal

from pydantic import Field, field_validator

from site_builder.records.common import PrecisionId, Record, Slug, Sourced, Url
from site_builder.records.gpu import Vendor

EngineClass = Literal["batched-server", "local"]


class LaunchTemplate(Record):
    """A command built from parts; `{model}`, `{value}` and similar placeholders are filled by the builder."""

    command: str = Field(description="Base command, with {model} for the model's repo or file.")
    tensor_parallel: str | None = Field(default=None, description="Flag for TP size, with {value}.")
    max_model_len: str | None = Field(default=None, description="Flag for the context length, with {value}.")
    quantization: str | None = Field(default=None, description="Flag for the quantization, with {value}.")
    kv_cache_dtype: str | None = Field(default=None, description="Flag for the KV-cache dtype, with {value}.")
    gpu_memory_utilization: str | None = Field(
        default=None,
        description="The engine's memory-budget flag with {value} (0-1): the share of memory the engine sizes its "
        "KV-cache pool from (vLLM --gpu-memory-utilization, SGLang --mem-fraction-static, LMDeploy "
        "--cache-max-entry-count, TensorRT-LLM --kv_cache_free_gpu_memory_fraction).",
    )
    max_sequences: str | None = Field(
        default=None,
        description="Flag for the most requests the engine runs at once (its batch limit; llama.cpp: its parallel "
        "slots), with {value}.",
    )
    execution_provider: str | None = Field(
        default=None, description="Flag for the device backend an exported model targets, with {value}."
    )
    quantization_values: dict[str, str] = Field(default_factory=dict, description="Our precision id -> value.")
    kv_cache_values: dict[str, str] = Field(default_factory=dict, description="Our KV precision -> value.")
    execution_provider_values: dict[str, str] = Field(
        default_factory=dict, description="GPU record vendor (nvidia, amd, intel, apple, cpu) -> value."
    )
    run_command: str | None = Field(
        default=None, description="For a runtime that first exports the model: the command that then runs it."
    )
    notes: str | None = None

    @field_validator(
        "command",
        "tensor_parallel",
        "max_model_len",
        "quantization",
        "kv_cache_dtype",
        "gpu_memory_utilization",
        "max_sequences",
    )
    @classmethod
    def _splits_like_a_shell(cls, value: str | None) -> str | None:
        """Pages split these into words as a shell would; an unbalanced quote must fail here, not there."""
        if value is not None:
            try:
                shlex.split(value)
            except ValueError as exc:
                raise ValueError(f"is not a valid shell command ({exc})") from None
        return value


class FrameworkRecord(Sourced):
    id: Slug
    name: str
    url: Url
    repo: Url | None = None
    license: str | None = None
    engine_class: EngineClass = Field(description="batched-server (continuous batching) or local.")
    precisions: list[PrecisionId]
    vendors: list[Vendor]
    launch: LaunchTemplate | None = None
    description: str | None = None
