"""Calibration: the engine's prediction for every measured benchmark record, and its error.

`make calibrate` prints, per metric, the median and worst absolute percentage error. With --fit it also
searches a small grid of the efficiency factors (a few physical, documented factors; never one per
record) and prints the best set, which a maintainer copies into constants.EFFICIENCY.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from site_builder.engine import constants as C
from site_builder.engine.budget import kv_capacity
from site_builder.engine.estimate import Workload, memory, speed
from site_builder.engine.hardware import make_setup
from site_builder.engine.memory import ModelFacts
from site_builder.engine.plan import engine_class_for, facts_of
from site_builder.engine.precision import GIB, PRECISIONS
from site_builder.records import BenchmarkRecord, FrameworkRecord, GpuRecord, ModelRecord

# Serving engines cap a batch at a few thousand sequences (vLLM's max_num_seqs default is 256; TensorRT-LLM's
# benchmark builds allow 2048); offline runs with no stated concurrency are modelled at this cap.
MAX_OFFLINE_BATCH = 2048

SPEED_METRICS = (
    "decode_tok_s",
    "prefill_tok_s",
    "aggregate_output_tok_s",
    "aggregate_output_tok_s_per_gpu",
    "ttft_ms",
    "itl_ms",
    "tpot_ms",
    "e2e_latency_ms",
)
MEMORY_METRICS = ("model_weights_gib", "model_weights_gib_per_gpu", "activation_peak_gib", "non_torch_memory_gib")
CAPACITY_METRICS = ("kv_cache_capacity_tokens",)
PREDICTED_METRICS = SPEED_METRICS + MEMORY_METRICS + CAPACITY_METRICS


@dataclass(frozen=True)
class Comparison:
    record: BenchmarkRecord
    predicted: float

    @property
    def error(self) -> float:
        """Signed relative error of the prediction against the measurement."""
        return (self.predicted - self.record.value) / self.record.value


def predict(
    bench: BenchmarkRecord,
    models: dict[str, ModelRecord],
    gpus: dict[str, GpuRecord],
    frameworks: dict[str, FrameworkRecord],
    facts_cache: dict[str, ModelFacts] | None = None,
) -> float | None:
    """The engine's value for the metric of a benchmark record, or None when the record lacks what it needs."""
    if bench.metric not in PREDICTED_METRICS or not bench.model or not bench.gpu or not bench.precision:
        return None
    model, gpu = models.get(bench.model), gpus.get(bench.gpu)
    if model is None or gpu is None:
        return None
    facts = (facts_cache or {}).get(model.id) or facts_of(model)
    prec = PRECISIONS[bench.precision]
    setup = make_setup(gpu, gpus, max(1, bench.gpu_count // (gpu.bundle.count if gpu.bundle else 1)))
    fw = frameworks.get(bench.framework) if bench.framework else None
    engine = engine_class_for(prec, setup.base, fw)
    w = bench.workload
    prompt = w.prompt_tokens or 0
    output = w.output_tokens or 0
    kv = "fp8" if (w.kv_precision or "").lower().startswith("fp8") else "fp16"
    conc = w.concurrency or 1
    if w.concurrency is None and bench.metric.startswith("aggregate_output"):
        # An offline throughput run with no stated concurrency fills the engine's KV pool: as many sequences as
        # its own memory budget holds (TensorRT-LLM's share of free memory, vLLM's share of the total, ...).
        one = Workload(max(prompt + output, 1), 1, prompt, output, kv)
        probe = memory(facts, prec, setup, one, engine)
        fit = kv_capacity(facts, setup, one, probe, bench.framework, engine).sequences if probe else 1
        conc = max(1, min(fit, MAX_OFFLINE_BATCH))
    fused = w.flash_attention is not False
    work = Workload(max(prompt + output, 1), conc, prompt, output, kv, fused)
    m = bench.metric
    if m in CAPACITY_METRICS:
        mem = memory(facts, prec, setup, work, engine)
        if mem is None:
            return None
        return float(kv_capacity(facts, setup, work, mem, bench.framework, engine).tokens)
    if m in MEMORY_METRICS:
        mem = memory(facts, prec, setup, work, engine)
        if mem is None:
            return None
        value = {
            "model_weights_gib": mem.weights_bytes_total,
            "model_weights_gib_per_gpu": mem.weights_bytes,
            "activation_peak_gib": mem.activations_bytes,
            "non_torch_memory_gib": mem.overhead_bytes,
        }[m]
        return value / GIB
    if m == "prefill_tok_s":
        work = Workload(prompt, 1, prompt, 0, kv, fused)
    spd = speed(facts, prec, setup, work, engine)
    if spd is None:
        return None
    if m == "decode_tok_s":
        return spd.decode_tokens_per_s / conc
    if m == "prefill_tok_s":
        return prompt / spd.prefill_time_s if spd.prefill_time_s else None
    if m in ("itl_ms", "tpot_ms"):
        return spd.itl_ms
    if m == "ttft_ms":
        return spd.ttft_ms
    if m == "aggregate_output_tok_s":
        return spd.output_tokens_per_s
    if m == "e2e_latency_ms":
        # A static batch (benchmark_latency): every request ends when the batch's last decode step does.
        return conc * output / spd.output_tokens_per_s * 1000 if spd.output_tokens_per_s and output else None
    if m == "aggregate_output_tok_s_per_gpu":
        return spd.output_tokens_per_s / setup.count if spd.output_tokens_per_s else None
    return None


def compare_all(
    benchmarks: list[BenchmarkRecord],
    models: dict[str, ModelRecord],
    gpus: dict[str, GpuRecord],
    frameworks: dict[str, FrameworkRecord],
) -> list[Comparison]:
    cache = {mid: facts_of(m) for mid, m in models.items()}
    out = []
    for b in sorted(benchmarks, key=lambda r: r.id):
        p = predict(b, models, gpus, frameworks, cache)
        if p is not None and p > 0:
            out.append(Comparison(b, p))
    return out


@dataclass(frozen=True)
class MetricError:
    metric: str
    count: int
    median_ape: float
    worst_ape: float
    worst_id: str


def summarize(comparisons: list[Comparison]) -> list[MetricError]:
    by_metric: dict[str, list[Comparison]] = {}
    for c in comparisons:
        by_metric.setdefault(c.record.metric, []).append(c)
    rows = []
    for metric, items in sorted(by_metric.items()):
        worst = max(items, key=lambda c: abs(c.error))
        rows.append(
            MetricError(
                metric, len(items), statistics.median(abs(c.error) for c in items), abs(worst.error), worst.record.id
            )
        )
    return rows


@contextmanager
def _efficiency(values: dict[str, C.Efficiency]) -> Iterator[None]:
    saved = dict(C.EFFICIENCY)
    C.EFFICIENCY.update(values)
    try:
        yield
    finally:
        C.EFFICIENCY.clear()
        C.EFFICIENCY.update(saved)


def _objective(comparisons: list[Comparison]) -> float:
    errs = [abs(c.error) for c in comparisons if c.record.metric in SPEED_METRICS]
    return statistics.median(errs) if errs else float("inf")


def fit_efficiency(
    benchmarks: list[BenchmarkRecord],
    models: dict[str, ModelRecord],
    gpus: dict[str, GpuRecord],
    frameworks: dict[str, FrameworkRecord],
) -> dict[str, C.Efficiency]:
    """Grid search per framework class over (memory, compute, overhead), then its per-sequence cost; all factors
    stay <= 1."""
    best: dict[str, C.Efficiency] = dict(C.EFFICIENCY)
    grid_mem = (0.5, 0.6, 0.7, 0.8, 0.9)
    grid_comp = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
    grid_over = (0.0005, 0.001, 0.002, 0.004, 0.008)
    for engine in ("batched-server", "local"):
        subset = [b for b in benchmarks if engine_class_of(b, frameworks) == engine]
        scores = []
        for mem, comp, over in itertools.product(grid_mem, grid_comp, grid_over):
            trial = {**best, engine: C.Efficiency(mem, comp, over)}
            with _efficiency(trial):
                scores.append((_objective(compare_all(subset, models, gpus, frameworks)), mem, comp, over))
        _, mem, comp, over = min(scores)
        # Then the per-sequence cost with those fixed (ties go to the smaller cost).
        per_seq_scores = []
        for per_seq in (0.0, 0.0001, 0.0005, 0.001, 0.002, 0.004, 0.008):
            with _efficiency({**best, engine: C.Efficiency(mem, comp, over, per_seq)}):
                per_seq_scores.append((_objective(compare_all(subset, models, gpus, frameworks)), per_seq))
        best[engine] = C.Efficiency(mem, comp, over, min(per_seq_scores)[1])
    return best


def fit_stack_per_sequence(
    benchmarks: list[BenchmarkRecord],
    models: dict[str, ModelRecord],
    gpus: dict[str, GpuRecord],
    frameworks: dict[str, FrameworkRecord],
) -> dict[tuple[str, str], float]:
    """Grid search of each vendor stack's per-sequence step cost on that vendor's batched-server records."""
    best = dict(C.STACK_PER_SEQUENCE_S)
    saved = dict(C.STACK_PER_SEQUENCE_S)
    try:
        for engine, vendor in saved:
            subset = [
                b
                for b in benchmarks
                if engine_class_of(b, frameworks) == engine and (g := gpus.get(b.gpu or "")) and g.vendor == vendor
            ]
            scores = []
            for value in (0.0, 0.0001, 0.0002, 0.0003, 0.0004, 0.0005, 0.0006, 0.0008, 0.001):
                C.STACK_PER_SEQUENCE_S[(engine, vendor)] = value
                scores.append((_objective(compare_all(subset, models, gpus, frameworks)), value))
            best[(engine, vendor)] = min(scores)[1]
            C.STACK_PER_SEQUENCE_S[(engine, vendor)] = saved[(engine, vendor)]
    finally:
        C.STACK_PER_SEQUENCE_S.clear()
        C.STACK_PER_SEQUENCE_S.update(saved)
    return best


def engine_class_of(b: BenchmarkRecord, frameworks: dict[str, FrameworkRecord]) -> str:
    """The record's framework class; without a framework, GGUF formats mean a local runtime."""
    fw = frameworks.get(b.framework or "")
    if fw:
        return fw.engine_class
    return "local" if (b.precision or "").startswith(("q", "iq")) else "batched-server"


def calibrate_command(catalog_dir: Path, fit: bool) -> int:
    """Print the engine's error against every benchmark record (`fit`: also the best-fitting efficiencies)."""
    from site_builder.engine.errorbars import summarize_categories
    from site_builder.problems import CatalogError, Report
    from site_builder.validate import validate_catalog

    report = Report()
    catalog = validate_catalog(catalog_dir, report)
    if report.errors:
        raise CatalogError(report)
    models = {k: v.record for k, v in catalog.models.items()}
    gpus = {k: v.record for k, v in catalog.gpus.items()}
    fws = {k: v.record for k, v in catalog.frameworks.items()}
    benches = [v.record for v in catalog.benchmarks.values()]
    comps = compare_all(benches, models, gpus, fws)
    print(f"{'metric':34} {'n':>3} {'median |err|':>13} {'worst |err|':>12}  worst record")
    for row in summarize(comps):
        print(f"{row.metric:34} {row.count:>3} {row.median_ape:>12.1%} {row.worst_ape:>12.1%}  {row.worst_id}")
    print(
        f"{len(comps)} of {len(benches)} benchmark records compared (the rest lack a model, GPU or precision,"
        " or measure hardware only)"
    )
    print()
    print(f"{'category':34} {'n':>3} {'median |err|':>13} {'worst |err|':>12}  worst record")
    for cat in summarize_categories(comps, models, gpus, fws):
        if cat.median_ape is None or cat.worst_ape is None:
            print(f"{cat.category:34} {0:>3} {'no records':>13}")
            continue
        print(f"{cat.category:34} {cat.count:>3} {cat.median_ape:>12.1%} {cat.worst_ape:>12.1%}  {cat.worst_id}")
    if fit:
        fitted = fit_efficiency(benches, models, gpus, fws)
        for engine, eff in fitted.items():
            print(
                f"fitted {engine}: memory={eff.memory} compute={eff.compute} step_overhead_s={eff.step_overhead_s}"
                f" per_sequence_s={eff.per_sequence_s}"
            )
        for (engine, vendor), value in fit_stack_per_sequence(benches, models, gpus, fws).items():
            print(f"fitted per-sequence step cost, {engine} on {vendor}: {value * 1000:g} ms")
    return 0
