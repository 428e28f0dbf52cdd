"""Validation: schema checks while loading, then the cross-record rules."""

from __future__ import annotations

from pathlib import Path

from site_builder.catalog import Catalog, load_catalog
from site_builder.problems import Report
from site_builder.rules import run_rules

# Re-parsing every record with ruamel to compare its layout is the slowest rule by far, and says nothing
# about the data: `check` and `fmt` run it, builds and queries skip it.
FORMAT_RULE = "canonical-format"


def validate_catalog(root: Path, report: Report, *, format_check: bool = True) -> Catalog:
    catalog = load_catalog(root, report)
    report.extend(run_rules(catalog, skip=() if format_check else (FORMAT_RULE,)))
    return catalog
