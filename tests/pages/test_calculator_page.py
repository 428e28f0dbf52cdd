"""The calculator's budgets and loading (issue 13), without a browser: code ≤ 60 KB gzipped with engine.js, loaded as
a module script (deferred, after first paint); per-model engine data ≤ 10 KB gzipped (test_engine_js_parity checks
every model's file)."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PARTIAL = ROOT / "templates" / "partials" / "calculator.html"


def test_calculator_code_fits_the_budget() -> None:
    code = b"".join((ROOT / "static" / name).read_bytes() for name in ("calculator.js", "engine.js", "calculator.css"))
    size = len(gzip.compress(code, 9))
    assert size <= 60 * 1024, f"calculator, planner and engine code: {size} bytes gzipped"


def test_the_script_is_a_deferred_module() -> None:
    scripts = re.findall(r"<script[^>]*>", PARTIAL.read_text())
    assert scripts and all('type="module"' in s for s in scripts), scripts
