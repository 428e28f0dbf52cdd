"""The throughput-latency chart on a model page: its points are the engine's estimates as users double (the
numbers `estimate --json` prints at each concurrency), slower per user and faster in all as users are added, and
never faster than the GPU's memory bandwidth allows."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from site_builder.analysis import SiteAnalysis, analyse_site
from site_builder.catalog import load_catalog
from site_builder.engine.sweep import concurrency_levels
from site_builder.pages.throughput_latency import throughput_latency_chart
from site_builder.problems import Report
from site_builder.query import EstimateQuery, estimate

SEEDS = ("internlm-20b", "internvl2-26b")


@pytest.fixture(scope="module")
def site() -> SiteAnalysis:
    return analyse_site(load_catalog(Path("catalog"), Report()))


def test_levels_double_from_one_and_end_at_the_most_that_fit() -> None:
    assert concurrency_levels(1) == (1,)
    assert concurrency_levels(8) == (1, 2, 4, 8)
    assert concurrency_levels(105) == (1, 2, 4, 8, 16, 32, 64, 105)
    assert concurrency_levels(0) == ()


@pytest.mark.parametrize("model", SEEDS)
def test_curves_slow_each_user_and_add_up(site: SiteAnalysis, model: str) -> None:
    chart = throughput_latency_chart(site.models[model])
    assert chart is not None
    spec = json.loads(chart["json"])
    assert len(spec["data"]) == len(site.models[model].analysis.recommendations) >= 1
    for trace in spec["data"]:
        users = [int(t.split()[0]) for t in trace["text"]]
        assert users[0] == 1 and users == sorted(users)
        per_user, total = trace["y"], trace["x"]
        assert all(a >= b for a, b in itertools.pairwise(per_user)), trace["name"]
        for n, y, x in zip(users, per_user, total, strict=True):
            # Both are rounded to 0.1: the total may differ from n x the rounded per-user rate by n x 0.05.
            assert abs(x - y * n) <= 0.05 * n + 0.05
        # The table below the chart carries every point.
        assert sum(1 for row in chart["table"]["rows"] if row[0] == trace["name"]) == len(users)


def _estimate(site: SiteAnalysis, model: str, gpu: str, gpus: int, precision: str, work: Any, n: int) -> dict[str, Any]:
    q = EstimateQuery(model, gpu, gpus, precision, work.kv_precision, work.context, str(n), work.prompt, work.output)
    return estimate(site.catalog, q, site.error_bars)


@pytest.mark.parametrize("model", SEEDS)
def test_points_are_the_cli_estimates_and_respect_bandwidth(site: SiteAnalysis, model: str) -> None:
    for c, points in site.models[model].sweeps:
        bandwidth = c.setup.base.memory_bandwidth_gbps
        assert bandwidth is not None
        for p in (points[0], points[len(points) // 2], points[-1]):
            est = _estimate(site, model, c.setup.record.id, c.setup.count, c.precision.id, c.workload, p.concurrency)
            assert est["fits"], p
            assert p.per_user_tokens_per_s == pytest.approx(est["per_user_tokens_per_s"], rel=1e-3)
            # Physics: every decode step reads at least this GPU's share of the weights at full bandwidth.
            assert p.per_user_tokens_per_s <= bandwidth * 1e9 / est["weights_bytes"]
        assert all(p.itl_ms / 1000 >= p.step_floor_s for p in points)
        # The last point is the most sequences of the workload's context that fit, as the CLI reports.
        last = _estimate(site, model, c.setup.record.id, c.setup.count, c.precision.id, c.workload, 1)
        assert points[-1].concurrency == last["max_concurrency"]


def test_every_models_curves_hold_the_same_laws(site: SiteAnalysis) -> None:
    for model, md in site.models.items():
        for c, points in md.sweeps:
            rates = [p.per_user_tokens_per_s for p in points]
            assert all(a >= b for a, b in itertools.pairwise(rates)), (model, c.key, rates)
            assert all(p.itl_ms / 1000 >= p.step_floor_s for p in points), (model, c.key)
