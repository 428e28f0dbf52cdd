"""A GPU setup: a GPU record (or bundle) times a count, with the figures the engine needs per GPU."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from site_builder.engine.constants import CAPACITY_UNIT_BYTES, LINK_KIND_WORDS, USABLE_FRACTION
from site_builder.records.gpu import GpuRecord, Interconnect


@dataclass(frozen=True)
class Setup:
    """`record` is what the reader picked (maybe a bundle); `base` holds the figures of one GPU.

    Its figures are cached: make_setup hands out one Setup per record and count, which every estimate reads.
    """

    record: GpuRecord
    base: GpuRecord
    count: int  # number of base GPUs

    @functools.cached_property
    def id(self) -> str:
        return self.record.id if self.multiplier == 1 else f"{self.record.id}-x{self.multiplier}"

    @functools.cached_property
    def multiplier(self) -> int:
        per_record = self.record.bundle.count if self.record.bundle else 1
        return self.count // per_record

    @functools.cached_property
    def label(self) -> str:
        return self.record.short_name if self.multiplier == 1 else f"{self.multiplier}× {self.record.short_name}"

    @functools.cached_property
    def capacity_bytes(self) -> int | None:
        """Memory of one base GPU in bytes."""
        if self.base.memory_gb is None:
            return None
        return int(self.base.memory_gb * CAPACITY_UNIT_BYTES)

    @functools.cached_property
    def usable_fraction(self) -> float:
        return self.base.usable_memory_fraction or USABLE_FRACTION

    @functools.cached_property
    def usable_bytes(self) -> int | None:
        cap = self.capacity_bytes
        return None if cap is None else int(cap * self.usable_fraction)

    @functools.cached_property
    def bandwidth_bytes_s(self) -> float | None:
        bw = self.base.memory_bandwidth_gbps
        return None if bw is None else bw * 1e9

    @functools.cached_property
    def interconnect(self) -> Interconnect | None:
        """The link between the GPUs: a bundle's own (a workstation's slots may be narrower than the card's), else
        the card's."""
        return self.record.interconnect or self.base.interconnect

    @functools.cached_property
    def link_kind(self) -> str | None:
        """The link family tensor-parallel traffic uses: the record's `kind`, else read from its stated link type."""
        ic = self.interconnect
        if ic is None:
            return None
        if ic.kind:
            return None if ic.kind == "none" else ic.kind
        text = ic.type.lower()
        return next((kind for word, kind in LINK_KIND_WORDS if word in text), None)

    @functools.cached_property
    def link_bytes_s(self) -> float | None:
        """One direction of the GPU-to-GPU link (records give bidirectional totals); None when none is recorded."""
        ic = self.interconnect
        if ic is None or not ic.bandwidth_gbps or self.link_kind is None:
            return None
        return ic.bandwidth_gbps / 2 * 1e9

    @functools.cached_property
    def splittable(self) -> bool:
        """Several of this GPU can share a model only over a recorded link."""
        return self.link_bytes_s is not None

    def peak_flops(self, rate: str) -> float | None:
        value: float | None = getattr(self.base.compute, rate)
        return None if value is None else value * 1e12

    def price_per_gpu_hour(self) -> tuple[float, int] | None:
        """Median of the sourced hourly prices of one base GPU, and how many prices it is the median of."""
        prices = sorted(p.usd_per_gpu_hour for p in self.base.prices)
        if self.record.bundle and self.record.prices:
            per_gpu = sorted(p.usd_per_gpu_hour / self.record.bundle.count for p in self.record.prices)
            prices = per_gpu
        if not prices:
            return None
        mid = len(prices) // 2
        median = prices[mid] if len(prices) % 2 else (prices[mid - 1] + prices[mid]) / 2
        return median, len(prices)


# Setups made so far, by the identity of their records (held by the Setup, so an id is never reused meanwhile).
_SETUPS: dict[tuple[int, int, int], Setup] = {}
_SETUPS_KEPT = 10_000  # a long-running preview server sees new records on every edit: start afresh past this


def make_setup(record: GpuRecord, gpus: dict[str, GpuRecord], multiplier: int = 1) -> Setup:
    base = gpus[record.bundle.gpu] if record.bundle else record
    key = (id(record), id(base), multiplier)
    known = _SETUPS.get(key)
    if known is not None and known.record is record and known.base is base:
        return known
    if len(_SETUPS) >= _SETUPS_KEPT:
        _SETUPS.clear()
    count = record.bundle.count * multiplier if record.bundle else multiplier
    made = _SETUPS[key] = Setup(record=record, base=base, count=count)
    return made
