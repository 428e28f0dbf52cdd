"""Deployment pages are the calculator's "run it" view: every flag of a launch command carries the value
`site-builder estimate --json` reports for the same setup and framework, the engines' documented defaults where the
engine keeps them, and the page reads as instructions for a reader, not as notes about the catalog's schema."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import yaml
from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import ValidationError

from site_builder.analysis import SiteAnalysis, analyse_deploy, analyse_site
from site_builder.build import collect_pages
from site_builder.catalog import load_catalog
from site_builder.engine.plan import Candidate
from site_builder.pages.deploy_command import split_words
from site_builder.pages.detail_pages import DeployPage, deploy_page
from site_builder.problems import Report
from site_builder.query import EstimateQuery, estimate
from site_builder.records import ModelRecord
from site_builder.render import environment
from site_builder.rendering import Page, RenderSettings, _render_one

# vLLM's CacheConfig.gpu_memory_utilization and LMDeploy's TurbomindEngineConfig.cache_max_entry_count defaults
# (docs.vllm.ai engine arguments; InternLM/lmdeploy lmdeploy/messages.py).
VLLM_DEFAULT_UTILIZATION = 0.9
LMDEPLOY_DEFAULT_ENTRY_COUNT = 0.8


@pytest.fixture(scope="module")
def site() -> SiteAnalysis:
    return analyse_site(load_catalog(Path("catalog"), Report()))


def _deploy(site: SiteAnalysis, model: str, c: Candidate) -> DeployPage:
    """The deploy page of setup `c`: the built one where the site has it, else the same analysis run for `c`."""
    md = site.models[model]
    d = next((d for d in md.deploys if d.candidate is c), None)
    return deploy_page(md, d or analyse_deploy(md.record, md.facts, c, site.frameworks), site, "/")


def _value(words: list[str], flag: str) -> str:
    assert flag in words, f"{flag} missing from {' '.join(words)}"
    return words[words.index(flag) + 1]


def _estimate(site: SiteAnalysis, model: str, c: Candidate, fid: str, **over: Any) -> dict[str, Any]:
    w = c.workload
    flags: dict[str, Any] = {
        "model": model,
        "gpu": c.setup.record.id,
        "gpus": c.setup.count,
        "precision": c.precision.id,
        "kv_precision": w.kv_precision,
        "context": w.context,
        "concurrency": str(w.concurrency),
        "prompt": w.prompt,
        "output": w.output,
        "framework": fid,
    }
    flags.update(over)
    return estimate(site.catalog, EstimateQuery(**flags), site.error_bars)


def _single(site: SiteAnalysis, model: str, c: Candidate, fid: str) -> dict[str, Any]:
    """One sequence as long as fits: what a server's per-request length limit is set to."""
    window = site.models[model].record.context_window
    return _estimate(site, model, c, fid, context=window, concurrency="1", prompt=0, output=0)


def _commands(site: SiteAnalysis, model: str, c: Candidate) -> dict[str, list[str]]:
    page = _deploy(site, model, c)
    names = {fw.name: fid for fid, fw in site.frameworks.items()}
    return {names[cmd.framework]: shlex.split(cmd.command) for cmd in page.commands}


def _first(site: SiteAnalysis, model: str, fid: str, multi: bool = False) -> tuple[Candidate, list[str]]:
    an = site.models[model].analysis
    for c in (*an.recommendations, *an.candidates, *an.local):
        if multi and c.setup.count < 2:
            continue
        found = _commands(site, model, c).get(fid)
        if found:
            return c, found
    raise AssertionError(f"no deploy page of {model} has a {fid} command")


def _server_flags(site: SiteAnalysis, model: str, fid: str, budget: str, batch: str, length: str) -> float:
    """A batching server's command: its memory-budget flag, batch limit and length limit carry estimate's values;
    returns the budget flag's value."""
    c, words = _first(site, model, fid)
    est = _estimate(site, model, c, fid)
    assert est["kv_cache_capacity_flag"] == budget
    share = float(_value(words, budget))
    assert share == est["kv_cache_capacity_setting"]
    assert int(_value(words, batch)) == est["kv_cache_capacity_sequences"] > 0
    # The batch limit's sequences of the workload's context fit in the pool the budget sizes.
    assert est["kv_cache_capacity_sequences"] * est["context"] <= est["kv_cache_capacity_tokens"]
    assert int(_value(words, length)) == _single(site, model, c, fid)["max_context"]
    return share


def test_vllm_command_carries_the_engines_values(site: SiteAnalysis) -> None:
    share = _server_flags(
        site, "qwen2.5-7b-instruct", "vllm", "--gpu-memory-utilization", "--max-num-seqs", "--max-model-len"
    )
    assert share == VLLM_DEFAULT_UTILIZATION


def test_lmdeploy_command_carries_the_engines_values(site: SiteAnalysis) -> None:
    share = _server_flags(
        site, "internlm-20b", "lmdeploy", "--cache-max-entry-count", "--max-batch-size", "--session-len"
    )
    assert share == LMDEPLOY_DEFAULT_ENTRY_COUNT


def test_sglang_command_carries_the_engines_values(site: SiteAnalysis) -> None:
    model = "qwen2.5-7b-instruct"
    share = _server_flags(site, model, "sglang", "--mem-fraction-static", "--max-running-requests", "--context-length")
    # The static share holds the weights and leaves SGLang a reserve: strictly between the two bounds.
    c, _ = _first(site, model, "sglang")
    capacity = c.setup.base.memory_gb
    assert capacity is not None
    weights = _estimate(site, model, c, "sglang")["weights_bytes"]
    assert weights / (capacity * 1e9) < share < 1


