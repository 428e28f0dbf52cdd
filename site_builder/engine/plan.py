"""Per-model analysis: memory by precision, the compatibility matrix, ranked setups and deployment options."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from site_builder.engine import constants as C
from site_builder.engine.budget import kv_capacity
from site_builder.engine.estimate import CostResult, MemoryResult, SpeedResult, Workload, cost, memory, speed
from site_builder.engine.fit import CellState, MatrixLevel, is_fit
from site_builder.engine.hardware import Setup, make_setup
from site_builder.engine.memory import ModelFacts, kv_bytes_per_token, weight_bytes
from site_builder.engine.money import FullLoad, throughput_optimal
from site_builder.engine.parallel import tensor_parallel_problem
from site_builder.engine.params import count_params, shape_of
from site_builder.engine.precision import PRECISIONS, Precision, default_kv_precision, supported_on
from site_builder.records.framework import EngineClass, FrameworkRecord
from site_builder.records.gpu import GpuRecord
from site_builder.records.model import ModelRecord

MATRIX_PRECISIONS = ("bf16", "fp8", "awq-int4", "q4_k_m")
# A setup that leaves this share of its usable memory free earns the full headroom score; one with less
# free memory scores in proportion (the methodology page prints the formula from score_parts_doc).
FULL_HEADROOM = 0.5
# The model page recommends the best-scoring setup on this many different GPUs.
RECOMMENDATIONS = 3
# Analysis.kv_bytes_per_token counts a KV cache of this dtype (kv_bytes_per_token_fp8 beside it: FP8).
PER_TOKEN_KV = "fp16"
# Preference among frameworks that can serve a setup: continuous-batching servers first.
FRAMEWORK_PREFERENCE = (
    "vllm",
    "sglang",
    "tensorrt-llm",
    "lmdeploy",
    "tgi",
    "llama-cpp",
    "mlx",
    "ollama",
    "onnxruntime-genai",
)


def facts_of(model: ModelRecord) -> ModelFacts:
    a = model.architecture
    return ModelFacts(arch=a, shape=shape_of(a), params=count_params(model), context_window=model.context_window)


def serving_workload(model: ModelRecord, kv_precision: str = "fp16") -> Workload:
    prompt = min(C.SERVE_PROMPT, model.context_window // 2)
    output = min(C.SERVE_OUTPUT, model.context_window - prompt)
    return Workload(prompt + output, C.SERVE_CONCURRENCY, prompt, output, kv_precision)


def local_workload(model: ModelRecord) -> Workload:
    prompt = min(C.LOCAL_PROMPT, model.context_window // 2)
    output = min(C.LOCAL_OUTPUT, model.context_window - prompt)
    return Workload(prompt + output, 1, prompt, output)


def fit_workload(model: ModelRecord) -> Workload:
    ctx = min(C.FIT_CONTEXT, model.context_window)
    return Workload(ctx, 1, ctx, 0)


def engine_class_for(prec: Precision, gpu: GpuRecord, framework: FrameworkRecord | None) -> EngineClass:
    if framework is not None:
        return framework.engine_class
    if prec.family == "gguf" or gpu.segment in ("cpu", "apple-silicon"):
        return "local"
    return "batched-server"


def choose_framework(
    model: ModelRecord, prec: Precision, gpu: GpuRecord, frameworks: dict[str, FrameworkRecord]
) -> FrameworkRecord | None:
    """The preferred framework that lists the model, the precision and the GPU's vendor."""
    for fid in FRAMEWORK_PREFERENCE:
        fw = frameworks.get(fid)
        if fw is None or fid not in model.frameworks:
            continue
        if prec.id in fw.precisions and gpu.vendor in fw.vendors:
            return fw
    return None


# Identity equality: candidates are compared by object, never by deep comparison of their records.
def serving_engine(
    model: ModelRecord, prec: Precision, gpu: GpuRecord, frameworks: dict[str, FrameworkRecord]
) -> tuple[FrameworkRecord | None, EngineClass]:
    """The framework that would serve this model, format and GPU, and the efficiency class it runs at."""
    fw = choose_framework(model, prec, gpu, frameworks)
    return fw, engine_class_for(prec, gpu, fw)


