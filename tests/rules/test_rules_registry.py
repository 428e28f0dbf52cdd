"""The registry: every rule has a test, ids are well formed, the runner stamps ids and severities, no rule reads
the clock, and `check --list-rules` lists them all."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
from rule_support import TODAY, model_data, write

import site_builder.rules
from site_builder.catalog import load_catalog
from site_builder.cli import main
from site_builder.problems import Report, Severity
from site_builder.rules import RULES, rule, run_rules

HERE = Path(__file__).resolve().parent
RULES_PACKAGE = Path(site_builder.rules.__file__).resolve().parent


def strings_in(path: Path) -> set[str]:
    return {
        node.value
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


def test_every_rule_has_a_test() -> None:
    tested = set().union(*(strings_in(p) for p in HERE.glob("test_rules_*.py") if p.name != Path(__file__).name))
    assert sorted(set(RULES) - tested) == []


def test_rule_ids_name_a_group_and_a_rule() -> None:
    for rule_id, registered in RULES.items():
        assert re.fullmatch(r"[a-z]+\.[a-z0-9]+(-[a-z0-9]+)*", rule_id), rule_id
        assert registered.id == rule_id
        assert registered.description and "\n" not in registered.description


CLOCK_READS = {"today", "now", "utcnow"}


def clock_reads(source: str) -> list[str]:
    """`date.today()`, `dt.datetime.now()`... in `source`; `context.today` (the injected date) is no clock read."""
    return [
        ast.unparse(node)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Attribute) and node.attr in CLOCK_READS and _date_class(node.value)
    ]


def _date_class(node: ast.expr) -> bool:
    name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""
    return name in {"date", "datetime"}


def test_no_rule_reads_the_clock() -> None:
    assert clock_reads("import datetime as dt\ndt.date.today() > context.today\n") == ["dt.date.today"]
    for path in RULES_PACKAGE.glob("*.py"):
        assert clock_reads(path.read_text(encoding="utf-8")) == [], path.name


def test_a_rule_is_registered_once() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        rule("model.precisions-include-native", "again")(RULES["model.precisions-include-native"].check)


def test_the_runner_stamps_id_and_severity(tmp_path: Path) -> None:
    # One record breaking an error rule and a warning rule; each problem carries the rule that found it.
    bad = model_data() | {"precisions": ["fp8"], "stated_params": {"total": 1_000_000, "exact": True}}
    write(tmp_path, {"models/m.yaml": bad})
    catalog = load_catalog(tmp_path, Report())
    found = run_rules(catalog, TODAY, only=("model.precisions-include-native", "model.stated-total-matches"))
    assert sorted((p.rule, p.severity) for p in found) == [
        ("model.precisions-include-native", Severity.ERROR),
        ("model.stated-total-matches", Severity.WARNING),
    ]


def test_list_rules_prints_each_id_severity_and_description(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--list-rules"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(RULES)
    for line, registered in zip(lines, sorted(RULES.values(), key=lambda r: r.id), strict=True):
        assert line.split(None, 2) == [registered.id, registered.severity.value, registered.description]


def test_check_json_names_the_rule_of_each_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, {"models/m.yaml": model_data() | {"precisions": ["fp8"]}})
    assert main(["check", "--json", "--catalog", str(tmp_path)]) == 1
    found = json.loads(capsys.readouterr().out)
    assert found["valid"] is False
    mine = [p for p in found["problems"] if p["path"] == str(tmp_path / "models" / "m.yaml")]
    precisions = [p for p in mine if p["field"] == "precisions"]
    assert [(p["rule"], p["severity"], p["message"]) for p in precisions] == [
        ("model.precisions-include-native", "error", "must include native_precision (bf16)")
    ]
    # The folder with no GPU is found while loading, by no rule: its id is empty.
    assert [p["rule"] for p in found["problems"] if p["path"].endswith("gpus")] == [""]
