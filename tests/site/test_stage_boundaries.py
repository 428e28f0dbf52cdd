"""The pipeline's stage boundaries, read from the source with `ast`: page modules arrange the analysis stage's
results and never call the engine's evaluation functions, and `site_builder` has no import cycle."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "site_builder"

# Functions that compute (evaluate a setup, size memory, price, rank, calibrate), by module. Pages may import the
# engine's types, constants and docstrings, never these: the analysis stage calls them once per build.
EVALUATION_FUNCTIONS: dict[str, frozenset[str]] = {
    "site_builder.engine.plan": frozenset(
        {
            "analyse",
            "evaluate",
            "evaluate_on",
            "full_load",
            "facts_of",
            "serving_workload",
            "local_workload",
            "fit_workload",
            "choose_framework",
            "serving_engine",
            "engine_class_for",
        }
    ),
    "site_builder.engine.hardware": frozenset({"make_setup"}),
    "site_builder.engine.budget": frozenset({"kv_capacity", "kv_budget_bytes", "budget_for", "sglang_reserved_bytes"}),
    "site_builder.engine.money": frozenset(
        {"api_usd_per_request", "self_usd_per_request", "throughput_optimal", "breakeven_share"}
    ),
    "site_builder.engine.estimate": frozenset({"memory", "speed", "cost"}),
    "site_builder.engine.memory": frozenset({"kv_bytes", "kv_bytes_per_token", "weight_bytes", "kv_share_per_gpu"}),
    "site_builder.engine.params": frozenset({"count_params"}),
    "site_builder.engine.calibrate": frozenset({"compare_all", "summarize"}),
    "site_builder.engine.errorbars": frozenset({"error_bars", "summarize_categories", "hardware_class", "categories"}),
    "site_builder.engine.quality": frozenset({"quality_index"}),
    "site_builder.engine.similar": frozenset({"similar_all"}),
    "site_builder.engine.precision": frozenset({"supported_on", "compute_rate_for"}),
    "site_builder.engine.parallel": frozenset({"tensor_parallel_problem"}),
    "site_builder.analysis": frozenset(
        {
            "analyse_site",
            "analyse_deploy",
            "analyse_breakeven",
            "analyse_gpu",
            "deploy_setups",
            "calculator_default",
            "calculator_query",
            "analyse_sweeps",
        }
    ),
    "site_builder.engine.launch": frozenset({"launch_settings", "budget_setting"}),
    "site_builder.engine.sweep": frozenset({"concurrency_sweep"}),
    "site_builder.query": frozenset(
        {"estimate", "recommend", "query_catalog", "catalog_error_bars", "estimate_inputs", "recommend_catalog"}
    ),
}
# Engine modules a page may import whole: tables of named constants, no evaluation.
MODULE_IMPORTS_ALLOWED = frozenset({"site_builder.engine.constants"})


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The module an ImportFrom names, relative imports resolved against `module`."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    base = base[: len(base) - node.level + (1 if is_package else 0)]
    return ".".join(base + ([node.module] if node.module else []))


def forbidden_imports(source: str, module: str, is_package: bool = False) -> list[str]:
    """`line: name` for each engine evaluation function, or evaluating engine module, the source imports."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            origin = absolute(node, module, is_package)
            for alias in node.names:
                whole = f"{origin}.{alias.name}"
                if alias.name in EVALUATION_FUNCTIONS.get(origin, ()) or alias.name == "*":
                    found.append(f"{node.lineno}: {origin}.{alias.name}")
                elif whole.startswith("site_builder.engine.") and whole in EVALUATION_FUNCTIONS:
                    found.append(f"{node.lineno}: module {whole}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("site_builder.engine.") and alias.name not in MODULE_IMPORTS_ALLOWED:
                    found.append(f"{node.lineno}: module {alias.name}")
    return found


def import_graph(top_level_only: bool) -> dict[str, set[str]]:
    """Module -> the site_builder modules it imports (at module level, or anywhere, inside functions too)."""
    mods = modules()
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        nodes = tree.body if top_level_only else list(ast.walk(tree))
        targets: set[str] = set()
        for node in nodes:
            if isinstance(node, ast.Import):
                targets |= {a.name for a in node.names if a.name in mods}
            elif isinstance(node, ast.ImportFrom):
                origin = absolute(node, name, path.name == "__init__.py")
                targets |= {origin} & mods.keys()
                targets |= {f"{origin}.{a.name}" for a in node.names} & mods.keys()
        graph[name] = targets - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


@pytest.mark.parametrize("module", EVALUATION_FUNCTIONS)
def test_every_listed_evaluation_function_exists(module: str) -> None:
    """A renamed function must be renamed here too, or the boundary would silently stop being checked."""
    mod = importlib.import_module(module)
    missing = sorted(name for name in EVALUATION_FUNCTIONS[module] if not callable(getattr(mod, name, None)))
    assert not missing, f"{module} has no {missing}"


def test_no_page_module_imports_an_engine_evaluation_function() -> None:
    pages = {name: path for name, path in modules().items() if name.startswith("site_builder.pages")}
    assert len(pages) > 5  # the package is where this test looks for it
    problems = [
        f"{path.relative_to(PACKAGE.parent)}:{hit}"
        for name, path in pages.items()
        for hit in forbidden_imports(path.read_text(encoding="utf-8"), name, path.name == "__init__.py")
    ]
    assert not problems, "page modules call the engine; move the call into site_builder/analysis.py:\n" + "\n".join(
        problems
    )


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from site_builder.engine.plan import Candidate, evaluate\n", ["1: site_builder.engine.plan.evaluate"]),
        ("from ...engine.money import breakeven_share\n", ["1: site_builder.engine.money.breakeven_share"]),
        ("import site_builder.engine.budget\n", ["1: module site_builder.engine.budget"]),
        ("from site_builder.engine import hardware\n", ["1: module site_builder.engine.hardware"]),
        ("def f():\n    from site_builder.analysis import analyse_site\n", ["2: site_builder.analysis.analyse_site"]),
        ("from site_builder.engine import constants as C\nfrom site_builder.engine.plan import Candidate\n", []),
        ("from site_builder.engine.params import __doc__ as PARAMS_DOC\n", []),
    ],
)
def test_the_boundary_check_flags_evaluation_imports(source: str, expected: list[str]) -> None:
    assert forbidden_imports(source, "site_builder.pages.model.header") == expected


def test_module_level_imports_have_no_cycle() -> None:
    assert cycles(import_graph(top_level_only=True)) == []


def test_no_import_cycle_even_through_imports_inside_functions() -> None:
    found = [sorted(c) for c in cycles(import_graph(top_level_only=False))]
    assert not found, f"import cycles: {found}"


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [frozenset({"a", "b", "c"})]
    assert cycles({"a": {"b"}, "b": set()}) == []