@dataclass(frozen=True, eq=False, slots=True)
class Candidate:
    setup: Setup
    precision: Precision
    framework: FrameworkRecord | None
    engine: EngineClass
    workload: Workload
    memory: MemoryResult
    speed: SpeedResult | None
    cost: CostResult | None
    score: int = 0

    @property
    def key(self) -> str:
        return f"{self.setup.id}-{self.precision.id}"


@dataclass(frozen=True, slots=True)
class MatrixCell:
    precision: str
    level: MatrixLevel
    total_bytes: int | None
    usable_bytes: int | None
    # Longest single sequence that fits (at most the model's window): where the matrix's context does not, what does.
    max_context: int = 0


@dataclass(frozen=True, slots=True)
class MatrixRow:
    setup: Setup
    cells: tuple[MatrixCell, ...]


@dataclass(frozen=True)
class PrecisionRow:
    precision: Precision
    weights_bytes: int
    best: Candidate | None


@dataclass(frozen=True)
class Analysis:
    model: ModelRecord
    facts: ModelFacts
    kv_bytes_per_token: int
    kv_bytes_per_token_fp8: int
    matrix: tuple[MatrixRow, ...]
    fit_share: float
    fit_cells: int
    candidates: tuple[Candidate, ...]  # every setup that fits the serving workload, best score first
    recommendations: tuple[Candidate, ...]
    precision_rows: tuple[PrecisionRow, ...]
    fit_workload: Workload
    serve_workload: Workload
    local: tuple[Candidate, ...]  # one user on one device (consumer GPU, Mac, CPU): the fastest format that fits
    # Rows of `local` for a runtime the fastest-format rows never pick (ONNX Runtime GenAI's exported INT4).
    local_runtimes: tuple[Candidate, ...]
    single: dict[str, Candidate]  # GPU record id -> fastest format that fits one of it at the serving workload

    @functools.cached_property
    def matrix_by_gpu(self) -> dict[str, MatrixRow]:
        return {row.setup.record.id: row for row in self.matrix}

    @property
    def min_single_gpu(self) -> Candidate | None:
        singles = [c for c in self.candidates if c.setup.count == 1 and c.setup.record.segment != "cpu"]
        return min(singles, key=lambda c: (c.setup.capacity_bytes or 0, -c.score), default=None)

    @property
    def best_multi_gpu(self) -> Candidate | None:
        multi = [c for c in self.candidates if c.setup.count > 1]
        return multi[0] if multi else None


def _multipliers(gpu: GpuRecord, gpus: dict[str, GpuRecord]) -> tuple[int, ...]:
    # No recorded GPU link, no multi-GPU setup: tensor parallel over an unknown link is not estimated.
    if gpu.bundle or gpu.segment in ("cpu", "apple-silicon") or not make_setup(gpu, gpus).splittable:
        return (1,)
    if gpu.segment == "datacenter":
        return C.GPU_COUNTS
    return (1, 2, 4)


def evaluate(
    model: ModelRecord,
    facts: ModelFacts,
    setup: Setup,
    prec: Precision,
    work: Workload,
    frameworks: dict[str, FrameworkRecord],
    *,
    unfit_speed: bool = True,
) -> Candidate | None:
    """The setup at this precision and workload: None where no engine would start it or its memory is unknown.
    `unfit_speed=False` leaves out the speed (None) of a setup that does not fit, for callers that drop those."""
    if tensor_parallel_problem(model.architecture, setup.count):
        return None  # no serving engine would start this split
    fw, engine = serving_engine(model, prec, setup.base, frameworks)
    work = recipe_kv(work, prec, setup, fw)
    mem = memory(facts, prec, setup, work, engine)
    if mem is None:
        return None
    if not (unfit_speed or mem.fits):
        return Candidate(setup, prec, fw, engine, work, mem, None, cost(setup, None))
    spd = speed(facts, prec, setup, work, engine, slots=mem.max_concurrency or None)
    return Candidate(setup, prec, fw, engine, work, mem, spd, cost(setup, spd))


def recipe_kv(work: Workload, prec: Precision, setup: Setup, fw: FrameworkRecord | None) -> Workload:
    """The site's workloads name no KV-cache precision of their own (16-bit): a setup whose engine recipe keeps the
    cache in FP8 by default (precision.FP8_KV_RECIPES: TensorRT-LLM's FP8 and NVFP4 checkpoints, FP8 on Gaudi) is
    estimated with the FP8 cache it would start with."""
    if work.kv_precision != "fp16":
        return work
    kvp = default_kv_precision(prec, setup.base.id, fw.id if fw else None)
    return work if kvp == work.kv_precision else replace(work, kv_precision=kvp)


