"""Rules on GPU records: price dates, and the GPU-to-GPU link a multi-GPU setup is planned over."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

from site_builder.catalog import Catalog, Located
from site_builder.problems import Problem
from site_builder.records import GpuRecord
from site_builder.records.gpu import Interconnect
from site_builder.rules.registry import RuleContext, rule

# Devices that people join into multi-GPU setups; Apple silicon and CPU profiles run alone.
MULTI_GPU_SEGMENTS = ("datacenter", "workstation", "consumer")
# PCI-SIG's headline figure per generation: GB/s per lane, both directions together (x16 Gen4 = 64 GB/s).
PCIE_LANE_GBPS = {1: 0.5, 2: 1.0, 3: 2.0, 4: 4.0, 5: 8.0, 6: 16.0, 7: 32.0}
# Records may give the headline figure or the rate after 128b/130b line coding (Gen4 x16 = 63 GB/s).
PCIE_LOW_SHARE = 0.975
PCIE_RE = re.compile(r"PCIe\s*(?:Gen\s*)?([1-7])(?:\.0)?\s+x(1|2|4|8|16)\b", re.IGNORECASE)


def pcie_link_gbps(link_type: str) -> float | None:
    """Headline bidirectional GB/s of the first `PCIe <gen> x<width>` a link description names."""
    found = PCIE_RE.search(link_type)
    if found is None:
        return None
    return PCIE_LANE_GBPS[int(found[1])] * int(found[2])


@rule("gpu.price-date-not-future", "no price is dated after today")
def price_date_not_future(context: RuleContext) -> Iterator[Problem]:
    for g in context.catalog.gpus.values():
        for i, price in enumerate(g.record.prices):
            if dt.date.fromisoformat(price.as_of) > context.today:
                yield g.problem(("prices", i, "as_of"), f"{price.as_of} is in the future")


def _combined(catalog: Catalog) -> Iterator[Located[GpuRecord]]:
    """Devices people combine for tensor parallelism, whose link the link rules judge."""
    for g in catalog.gpus.values():
        r = g.record
        if r.segment not in MULTI_GPU_SEGMENTS:
            continue
        if r.bundle and r.bundle.gpu not in catalog.gpus:
            continue  # the bundle rule reports the unknown GPU; nothing to judge here
        yield g


def _links(catalog: Catalog) -> Iterator[tuple[Located[GpuRecord], Interconnect]]:
    """Combined devices that name their link family, with their interconnect."""
    for g in _combined(catalog):
        ic = g.record.interconnect
        if ic is not None and ic.kind is not None:
            yield g, ic


def _unsourced(ic: Interconnect) -> bool:
    """No source states the link rate: the field stays empty and the note must say so."""
    return ic.note is not None and "unsourced" in ic.note.lower()


@rule("gpu.link-kind-stated", "a multi-GPU device states its link family (interconnect.kind)")
def link_kind_stated(context: RuleContext) -> Iterator[Problem]:
    for g in _combined(context.catalog):
        ic = g.record.interconnect
        if ic is None or ic.kind is None:
            loc: tuple[str, ...] = ("interconnect", "kind") if ic else ("interconnect",)
            yield g.problem(loc, "required: the link family used for tensor parallelism")


@rule(
    "gpu.link-bandwidth-stated",
    "a multi-GPU device with a link states its bandwidth, or a note that no source does",
)
def link_bandwidth_stated(context: RuleContext) -> Iterator[Problem]:
    for g, ic in _links(context.catalog):
        if ic.kind != "none" and ic.bandwidth_gbps is None and not _unsourced(ic):
            yield g.problem(
                ("interconnect", "bandwidth_gbps"),
                f"required for a {ic.kind} link (GB/s per GPU, both directions), "
                "or a note saying that no source states it ('unsourced: ...')",
            )


@rule("gpu.link-none-explained", "a multi-GPU device without a GPU-to-GPU link says why in a note")
def link_none_explained(context: RuleContext) -> Iterator[Problem]:
    for g, ic in _links(context.catalog):
        if ic.kind == "none" and not ic.note:
            yield g.problem(("interconnect", "note"), "say why the device has no GPU-to-GPU link")


@rule("gpu.link-sourced", "a source supports the interconnect of a multi-GPU device")
def link_sourced(context: RuleContext) -> Iterator[Problem]:
    for g, ic in _links(context.catalog):
        sourced = any(name.split(".")[0] == "interconnect" for src in g.record.sources for name in src.supports)
        if ic.kind != "none" and not sourced and not _unsourced(ic):
            yield g.problem(("interconnect",), "no source supports the interconnect")


def _pcie(catalog: Catalog) -> Iterator[tuple[Located[GpuRecord], Interconnect]]:
    for g, ic in _links(catalog):
        if ic.kind == "pcie" and not _unsourced(ic):
            yield g, ic


@rule("gpu.link-pcie-named", "a PCIe link names its generation and width")
def link_pcie_named(context: RuleContext) -> Iterator[Problem]:
    for g, ic in _pcie(context.catalog):
        if pcie_link_gbps(ic.type) is None:
            yield g.problem(
                ("interconnect", "type"),
                f"a PCIe link names its generation and width, e.g. 'PCIe 4.0 x16', got {ic.type!r}",
            )


@rule("gpu.link-pcie-bandwidth", "a PCIe link's bandwidth matches its generation and width")
def link_pcie_bandwidth(context: RuleContext) -> Iterator[Problem]:
    for g, ic in _pcie(context.catalog):
        expected = pcie_link_gbps(ic.type)
        bandwidth = ic.bandwidth_gbps
        if expected is not None and bandwidth is not None and not expected * PCIE_LOW_SHARE <= bandwidth <= expected:
            yield g.problem(
                ("interconnect", "bandwidth_gbps"),
                f"{bandwidth:g} GB/s does not match {ic.type!r} ({expected:g} GB/s both directions)",
            )
