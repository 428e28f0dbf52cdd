"""Family, compare and deployment pages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from site_builder.analysis import DeployAnalysis, DeployVariant, ModelData, SiteAnalysis
from site_builder.engine import constants as C
from site_builder.engine.constants import GIB
from site_builder.engine.plan import Candidate
from site_builder.engine.precision import Precision
from site_builder.markdown_render import render_article, word_count
from site_builder.pages import charts
from site_builder.pages import format as F
from site_builder.pages.colours import CHART_PALETTE
from site_builder.pages.deploy_command import (
    FlagNote,
    LaunchCommand,
    calculator_preset,
    launch_command,
    model_reference,
    published_checkpoint,
)
from site_builder.pages.figures import Fig, engine
from site_builder.pages.model import CandidateView, attention_kind, candidate_view, setup_label, work_note
from site_builder.records import FamilyRecord, FrameworkRecord, ModelRecord
from site_builder.records.family import Citation


@dataclass(frozen=True)
class FamilyModelRow:
    """One member's architecture and its weights at every precision the engine sizes."""

    name: str
    href: str
    params: str
    layers: int
    hidden: str
    heads: int
    kv: int
    head_dim: int
    ffn: str
    context: str
    attention: str
    kv_token: str
    weights: tuple[tuple[str, str], ...]  # precision label, weights at that precision


@dataclass(frozen=True)
class ScoreRow:
    name: str
    cols: tuple[str, ...]  # one per benchmark of the page, "—" where the record has no score


@dataclass(frozen=True)
class FamilyPage:
    family: FamilyRecord
    title: str
    description: str
    html: str  # the article, rendered with its numbered sources
    words: int
    sources: tuple[Citation, ...]
    arch: tuple[FamilyModelRow, ...]
    benchmarks: tuple[str, ...]
    scores: tuple[ScoreRow, ...]
    charts: bool = False


def family_model_row(md: ModelData, base: str) -> FamilyModelRow:
    a, s = md.record.architecture, md.facts.shape
    return FamilyModelRow(
        name=md.record.name,
        href=f"{base}models/{md.record.id}/",
        params=F.params(md.facts.params.total),
        layers=a.num_hidden_layers,
        hidden=f"{a.hidden_size:,}",
        heads=a.num_attention_heads,
        kv=s.kv_heads,
        head_dim=s.head_dim,
        ffn=f"{a.intermediate_size:,}",
        context=F.context(md.record.context_window),
        attention=attention_kind(md.record),
        kv_token=f"{md.analysis.kv_bytes_per_token:,}",
        weights=tuple((r.precision.label, F.gib(r.weights_bytes)) for r in md.analysis.precision_rows),
    )


def score_row(md: ModelData, benches: tuple[str, ...]) -> ScoreRow:
    scores = md.record.scores
    return ScoreRow(
        md.record.name, tuple(next((f"{s.value:g}" for s in scores if s.benchmark == b), "—") for b in benches)
    )


def family_page(fam: FamilyRecord, body: str, site: SiteAnalysis, base: str) -> FamilyPage:
    members = [md for md in site.models.values() if md.record.family == fam.id]
    members.sort(key=lambda md: md.facts.params.total)
    benches = tuple(sorted({s.benchmark for md in members for s in md.record.scores}))
    return FamilyPage(
        family=fam,
        title=f"{fam.title} model family",
        description=fam.description,
        html=render_article(body, fam.sources),
        words=word_count(body),
        sources=tuple(fam.sources),
        arch=tuple(family_model_row(md, base) for md in members),
        benchmarks=benches,
        scores=tuple(score_row(md, benches) for md in members),
    )


def _mem_summary(md: ModelData) -> str:
    rows = md.analysis.precision_rows
    return ", ".join(f"{r.precision.label} {F.gib(r.weights_bytes)}" for r in rows)


@dataclass(frozen=True)
class CompareColumn:
    """One model's side of the comparison: architecture, memory, and its best setup's speed and cost."""

    name: str
    href: str
    org: str
    params: str
    active: str
    kind: str
    layers: int
    attention: str
    context: str
    kv: str
    memory: str
    license: str
    quality: str
    best: str
    tps: str
    itl: str
    cpm: str
    month: str


@dataclass(frozen=True)
class CompareRow:
    label: str
    a: str
    b: str


@dataclass(frozen=True)
class ComparePage:
    title: str
    description: str
    a: CompareColumn
    b: CompareColumn
    rows: tuple[CompareRow, ...]
    chart: dict[str, Any]
    note: str  # the workload of the speed and cost rows (each model's, where they differ)
    charts: bool = True


# A model without a recommended setup (none of the setups that fit has a price to rank it by), in its column and in
# the workload line under the table.
NO_BEST = "none priced"