def evaluate_on(
    model: ModelRecord,
    facts: ModelFacts,
    setup: Setup,
    prec: Precision,
    work: Workload,
    fw: FrameworkRecord,
    *,
    unfit_speed: bool = True,
) -> Candidate | None:
    """Like `evaluate`, but served by `fw` whatever the preference order would pick; its class sets the efficiency."""
    work = recipe_kv(work, prec, setup, fw)
    mem = memory(facts, prec, setup, work, fw.engine_class)
    if mem is None:
        return None
    if not (unfit_speed or mem.fits):
        return Candidate(setup, prec, fw, fw.engine_class, work, mem, None, cost(setup, None))
    spd = speed(facts, prec, setup, work, fw.engine_class)
    return Candidate(setup, prec, fw, fw.engine_class, work, mem, spd, cost(setup, spd))


def _matrix(
    model: ModelRecord, facts: ModelFacts, gpus: dict[str, GpuRecord], frameworks: dict[str, FrameworkRecord]
) -> tuple[MatrixRow, ...]:
    work = fit_workload(model)
    rows = []
    for gpu in gpus.values():
        setup = make_setup(gpu, gpus)
        cells = []
        for pid in MATRIX_PRECISIONS:
            prec = PRECISIONS[pid]
            if not supported_on(prec, setup.base) or tensor_parallel_problem(model.architecture, setup.count):
                cells.append(MatrixCell(pid, CellState.NOT_APPLICABLE, None, None))
                continue
            _, engine = serving_engine(model, prec, setup.base, frameworks)
            mem = memory(facts, prec, setup, work, engine)
            if mem is None:
                cells.append(MatrixCell(pid, CellState.UNKNOWN, None, None))
            else:
                cells.append(MatrixCell(pid, mem.fit_level, mem.total_bytes, mem.usable_bytes, mem.max_context))
        rows.append(MatrixRow(setup, tuple(cells)))
    return tuple(rows)


def _score(cands: list[Candidate]) -> list[Candidate]:
    priced = [c for c in cands if c.cost and c.cost.cost_per_million_tokens_usd and c.speed]
    priced_ids = {id(c) for c in priced}
    if not priced:
        return cands
    best_cost = min(c.cost.cost_per_million_tokens_usd for c in priced if c.cost and c.cost.cost_per_million_tokens_usd)
    best_tps = max(c.speed.output_tokens_per_s or 0 for c in priced if c.speed)
    w = C.SCORE_WEIGHTS
    scored = []
    for c in cands:
        if id(c) not in priced_ids or c.cost is None or c.speed is None:
            scored.append(c)
            continue
        cpm = c.cost.cost_per_million_tokens_usd or float("inf")
        parts = {
            "cost": best_cost / cpm,
            "throughput": (c.speed.output_tokens_per_s or 0) / best_tps if best_tps else 0,
            "latency": min(1.0, C.ITL_TARGET_MS / c.speed.itl_ms),
            "headroom": min(1.0, max(0.0, 1 - c.memory.total_bytes / c.memory.usable_bytes) / FULL_HEADROOM),
        }
        score = round(100 * sum(w[k] * v for k, v in parts.items()))
        scored.append(
            Candidate(c.setup, c.precision, c.framework, c.engine, c.workload, c.memory, c.speed, c.cost, score)
        )
    return scored


def full_load(facts: ModelFacts, c: Candidate) -> FullLoad | None:
    """The candidate's setup at the throughput-optimal concurrency its engine's KV pool holds at its defaults."""
    fid = c.framework.id if c.framework else None
    seqs = kv_capacity(facts, c.setup, c.workload, c.memory, fid, c.engine).sequences
    return throughput_optimal(facts, c.precision, c.setup, c.workload, c.engine, seqs)


