"""Calibration: the engine's prediction for every measured benchmark record, and its error.

`make calibrate` prints, per metric, the median and worst absolute percentage error. With --fit it also
searches a small grid of the efficiency factors (a few physical, documented factors; never one per
record) and prints the best set, which a maintainer copies into constants (the DEFAULT_ASSUMPTIONS value).
"""

from __future__ import annotations

import dataclasses
import itertools
import statistics
from dataclasses import dataclass
from types import MappingProxyType

from site_builder.engine import constants as C
from site_builder.engine.budget import Launch, kv_capacity
from site_builder.engine.constants import GIB
from site_builder.engine.estimate import Workload, memory, speed
from site_builder.engine.hardware import Setup, make_setup
from site_builder.engine.memory import ModelFacts, weight_bytes_per_gpu
from site_builder.engine.plan import engine_class_for, facts_of
from site_builder.engine.precision import PRECISIONS, Precision, default_kv_precision
from site_builder.records import BenchmarkRecord, FrameworkRecord, GpuRecord, ModelRecord

# Serving engines cap a batch at a few thousand sequences (vLLM's max_num_seqs default is 256; TensorRT-LLM's
# benchmark builds allow 2048); offline runs with no stated concurrency are modelled at this cap.
MAX_OFFLINE_BATCH = 2048

