"""Validation: schema checks while loading, then the cross-record rules."""

from __future__ import annotations

from pathlib import Path

from site_builder.catalog import Catalog, load_catalog
from site_builder.problems import Report
from site_builder.rules import run_rules


def validate_catalog(root: Path, report: Report) -> Catalog:
    catalog = load_catalog(root, report)
    report.extend(run_rules(catalog))
    return catalog
