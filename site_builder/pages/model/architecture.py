"""The architecture table: counted parameters and the record's stated shape."""

from __future__ import annotations

from dataclasses import dataclass

from site_builder.analysis import ModelData
from site_builder.pages.figures import engine
from site_builder.pages.model.common import Row, attention_kind, stated_fig


@dataclass(frozen=True)
class Architecture:
    rows: tuple[Row, ...]


def architecture(md: ModelData) -> Architecture:
    m, p, s = md.record, md.facts.params, md.facts.shape
    a = m.architecture

    def arch(label: str, text: str) -> Row:
        return Row(label, stated_fig(m, "architecture", text))

    rows = [
        Row("Type", engine("Mixture of experts" if s.is_moe else "Dense")),
        Row("Total parameters", engine(f"{p.total:,}", "Counted from the architecture; see methodology")),
        Row("Active parameters per token", engine(f"{p.active:,}", "Excludes the input-embedding lookup")),
        arch("Layers", str(a.num_hidden_layers)),
        arch("Hidden size", f"{a.hidden_size:,}"),
        arch("Attention heads", str(a.num_attention_heads)),
        arch("KV heads", str(s.kv_heads)),
        arch("Head dimension", str(s.head_dim)),
        arch("Attention", attention_kind(m)),
        arch("Vocabulary", f"{a.vocab_size:,}"),
        arch("FFN size", f"{a.intermediate_size:,}" + (" (dense layers)" if s.is_moe else "")),
    ]
    if s.is_moe:
        rows.append(
            arch(
                "Experts",
                f"{s.experts} routed, {s.experts_per_token} per token"
                + (f", {a.n_shared_experts} shared" if a.n_shared_experts else "")
                + f", expert FFN {s.expert_ffn:,}, {s.moe_layers} MoE layers",
            )
        )
    if m.vision:
        rows.append(Row("Vision tower", stated_fig(m, "vision", f"{m.vision.name}, {m.vision.params:,} parameters")))
    if m.audio:
        rows.append(Row("Audio encoder", stated_fig(m, "audio", f"{m.audio.name}, {m.audio.params:,} parameters")))
    return Architecture(tuple(rows))