def test_tensor_parallel_size_is_the_setups_gpu_count(site: SiteAnalysis) -> None:
    model = "qwen2.5-72b-instruct"
    c, words = _first(site, model, "vllm", multi=True)
    est = _estimate(site, model, c, "vllm")
    assert int(_value(words, "--tensor-parallel-size")) == est["gpus"] == c.setup.count > 1


def test_llama_cpp_command_sizes_its_context_for_every_slot(site: SiteAnalysis) -> None:
    model = "qwen2.5-7b-instruct"
    c, words = _first(site, model, "llama-cpp")
    est = _estimate(site, model, c, "llama-cpp")
    assert est["kv_cache_capacity_flag"].startswith("--ctx-size")
    slots = int(_value(words, "--parallel"))
    ctx = int(_value(words, "--ctx-size"))
    assert slots == est["concurrency"] == est["kv_cache_capacity_sequences"]
    assert ctx == est["kv_cache_capacity_tokens"] == est["context"] * slots
    assert est["kv_cache_capacity_setting"] is None  # sized in tokens, not as a share of memory
    assert _value(words, "-m").endswith(".gguf")  # llama-server loads a local GGUF file, never a repository id


def _deploy_pages(site: SiteAnalysis) -> list[Page]:
    return [p for p in collect_pages(site, "/") if p.path.startswith("deploy/")]


def test_deploy_pages_explain_flags_and_link_the_calculator(site: SiteAnalysis) -> None:
    env = environment()
    settings = RenderSettings(base="/", absolute="http://x/", catalog_date="2026-01-01", search=False)
    pages = _deploy_pages(site)
    assert len(pages) > 50
    for page in pages:
        html = _render_one(env, page, settings)
        assert "left empty" not in html and "kv_cache_values" not in html, page.path
        assert "Open in the calculator" in html and "#calculator" in html, page.path
        if "<pre data-pagefind-ignore><code>" in html:
            assert 'class="launch-flags"' in html, page.path


@pytest.mark.parametrize(
    ("model", "precision", "repo"),
    [
        ("qwen3-235b-a22b-instruct-2507", "fp8", "Qwen/Qwen3-235B-A22B-Instruct-2507-FP8"),
        ("nemotron-3-nano-30b-a3b", "nvfp4", "nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-NVFP4"),
    ],
)
def test_commands_load_the_published_checkpoint_of_their_format(
    site: SiteAnalysis, model: str, precision: str, repo: str
) -> None:
    md = site.models[model]
    c = next(c for c in md.analysis.candidates if c.precision.id == precision)
    page = _deploy(site, model, c)
    assert page.commands and repo in page.checkpoint_note
    for cmd in page.commands:
        assert repo in shlex.split(cmd.command), cmd.command
    # Another format of the same model still loads the released repository.
    other = next(c for c in md.analysis.candidates if c.precision.id != precision)
    for cmd in _deploy(site, model, other).commands:
        assert repo not in cmd.command


def test_a_checkpoint_must_be_a_served_format_and_cited() -> None:
    data = yaml.safe_load(Path("catalog/models/qwen3-235b-a22b-instruct-2507.yaml").read_text())
    ModelRecord.model_validate(data)
    wrong = {**data, "checkpoints": [{"precision": "awq-int4", "repo": "x/y-AWQ"}]}
    with pytest.raises(ValidationError, match="awq-int4 is not in precisions"):
        ModelRecord.model_validate(wrong)
    uncited = {
        **data,
        "sources": [
            {**s, "supports": [k for k in s.get("supports", []) if k != "checkpoints"]} for s in data["sources"]
        ],
    }
    with pytest.raises(ValidationError, match="no source supports them"):
        ModelRecord.model_validate(uncited)


def test_open_in_the_calculator_reproduces_the_pages_setup(site: SiteAnalysis) -> None:
    md = site.models["qwen2.5-7b-instruct"]
    for c in (md.analysis.recommendations[0], md.analysis.local[0]):
        href = _deploy(site, md.record.id, c).calculator_href
        query = dict(parse_qsl(urlsplit(href).query))
        flags: dict[str, Any] = {k.replace("-", "_"): v for k, v in query.items()}
        for key in ("gpus", "context", "prompt", "output"):
            flags[key] = int(flags[key])
        est = estimate(site.catalog, EstimateQuery(model=md.record.id, **flags), site.error_bars)
        assert est["total_bytes"] == c.memory.total_bytes
        assert c.speed is not None
        assert est["output_tokens_per_s"] == pytest.approx(c.speed.output_tokens_per_s, rel=1e-3)


# Flag-like words plus everything shlex treats specially: quotes, backslashes, runs and kinds of whitespace
# (tabs, newlines, and Unicode spaces that str.split would split on but shlex does not).
SHELL_TEXT = st.text(alphabet=st.sampled_from([*"ab-=./{}#$ \t\n'\"\\", "\u00a0", "\u2003", "\x0b"]))


@given(SHELL_TEXT)
@example("--max-model-len 8192")
@example("vllm serve  org/model")
@example(" --tp 2")
@example("--served-model-name 'my model'")
def test_split_words_splits_as_the_shell_does(text: str) -> None:
    try:
        expected: list[str] | None = shlex.split(text)
    except ValueError:  # unbalanced quotes, a trailing backslash
        expected = None
    try:
        got: list[str] | None = split_words(text)
    except ValueError:
        got = None
    assert got == expected
