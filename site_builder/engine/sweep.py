"""A setup under growing load: per-user speed against aggregate speed as concurrency doubles, the way serving
benchmarks present a throughput-latency trade-off. Each point is the estimate `estimate --json` gives at that
concurrency (same memory, slots and speed functions)."""

from __future__ import annotations

from dataclasses import dataclass

from site_builder.engine.estimate import Workload, memory, speed
from site_builder.engine.hardware import Setup
from site_builder.engine.memory import ModelFacts
from site_builder.engine.precision import Precision
from site_builder.records.framework import EngineClass


@dataclass(frozen=True, slots=True)
class SweepPoint:
    concurrency: int
    itl_ms: float
    per_user_tokens_per_s: float  # 1000 / itl_ms: how fast one user's answer streams
    aggregate_tokens_per_s: float  # every user's stream together: per-user rate x concurrency
    step_floor_s: float  # bytes / bandwidth and flops / peak for that step: no itl may be below it


def concurrency_levels(most: int) -> tuple[int, ...]:
    """1, 2, 4, ... below `most`, then `most` itself (none when not even one sequence fits)."""
    levels: list[int] = []
    n = 1
    while n < most:
        levels.append(n)
        n *= 2
    if most >= 1:
        levels.append(most)
    return tuple(levels)


def concurrency_sweep(
    facts: ModelFacts, prec: Precision, setup: Setup, work: Workload, engine: EngineClass
) -> tuple[SweepPoint, ...]:
    """The setup at each concurrency level up to the most sequences of the workload's context that fit."""
    probe = memory(facts, prec, setup, Workload(work.context, 1, work.prompt, work.output, work.kv_precision), engine)
    if probe is None:
        return ()
    points = []
    for n in concurrency_levels(probe.max_concurrency):
        w = Workload(work.context, n, work.prompt, work.output, work.kv_precision)
        mem = memory(facts, prec, setup, w, engine)
        spd = speed(facts, prec, setup, w, engine, slots=mem.max_concurrency or None) if mem else None
        if spd is None or spd.itl_ms <= 0:
            continue
        per_user = 1000 / spd.itl_ms
        points.append(SweepPoint(n, spd.itl_ms, per_user, per_user * n, spd.step_floor_s))
    return tuple(points)
