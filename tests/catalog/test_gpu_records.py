"""Physical and published bounds on the shipped GPU records (independent of the engine)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
GPUS: dict[str, dict[str, Any]] = {
    p.stem: yaml.safe_load(p.read_text()) for p in sorted((ROOT / "catalog" / "gpus").glob("*.yaml"))
}

# Narrower formats never run slower than wider ones on the same tensor cores.
NARROWER = [("bf16", "fp8"), ("fp16", "fp8"), ("fp8", "fp4"), ("bf16", "int8"), ("int8", "int4")]


@pytest.mark.parametrize("gid", sorted(GPUS))
def test_narrower_formats_are_not_slower(gid: str) -> None:
    compute = GPUS[gid].get("compute") or {}
    for wide, narrow in NARROWER:
        if wide in compute and narrow in compute:
            assert compute[narrow] >= compute[wide], f"{gid}: {narrow} {compute[narrow]} < {wide} {compute[wide]}"


@pytest.mark.parametrize("gid", sorted(g for g, d in GPUS.items() if d.get("bundle")))
def test_a_bundle_link_is_no_faster_than_its_cards_own_link(gid: str) -> None:
    bundle = GPUS[gid]
    base = GPUS[bundle["bundle"]["gpu"]]
    own = bundle["interconnect"]["bandwidth_gbps"]
    if base["interconnect"]["kind"] == "pcie":
        assert own <= base["interconnect"]["bandwidth_gbps"]
    assert "memory_gb" not in bundle and "compute" not in bundle  # figures come from the base card


def test_machines_people_buy_now_are_in_the_catalog() -> None:
    wanted = {
        "dgx-spark",
        "ryzen-ai-max-plus-395",
        "apple-m3-ultra",
        "apple-m4-pro",
        "apple-m5",
        "rtx-5060-ti-16gb",
        "rtx-5070",
        "rtx-5070-ti",
        "mi350x",
        "mi355x",
        "radeon-ai-pro-r9700",
        "rx-7900-xtx",
        "arc-pro-b60",
        "jetson-agx-thor",
        "gb300",
    }
    assert wanted <= set(GPUS), sorted(wanted - set(GPUS))
    workstations = {"dual-rtx-3090": 2, "quad-rtx-3090": 4, "dual-rtx-4090": 2, "dual-rtx-5090": 2}
    for gid, count in workstations.items():
        assert GPUS[gid]["bundle"]["count"] == count


def test_rtx_5090_stores_the_whitepapers_fp32_accumulate_rates() -> None:
    # NVIDIA RTX Blackwell whitepaper, Appendix A: 209.5 dense BF16 and 419 FP8 with FP32 accumulate, 1676 FP4.
    compute = GPUS["rtx-5090"]["compute"]
    assert (compute["bf16"], compute["fp8"], compute["fp4"]) == (209.5, 419, 1676)


@pytest.mark.parametrize("gid", ["rtx-5070", "rtx-5070-ti", "rtx-5080", "rtx-5090", "rtx-pro-6000-blackwell"])
def test_blackwell_workstation_and_geforce_cards_state_fp4(gid: str) -> None:
    compute = GPUS[gid]["compute"]
    # Blackwell tensor cores run FP4 at twice the FP8 rate for the same accumulator, so at least 2x the stored FP8.
    assert compute["fp4"] >= 2 * compute["fp8"]


@pytest.mark.parametrize("gid", sorted(g for g, d in GPUS.items() if d["segment"] == "apple-silicon"))
def test_apple_gpus_run_fp16_at_the_fp32_rate(gid: str) -> None:
    compute = GPUS[gid].get("compute") or {}
    if "fp32" in compute:
        assert compute["fp16"] == compute["fp32"]
