"""Validation: schema checks while loading, then the cross-record rules."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from site_builder.catalog import Catalog, load_catalog
from site_builder.problems import Problem, Report, Severity
from site_builder.rules import FORMAT_RULE as FORMAT_RULE  # re-exported: callers name the rule a build skips
from site_builder.rules import HIDDEN_REFERENCES, run_rules


def validate_catalog(root: Path, report: Report, *, format_check: bool = True, today: dt.date | None = None) -> Catalog:
    """Load and check the catalog; dates are judged against `today` (default: the system clock's date).

    Re-parsing every record with ruamel to compare its layout (FORMAT_RULE) is the slowest rule by far, and says
    nothing about the data: `check` and `fmt` run it, builds and queries skip it.
    """
    catalog = load_catalog(root, report)
    apply_rules(catalog, report, today=today, format_check=format_check)
    return catalog


def apply_rules(catalog: Catalog, report: Report, *, today: dt.date | None = None, format_check: bool = True) -> None:
    """The cross-record rules over a loaded catalog, added to the loading problems already in `report`; dates are
    judged against `today` (default: the system clock's date)."""
    found = run_rules(catalog, today or dt.date.today(), skip=() if format_check else (FORMAT_RULE,))
    report.extend(fold_hidden_references(report.problems, found))


def fold_hidden_references(loaded: list[Problem], found: list[Problem]) -> list[Problem]:
    """Append "N more problems in records that reference X" to the first error of X's own file.

    The error that stopped X from loading is then the one line about it, and comes first.
    """
    out = [p for p in found if p.rule != HIDDEN_REFERENCES]
    for note in (p for p in found if p.rule == HIDDEN_REFERENCES):
        own = sorted(p for p in loaded if p.path == note.path and p.severity is Severity.ERROR)
        if own:
            loaded[loaded.index(own[0])] = dataclasses.replace(own[0], message=f"{own[0].message} ({note.message})")
        else:
            out.append(note)
    return out