SPEED_METRICS = (
    "decode_tok_s",
    "aggregate_decode_tok_s",
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
    assume: C.Assumptions = C.DEFAULT_ASSUMPTIONS,
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
    if w.kv_precision is None:
        kv = default_kv_precision(prec, setup.base.id, bench.framework)
    else:
        kv = "fp8" if w.kv_precision.lower().startswith("fp8") else "fp16"
    conc = w.concurrency or 1
    if w.concurrency is None and bench.metric.startswith("aggregate_output"):
        # An offline throughput run with no stated concurrency fills the engine's KV pool: as many sequences as
        # its own memory budget holds (TensorRT-LLM's share of free memory, vLLM's share of the total, ...).
        one = Workload(max(prompt + output, 1), 1, prompt, output, kv)
        probe = memory(facts, prec, setup, one, engine)
        fit = kv_capacity(facts, setup, one, probe, bench.framework, engine).sequences if probe else 1
        conc = max(1, min(fit, MAX_OFFLINE_BATCH))
    fused = w.flash_attention is not False
    work = Workload(max(prompt + output, 1), conc, prompt, output, kv, fused, w.identical_sequences is True)
    m = bench.metric
    if m in SPEED_METRICS and weights_exceed_resident(facts, prec, setup):
        return None
    if m in CAPACITY_METRICS:
        mem = memory(facts, prec, setup, work, engine)
        if mem is None:
            return None
        launch = Launch(w.memory_fraction, w.batch_tokens)
        return float(kv_capacity(facts, setup, work, mem, bench.framework, engine, launch).tokens)
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
    spd = speed(facts, prec, setup, work, engine, assume=assume)
    if spd is None:
        return None
    if m == "decode_tok_s":
        return spd.decode_tokens_per_s / conc
    if m == "aggregate_decode_tok_s":
        # Every running sequence's decode steps, prefill excluded (llama-batched-bench's S_TG).
        return spd.decode_tokens_per_s
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


def weights_exceed_resident(facts: ModelFacts, prec: Precision, setup: Setup) -> bool:
    """Whether the weights alone exceed what the device keeps resident: a card's memory, or on a Mac the share macOS
    lets Metal wire (the record's usable fraction). Such a run pages or offloads every step, a regime the engine does
    not estimate, so its record is evidence of that, not a calibration point for the roofline."""
    limit = setup.usable_bytes if setup.base.segment == "apple-silicon" else setup.capacity_bytes
    return limit is not None and weight_bytes_per_gpu(facts, prec, setup.count) > limit


def compare_all(
    benchmarks: list[BenchmarkRecord],
    models: dict[str, ModelRecord],
    gpus: dict[str, GpuRecord],
    frameworks: dict[str, FrameworkRecord],
    assume: C.Assumptions = C.DEFAULT_ASSUMPTIONS,
) -> list[Comparison]:
    measured = {b.model for b in benchmarks}
    cache = {mid: facts_of(m) for mid, m in models.items() if mid in measured}  # only the models measured
    out = []
    for b in sorted(benchmarks, key=lambda r: r.id):
        p = predict(b, models, gpus, frameworks, cache, assume)
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


def with_efficiency(assume: C.Assumptions, engine: str, eff: C.Efficiency) -> C.Assumptions:
    """A trial value: `assume` with one engine class's efficiency replaced."""
    return dataclasses.replace(assume, efficiency=MappingProxyType({**assume.efficiency, engine: eff}))


def with_stack_per_sequence(assume: C.Assumptions, key: tuple[str, str], value: float) -> C.Assumptions:
    """A trial value: `assume` with one (engine class, vendor) per-sequence cost replaced."""
    return dataclasses.replace(
        assume, stack_per_sequence_s=MappingProxyType({**assume.stack_per_sequence_s, key: value})
    )


def _objective(comparisons: list[Comparison]) -> float:
    errs = [abs(c.error) for c in comparisons if c.record.metric in SPEED_METRICS]
    return statistics.median(errs) if errs else float("inf")


def fit_efficiency(
    benchmarks: list[BenchmarkRecord],
    models: dict[str, ModelRecord],
    gpus: dict[str, GpuRecord],
    frameworks: dict[str, FrameworkRecord],
    start: C.Assumptions = C.DEFAULT_ASSUMPTIONS,
) -> C.Assumptions:
    """Grid search per framework class over (memory, compute, overhead), then its per-sequence and MoE routing costs;
    all factors stay <= 1."""
    best = start
    grid_mem = (0.5, 0.6, 0.7, 0.8, 0.9)
    grid_comp = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
    grid_over = (0.0005, 0.001, 0.002, 0.004, 0.008)
    for engine in ("batched-server", "local"):
        subset = [b for b in benchmarks if engine_class_of(b, frameworks) == engine]
        scores = []
        for mem, comp, over in itertools.product(grid_mem, grid_comp, grid_over):
            trial = with_efficiency(best, engine, C.Efficiency(mem, comp, over))
            scores.append((_objective(compare_all(subset, models, gpus, frameworks, trial)), mem, comp, over))
        _, mem, comp, over = min(scores)
        best = with_efficiency(best, engine, C.Efficiency(mem, comp, over))
        best = fit_batch_costs(subset, models, gpus, frameworks, engine, best)
    return best


def fit_batch_costs(
    subset: list[BenchmarkRecord],
    models: dict[str, ModelRecord],
    gpus: dict[str, GpuRecord],
    frameworks: dict[str, FrameworkRecord],
    engine: str,
    start: C.Assumptions,
) -> C.Assumptions:
    """Joint grid of one class's per-sequence cost and MoE routing cost per token and layer, the rest held fixed.

    Only a batch can show a per-sequence cost, so the grid scores the class's records of more than one sequence;
    the routing cost also acts at batch 1, so the class's one-sequence MoE records join in. Ties go to the smaller
    costs.
    """
    eff = start.efficiency[engine]
    batched = [b for b in subset if (b.workload.concurrency or 1) > 1]
    moe = [b for b in subset if (m := models.get(b.model or "")) is not None and facts_of(m).shape.is_moe]
    scored = {b.id: b for b in batched + moe}.values() if batched else subset
    scores = []
    for per_seq, routing in itertools.product(
        (0.0, 0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.002, 0.004, 0.008),
        (0.0, 0.00001, 0.00002, 0.00003, 0.00004, 0.00005, 0.00006, 0.00008),
    ):
        trial = with_efficiency(
            start, engine, dataclasses.replace(eff, per_sequence_s=per_seq, moe_token_layer_s=routing)
        )
        scores.append((_objective(compare_all(list(scored), models, gpus, frameworks, trial)), per_seq, routing))
    _, per_seq, routing = min(scores)
    return with_efficiency(start, engine, dataclasses.replace(eff, per_sequence_s=per_seq, moe_token_layer_s=routing))


def fit_stack_per_sequence(
    benchmarks: list[BenchmarkRecord],
    models: dict[str, ModelRecord],
    gpus: dict[str, GpuRecord],
    frameworks: dict[str, FrameworkRecord],
    start: C.Assumptions = C.DEFAULT_ASSUMPTIONS,
) -> dict[tuple[str, str], float]:
    """Grid search of each vendor stack's per-sequence step cost on that vendor's batched-server records."""
    best = dict(start.stack_per_sequence_s)
    for engine, vendor in start.stack_per_sequence_s:
        subset = [
            b
            for b in benchmarks
            if engine_class_of(b, frameworks) == engine and (g := gpus.get(b.gpu or "")) and g.vendor == vendor
        ]
        scores = []
        for value in (0.0, 0.8e-6, 1.6e-6, 2.0e-6, 2.4e-6, 2.8e-6, 3.2e-6, 4.0e-6, 4.8e-6, 6.4e-6, 8.0e-6):
            trial = with_stack_per_sequence(start, (engine, vendor), value)
            scores.append((_objective(compare_all(subset, models, gpus, frameworks, trial)), value))
        best[(engine, vendor)] = min(scores)[1]
    return best


def engine_class_of(b: BenchmarkRecord, frameworks: dict[str, FrameworkRecord]) -> str:
    """The record's framework class; without a framework, GGUF formats mean a local runtime."""
    fw = frameworks.get(b.framework or "")
    if fw:
        return fw.engine_class
    return "local" if (b.precision or "").startswith(("q", "iq")) else "batched-server"
