"""Problems found in the catalog, reported as `path:line:col: field: message`."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TextIO


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int
    col: int
    field: str
    message: str
    severity: Severity = Severity.ERROR
    rule: str = ""

    def format(self) -> str:
        where = f"{self.path}:{self.line}:{self.col}"
        prefix = "warning: " if self.severity is Severity.WARNING else ""
        field_part = f"{self.field}: " if self.field else ""
        return f"{where}: {prefix}{field_part}{self.message}"

    def github_annotation(self) -> str:
        kind = "warning" if self.severity is Severity.WARNING else "error"
        msg = f"{self.field}: {self.message}" if self.field else self.message
        return f"::{kind} file={self.path},line={self.line},col={self.col}::{msg}"


@dataclass
class Report:
    """Collects every problem so that all of them are reported at once."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, problem: Problem) -> None:
        self.problems.append(problem)

    def extend(self, problems: list[Problem]) -> None:
        self.problems.extend(problems)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.WARNING]

    def sorted(self) -> list[Problem]:
        return sorted(set(self.problems))

    def fails(self, strict: bool) -> bool:
        return bool(self.errors) or (strict and bool(self.warnings))

    def summary(self) -> str:
        errors, warnings = len(self.errors), len(self.warnings)
        files = len({p.path for p in self.problems})
        return (
            f"{errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}"
            f" in {files} file{'s' if files != 1 else ''}"
        )


def display_path(path: Path) -> str:
    """Paths relative to the working directory when possible, as editors and CI annotations expect."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


class CatalogError(Exception):
    """Raised when the catalog cannot be built; carries every problem found."""

    def __init__(self, report: Report) -> None:
        super().__init__(report.summary())
        self.report = report


class UsageError(Exception):
    """A bad option or unknown id: printed as one line, exit 1."""


def print_report(report: Report, *, github: bool = False, stream: TextIO | None = None) -> None:
    """Every problem, sorted, then the summary line (stderr unless `stream` says otherwise)."""
    out = stream or sys.stderr
    for problem in report.sorted():
        print(problem.github_annotation() if github else problem.format(), file=out)
    if report.problems:
        print(report.summary(), file=out)
