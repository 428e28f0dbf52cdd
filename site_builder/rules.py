"""Cross-record rules: each a small named function yielding problems, registered in RULES.

Schema checks (types, required fields, unknown fields) happen while loading; these rules check what a
schema cannot: references between records, architecture consistency, dates, and stated figures against
computed ones.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator

from site_builder.catalog import Catalog
from site_builder.problems import Problem, Severity, display_path

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


@rule("references-resolve")
def references_resolve(catalog: Catalog) -> Iterator[Problem]:
    def missing(table: str, ref: str) -> bool:
        return ref not in catalog.table(table)

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
            if base is None:
                yield g.problem(("bundle", "gpu"), f"unknown GPU {g.record.bundle.gpu!r}", rule="references-resolve")
            elif base.record.bundle:
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
            options = (counted.active, with_embedding)
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
