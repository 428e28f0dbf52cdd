"""Family, compare and deployment pages."""

from __future__ import annotations

from typing import Any

from site_builder.engine import constants as C
from site_builder.engine.budget import kv_capacity
from site_builder.engine.estimate import Workload
from site_builder.engine.launch import budget_setting, launch_settings
from site_builder.engine.plan import Candidate, evaluate, evaluate_on
from site_builder.engine.precision import Precision
from site_builder.markdown_render import render_article, word_count
from site_builder.pages import charts
from site_builder.pages import format as F
from site_builder.pages.deploy_command import (
    LaunchCommand,
    calculator_preset,
    launch_command,
    model_reference,
    published_checkpoint,
)
from site_builder.pages.figures import engine
from site_builder.pages.model_page import attention_kind, candidate_view, setup_label, work_note
from site_builder.pages.site import ModelData, SiteData
from site_builder.records import FamilyRecord, FrameworkRecord, ModelRecord


def family_page(fam: FamilyRecord, body: str, site: SiteData, base: str) -> dict[str, Any]:
    members = [md for md in site.models.values() if md.record.family == fam.id]
    members.sort(key=lambda md: md.facts.params.total)
    arch = []
    for md in members:
        a, s = md.record.architecture, md.facts.shape
        arch.append(
            {
                "name": md.record.name,
                "href": f"{base}models/{md.record.id}/",
                "params": F.params(md.facts.params.total),
                "layers": a.num_hidden_layers,
                "hidden": f"{a.hidden_size:,}",
                "heads": a.num_attention_heads,
                "kv": s.kv_heads,
                "head_dim": s.head_dim,
                "ffn": f"{a.intermediate_size:,}",
                "context": F.context(md.record.context_window),
                "attention": attention_kind(md.record),
                "kv_token": f"{md.analysis.kv_bytes_per_token:,}",
                "memory": [F.gib(r.weights_bytes) for r in md.analysis.precision_rows],
                "precs": [r.precision.label for r in md.analysis.precision_rows],
            }
        )
    benches = sorted({s.benchmark for md in members for s in md.record.scores})
    scores = [
        {
            "name": md.record.name,
            "cols": [next((f"{s.value:g}" for s in md.record.scores if s.benchmark == b), "—") for b in benches],
        }
        for md in members
    ]
    return {
        "family": fam,
        "title": f"{fam.title} model family",
        "description": fam.description,
        "html": render_article(body, fam.sources),
        "words": word_count(body),
        "sources": fam.sources,
        "arch": arch,
        "benchmarks": benches,
        "scores": scores,
        "charts": False,
    }


def _mem_summary(md: ModelData) -> str:
    rows = md.analysis.precision_rows
    return ", ".join(f"{r.precision.label} {F.gib(r.weights_bytes)}" for r in rows)


def compare_page(a: ModelData, b: ModelData, site: SiteData, base: str) -> dict[str, Any]:
    def col(md: ModelData) -> dict[str, Any]:
        m, p, s = md.record, md.facts.params, md.facts.shape
        best = md.best
        return {
            "name": m.name,
            "href": f"{base}models/{m.id}/",
            "org": m.organization,
            "params": F.params(p.total),
            "active": F.params(p.active),
            "kind": "MoE" if s.is_moe else "Dense",
            "layers": m.architecture.num_hidden_layers,
            "attention": attention_kind(m),
            "context": f"{m.context_window:,}",
            "kv": f"{md.analysis.kv_bytes_per_token:,} bytes",
            "memory": _mem_summary(md),
            "license": m.license.name if m.license else "unknown",
            "quality": f"{md.quality.value:.1f}" if md.quality else "not rated",
            "best": setup_label(best) if best else "none priced",
            "tps": F.tokens_per_s(best.speed.output_tokens_per_s if best and best.speed else None),
            "itl": F.ms(best.speed.itl_ms if best and best.speed else None),
            "cpm": F.usd(best.cost.cost_per_million_tokens_usd if best and best.cost else None),
            "month": F.usd_month(best.cost.cost_per_month_usd if best and best.cost else None),
        }

    rows = [
        ("Organization", "org"),
        ("Total parameters", "params"),
        ("Active per token", "active"),
        ("Type", "kind"),
        ("Layers", "layers"),
        ("Attention", "attention"),
        ("Context window", "context"),
        ("KV cache per token (16-bit)", "kv"),
        ("Weights", "memory"),
        ("License", "license"),
        ("Quality index", "quality"),
        ("Best setup", "best"),
        ("Output throughput", "tps"),
        ("Inter-token latency", "itl"),
        ("Cost per M output tokens", "cpm"),
        ("Cost per month", "month"),
    ]
    ca, cb = col(a), col(b)
    labels = [r.precision.label for r in a.analysis.precision_rows]
    labels += [r.precision.label for r in b.analysis.precision_rows if r.precision.label not in labels]

    def weights(md: ModelData) -> list[float]:
        by = {r.precision.label: r.weights_bytes / F.GIB for r in md.analysis.precision_rows}
        return [round(by.get(lab, 0), 2) for lab in labels]

    chart = charts.chart(
        f"chart-compare-{a.record.id}-{b.record.id}",
        "Weights by precision (GiB)",
        [
            {
                "type": "bar",
                "name": a.record.name,
                "x": labels,
                "y": weights(a),
                "marker": {"color": charts.PALETTE[0]},
            },
            {
                "type": "bar",
                "name": b.record.name,
                "x": labels,
                "y": weights(b),
                "marker": {"color": charts.PALETTE[1]},
            },
        ],
        {"barmode": "group", "yaxis": {"title": {"text": "GiB"}}},
    )
    note = work_note(a.best) if a.best else ""
    return {
        "title": f"{a.record.name} vs {b.record.name}",
        "description": f"{a.record.name} and {b.record.name} "
        "side by side: architecture, memory, best GPU setups, speed and cost.",
        "a": ca,
        "b": cb,
        "rows": rows,
        "chart": chart,
        "note": note,
        "charts": True,
    }


