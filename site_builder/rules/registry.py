"""The rule registry: every cross-record rule is a small named check with one severity and a one-line description.

A check yields problems without a rule id or severity; the runner stamps both from the rule's registration, so
a rule cannot report under another's name, and the rules listed by `check --list-rules` are exactly those run.
The runner also hands every check the date to judge "future" against: no rule reads the clock.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from site_builder.catalog import Catalog, Located
from site_builder.problems import Problem, Severity
from site_builder.records import FamilyRecord, GpuRecord, ModelRecord
from site_builder.yamlsafe import Loc


@dataclass(frozen=True)
class RuleContext:
    """What a check may read: the loaded catalog and the date the run treats as today."""

    catalog: Catalog
    today: dt.date


Check = Callable[[RuleContext], Iterator[Problem]]
# (where in the record, message): what a per-record check yields; the runner turns it into a positioned problem.
Finding = tuple[Loc, str]


@dataclass(frozen=True)
class Rule:
    id: str
    description: str
    severity: Severity
    check: Check

    @property
    def group(self) -> str:
        """The part of the id before the dot: the kind of record or the part of it the rule reads."""
        return self.id.split(".", 1)[0]


RULES: dict[str, Rule] = {}


def rule(rule_id: str, description: str, severity: Severity = Severity.ERROR) -> Callable[[Check], Check]:
    """Register `check` under `rule_id` (`group.name`, lowercase words joined by '-')."""

    def register(check: Check) -> Check:
        if rule_id in RULES:
            raise ValueError(f"rule {rule_id!r} is registered twice")
        RULES[rule_id] = Rule(rule_id, description, severity, check)
        return check

    return register


def run_rules(
    catalog: Catalog, today: dt.date, *, skip: tuple[str, ...] = (), only: tuple[str, ...] | None = None
) -> list[Problem]:
    """Every registered rule's problems (or just those of `only`), each stamped with its rule's id and severity."""
    context = RuleContext(catalog, today)
    problems: list[Problem] = []
    for rule_id, registered in RULES.items():
        if rule_id in skip or (only is not None and rule_id not in only):
            continue
        problems.extend(
            dataclasses.replace(p, rule=rule_id, severity=registered.severity) for p in registered.check(context)
        )
    return problems


def _each(table: Callable[[Catalog], dict[str, Located[Any]]], check: Callable[[Any], Iterator[Finding]]) -> Check:
    def run(context: RuleContext) -> Iterator[Problem]:
        for located in table(context.catalog).values():
            for loc, message in check(located.record):
                yield located.problem(loc, message)

    return run


def each_model(check: Callable[[ModelRecord], Iterator[Finding]]) -> Check:
    """A check of one model record at a time."""
    return _each(lambda c: c.models, check)


def each_gpu(check: Callable[[GpuRecord], Iterator[Finding]]) -> Check:
    """A check of one GPU record at a time."""
    return _each(lambda c: c.gpus, check)


def each_family(check: Callable[[Located[FamilyRecord]], Iterator[Finding]]) -> Check:
    """A check of one family article at a time (with its Markdown body, hence the located record)."""

    def run(context: RuleContext) -> Iterator[Problem]:
        for located in context.catalog.families.values():
            for loc, message in check(located):
                yield located.problem(loc, message)

    return run
