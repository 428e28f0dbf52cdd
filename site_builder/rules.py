"""Cross-record rules: each a small named function yielding problems, registered in RULES.

Schema checks (types, required fields, unknown fields) happen while loading; these rules check what a
schema cannot: references between records, architecture consistency, dates, and stated figures against
computed ones.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Iterator

from site_builder.catalog import Catalog, Located
from site_builder.problems import Problem, Severity, display_path
from site_builder.records.gpu import GpuRecord
from site_builder.records.model import Architecture

Rule = Callable[[Catalog], Iterator[Problem]]
RULES: dict[str, Rule] = {}
PARAM_TOLERANCE = 0.02


def rule(name: str) -> Callable[[Rule], Rule]:
    def register(fn: Rule) -> Rule:
        RULES[name] = fn
        return fn

    return register


def run_rules(catalog: Catalog, today: dt.date | None = None, skip: tuple[str, ...] = ()) -> list[Problem]:
    problems: list[Problem] = []
    for name, fn in RULES.items():
        if name not in skip:
            problems.extend(fn(catalog))
    return problems


TABLES = ("models", "gpus", "frameworks", "providers", "benchmarks", "families")


@rule("id-matches-file")
def id_matches_file(catalog: Catalog) -> Iterator[Problem]:
    for kind in TABLES:
        for rid, rec in catalog.table(kind).items():
            if rec.path.stem != rid:
                yield rec.problem(("id",), f"must equal the file name {rec.path.stem!r}", rule="id-matches-file")


HIDDEN_REFERENCES = "references-hidden"


@rule("references-resolve")
def references_resolve(catalog: Catalog) -> Iterator[Problem]:
    hidden: Counter[tuple[str, str]] = Counter()

    def missing(table: str, ref: str) -> bool:
        if table in catalog.unusable:
            return False  # one error about the folder says it all
        if ref in catalog.broken.get(table, {}):
            hidden[table, ref] += 1  # its own error says why; a cascade of "unknown" would bury it
            return False
        return ref not in catalog.table(table)

    yield from _unresolved(catalog, missing)
    for (table, ref), count in sorted(hidden.items()):
        plural = "s" if count != 1 else ""
        yield Problem(
            display_path(catalog.broken[table][ref]),
            1,
            1,
            "",
            f"{count} more problem{plural} in records that reference {ref!r}",
            Severity.WARNING,
            HIDDEN_REFERENCES,
        )


def _unresolved(catalog: Catalog, missing: Callable[[str, str], bool]) -> Iterator[Problem]:
    for m in catalog.models.values():
        if missing("families", m.record.family):
            yield m.problem(
                ("family",),
                f"unknown family {m.record.family!r} (no catalog/families/{m.record.family}.md)",
                rule="references-resolve",
            )
        for i, fw in enumerate(m.record.frameworks):
            if missing("frameworks", fw):
                yield m.problem(("frameworks", i), f"unknown framework {fw!r}", rule="references-resolve")
    for g in catalog.gpus.values():
        if g.record.bundle:
            base = catalog.gpus.get(g.record.bundle.gpu)
            if missing("gpus", g.record.bundle.gpu):
                yield g.problem(("bundle", "gpu"), f"unknown GPU {g.record.bundle.gpu!r}", rule="references-resolve")
            elif base and base.record.bundle:
                yield g.problem(("bundle", "gpu"), "a bundle cannot contain another bundle", rule="references-resolve")
    for p in catalog.providers.values():
        for i, price in enumerate(p.record.api_prices):
            if missing("models", price.model):
                yield p.problem(("api_prices", i, "model"), f"unknown model {price.model!r}", rule="references-resolve")
    for b in catalog.benchmarks.values():
        r = b.record
        for field, table, ref in (
            ("model", "models", r.model),
            ("gpu", "gpus", r.gpu),
            ("framework", "frameworks", r.framework),
        ):
            if ref is not None and missing(table, ref):
                yield b.problem((field,), f"unknown {field} {ref!r}", rule="references-resolve")


def attention_variant_issues(a: Architecture) -> list[tuple[str, str]]:
    """(field, message) for per-layer lists that do not cover the decoder: the counts would silently change."""
    layers = a.num_hidden_layers
    with_mtp = layers + (a.num_nextn_predict_layers or 0)
    issues: list[tuple[str, str]] = []
    ratios = a.compress_ratios
    if ratios is not None and len(ratios) not in (layers, with_mtp):
        issues.append(
            (
                "compress_ratios",
                f"has {len(ratios)} entries, expected num_hidden_layers ({layers}) "
                f"or that plus the MTP layers ({with_mtp})",
            )
        )
    if ratios is not None and any(r < 0 for r in ratios):
        issues.append(("compress_ratios", "ratios must be 0 or positive"))
    if a.indexer_layers is not None and any(not 0 <= i < layers for i in a.indexer_layers):
        issues.append(("indexer_layers", f"layer indices must lie in 0..{layers - 1}"))
    indexed = a.indexer_layers is not None or (ratios is not None and 4 in ratios)
    if indexed and not (a.index_n_heads and a.index_head_dim):
        issues.append(("index_n_heads", "an indexer needs index_n_heads and index_head_dim"))
    if a.num_kv_shared_layers is not None and a.num_kv_shared_layers >= layers:
        issues.append(
            ("num_kv_shared_layers", f"must be below num_hidden_layers ({layers}): some layer has to compute K and V")
        )
    return issues


@rule("attention-variants-consistent")
def attention_variants_consistent(catalog: Catalog) -> Iterator[Problem]:
    for m in catalog.models.values():
        for field, message in attention_variant_issues(m.record.architecture):
            yield m.problem(("architecture", field), message, rule="attention-variants-consistent")


@rule("architecture-consistent")
def architecture_consistent(catalog: Catalog) -> Iterator[Problem]:
    for m in catalog.models.values():
        a = m.record.architecture
        loc = ("architecture",)
        kv = a.num_key_value_heads
        if kv is not None and a.num_attention_heads % kv:
            yield m.problem(
                (*loc, "num_key_value_heads"),
                f"must divide num_attention_heads ({a.num_attention_heads}), got {kv}",
                rule="architecture-consistent",
            )
        if a.head_dim is None and a.kv_lora_rank is None and a.hidden_size % a.num_attention_heads:
            yield m.problem(
                (*loc, "head_dim"),
                f"required: hidden_size ({a.hidden_size}) is not divisible by "
                f"num_attention_heads ({a.num_attention_heads})",
                rule="architecture-consistent",
            )
        if a.layer_types is not None and len(a.layer_types) != a.num_hidden_layers:
            yield m.problem(
                (*loc, "layer_types"),
                f"has {len(a.layer_types)} entries, expected num_hidden_layers ({a.num_hidden_layers})",
                rule="architecture-consistent",
            )
        if a.layer_types and "chunked_attention" in a.layer_types and a.attention_chunk_size is None:
            yield m.problem(
                (*loc, "attention_chunk_size"),
                "required when layer_types has chunked_attention layers",
                rule="architecture-consistent",
            )
        if a.layer_types and "sliding_attention" in a.layer_types and a.sliding_window is None:
            yield m.problem(
                (*loc, "sliding_window"),
                "required when layer_types has sliding_attention layers",
                rule="architecture-consistent",
            )
        experts = [n for n in ("num_local_experts", "num_experts", "n_routed_experts") if getattr(a, n)]
        if len(experts) > 1:
            yield m.problem(
                (*loc, experts[1]),
                f"set only one routed-expert count (also {experts[0]})",
                rule="architecture-consistent",
            )
        if experts and not a.num_experts_per_tok:
            yield m.problem(
                (*loc, "num_experts_per_tok"), "required for a mixture-of-experts model", rule="architecture-consistent"
            )
        count = getattr(a, experts[0]) if experts else 0
        if experts and a.num_experts_per_tok and a.num_experts_per_tok > count:
            yield m.problem(
                (*loc, "num_experts_per_tok"),
                f"must not exceed the expert count ({count})",
                rule="architecture-consistent",
            )
        mla = (a.kv_lora_rank, a.qk_rope_head_dim, a.qk_nope_head_dim)
        if any(v is not None for v in mla) and not all(v is not None for v in mla):
            yield m.problem(
                (*loc, "kv_lora_rank"),
                "MLA needs kv_lora_rank, qk_rope_head_dim and qk_nope_head_dim",
                rule="architecture-consistent",
            )
        stretched = m.record.context_window > a.max_position_embeddings
        if stretched and a.rope_scaling is None and not m.record.context_note:
            yield m.problem(
                ("context_window",),
                f"exceeds max_position_embeddings ({a.max_position_embeddings}) without rope_scaling "
                "(or a context_note explaining why)",
                rule="architecture-consistent",
            )


def stated_bounds(value: int, exact: bool) -> tuple[float, float]:
    """The range of true counts a stated figure allows, widened by the 2% tolerance.

    An exact count allows 2% either way. A rounded figure ("7B", "3.21B") stands for a range set by its last
    stated digit: vendors round ("3.21B") or truncate ("7B" for 7.74B, "14B" for 14.77B), so we accept from
    half a unit below to one unit above.
    """
    slack = PARAM_TOLERANCE * value
    if exact:
        return value - slack, value + slack
    digits = str(value).rstrip("0")
    unit = 10 ** (len(str(value)) - len(digits))
    return value - unit / 2 - slack, value + unit + slack


@rule("stated-params-match")
def stated_params_match(catalog: Catalog) -> Iterator[Problem]:
    from site_builder.engine.params import count_params

    for m in catalog.models.values():
        stated = m.record.stated_params
        if stated is None:
            continue
        counted = count_params(m.record)
        # Published totals leave out MTP modules (DeepSeek-V3: "671B of the Main Model weights and 14B of
        # the MTP Module"); checkpoints include them.
        total = counted.total - counted.mtp
        low, high = stated_bounds(stated.total, stated.exact)
        if not low <= total <= high:
            yield m.problem(
                ("stated_params", "total"),
                f"stated {stated.total:,} but the architecture gives {total:,} "
                f"({(total - stated.total) / stated.total:+.1%})",
                warning=True,
                rule="stated-params-match",
            )
        if stated.active is not None:
            # Vendors differ on whether the input-embedding lookup counts as active: accept either.
            with_embedding = counted.active + (counted.embedding if counted.lm_head else 0)
            # Vision-language models usually state the active count of the language model alone.
            options = (counted.active, with_embedding, counted.active - counted.vision)
            low, high = stated_bounds(stated.active, stated.exact)
            if not any(low <= o <= high for o in options):
                yield m.problem(
                    ("stated_params", "active"),
                    f"stated {stated.active:,} but the architecture gives {counted.active:,} "
                    f"({with_embedding:,} with the embedding)",
                    warning=True,
                    rule="stated-params-match",
                )


@rule("precisions-known")
def precisions_known(catalog: Catalog) -> Iterator[Problem]:
    for m in catalog.models.values():
        if m.record.native_precision not in m.record.precisions:
            yield m.problem(
                ("precisions",), f"must include native_precision ({m.record.native_precision})", rule="precisions-known"
            )


@rule("dates-not-in-future")
def dates_not_in_future(catalog: Catalog) -> Iterator[Problem]:
    today = dt.date.today()
    for m in catalog.models.values():
        if m.record.release_date and m.record.release_date > today:
            yield m.problem(("release_date",), f"{m.record.release_date} is in the future", rule="dates-not-in-future")
    for g in catalog.gpus.values():
        for i, price in enumerate(g.record.prices):
            if dt.date.fromisoformat(price.as_of) > today:
                yield g.problem(("prices", i, "as_of"), f"{price.as_of} is in the future", rule="dates-not-in-future")
    for f in catalog.families.values():
        if f.record.reviewed > today:
            yield f.problem(("reviewed",), f"{f.record.reviewed} is in the future", rule="dates-not-in-future")


@rule("figures-have-sources")
def figures_have_sources(catalog: Catalog) -> Iterator[Problem]:
    """Every field a source claims to support must exist in the record (typos in `supports` hide gaps)."""
    for kind in ("models", "gpus", "frameworks", "providers"):
        for rec in catalog.table(kind).values():
            fields = set(type(rec.record).model_fields)
            for i, src in enumerate(getattr(rec.record, "sources", [])):
                for j, name in enumerate(src.supports):
                    if name.split(".")[0] not in fields:
                        yield rec.problem(
                            ("sources", i, "supports", j),
                            f"names no field of the record: {name!r}",
                            rule="figures-have-sources",
                        )


# Devices that people join into multi-GPU setups; Apple silicon and CPU profiles run alone.
MULTI_GPU_SEGMENTS = ("datacenter", "workstation", "consumer")
# PCI-SIG's headline figure per generation: GB/s per lane, both directions together (x16 Gen4 = 64 GB/s).
PCIE_LANE_GBPS = {1: 0.5, 2: 1.0, 3: 2.0, 4: 4.0, 5: 8.0, 6: 16.0, 7: 32.0}
# Records may give the headline figure or the rate after 128b/130b line coding (Gen4 x16 = 63 GB/s).
PCIE_LOW_SHARE = 0.975
PCIE_RE = re.compile(r"PCIe\s*(?:Gen\s*)?([1-7])(?:\.0)?\s+x(1|2|4|8|16)\b", re.IGNORECASE)


def pcie_link_gbps(link_type: str) -> float | None:
    """Headline bidirectional GB/s of the first `PCIe <gen> x<width>` a link description names."""
    found = PCIE_RE.search(link_type)
    if found is None:
        return None
    return PCIE_LANE_GBPS[int(found[1])] * int(found[2])


@rule("links-stated")
def links_stated(catalog: Catalog) -> Iterator[Problem]:
    """A device people combine for tensor parallelism states its link family and a sourced bandwidth."""
    for g in catalog.gpus.values():
        r = g.record
        if r.segment not in MULTI_GPU_SEGMENTS:
            continue
        if r.bundle and r.bundle.gpu not in catalog.gpus:
            continue  # references-resolve reports the unknown GPU; nothing to judge here
        ic = r.interconnect
        if ic is None or ic.kind is None:
            loc: tuple[str, ...] = ("interconnect", "kind") if ic else ("interconnect",)
            yield g.problem(loc, "required: the link family used for tensor parallelism", rule="links-stated")
            continue
        # No source states the link rate: the field stays empty and the note must say so.
        admitted = ic.note is not None and "unsourced" in ic.note.lower()
        if ic.kind != "none" and ic.bandwidth_gbps is None and not admitted:
            yield g.problem(
                ("interconnect", "bandwidth_gbps"),
                f"required for a {ic.kind} link (GB/s per GPU, both directions), "
                "or a note saying that no source states it ('unsourced: ...')",
                rule="links-stated",
            )
        if ic.kind == "none" and not ic.note:
            yield g.problem(("interconnect", "note"), "say why the device has no GPU-to-GPU link", rule="links-stated")
        sourced = any(name.split(".")[0] == "interconnect" for src in r.sources for name in src.supports)
        if ic.kind != "none" and not sourced and not admitted:
            yield g.problem(("interconnect",), "no source supports the interconnect", rule="links-stated")
        if ic.kind == "pcie" and not admitted:
            yield from _pcie_matches_generation(g, ic.type, ic.bandwidth_gbps)


def _pcie_matches_generation(g: Located[GpuRecord], link_type: str, bandwidth: float | None) -> Iterator[Problem]:
    expected = pcie_link_gbps(link_type)
    if expected is None:
        yield g.problem(
            ("interconnect", "type"),
            f"a PCIe link names its generation and width, e.g. 'PCIe 4.0 x16', got {link_type!r}",
            rule="links-stated",
        )
    elif bandwidth is not None and not expected * PCIE_LOW_SHARE <= bandwidth <= expected:
        yield g.problem(
            ("interconnect", "bandwidth_gbps"),
            f"{bandwidth:g} GB/s does not match {link_type!r} ({expected:g} GB/s both directions)",
            rule="links-stated",
        )


CITE_RE = re.compile(r"\[\^([A-Za-z0-9_-]+)\]")


@rule("family-citations")
def family_citations(catalog: Catalog) -> Iterator[Problem]:
    for f in catalog.families.values():
        keys = [c.key for c in f.record.sources]
        used = set(CITE_RE.findall(f.body))
        for key in sorted(used - set(keys)):
            yield f.problem(
                ("sources",), f"the text cites [^{key}] but no source has that key", rule="family-citations"
            )
        for i, key in enumerate(keys):
            if key not in used:
                yield f.problem(
                    ("sources", i, "key"),
                    f"source {key!r} is never cited in the text",
                    warning=True,
                    rule="family-citations",
                )
            if keys.count(key) > 1:
                yield f.problem(("sources", i, "key"), f"duplicate source key {key!r}", rule="family-citations")


@rule("canonical-format")
def canonical_format(catalog: Catalog) -> Iterator[Problem]:
    """Records in the canonical key order and style, so diffs stay small (`site-builder fmt` fixes it)."""
    from site_builder.fmt import FormatError, format_text

    for kind in ("models", "gpus", "frameworks", "providers", "benchmarks"):
        for rec in catalog.table(kind).values():
            text = rec.path.read_text(encoding="utf-8")
            try:
                canonical = format_text(text, kind)
            except FormatError:
                continue  # the loader already reported what is wrong with the file
            if canonical != text:
                yield Problem(
                    display_path(rec.path),
                    1,
                    1,
                    "format",
                    "not in canonical key order and style (run `site-builder fmt`)",
                    Severity.WARNING,
                    "canonical-format",
                )
