"""The calculator and the planner (a model page's #calculator and #planner, and /calculator/): inputs, option lists
and the default answer.

The default answer is the analysis stage's `estimate` for the page's serving workload on its best-scoring setup, with
unrounded floats: without JavaScript the page shows what `site-builder estimate --json` prints, and every
result element carries its key and value. static/calculator.js recomputes the same keys with static/engine.js when
the reader edits an input, and formats them with the same `data-format` kinds as `display` below.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from site_builder.analysis import CalculatorDefault, ModelData, SiteAnalysis
from site_builder.engine.plan import Candidate
from site_builder.engine.precision import KV_BYTES, PRECISIONS
from site_builder.pages import format as F
from site_builder.pages.labels import FIT_LABELS, GROUP_SEGMENT_WORDS, KV_CHOICE_LABELS, VENDOR_LABELS
from site_builder.query import EstimateQuery
from site_builder.records import GpuRecord

# The query parameters are `site-builder estimate`'s flags, with their names and meanings.
FLAGS = ("gpu", "gpus", "precision", "kv-precision", "context", "concurrency", "prompt", "output", "framework")
DEFAULT_MODEL = "internlm-20b"  # /calculator/ opens on the first seed model's page defaults
STACK = (
    ("weights_bytes", "Weights"),
    ("kv_cache_bytes", "KV cache"),
    ("activations_bytes", "Activations"),
    ("overhead_bytes", "Runtime overhead"),
)


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class ChoiceGroup:
    label: str
    choices: tuple[Choice, ...]


@dataclass(frozen=True)
class Figure:
    """One result element: an `estimate --json` key, its value as JSON, and its text in the `fmt` kind."""

    key: str
    label: str
    fmt: str
    value: str
    text: str
    band: Figure | None = None  # the key's measured error, for speed figures
    note: str = ""


@dataclass(frozen=True)
class Segment:
    key: str
    label: str
    width: str  # percent of the bar, which spans the larger of the total and the usable memory


@dataclass(frozen=True)
class Setup:
    """What was estimated, after defaults and "max" are resolved: one figure per `estimate --json` key."""

    concurrency: Figure
    prompt: Figure
    output: Figure
    context: Figure
    gpus: Figure
    gpu: Figure
    precision: Figure
    kv_precision: Figure
    framework: Figure
    engine_class: Figure


@dataclass(frozen=True)
class Answer:
    setup: Setup
    groups: tuple[tuple[str, tuple[Figure, ...]], ...]
    stack: tuple[Segment, ...]
    usable_at: str  # percent of the bar where usable memory ends
    error: str  # the engine's message when the default setup is refused
    fits: bool  # False: the speed and cost figures are for a setup that does not fit


@dataclass(frozen=True)
class Calculator:
    model_id: str
    model_name: str
    inputs: Inputs
    gpus: tuple[ChoiceGroup, ...]
    precisions: tuple[Choice, ...]
    kv_precisions: tuple[Choice, ...]
    frameworks: tuple[Choice, ...]
    models: tuple[Choice, ...]  # the model picker's options (/calculator/ only)
    answer: Answer
    data_url: str  # api/v1/engine/ under the site's base
    script: str
    fit_labels: str  # JSON: fit level -> label, for the script


Names = dict[str, dict[str, str]]  # display kind -> record id -> label
FORMATS: dict[str, Callable[[Any], str]] = {
    "bytes": F.gib,
    "tokens": lambda v: f"{v:,} tokens",
    "int": lambda v: f"{v:,}",
    "tps": F.tokens_per_s,
    "ms": F.ms,
    "usd": F.usd,
    "usd-month": F.usd_month,
    "usd-request": F.usd_request,
    "share": F.percent,
    "band": lambda v: f"±{v:.0f}%",
    "yes-no": lambda v: "yes" if v else "no",
    "level": lambda v: FIT_LABELS.get(v, v),
}


def display(fmt: str, value: Any, names: Names | None = None) -> str:
    """A value as the page shows it; calculator.js's `display` mirrors each kind. `names` labels the kinds that
    name a record (gpu, precision, kv, framework)."""
    if value is None:
        return {"framework": "no listed framework", "band": "error not yet measured"}.get(fmt, "unknown")
    if names and fmt in names:
        return names[fmt].get(value, str(value))
    return FORMATS[fmt](value) if fmt in FORMATS else str(value)


def _figure(
    result: dict[str, Any], key: str, label: str, fmt: str, note: str = "", names: Names | None = None
) -> Figure:
    value = result.get(key)
    band = None
    if f"{key}_error_pct" in result:
        pct = result[f"{key}_error_pct"]
        band = Figure(f"{key}_error_pct", "measured error", "band", json.dumps(pct), display("band", pct))
    return Figure(key, label, fmt, json.dumps(value), display(fmt, value, names), band, note)


def answer(result: dict[str, Any] | None, names: Names, error: str = "") -> Answer:
    r = result or {}

    def setup(key: str, fmt: str) -> Figure:
        return _figure(r, key, key, fmt, names=names)

    resolved = Setup(
        concurrency=setup("concurrency", "int"),
        prompt=setup("prompt", "int"),
        output=setup("output", "int"),
        context=setup("context", "int"),
        gpus=setup("gpus", "int"),
        gpu=setup("gpu", "gpu"),
        precision=setup("precision", "precision"),
        kv_precision=setup("kv_precision", "kv"),
        framework=setup("framework", "framework"),
        engine_class=setup("engine_class", "text"),
    )
    groups = (
        (
            "Memory per GPU",
            (
                *(_figure(r, key, label, "bytes") for key, label in STACK),
                _figure(r, "total_bytes", "Total", "bytes"),
                _figure(r, "usable_bytes", "Usable", "bytes", "what the engine may plan to fill"),
                _figure(r, "fits", "Fits", "yes-no"),
                _figure(r, "fit_level", "Fit level", "level", "share of usable memory in use"),
            ),
        ),
        (
            "Limits",
            (
                _figure(r, "max_context", "Longest context at this concurrency", "tokens"),
                _figure(r, "max_concurrency", "Most concurrent sequences at this context", "int"),
            ),
        ),
        (
            "Speed",
            (
                _figure(r, "per_user_tokens_per_s", "Per user, while streaming", "tps", "1000 ÷ inter-token latency"),
                _figure(r, "output_tokens_per_s", "Aggregate output", "tps", "all users, prefill included"),
                _figure(r, "decode_tokens_per_s", "Aggregate decode", "tps", "decode steps only"),
                _figure(r, "ttft_ms", "Time to first token", "ms", "at this load, queueing included"),
                _figure(r, "itl_ms", "Inter-token latency", "ms", "at this load"),
            ),
        ),
        (
            "Cost",
            (
                _figure(r, "cost_per_month_usd", "Per month", "usd-month", "median sourced hourly price × 730 h"),
                _figure(r, "cost_per_million_tokens_usd", "Per million output tokens", "usd", "at this load"),
                _figure(r, "cost_per_request_usd", "Per request, this load", "usd-request"),
                _figure(r, "cost_per_request_full_load_usd", "Per request, full load", "usd-request"),
                _figure(
                    r,
                    "api_provider",
                    "Cheapest API",
                    "provider",
                    "sourced price per million input and output tokens",
                    names,
                ),
                _figure(r, "api_cost_per_request_usd", "Cheapest API, per request", "usd-request"),
                _figure(
                    r,
                    "breakeven_utilization",
                    "Break-even utilization",
                    "share",
                    "share of the month the GPUs must be busy at full load to match the API",
                ),
            ),
        ),
    )
    return Answer(resolved, groups, *_stack(r), error, bool(r.get("fits", True)))


def _stack(r: dict[str, Any]) -> tuple[tuple[Segment, ...], str]:
    """Bar widths: each part, and the usable line, as a percent of the larger of the total and the usable memory."""
    total, usable = r.get("total_bytes"), r.get("usable_bytes")
    if not total or not usable:
        return tuple(Segment(k, label, "0") for k, label in STACK), "0"
    span = max(total, usable)
    return tuple(Segment(k, label, f"{100 * r[k] / span:.2f}") for k, label in STACK), f"{100 * usable / span:.2f}"


def _gpu_group(g: GpuRecord) -> tuple[int, int, str]:
    segment = list(GROUP_SEGMENT_WORDS).index(g.segment)
    vendor = list(VENDOR_LABELS).index(g.vendor) if g.vendor in VENDOR_LABELS else len(VENDOR_LABELS)
    name = f"{VENDOR_LABELS.get(g.vendor, g.vendor)} {GROUP_SEGMENT_WORDS[g.segment]}"
    if g.vendor == "apple":
        name = "Apple silicon (unified memory)"
    if g.vendor == "cpu":
        name = "CPU only (system memory)"
    return vendor, segment, name + (", multi-GPU boxes" if g.bundle else "")


def gpu_choices(gpus: dict[str, GpuRecord]) -> tuple[ChoiceGroup, ...]:
    groups: dict[tuple[int, int, str], list[Choice]] = {}
    for gid, g in sorted(gpus.items(), key=lambda kv: (-(kv[1].memory_gb or 0), kv[1].short_name)):
        size = f", {g.memory_gb:g} GB" if g.memory_gb else ""
        groups.setdefault(_gpu_group(g), []).append(Choice(gid, f"{g.short_name}{size}"))
    return tuple(ChoiceGroup(key[2], tuple(items)) for key, items in sorted(groups.items()))


@dataclass(frozen=True)
class Inputs:
    """The calculator's form values: the query's flags as the URL spells them ("" leaves a flag to the engine)."""

    gpu: str
    gpus: str
    precision: str
    kv_precision: str  # the kv-precision flag
    context: str
    concurrency: str
    prompt: str
    output: str
    framework: str


def _inputs(q: EstimateQuery) -> Inputs:
    return Inputs(
        gpu=q.gpu,
        gpus=str(q.gpus),
        precision=q.precision or "",
        kv_precision=q.kv_precision or "",
        context="" if q.context is None else str(q.context),
        concurrency=q.concurrency,
        prompt="" if q.prompt is None else str(q.prompt),
        output="" if q.output is None else str(q.output),
        framework=q.framework or "",
    )


def calculator_href(base: str, model_id: str, flags: Mapping[str, object]) -> str:
    """A model page's calculator preset to `flags` (named as `site-builder estimate`'s, every value a number or id)."""
    return f"{base}models/{model_id}/?{'&'.join(f'{k}={v}' for k, v in flags.items())}#calculator"


def preset_flags(c: Candidate) -> dict[str, object]:
    """The calculator's query for a recommended setup; the page's defaults give the rest of the serving workload and
    the engine picks the framework the recommendation used."""
    flags: dict[str, object] = {"gpu": c.setup.record.id, "gpus": c.setup.count, "precision": c.precision.id}
    if c.workload.kv_precision != "fp16":
        flags["kv-precision"] = c.workload.kv_precision
    return flags


@dataclass(frozen=True)
class _Options:
    """What every calculator of a build lists and names the same way: made once per build, not once per page."""

    gpus: tuple[ChoiceGroup, ...]
    precisions: tuple[Choice, ...]
    kv_precisions: tuple[Choice, ...]
    frameworks: tuple[Choice, ...]
    names: Names


# The last build's options, by a weak reference to its site: holding the site itself would keep a finished build's
# computed site in memory through the next build.
_built: list[tuple[weakref.ref[SiteAnalysis], _Options]] = []


def _options(site: SiteAnalysis) -> _Options:
    if _built and _built[0][0]() is site:
        return _built[0][1]
    options = _Options(
        gpus=gpu_choices(site.gpus),
        precisions=tuple(Choice(pid, p.label) for pid, p in PRECISIONS.items()),
        kv_precisions=tuple(Choice(k, KV_CHOICE_LABELS.get(k, k)) for k in KV_BYTES),
        frameworks=(Choice("", "Engine's choice"), *(Choice(fid, f.name) for fid, f in site.frameworks.items())),
        names={
            "gpu": {gid: g.short_name for gid, g in site.gpus.items()},
            "precision": {pid: p.label for pid, p in PRECISIONS.items()},
            "kv": KV_CHOICE_LABELS,
            "framework": {fid: f.name for fid, f in site.frameworks.items()},
            "provider": {pid: p.record.name for pid, p in site.catalog.providers.items()},
        },
    )
    _built[:] = [(weakref.ref(site), options)]
    return options


def default_answer(d: CalculatorDefault, site: SiteAnalysis) -> Answer:
    return answer(d.result, _options(site).names, d.error)


def _model_choices(site: SiteAnalysis) -> tuple[Choice, ...]:
    return tuple(Choice(mid, d.record.name) for mid, d in sorted(site.models.items(), key=lambda kv: kv[1].record.name))


def calculator_view(md: ModelData, site: SiteAnalysis, base: str, picker: bool = False) -> Calculator:
    default = md.calculator
    assert default is not None, "the analysis stage gives every model its calculator default"
    inputs = _inputs(default.query)
    options = _options(site)
    return Calculator(
        model_id=md.record.id,
        model_name=md.record.name,
        inputs=inputs,
        gpus=options.gpus,
        precisions=options.precisions,
        kv_precisions=options.kv_precisions,
        frameworks=options.frameworks,
        models=_model_choices(site) if picker else (),
        answer=default_answer(default, site),
        data_url=f"{base}api/v1/engine/",
        script=f"{base}static/calculator.js",
        fit_labels=json.dumps(FIT_LABELS, sort_keys=True),
    )


@dataclass(frozen=True)
class CalculatorPage:
    title: str
    description: str
    calculator: Calculator  # opens on DEFAULT_MODEL's page defaults, with the model picker
    charts: bool = False


def calculator_page(site: SiteAnalysis, base: str) -> CalculatorPage:
    mid = DEFAULT_MODEL if DEFAULT_MODEL in site.models else next(iter(site.models))
    return CalculatorPage(
        title="Calculator and planner: memory, speed and cost of any setup",
        description="Pick a model, GPU, format, context and users and see the engine's memory, fit, speed and "
        "cost; or give targets and get the cheapest setups that meet them.",
        calculator=calculator_view(site.models[mid], site, base, picker=True),
    )
