"""Rules on any record: its id, what its sources claim to support, and its layout on disk."""

from __future__ import annotations

from collections.abc import Iterator

from site_builder.problems import Problem, Severity, display_path
from site_builder.rules.registry import RuleContext, rule

TABLES = ("models", "gpus", "frameworks", "providers", "benchmarks", "families")
# The record kinds `site-builder fmt` lays out (family articles are Markdown, written by hand).
FORMATTED = ("models", "gpus", "frameworks", "providers", "benchmarks")
# The record kinds with a `sources` list whose entries name the fields they support.
SOURCED = ("models", "gpus", "frameworks", "providers")


@rule("record.id-matches-file", "a record's id equals its file name")
def id_matches_file(context: RuleContext) -> Iterator[Problem]:
    for kind in TABLES:
        for rid, rec in context.catalog.table(kind).items():
            if rec.path.stem != rid:
                yield rec.problem(("id",), f"must equal the file name {rec.path.stem!r}")


@rule("record.supports-name-fields", "every field a source claims to support is a field of the record")
def supports_name_fields(context: RuleContext) -> Iterator[Problem]:
    """Typos in `supports` would hide a figure without a source."""
    for kind in SOURCED:
        for rec in context.catalog.table(kind).values():
            fields = set(type(rec.record).model_fields)
            for i, src in enumerate(getattr(rec.record, "sources", [])):
                for j, name in enumerate(src.supports):
                    if name.split(".")[0] not in fields:
                        yield rec.problem(("sources", i, "supports", j), f"names no field of the record: {name!r}")


FORMAT_RULE = "record.canonical-format"


@rule(FORMAT_RULE, "records are in the canonical key order and style (`site-builder fmt` fixes it)", Severity.WARNING)
def canonical_format(context: RuleContext) -> Iterator[Problem]:
    """Canonical layout keeps diffs small."""
    from site_builder.fmt import FormatError, format_text

    for kind in FORMATTED:
        for rec in context.catalog.table(kind).values():
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
                )
