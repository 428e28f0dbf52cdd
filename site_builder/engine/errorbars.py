"""Measured uncertainty: calibration residuals per metric x engine class x hardware class, and per category."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from site_builder.engine.calibrate import Comparison, engine_class_of
from site_builder.engine.plan import facts_of
from site_builder.records import BenchmarkRecord, FrameworkRecord, GpuRecord, ModelRecord

# The estimate's speed keys and the benchmark metrics that measure them. TTFT pools prefill speed: both are one
# prompt's prefill (TTFT = prompt / prefill speed), so they share their error.
SPEED_KEYS: dict[str, tuple[str, ...]] = {
    "decode_tokens_per_s": ("decode_tok_s", "aggregate_decode_tok_s"),
    "output_tokens_per_s": ("aggregate_output_tok_s", "aggregate_output_tok_s_per_gpu"),
    "itl_ms": ("itl_ms", "tpot_ms"),
    "ttft_ms": ("ttft_ms", "prefill_tok_s"),
}
# Fewer residuals than this in a cell and the next coarser scope answers instead.
MIN_RESULTS = 3

CATEGORIES = (
    "batched servers",
    "local runtimes, one user",
    "local runtimes under many users",
    "KV capacity",
    "AMD/Intel",
    "Apple",
    "long context",
    "MoE decode",
)
LONG_CONTEXT_TOKENS = 8192  # a prompt or an answer that fills an 8K window: attention is no longer a rounding error
# A batch latency with outputs much longer than prompts is decode steps, so it measures decode too.
DECODE_METRICS = ("decode_tok_s", "aggregate_decode_tok_s", "itl_ms", "tpot_ms", "e2e_latency_ms")


def hardware_class(gpu: GpuRecord) -> str:
    if gpu.segment == "apple-silicon":
        return "Apple silicon"
    if gpu.segment == "cpu":
        return "CPUs"
    if gpu.vendor in ("amd", "intel"):
        return "AMD and Intel GPUs"
    if gpu.segment == "datacenter":
        return "NVIDIA datacenter GPUs"
    return "NVIDIA desktop GPUs"


@dataclass(frozen=True)
class ErrorBar:
    pct: float  # median absolute error, as a share
    count: int
    scope: str  # which residuals: "batched servers on NVIDIA datacenter GPUs", "batched servers, any hardware", ...

    @property
    def text(self) -> str:
        return f"±{self.pct:.0%}, from {self.count} measured result{'s' if self.count != 1 else ''} ({self.scope})"


@dataclass(frozen=True)
class ErrorBars:
    """Residuals keyed by (speed key, engine class, hardware class)."""

    cells: dict[tuple[str, str, str], tuple[float, ...]]

    def lookup(self, key: str, engine: str, hardware: str) -> ErrorBar | None:
        """The finest scope with enough residuals: this engine class on this hardware, then any hardware, then all."""
        engine_label = "batched servers" if engine == "batched-server" else "local runtimes"
        scopes = (
            ((key, engine, hardware), f"{engine_label} on {hardware}"),
            ((key, engine, "*"), f"{engine_label}, any hardware"),
            ((key, "*", "*"), "every engine and hardware"),
        )
        for cell, label in scopes:
            errs = self.cells.get(cell, ())
            if len(errs) >= MIN_RESULTS:
                return ErrorBar(statistics.median(errs), len(errs), label)
        return None

    def lookup_gpu(self, key: str, engine: str, gpu: GpuRecord) -> ErrorBar | None:
        """`lookup` on the hardware class of `gpu`."""
        return self.lookup(key, engine, hardware_class(gpu))


def error_bars(
    comparisons: list[Comparison], gpus: dict[str, GpuRecord], frameworks: dict[str, FrameworkRecord]
) -> ErrorBars:
    cells: dict[tuple[str, str, str], list[float]] = {}
    for c in comparisons:
        key = next((k for k, metrics in SPEED_KEYS.items() if c.record.metric in metrics), None)
        gpu = gpus.get(c.record.gpu or "")
        if key is None or gpu is None:
            continue
        engine = engine_class_of(c.record, frameworks)
        hw = hardware_class(gpu)
        for cell in ((key, engine, hw), (key, engine, "*"), (key, "*", "*")):
            cells.setdefault(cell, []).append(abs(c.error))
    return ErrorBars({k: tuple(v) for k, v in cells.items()})


def categories(
    bench: BenchmarkRecord,
    models: dict[str, ModelRecord],
    gpus: dict[str, GpuRecord],
    frameworks: dict[str, FrameworkRecord],
) -> list[str]:
    """The issue-15 categories a measured record falls in (a record may fall in several)."""
    out = []
    engine = engine_class_of(bench, frameworks)
    users = bench.workload.concurrency or 1
    if bench.metric == "kv_cache_capacity_tokens":
        out.append("KV capacity")
    elif engine == "batched-server":
        out.append("batched servers")
    else:
        out.append("local runtimes under many users" if users > 1 else "local runtimes, one user")
    gpu = gpus.get(bench.gpu or "")
    if gpu is not None and gpu.vendor in ("amd", "intel"):
        out.append("AMD/Intel")
    if gpu is not None and gpu.segment == "apple-silicon":
        out.append("Apple")
    w = bench.workload
    # A capacity record's prompt is the launch's max_model_len, not a long request: it measures memory, not attention.
    long_request = (w.prompt_tokens or 0) + (w.output_tokens or 0) >= LONG_CONTEXT_TOKENS
    if long_request and bench.metric != "kv_cache_capacity_tokens":
        out.append("long context")
    model = models.get(bench.model or "")
    if model is not None and bench.metric in DECODE_METRICS and facts_of(model).shape.is_moe:
        out.append("MoE decode")
    return out


@dataclass(frozen=True)
class CategoryError:
    category: str
    count: int
    median_ape: float | None
    worst_ape: float | None
    worst_id: str | None


def summarize_categories(
    comparisons: list[Comparison],
    models: dict[str, ModelRecord],
    gpus: dict[str, GpuRecord],
    frameworks: dict[str, FrameworkRecord],
) -> list[CategoryError]:
    by_cat: dict[str, list[Comparison]] = {cat: [] for cat in CATEGORIES}
    for c in comparisons:
        for cat in categories(c.record, models, gpus, frameworks):
            by_cat[cat].append(c)
    rows = []
    for cat, items in by_cat.items():
        if not items:
            rows.append(CategoryError(cat, 0, None, None, None))
            continue
        worst = max(items, key=lambda c: abs(c.error))
        rows.append(
            CategoryError(
                cat, len(items), statistics.median(abs(c.error) for c in items), abs(worst.error), worst.record.id
            )
        )
    return rows
