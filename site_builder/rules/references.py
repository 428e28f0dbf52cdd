"""Rules on references between records: each id a record names must be the id of a record of that kind.

A reference to a record that failed to load is not reported as unknown (its own error says why, and a cascade
of "unknown" lines would bury it); `record.references-hidden` counts those instead, and `validate` folds the
count into the broken record's first error.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from site_builder.catalog import Catalog, Located
from site_builder.problems import Problem, Severity, display_path
from site_builder.rules.registry import Check, RuleContext, rule
from site_builder.yamlsafe import Loc


@dataclass(frozen=True)
class Reference:
    owner: Located[Any]
    loc: Loc
    table: str  # the kind of record referred to
    ref: str
    unknown: str  # the message when no record of that kind has the id


def model_references(catalog: Catalog) -> Iterator[Reference]:
    for m in catalog.models.values():
        family = m.record.family
        yield Reference(
            m, ("family",), "families", family, f"unknown family {family!r} (no catalog/families/{family}.md)"
        )
        for i, fw in enumerate(m.record.frameworks):
            yield Reference(m, ("frameworks", i), "frameworks", fw, f"unknown framework {fw!r}")


def bundle_references(catalog: Catalog) -> Iterator[Reference]:
    for g in catalog.gpus.values():
        if g.record.bundle:
            base = g.record.bundle.gpu
            yield Reference(g, ("bundle", "gpu"), "gpus", base, f"unknown GPU {base!r}")


def provider_references(catalog: Catalog) -> Iterator[Reference]:
    for p in catalog.providers.values():
        for i, price in enumerate(p.record.api_prices):
            yield Reference(p, ("api_prices", i, "model"), "models", price.model, f"unknown model {price.model!r}")


def benchmark_references(catalog: Catalog) -> Iterator[Reference]:
    for b in catalog.benchmarks.values():
        r = b.record
        for field, table, ref in (
            ("model", "models", r.model),
            ("gpu", "gpus", r.gpu),
            ("framework", "frameworks", r.framework),
        ):
            if ref is not None:
                yield Reference(b, (field,), table, ref, f"unknown {field} {ref!r}")


def _usable(catalog: Catalog, r: Reference) -> bool:
    """Whether the reference can be judged: one error about an unusable folder says it all."""
    return r.table not in catalog.unusable and r.ref not in catalog.broken.get(r.table, {})


def _resolving(references: Callable[[Catalog], Iterator[Reference]]) -> Check:
    """A check that each of these references names a record, where it can be judged."""

    def check(context: RuleContext) -> Iterator[Problem]:
        catalog = context.catalog
        for r in references(catalog):
            if _usable(catalog, r) and r.ref not in catalog.table(r.table):
                yield r.owner.problem(r.loc, r.unknown)

    return check


rule("model.references-resolve", "a model's family and frameworks are records of the catalog")(
    _resolving(model_references)
)
rule("gpu.bundle-resolves", "the GPU a bundle contains is a record of the catalog")(_resolving(bundle_references))
rule("provider.references-resolve", "the models a provider prices are records of the catalog")(
    _resolving(provider_references)
)
rule("benchmark.references-resolve", "the model, GPU and framework a benchmark names are records of the catalog")(
    _resolving(benchmark_references)
)


@rule("gpu.bundle-not-nested", "a bundle does not contain another bundle")
def bundle_not_nested(context: RuleContext) -> Iterator[Problem]:
    for r in bundle_references(context.catalog):
        base = context.catalog.gpus.get(r.ref)
        if base and base.record.bundle:
            yield r.owner.problem(r.loc, "a bundle cannot contain another bundle")


HIDDEN_REFERENCES = "record.references-hidden"


@rule(HIDDEN_REFERENCES, "how many references point at a record that failed to load", Severity.WARNING)
def references_hidden(context: RuleContext) -> Iterator[Problem]:
    catalog = context.catalog
    hidden: Counter[tuple[str, str]] = Counter()
    for refs in (model_references, bundle_references, provider_references, benchmark_references):
        for r in refs(catalog):
            if r.table not in catalog.unusable and r.ref in catalog.broken.get(r.table, {}):
                hidden[r.table, r.ref] += 1
    for (table, ref), count in sorted(hidden.items()):
        plural = "s" if count != 1 else ""
        yield Problem(
            display_path(catalog.broken[table][ref]),
            1,
            1,
            "",
            f"{count} more problem{plural} in records that reference {ref!r}",
        )
