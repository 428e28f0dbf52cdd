"""GPU (and CPU-only and unified-memory) hardware records."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from site_builder.records.common import Record, Slug, Sourced, Url

# Physical bounds, far beyond any shipping part, so a typo (an extra digit, GB for MB) is caught:
# the largest accelerators carry a few hundred GB, CPU servers a few TB; HBM3e gives 8 TB/s per GPU.
MAX_MEMORY_GB = 16_384
MAX_BANDWIDTH_GBPS = 100_000
MAX_TFLOPS = 100_000
MAX_WATTS = 20_000
MAX_USD_PER_GPU_HOUR = 1_000

Segment = Literal["datacenter", "workstation", "consumer", "apple-silicon", "cpu"]
Vendor = Literal["nvidia", "amd", "intel", "apple", "cpu"]


class Compute(Record):
    """Dense peak rates (no 2:4 sparsity), TFLOPS or TOPS. Absent means unknown or unsupported."""

    fp32: float | None = Field(default=None, gt=0, le=MAX_TFLOPS)
    bf16: float | None = Field(default=None, gt=0, le=MAX_TFLOPS)
    fp16: float | None = Field(default=None, gt=0, le=MAX_TFLOPS)
    fp8: float | None = Field(default=None, gt=0, le=MAX_TFLOPS)
    int8: float | None = Field(default=None, gt=0, le=MAX_TFLOPS)
    int4: float | None = Field(default=None, gt=0, le=MAX_TFLOPS)
    fp4: float | None = Field(default=None, gt=0, le=MAX_TFLOPS)


class Interconnect(Record):
    type: str = Field(description="NVLink 4, PCIe 4.0 x16, Infinity Fabric...")
    kind: Literal["nvlink", "pcie", "infinity-fabric", "roce", "xe-link", "none"] | None = Field(
        default=None, description="Link family used for tensor-parallel traffic."
    )
    bandwidth_gbps: float | None = Field(
        default=None, gt=0, le=MAX_BANDWIDTH_GBPS, description="GB/s per GPU, bidirectional."
    )
    note: str | None = None


class Price(Record):
    provider: str
    usd_per_gpu_hour: float = Field(gt=0, le=MAX_USD_PER_GPU_HOUR)
    offer: str | None = Field(default=None, description="The offer as the provider lists it.")
    as_of: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="Date the price was read.")
    source: Url


class Bundle(Record):
    """A record that is several GPUs of another record sold or wired together (e.g. an NVL pair)."""

    gpu: Slug
    count: int = Field(ge=2)


class GpuRecord(Sourced):
    id: Slug = Field(description="Equals the file name.", examples=["h100-sxm"])
    name: str = Field(description="Full product name.", examples=["NVIDIA H100 SXM5 80GB"])
    short_name: str = Field(description="Short label for tables.", examples=["H100 SXM"])
    vendor: Vendor = Field(description="Maker; `cpu` for CPU-only profiles.")
    segment: Segment = Field(description="Market segment; apple-silicon for unified memory, cpu for CPU-only.")
    architecture: str = Field(description="Architecture generation, e.g. Hopper, Ada Lovelace, CDNA 3.")
    memory_gb: float | None = Field(
        default=None,
        gt=0,
        le=MAX_MEMORY_GB,
        description="Memory as marketed, in GB (sized as GiB: see methodology).",
        examples=[80],
    )
    usable_memory_fraction: float | None = Field(
        default=None, gt=0, le=1, description="Share of memory the accelerator may use (unified memory)."
    )
    memory_type: str | None = Field(default=None, description="HBM3, GDDR6X, DDR5...", examples=["HBM3"])
    memory_bandwidth_gbps: float | None = Field(
        default=None,
        gt=0,
        le=MAX_BANDWIDTH_GBPS,
        description="Peak memory bandwidth in GB/s (decimal).",
        examples=[3350],
    )
    compute: Compute = Field(default_factory=Compute)
    tdp_watts: float | None = Field(
        default=None, gt=0, le=MAX_WATTS, description="Board power in watts.", examples=[700]
    )
    interconnect: Interconnect | None = None
    release_year: int | None = Field(default=None, ge=1990, le=2100, description="Year of release or announcement.")
    bundle: Bundle | None = Field(default=None, description="Several GPUs of another record sold or wired together.")
    prices: list[Price] = Field(default_factory=list, description="Sourced hourly prices, each with its date.")
    notes: str | None = Field(default=None, description="Anything a reader should know about the figures.")
    resolved_conflicts: list[str] = Field(default_factory=list, description="Source conflicts and the choice.")
