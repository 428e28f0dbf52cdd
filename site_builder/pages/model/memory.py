"""Memory sections: weights at every precision, the KV cache, the per-GPU breakdown, precision impact."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from site_builder.analysis import ModelData
from site_builder.engine.constants import GIB
from site_builder.engine.plan import Candidate
from site_builder.pages import charts
from site_builder.pages import format as F
from site_builder.pages.figures import Fig, engine
from site_builder.pages.model.common import Row, setup_label, work_note


@dataclass(frozen=True)
class Memory:
    rows: tuple[Row, ...]  # weights at each precision
    kv_per_token: Fig
    kv_per_token_fp8: Fig
    kv_context: Fig
    activation: Fig


def memory(md: ModelData) -> Memory:
    an, best = md.analysis, md.best
    return Memory(
        rows=tuple(
            Row(f"{r.precision.label} weights", engine(F.gib(r.weights_bytes), r.precision.note))
            for r in an.precision_rows
        ),
        kv_per_token=engine(
            f"{an.kv_bytes_per_token:,} bytes",
            "2 × layers × KV heads × head dim × 2 bytes (MLA: latent + rope key per layer)",
        ),
        kv_per_token_fp8=engine(f"{an.kv_bytes_per_token_fp8:,} bytes", "FP8 KV cache"),
        kv_context=engine(F.gib(best.memory.kv_cache_bytes) if best else "unknown", work_note(best) if best else ""),
        activation=engine(
            F.gib(best.memory.activations_bytes) if best else "unknown",
            "Activation buffer for the framework's batch of tokens plus sampler logits",
        ),
    )


def _parts(c: Candidate) -> dict[str, int]:
    mem = c.memory
    return {
        "Weights": mem.weights_bytes,
        "KV cache": mem.kv_cache_bytes,
        "Activations": mem.activations_bytes,
        "Runtime overhead": mem.overhead_bytes,
    }


@dataclass(frozen=True)
class Vram:
    """Where the best setup's per-GPU memory goes."""

    setup: str
    note: str
    rows: tuple[Row, ...]
    total: Fig
    usable: Fig
    chart: dict[str, Any]


def vram(md: ModelData) -> Vram | None:
    best, recs = md.best, md.analysis.recommendations
    if best is None:
        return None
    mem = best.memory
    parts = _parts(best)
    return Vram(
        setup=setup_label(best),
        note=work_note(best) + " — per GPU",
        rows=tuple(Row(k, engine(F.gib(v), "per GPU")) for k, v in parts.items()),
        total=engine(F.gib(mem.total_bytes)),
        usable=engine(
            F.gib(mem.usable_bytes), f"{F.gib(best.setup.capacity_bytes)} × {best.setup.usable_fraction:.0%} usable"
        ),
        chart=charts.stacked(
            f"chart-vram-{md.record.id}",
            "Memory per GPU for the recommended setups, against usable memory",
            [f"{c.setup.label} {c.precision.label}" for c in recs],
            {k: [_parts(c)[k] / GIB for c in recs] for k in parts},
            "GiB",
            [c.memory.usable_bytes / GIB for c in recs],
        ),
    )


@dataclass(frozen=True)
class PrecisionRow:
    label: str
    weights: Fig
    setup: str
    per_gpu: Fig | None
    throughput: Fig


@dataclass(frozen=True)
class PrecisionImpact:
    rows: tuple[PrecisionRow, ...]
    chart: dict[str, Any]


def precision_impact(md: ModelData) -> PrecisionImpact:
    an = md.analysis
    rows = []
    for r in an.precision_rows:
        c = r.best
        rows.append(
            PrecisionRow(
                label=r.precision.label,
                weights=engine(F.gib(r.weights_bytes), r.precision.note),
                setup=setup_label(c) if c else "no setup fits the serving workload",
                per_gpu=engine(F.gib(c.memory.weights_bytes)) if c else None,
                throughput=engine(
                    F.tokens_per_s(c.speed.output_tokens_per_s if c and c.speed else None), work_note(c) if c else ""
                ),
            )
        )
    chart = charts.bar(
        f"chart-precision-{md.record.id}",
        "Weights by precision",
        [r.precision.label for r in an.precision_rows],
        [r.weights_bytes / GIB for r in an.precision_rows],
        "GiB",
        [r.precision.note for r in an.precision_rows],
    )
    return PrecisionImpact(tuple(rows), chart)