def _provider_flag(c: Candidate) -> list[tuple[str, str]]:
    """The execution provider an export-based runtime targets on this device (cpu, cuda, dml)."""
    t = c.framework.launch if c.framework else None
    provider = t.execution_provider_values.get(c.setup.base.vendor) if t else None
    return [("Execution provider", provider)] if provider else []


def command_view(fw: FrameworkRecord, cmd: LaunchCommand) -> dict[str, Any]:
    """A framework's launch command with what each flag does; for an export-then-run runtime, the run command too."""
    t = fw.launch
    return {
        "framework": fw.name,
        "href": str(fw.url),
        "command": cmd.command,
        "flags": cmd.flags,
        "run": t.run_command if t else None,
    }


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


def deploy_page(md: ModelData, c: Candidate, site: SiteData, base: str) -> dict[str, Any]:
    m = md.record
    # --max-model-len is a per-sequence limit: the longest single sequence that fits beside the weights.
    single = evaluate(
        m, md.facts, c.setup, c.precision, Workload(m.context_window, 1, 0, 0, c.workload.kv_precision), site.frameworks
    )
    max_len = single.memory.max_context if single and single.memory.max_context else m.context_window
    commands = []
    # A local runtime's row (an ONNX export for a CPU) is about that runtime; a server's page lists every framework.
    for fid in [c.framework.id] if c.engine == "local" and c.framework else m.frameworks:
        fw = site.frameworks.get(fid)
        if fw is None or c.precision.id not in fw.precisions or c.setup.base.vendor not in fw.vendors:
            continue
        model_ref, ref_note = model_reference(m, c.precision, fw.id)
        settings = launch_settings(md.facts, c.precision, c.setup, c.workload, fw.id, fw.engine_class)
        cmd = launch_command(fw, c, model_ref, settings, ref_note) if settings else None
        if cmd:
            commands.append(command_view(fw, cmd))
    variants = []
    for conc in (1, 8, 32, 64, 128):
        w = Workload(c.workload.context, conc, c.workload.prompt, c.workload.output, c.workload.kv_precision)
        # The candidate's own runtime: a local runtime's page must not switch to the preferred server.
        v = (
            evaluate_on(m, md.facts, c.setup, c.precision, w, c.framework)
            if c.framework
            else evaluate(m, md.facts, c.setup, c.precision, w, site.frameworks)
        )
        if v is None:
            continue
        variants.append(
            {
                "concurrency": conc,
                "fits": v.memory.fits,
                "tps": F.tokens_per_s(v.speed.output_tokens_per_s if v.speed else None),
                "itl": F.ms(v.speed.itl_ms if v.speed else None),
                "cpm": F.usd(v.cost.cost_per_million_tokens_usd if v.cost else None),
                "memory": F.gib(v.memory.total_bytes),
            }
        )
    view = candidate_view(c, base, m.id, site.error_bars)
    mem = c.memory
    cap = kv_capacity(md.facts, c.setup, c.workload, mem, c.framework.id if c.framework else None, c.engine)
    cap_fw = site.frameworks.get(cap.framework)
    setting = budget_setting(c.framework.id if c.framework else None, c.engine, c.setup)
    capacity = engine(
        f"{cap.tokens:,} tokens",
        f"{cap_fw.name if cap_fw else cap.framework} at its defaults ({cap.rule} rule); set with {cap.flag}"
        + (f" {setting:g}" if setting is not None else ""),
    )
    return {
        "title": f"Deploy {m.name} on {c.setup.label} ({c.precision.label})",
        "description": f"Launch commands and expected memory, speed and cost for {m.name} on {c.setup.label}.",
        "model": m,
        "model_href": f"{base}models/{m.id}/",
        "c": view,
        "calculator_href": calculator_preset(m.id, c, base),
        "commands": commands,
        "flags": [
            ("Tensor parallel size", str(c.setup.count)),
            ("Max model length", f"{min(max_len, m.context_window):,}"),
            ("Weights", c.precision.label),
            ("KV-cache dtype", c.workload.kv_precision),
            *_provider_flag(c),
        ],
        "memory": [
            ("Weights", engine(F.gib(mem.weights_bytes))),
            ("KV cache", engine(F.gib(mem.kv_cache_bytes))),
            ("Activations", engine(F.gib(mem.activations_bytes))),
            ("Runtime overhead", engine(F.gib(mem.overhead_bytes))),
            ("Total", engine(F.gib(mem.total_bytes))),
            ("Usable", engine(F.gib(mem.usable_bytes))),
        ],
        "max_concurrency": mem.max_concurrency,
        "max_context": mem.max_context,
        "kv_capacity": capacity,
        "variants": variants,
        # An export-based runtime quantizes the original weights itself while it builds the ONNX model.
        "checkpoint_note": "" if _provider_flag(c) else _checkpoint_note(m, c.precision),
        "note": work_note(c),
        "charts": False,
        "hours": C.HOURS_PER_MONTH,
    }
