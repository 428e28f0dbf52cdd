"""GPU rules: price dates, and the GPU-to-GPU link of devices people combine for tensor parallelism."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rule_support import TODAY, at, run, shipped, start

NVLINK = {"type": "NVLink 4", "kind": "nvlink", "bandwidth_gbps": 900}
# PCIe 4.0 signals 16 GT/s per lane: 16 lanes x 16 Gb/s / 8 bits x 2 directions = 64 GB/s.
PCIE4_X16 = {"type": "PCIe 4.0 x16", "kind": "pcie", "bandwidth_gbps": 64}
UNRATED = {"type": "NVLink 4", "kind": "nvlink"}
NO_LINK = {"type": "no link", "kind": "none"}


def gpu(**fields: Any) -> dict[str, Any]:
    """The shipped H100 SXM record (a datacenter GPU, so its link is judged) with some fields replaced."""
    data = shipped("gpus", "h100-sxm") | {"id": "g"}
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def check(rule_id: str, tmp_path: Path, good: dict[str, Any], bad: dict[str, Any]) -> tuple[list[str], Path]:
    """`rule_id`'s lines for the bad record (and its path), after asserting the good one passes."""
    assert run(rule_id, tmp_path / "good", {"gpus/g.yaml": good}) == []
    return run(rule_id, tmp_path / "bad", {"gpus/g.yaml": bad}), tmp_path / "bad" / "gpus" / "g.yaml"


def price(as_of: str) -> list[dict[str, Any]]:
    return [{"provider": "Lambda", "usd_per_gpu_hour": 3.99, "as_of": as_of, "source": "https://example.org/p"}]


def test_price_date_not_future(tmp_path: Path) -> None:
    lines, path = check(
        "gpu.price-date-not-future", tmp_path, gpu(prices=price(TODAY.isoformat())), gpu(prices=price("2026-01-16"))
    )
    assert lines == [f"{at(path, 'as_of: ')}: prices.0.as_of: 2026-01-16 is in the future"]


def test_link_kind_stated(tmp_path: Path) -> None:
    lines, path = check("gpu.link-kind-stated", tmp_path, gpu(interconnect=NVLINK), gpu(interconnect=None))
    # No interconnect at all: reported where the record starts.
    assert lines == [f"{start(path, 'id: ')}: interconnect: required: the link family used for tensor parallelism"]


def test_link_bandwidth_stated(tmp_path: Path) -> None:
    unsourced = UNRATED | {"note": "unsourced: no datasheet gives the rate"}
    lines, path = check("gpu.link-bandwidth-stated", tmp_path, gpu(interconnect=unsourced), gpu(interconnect=UNRATED))
    assert lines == [
        f"{start(path, 'type: NVLink 4')}: interconnect.bandwidth_gbps: required for a nvlink link (GB/s per GPU, "
        "both directions), or a note saying that no source states it ('unsourced: ...')"
    ]


def test_link_none_explained(tmp_path: Path) -> None:
    explained = NO_LINK | {"note": "the board has no bridge connector"}
    lines, path = check("gpu.link-none-explained", tmp_path, gpu(interconnect=explained), gpu(interconnect=NO_LINK))
    assert lines == [f"{start(path, 'type: no link')}: interconnect.note: say why the device has no GPU-to-GPU link"]


def test_link_sourced(tmp_path: Path) -> None:
    sources = [s | {"supports": [f for f in s["supports"] if f != "interconnect"]} for s in gpu()["sources"]]
    lines, path = check(
        "gpu.link-sourced", tmp_path, gpu(interconnect=NVLINK), gpu(interconnect=NVLINK, sources=sources)
    )
    assert lines == [f"{start(path, 'type: NVLink 4')}: interconnect: no source supports the interconnect"]


def test_link_pcie_named(tmp_path: Path) -> None:
    lines, path = check(
        "gpu.link-pcie-named",
        tmp_path,
        gpu(interconnect=PCIE4_X16),
        gpu(interconnect=PCIE4_X16 | {"type": "PCIe (bridge)"}),
    )
    assert lines == [
        f"{start(path, 'PCIe (bridge)')}: interconnect.type: a PCIe link names its generation and width, "
        "e.g. 'PCIe 4.0 x16', got 'PCIe (bridge)'"
    ]


def test_link_pcie_bandwidth(tmp_path: Path) -> None:
    # 63 GB/s is the x16 Gen4 rate after 128b/130b line coding: also accepted.
    good = gpu(interconnect=PCIE4_X16 | {"bandwidth_gbps": 63})
    lines, path = check("gpu.link-pcie-bandwidth", tmp_path, good, gpu(interconnect=PCIE4_X16 | {"bandwidth_gbps": 32}))
    assert lines == [
        f"{at(path, '  bandwidth_gbps: ')}: interconnect.bandwidth_gbps: 32 GB/s does not match 'PCIe 4.0 x16' "
        "(64 GB/s both directions)"
    ]