# The table's rows, top to bottom: a label and the column field it shows.
COMPARE_ROWS: tuple[tuple[str, Callable[[CompareColumn], object]], ...] = (
    ("Organization", lambda c: c.org),
    ("Total parameters", lambda c: c.params),
    ("Active per token", lambda c: c.active),
    ("Type", lambda c: c.kind),
    ("Layers", lambda c: c.layers),
    ("Attention", lambda c: c.attention),
    ("Context window", lambda c: c.context),
    ("KV cache per token (16-bit)", lambda c: c.kv),
    ("Weights", lambda c: c.memory),
    ("License", lambda c: c.license),
    ("Quality index", lambda c: c.quality),
    ("Best setup", lambda c: c.best),
    ("Output throughput", lambda c: c.tps),
    ("Inter-token latency", lambda c: c.itl),
    ("Cost per M output tokens", lambda c: c.cpm),
    ("Cost per month", lambda c: c.month),
)


def compare_column(md: ModelData, base: str) -> CompareColumn:
    m, p, s = md.record, md.facts.params, md.facts.shape
    best = md.best
    return CompareColumn(
        name=m.name,
        href=f"{base}models/{m.id}/",
        org=m.organization,
        params=F.params(p.total),
        active=F.params(p.active),
        kind="MoE" if s.is_moe else "Dense",
        layers=m.architecture.num_hidden_layers,
        attention=attention_kind(m),
        context=f"{m.context_window:,}",
        kv=f"{md.analysis.kv_bytes_per_token:,} bytes",
        memory=_mem_summary(md),
        license=m.license.name if m.license else "unknown",
        quality=f"{md.quality.value:.1f}" if md.quality else "not rated",
        best=setup_label(best) if best else NO_BEST,
        tps=F.tokens_per_s(best.speed.output_tokens_per_s if best and best.speed else None),
        itl=F.ms(best.speed.itl_ms if best and best.speed else None),
        cpm=F.usd(best.cost.cost_per_million_tokens_usd if best and best.cost else None),
        month=F.usd_month(best.cost.cost_per_month_usd if best and best.cost else None),
    )


def _weights_chart(a: ModelData, b: ModelData) -> dict[str, Any]:
    labels = [r.precision.label for r in a.analysis.precision_rows]
    labels += [r.precision.label for r in b.analysis.precision_rows if r.precision.label not in labels]

    def weights(md: ModelData) -> list[float]:
        by = {r.precision.label: r.weights_bytes / GIB for r in md.analysis.precision_rows}
        return [round(by.get(lab, 0), charts.DIGITS) for lab in labels]

    return charts.chart(
        f"chart-compare-{a.record.id}-{b.record.id}",
        "Weights by precision (GiB)",
        [
            {
                "type": "bar",
                "name": a.record.name,
                "x": labels,
                "y": weights(a),
                "marker": {"color": CHART_PALETTE[0]},
            },
            {
                "type": "bar",
                "name": b.record.name,
                "x": labels,
                "y": weights(b),
                "marker": {"color": CHART_PALETTE[1]},
            },
        ],
        {"barmode": "group", "yaxis": {"title": {"text": "GiB"}}},
    )


def compare_page(a: ModelData, b: ModelData, site: SiteAnalysis, base: str) -> ComparePage:
    ca, cb = compare_column(a, base), compare_column(b, base)
    return ComparePage(
        title=f"{a.record.name} vs {b.record.name}",
        description=f"{a.record.name} and {b.record.name} "
        "side by side: architecture, memory, best GPU setups, speed and cost.",
        a=ca,
        b=cb,
        rows=tuple(CompareRow(label, str(value(ca)), str(value(cb))) for label, value in COMPARE_ROWS),
        chart=_weights_chart(a, b),
        note=_workloads(a, b),
    )


def _workloads(a: ModelData, b: ModelData) -> str:
    """The workload behind each column's speed and cost: once where both best setups share it, else per model."""
    notes = [(md.record.name, work_note(md.best) if md.best else NO_BEST) for md in (a, b)]
    if notes[0][1] == notes[1][1]:
        return notes[0][1]
    return "; ".join(f"{name}: {note}" for name, note in notes)


def _provider_flag(c: Candidate) -> list[tuple[str, str]]:
    """The execution provider an export-based runtime targets on this device (cpu, cuda, dml)."""
    t = c.framework.launch if c.framework else None
    provider = t.execution_provider_values.get(c.setup.base.vendor) if t else None
    return [("Execution provider", provider)] if provider else []


@dataclass(frozen=True)
class CommandView:
    """A framework's launch command with what each flag does; for an export-then-run runtime, the run command too."""

    framework: str
    href: str
    command: str
    flags: tuple[FlagNote, ...]
    run: str | None


