"""The links-stated rule: multi-GPU devices state a sourced link family and bandwidth matching their PCIe generation."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from site_builder.problems import Report
from site_builder.rules import pcie_link_gbps
from site_builder.validate import validate_catalog

ROOT = Path(__file__).resolve().parents[2]


def _link_problems(catalog: Path, name: str) -> list[str]:
    report = Report()
    validate_catalog(catalog, report)
    return [p.message for p in report.errors if p.path.endswith(name) and p.rule.startswith("gpu.link-")]


def _edit(path: Path, **changes: object) -> None:
    data = yaml.safe_load(path.read_text())
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    path.write_text(yaml.safe_dump(data, sort_keys=False))


@pytest.mark.parametrize(
    ("link", "gt_per_s", "lanes"),
    [("PCIe 3.0 x16", 8, 16), ("PCIe 4.0 x16", 16, 16), ("PCIe 4.0 x8", 16, 8), ("PCIe Gen5 x16", 32, 16)],
)
def test_pcie_bandwidth_is_the_signalling_rate_times_lanes_both_ways(link: str, gt_per_s: int, lanes: int) -> None:
    # One bit per transfer per lane, 8 bits a byte, two directions; line coding is left out of the headline.
    assert pcie_link_gbps(link) == pytest.approx(gt_per_s * lanes / 8 * 2)


def test_a_link_without_a_pcie_generation_gives_none() -> None:
    assert pcie_link_gbps("NVLink 4") is None
    assert pcie_link_gbps("PCIe (generation not published)") is None


def test_shipped_multi_gpu_devices_state_kind_and_bandwidth() -> None:
    for path in sorted((ROOT / "catalog" / "gpus").glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        if data["segment"] not in ("datacenter", "workstation", "consumer"):
            continue
        link = data.get("interconnect") or {}
        assert link.get("kind"), path.name
        if link["kind"] != "none" and not link.get("bandwidth_gbps"):
            assert "unsourced" in link.get("note", "").lower(), path.name


def test_missing_link_is_an_error(catalog_copy: Path) -> None:
    _edit(catalog_copy / "gpus" / "rtx-3080.yaml", interconnect=None)
    assert _link_problems(catalog_copy, "rtx-3080.yaml") == ["required: the link family used for tensor parallelism"]


def test_apple_silicon_needs_no_link(catalog_copy: Path) -> None:
    path = catalog_copy / "gpus" / "apple-m4-max.yaml"
    assert "interconnect" not in yaml.safe_load(path.read_text())
    assert _link_problems(catalog_copy, "apple-m4-max.yaml") == []


def test_pcie_bandwidth_must_match_its_generation(catalog_copy: Path) -> None:
    path = catalog_copy / "gpus" / "rtx-3080.yaml"
    link = yaml.safe_load(path.read_text())["interconnect"]
    _edit(path, interconnect={**link, "bandwidth_gbps": 128})  # a Gen5 x16 figure on a Gen4 x16 card
    [message] = _link_problems(catalog_copy, "rtx-3080.yaml")
    assert "128 GB/s does not match 'PCIe 4.0 x16' (64 GB/s both directions)" in message


def test_pcie_link_must_name_its_generation(catalog_copy: Path) -> None:
    path = catalog_copy / "gpus" / "rtx-3080.yaml"
    link = yaml.safe_load(path.read_text())["interconnect"]
    _edit(path, interconnect={**link, "type": "PCIe"})
    [message] = _link_problems(catalog_copy, "rtx-3080.yaml")
    assert "names its generation and width" in message


def test_fabric_without_bandwidth_is_an_error_unless_the_note_admits_it(catalog_copy: Path) -> None:
    path = catalog_copy / "gpus" / "h100-sxm.yaml"
    link = yaml.safe_load(path.read_text())["interconnect"]
    bare = {k: v for k, v in link.items() if k not in ("bandwidth_gbps", "note")}
    _edit(path, interconnect=bare)
    [message] = _link_problems(catalog_copy, "h100-sxm.yaml")
    assert message.startswith("required for a nvlink link")
    _edit(path, interconnect={**bare, "note": "Unsourced: no datasheet found."})
    assert _link_problems(catalog_copy, "h100-sxm.yaml") == []


def test_link_needs_a_source(catalog_copy: Path) -> None:
    path = catalog_copy / "gpus" / "rtx-3080.yaml"
    data = yaml.safe_load(path.read_text())
    for src in data["sources"]:
        src["supports"] = [f for f in src.get("supports", []) if not f.startswith("interconnect")]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert _link_problems(catalog_copy, "rtx-3080.yaml") == ["no source supports the interconnect"]


def test_unknown_link_kind_is_a_schema_error(catalog_copy: Path) -> None:
    path = catalog_copy / "gpus" / "rtx-3080.yaml"
    link = yaml.safe_load(path.read_text())["interconnect"]
    _edit(path, interconnect={**link, "kind": "infiniband"})
    report = Report()
    validate_catalog(catalog_copy, report)
    [problem] = [p for p in report.errors if p.path.endswith("rtx-3080.yaml")]
    assert problem.field == "interconnect.kind"


def test_no_link_needs_a_reason_but_no_bandwidth(catalog_copy: Path) -> None:
    path = catalog_copy / "gpus" / "rtx-3080.yaml"
    _edit(path, interconnect={"type": "none", "kind": "none"})
    assert _link_problems(catalog_copy, "rtx-3080.yaml") == ["say why the device has no GPU-to-GPU link"]
    _edit(path, interconnect={"type": "none", "kind": "none", "note": "An integrated GPU: nothing to link."})
    assert _link_problems(catalog_copy, "rtx-3080.yaml") == []


def test_a_bundle_uses_its_own_link_not_its_cards() -> None:
    """Two RTX 3090s on a consumer board talk over PCIe 4.0 x8 (32 GB/s both ways), not the card's x16 slot."""
    from site_builder.engine.hardware import make_setup

    catalog = validate_catalog(ROOT / "catalog", Report())
    gpus = {gid: located.record for gid, located in catalog.gpus.items()}
    pair = make_setup(gpus["dual-rtx-3090"], gpus)
    card_pair = make_setup(gpus["rtx-3090"], gpus, multiplier=2)
    # PCIe 4.0: 2 GB/s per lane per direction; x8 -> 16 GB/s one way, x16 -> 32 GB/s one way.
    assert pair.link_bytes_s == 8 * 2e9
    assert card_pair.link_bytes_s == 16 * 2e9
