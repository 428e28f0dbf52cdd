"""Rules on a model record outside its architecture: stated figures against computed ones, precisions, dates."""

from __future__ import annotations

from collections.abc import Iterator

from site_builder.problems import Problem, Severity
from site_builder.records import ModelRecord
from site_builder.rules.registry import Finding, RuleContext, each_model, rule

PARAM_TOLERANCE = 0.02


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


@rule(
    "model.stated-total-matches",
    "stated_params.total agrees with the count from the architecture (MTP modules left out)",
    Severity.WARNING,
)
@each_model
def stated_total_matches(m: ModelRecord) -> Iterator[Finding]:
    from site_builder.engine.params import count_params

    if m.stated_params is None:
        return
    stated = m.stated_params
    counted = count_params(m)
    # Published totals leave out MTP modules (DeepSeek-V3: "671B of the Main Model weights and 14B of
    # the MTP Module"); checkpoints include them.
    total = counted.total - counted.mtp
    low, high = stated_bounds(stated.total, stated.exact)
    if not low <= total <= high:
        yield (
            ("stated_params", "total"),
            f"stated {stated.total:,} but the architecture gives {total:,} "
            f"({(total - stated.total) / stated.total:+.1%})",
        )


@rule(
    "model.stated-active-matches",
    "stated_params.active agrees with the active count from the architecture, with or without the embedding",
    Severity.WARNING,
)
@each_model
def stated_active_matches(m: ModelRecord) -> Iterator[Finding]:
    from site_builder.engine.params import count_params

    if m.stated_params is None or m.stated_params.active is None:
        return
    stated = m.stated_params
    counted = count_params(m)
    # Vendors differ on whether the input-embedding lookup counts as active: accept either.
    with_embedding = counted.active + (counted.embedding if counted.lm_head else 0)
    # Vision-language models usually state the active count of the language model alone.
    options = (counted.active, with_embedding, counted.active - counted.vision)
    low, high = stated_bounds(m.stated_params.active, stated.exact)
    if not any(low <= o <= high for o in options):
        yield (
            ("stated_params", "active"),
            f"stated {m.stated_params.active:,} but the architecture gives {counted.active:,} "
            f"({with_embedding:,} with the embedding)",
        )


@rule("model.precisions-include-native", "precisions lists the native_precision")
@each_model
def precisions_include_native(m: ModelRecord) -> Iterator[Finding]:
    if m.native_precision not in m.precisions:
        yield ("precisions",), f"must include native_precision ({m.native_precision})"


@rule(
    "model.context-within-positions",
    "context_window exceeds max_position_embeddings only with rope_scaling or a context_note",
)
@each_model
def context_within_positions(m: ModelRecord) -> Iterator[Finding]:
    a = m.architecture
    stretched = m.context_window > a.max_position_embeddings
    if stretched and a.rope_scaling is None and not m.context_note:
        yield (
            ("context_window",),
            f"exceeds max_position_embeddings ({a.max_position_embeddings}) without rope_scaling "
            "(or a context_note explaining why)",
        )


@rule("model.release-date-not-future", "release_date is not after today")
def release_date_not_future(context: RuleContext) -> Iterator[Problem]:
    for m in context.catalog.models.values():
        if m.record.release_date and m.record.release_date > context.today:
            yield m.problem(("release_date",), f"{m.record.release_date} is in the future")