def score_parts_doc() -> dict[str, str]:
    return {
        "cost": "cheapest cost per million output tokens among this model's setups ÷ this setup's",
        "throughput": "this setup's output tokens/s ÷ the fastest setup's",
        "latency": f"min(1, {C.ITL_TARGET_MS:g} ms ÷ inter-token latency)",
        "headroom": f"min(1, (1 − memory needed ÷ usable memory) ÷ {FULL_HEADROOM:g})",
    }


LOCAL_SEGMENTS = ("consumer", "workstation", "apple-silicon", "cpu")


def _keep_fastest(table: dict[str, Candidate], key: str, cand: Candidate) -> None:
    """Keep the fastest candidate at the serving workload; a continuous-batching server beats any local runtime.

    Many concurrent users need a server that batches them (the ranking's rule too): a llama.cpp-style runtime
    with parallel slots is listed only where no batched server fits.
    """
    if not cand.memory.fits or cand.speed is None or not cand.speed.output_tokens_per_s:
        return
    held = table.get(key)
    held_tps = held.speed.output_tokens_per_s if held and held.speed else None
    if held is None or held_tps is None:
        table[key] = cand
        return
    if (cand.engine == "local") != (held.engine == "local"):
        if held.engine == "local":
            table[key] = cand
        return
    if cand.speed.output_tokens_per_s > held_tps:
        table[key] = cand


def _local(
    model: ModelRecord, facts: ModelFacts, gpus: dict[str, GpuRecord], frameworks: dict[str, FrameworkRecord]
) -> tuple[Candidate, ...]:
    """For each personal device, the fastest single-user decode among the formats that fit it."""
    work = local_workload(model)
    rows = []
    for gpu in gpus.values():
        if gpu.segment not in LOCAL_SEGMENTS or gpu.bundle:
            continue
        setup = make_setup(gpu, gpus)
        best = _fastest(
            evaluate(model, facts, setup, PRECISIONS[pid], work, frameworks, unfit_speed=False)
            for pid in model.precisions
            if supported_on(PRECISIONS[pid], gpu)
        )
        if best is not None:
            rows.append(best)
    return tuple(rows)


def _fastest(cands: Iterable[Candidate | None]) -> Candidate | None:
    """The fastest single-stream decode among the candidates that fit."""
    best: Candidate | None = None
    for cand in cands:
        if cand is None or not cand.memory.fits or cand.speed is None:
            continue
        if best is None or best.speed is None or cand.speed.decode_tokens_per_s > best.speed.decode_tokens_per_s:
            best = cand
    return best


def _fastest_on(
    model: ModelRecord, facts: ModelFacts, setup: Setup, precisions: Sequence[str], work: Workload, fw: FrameworkRecord
) -> Candidate | None:
    return _fastest(
        evaluate_on(model, facts, setup, PRECISIONS[pid], work, fw, unfit_speed=False)
        for pid in precisions
        if supported_on(PRECISIONS[pid], setup.base)
    )


def _runtime_rows(
    model: ModelRecord,
    facts: ModelFacts,
    gpus: dict[str, GpuRecord],
    frameworks: dict[str, FrameworkRecord],
    shown: tuple[Candidate, ...],
) -> tuple[Candidate, ...]:
    """Rows for a local runtime the model lists that no device row uses and that brings a format no shown local
    runtime serves (ONNX Runtime GenAI's INT4 beside llama.cpp's GGUF): otherwise the preference order would hide
    it. Its fastest own format on every CPU profile, and on the smallest personal GPU that holds it."""
    shown_ids = {c.framework.id for c in shown if c.framework}
    work = local_workload(model)
    rows: list[Candidate] = []
    for fid in model.frameworks:
        fw = frameworks.get(fid)
        if fw is None or fid in shown_ids or fw.engine_class != "local":
            continue
        # Formats the local runtimes already in the table serve on the devices this runtime also runs on.
        beside = {
            pid
            for c in shown
            if c.framework and c.framework.engine_class == "local" and c.setup.base.vendor in fw.vendors
            for pid in c.framework.precisions
        }
        own = [pid for pid in model.precisions if pid in fw.precisions and pid not in beside]
        found = []
        for gpu in gpus.values():
            if own and gpu.segment in LOCAL_SEGMENTS and not gpu.bundle and gpu.vendor in fw.vendors:
                best = _fastest_on(model, facts, make_setup(gpu, gpus), own, work, fw)
                if best is not None:
                    found.append(best)
        rows += [c for c in found if c.setup.record.segment == "cpu"]
        cards = [c for c in found if c.setup.record.segment != "cpu"]
        if cards:
            rows.append(min(cards, key=_smallest_then_fastest))
    return tuple(rows)


