"""The engine's shortcuts (memoised figures, the direct max-context search) give what the plain definitions give."""

from __future__ import annotations

import random
from pathlib import Path

import yaml

from site_builder.engine.estimate import Workload, _max_context
from site_builder.engine.memory import (
    ModelFacts,
    activation_bytes,
    kv_bytes,
    kv_read_bytes,
    kv_share_per_gpu,
    weight_bytes,
)
from site_builder.engine.plan import facts_of
from site_builder.engine.precision import PRECISIONS
from site_builder.records import ModelRecord

ROOT = Path(__file__).resolve().parents[2]
MODELS = [
    ModelRecord.model_validate(yaml.safe_load(p.read_text())) for p in sorted((ROOT / "catalog/models").glob("*.yaml"))
]


def _fits(facts: ModelFacts, work: Workload, gpus: int, free: int, ctx: int) -> bool:
    return kv_bytes(facts, work.kv_precision, ctx, work.concurrency) * kv_share_per_gpu(facts, gpus, ctx) <= free


def test_max_context_is_the_largest_context_whose_cache_fits() -> None:
    """By definition: the answer's KV cache fits in `free`, one more token's does not (or the answer is the window)."""
    rng = random.Random(12)
    for model in MODELS:
        facts = facts_of(model)
        for _ in range(40):
            work = Workload(4096, rng.choice([1, 3, 16, 64, 300]), 2048, 2048, rng.choice(["fp16", "fp8"]))
            gpus = rng.choice([1, 2, 4, 8])
            free = int(10 ** rng.uniform(5, 12))
            found = _max_context(facts, work, gpus, free)
            if found == 0:
                assert free <= 0 or not _fits(facts, work, gpus, free, 1)
                continue
            assert 1 <= found <= model.context_window
            assert _fits(facts, work, gpus, free, found), (model.id, work, gpus, free, found)
            if found < model.context_window:
                assert not _fits(facts, work, gpus, free, found + 1), (model.id, work, gpus, free, found)


def test_memoised_figures_match_a_fresh_computation_in_any_order() -> None:
    """Figures a model's facts remember are the same whichever was asked first, and the same as a fresh facts'."""
    pids = sorted(PRECISIONS)
    for model in MODELS[::7]:
        warm = facts_of(model)
        for pid in reversed(pids):
            weight_bytes(warm, PRECISIONS[pid])
        for gpus in (8, 1, 2):
            activation_bytes(warm, True, 40, gpus)
            kv_read_bytes(warm, "fp8", 3000, 2)
        for pid in pids:
            assert weight_bytes(warm, PRECISIONS[pid]) == weight_bytes(facts_of(model), PRECISIONS[pid])
        for gpus in (1, 2, 8):
            for concurrency in (0, 1, 40, 10_000):
                fresh = activation_bytes(facts_of(model), False, concurrency, gpus)
                assert activation_bytes(warm, False, concurrency, gpus) == fresh
        for ctx in (1, 3000, 100_000):
            assert kv_read_bytes(warm, "fp8", ctx, 3) == kv_read_bytes(facts_of(model), "fp8", ctx, 3)