def command_view(fw: FrameworkRecord, cmd: LaunchCommand) -> CommandView:
    t = fw.launch
    return CommandView(fw.name, str(fw.url), cmd.command, tuple(cmd.flags), t.run_command if t else None)


@dataclass(frozen=True)
class Variant:
    """The deploy page's setup at another concurrency."""

    concurrency: int
    fits: bool
    tps: str
    itl: str
    cpm: str
    memory: str


@dataclass(frozen=True)
class DeployPage:
    title: str
    description: str
    model: ModelRecord
    model_href: str
    c: CandidateView
    calculator_href: str  # the calculator, preset to this page's setup and workload
    commands: tuple[CommandView, ...]
    flags: tuple[tuple[str, str], ...]  # the launch settings, named as a reader would look for them
    memory: tuple[tuple[str, Fig], ...]  # per GPU
    max_concurrency: int
    max_context: int
    kv_capacity: Fig
    variants: tuple[Variant, ...]
    checkpoint_note: str
    note: str
    hours: int
    charts: bool = False


def _checkpoint_note(m: ModelRecord, prec: Precision) -> str:
    """A compressed format different from the released weights needs a converted checkpoint."""
    published = published_checkpoint(m, prec.id)
    if published:
        return f"{prec.label} weights: the commands load {published}, a published {prec.label} checkpoint of {m.name}."
    if prec.id == m.native_precision or prec.id in ("bf16", "fp16", "fp32"):
        return ""
    return (
        f"{prec.label} weights: point the command at a {prec.label} checkpoint of {m.name} (a pre-quantized "
        f"repository, or {m.hf_repo} converted with the framework's own quantization tool)."
    )


def _variant_view(x: DeployVariant) -> Variant:
    v = x.result
    return Variant(
        concurrency=x.concurrency,
        fits=v.memory.fits,
        tps=F.tokens_per_s(v.speed.output_tokens_per_s if v.speed else None),
        itl=F.ms(v.speed.itl_ms if v.speed else None),
        cpm=F.usd(v.cost.cost_per_million_tokens_usd if v.cost else None),
        memory=F.gib(v.memory.total_bytes),
    )


def deploy_page(md: ModelData, d: DeployAnalysis, site: SiteAnalysis, base: str) -> DeployPage:
    m, c, max_len = md.record, d.candidate, d.max_len
    commands = []
    for fw, settings in d.launch:
        model_ref, ref_note = model_reference(m, c.precision, fw.id)
        cmd = launch_command(fw, c, model_ref, settings, ref_note)
        if cmd:
            commands.append(command_view(fw, cmd))
    variants = [_variant_view(x) for x in d.variants]
    view = candidate_view(c, base, m.id, site.error_bars)
    mem = c.memory
    cap = d.capacity
    cap_fw = site.frameworks.get(cap.framework)
    capacity = engine(
        f"{cap.tokens:,} tokens",
        f"{cap_fw.name if cap_fw else cap.framework} at its defaults ({cap.rule} rule); set with {cap.flag}"
        + (f" {d.budget_value:g}" if d.budget_value is not None else ""),
    )
    return DeployPage(
        title=f"Deploy {m.name} on {c.setup.label} ({c.precision.label})",
        description=f"Launch commands and expected memory, speed and cost for {m.name} on {c.setup.label}.",
        model=m,
        model_href=f"{base}models/{m.id}/",
        c=view,
        calculator_href=calculator_preset(m.id, c, base),
        commands=tuple(commands),
        flags=(
            ("Tensor parallel size", str(c.setup.count)),
            ("Max model length", f"{max_len:,}"),
            ("Weights", c.precision.label),
            ("KV-cache dtype", c.workload.kv_precision),
            *_provider_flag(c),
        ),
        memory=(
            ("Weights", engine(F.gib(mem.weights_bytes))),
            ("KV cache", engine(F.gib(mem.kv_cache_bytes))),
            ("Activations", engine(F.gib(mem.activations_bytes))),
            ("Runtime overhead", engine(F.gib(mem.overhead_bytes))),
            ("Total", engine(F.gib(mem.total_bytes))),
            ("Usable", engine(F.gib(mem.usable_bytes))),
        ),
        max_concurrency=mem.max_concurrency,
        max_context=mem.max_context,
        kv_capacity=capacity,
        variants=tuple(variants),
        # An export-based runtime quantizes the original weights itself while it builds the ONNX model.
        checkpoint_note="" if _provider_flag(c) else _checkpoint_note(m, c.precision),
        note=work_note(c),
        hours=C.HOURS_PER_MONTH,
    )