def _smallest_then_fastest(c: Candidate) -> tuple[int, float]:
    return (c.setup.capacity_bytes or 0, -(c.speed.decode_tokens_per_s if c.speed else 0.0))


def _local_order(rows: tuple[Candidate, ...]) -> tuple[Candidate, ...]:
    order = {seg: i for i, seg in enumerate(LOCAL_SEGMENTS)}
    return tuple(
        sorted(rows, key=lambda c: (order[c.setup.record.segment], -(c.speed.decode_tokens_per_s if c.speed else 0)))
    )


def analyse(model: ModelRecord, gpus: dict[str, GpuRecord], frameworks: dict[str, FrameworkRecord]) -> Analysis:
    facts = facts_of(model)
    work = serving_workload(model)
    cands: list[Candidate] = []
    single: dict[str, Candidate] = {}
    # A bundle record (an NVL pair) is the same hardware as that many of its GPU: rank it once, as the bundle.
    bundled = {(g.bundle.gpu, g.bundle.count) for g in gpus.values() if g.bundle}
    for gpu in gpus.values():
        for pid in model.precisions:
            prec = PRECISIONS[pid]
            # FP16 and BF16 take the same memory and time: list the model's native 16-bit format only.
            if pid == "fp16" and "bf16" in model.precisions and model.native_precision != "fp16":
                continue
            if pid == "bf16" and model.native_precision == "fp16" and "fp16" in model.precisions:
                continue
            if not supported_on(prec, gpu):
                continue
            # A setup that does not fit is neither ranked nor kept as a GPU's fastest: its speed is not estimated.
            one = evaluate(model, facts, make_setup(gpu, gpus), prec, work, frameworks, unfit_speed=False)
            if one is None:
                continue
            _keep_fastest(single, gpu.id, one)
            # Ranked only if a catalog framework can serve this model, format and vendor, and batches requests:
            # many concurrent users need a continuous-batching server (local runtimes get a single-user table).
            if (frameworks and model.frameworks and one.framework is None) or one.engine == "local":
                continue
            for mult in _multipliers(gpu, gpus):
                cand = (
                    one
                    if mult == 1
                    else evaluate(model, facts, make_setup(gpu, gpus, mult), prec, work, frameworks, unfit_speed=False)
                )
                if cand is None:
                    break
                if cand.memory.fits:
                    if (gpu.id, mult) not in bundled:
                        cands.append(cand)
                    break
    ranked = sorted(_score(cands), key=lambda c: (-c.score, c.setup.id, c.precision.id))
    recs: list[Candidate] = []
    seen: set[str] = set()
    for c in ranked:
        if c.score and c.setup.record.id not in seen:
            recs.append(c)
            seen.add(c.setup.record.id)
        if len(recs) == RECOMMENDATIONS:
            break
    matrix = _matrix(model, facts, gpus, frameworks)
    applicable = [cell for row in matrix for cell in row.cells if not isinstance(cell.level, CellState)]
    fitting = [cell for cell in applicable if is_fit(cell.level)]
    prows = []
    for pid in model.precisions:
        prec = PRECISIONS[pid]
        best = next((c for c in ranked if c.precision.id == pid), None)
        prows.append(PrecisionRow(prec, weight_bytes(facts, prec), best))
    local = _local(model, facts, gpus, frameworks)
    runtimes = _runtime_rows(model, facts, gpus, frameworks, local)
    return Analysis(
        local=_local_order(local + runtimes),
        local_runtimes=runtimes,
        single=single,
        model=model,
        facts=facts,
        kv_bytes_per_token=kv_bytes_per_token(facts, PER_TOKEN_KV),
        kv_bytes_per_token_fp8=kv_bytes_per_token(facts, "fp8"),
        matrix=matrix,
        fit_share=len(fitting) / len(applicable) if applicable else 0.0,
        fit_cells=len(applicable),
        candidates=tuple(ranked),
        recommendations=tuple(recs),
        precision_rows=tuple(prows),
        fit_workload=fit_workload(model),
        serve_workload=work,
    )
