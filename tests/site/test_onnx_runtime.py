"""ONNX Runtime GenAI on the pages of the models that list it: rows in "On your own hardware" computed by the
engine, and export/run commands whose precision and execution-provider flags follow the device."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from site_builder.analysis import SiteAnalysis, analyse_site
from site_builder.catalog import load_catalog
from site_builder.engine.hardware import make_setup
from site_builder.engine.launch import launch_settings
from site_builder.engine.plan import Candidate, evaluate_on, local_workload
from site_builder.engine.precision import PRECISIONS
from site_builder.pages.deploy_command import launch_command
from site_builder.pages.detail_pages import deploy_page
from site_builder.pages.model import model_page
from site_builder.problems import Report

ORT = "onnxruntime-genai"


@pytest.fixture(scope="module")
def site() -> SiteAnalysis:
    return analyse_site(load_catalog(Path("catalog"), Report()))


def _command(site: SiteAnalysis, model_id: str, cand: Candidate) -> str:
    md, fw = site.models[model_id], site.frameworks[ORT]
    settings = launch_settings(md.facts, cand.precision, cand.setup, cand.workload, ORT, fw.engine_class)
    assert settings is not None
    cmd = launch_command(fw, cand, md.record.hf_repo, settings)
    assert cmd is not None
    return cmd.command


def _flag(command: str, flag: str) -> str:
    words = shlex.split(command)
    return words[words.index(flag) + 1]


def _ort_rows(site: SiteAnalysis, model_id: str) -> list[Candidate]:
    return [c for c in site.models[model_id].analysis.local if c.framework and c.framework.id == ORT]


@pytest.mark.parametrize("model_id", ["internlm2-1.8b", "internlm2-7b", "internlm2-20b"])
def test_internlm2_pages_get_ort_rows_on_every_cpu_profile_and_a_gpu(site: SiteAnalysis, model_id: str) -> None:
    rows = _ort_rows(site, model_id)
    cpu_profiles = {g.id for g in site.gpus.values() if g.segment == "cpu"}
    assert {c.setup.record.id for c in rows if c.setup.record.segment == "cpu"} == cpu_profiles
    gpu_rows = [c for c in rows if c.setup.record.segment != "cpu"]
    assert len(gpu_rows) == 1
    for c in rows:
        assert c.engine == "local" and c.memory.fits and c.speed is not None
        assert c.precision.id == "int4"  # the format llama.cpp's GGUF rows do not already cover


def test_ort_cpu_rate_respects_the_memory_bandwidth_floor(site: SiteAnalysis) -> None:
    # A decode step reads at least the 4-bit weights: 7B parameters x 0.5 bytes (InternLM2-7B's stated size).
    for c in _ort_rows(site, "internlm2-7b"):
        assert c.speed is not None and c.setup.record.memory_bandwidth_gbps is not None
        bandwidth = c.setup.record.memory_bandwidth_gbps * 1e9
        assert c.speed.decode_tokens_per_s <= bandwidth / (7e9 * 0.5)


def test_export_command_flags_follow_the_device(site: SiteAnalysis) -> None:
    md = site.models["internlm2-7b"]
    ort = site.frameworks[ORT]
    expected = {"cpu": "cpu", "nvidia": "cuda", "amd": "dml"}
    seen = set()
    for gpu in site.gpus.values():
        if gpu.vendor not in expected or gpu.bundle:
            continue
        cand = evaluate_on(
            md.record, md.facts, make_setup(gpu, site.gpus), PRECISIONS["int4"], local_workload(md.record), ort
        )
        assert cand is not None
        cmd = _command(site, "internlm2-7b", cand)
        assert _flag(cmd, "-e") == expected[gpu.vendor]
        assert _flag(cmd, "-p") == "int4"
        assert "onnxruntime_genai.models.builder -m internlm/internlm2-7b -o" in cmd
        seen.add(gpu.vendor)
    assert seen == set(expected)


def test_fp16_export_for_cuda(site: SiteAnalysis) -> None:
    md = site.models["internlm2-1.8b"]
    ort = site.frameworks[ORT]
    cand = evaluate_on(
        md.record,
        md.facts,
        make_setup(site.gpus["rtx-4090"], site.gpus),
        PRECISIONS["fp16"],
        local_workload(md.record),
        ort,
    )
    assert cand is not None
    cmd = _command(site, "internlm2-1.8b", cand)
    assert _flag(cmd, "-p") == "fp16" and _flag(cmd, "-e") == "cuda"


def test_deploy_page_of_an_ort_row_shows_export_and_run_commands(site: SiteAnalysis) -> None:
    md = site.models["internlm2-7b"]
    cpu_row = next(c for c in _ort_rows(site, "internlm2-7b") if c.setup.record.segment == "cpu")
    deploy = next(d for d in md.deploys if d.candidate is cpu_row)
    page = deploy_page(md, deploy, site, "/")
    assert [cmd.framework for cmd in page.commands] == ["ONNX Runtime GenAI"]
    (cmd,) = page.commands
    assert _flag(cmd.command, "-e") == "cpu"
    assert cmd.run and "-m ./onnx-model" in cmd.run
    assert ("Execution provider", "cpu") in page.flags
    assert page.checkpoint_note == ""  # the builder quantizes the original repository's weights itself


def test_model_page_links_ort_rows_to_their_deploy_pages(site: SiteAnalysis) -> None:
    page = model_page(site.models["internlm2-7b"], site, "/")
    links = [r.deploy_href for r in page.local.rows if r.framework == "ONNX Runtime GenAI"]
    assert links and all(
        href and href.startswith("/deploy/internlm2-7b/") and href.endswith(f"-{ORT}/") for href in links
    )


def test_a_runtime_whose_formats_are_already_shown_gets_no_rows(site: SiteAnalysis) -> None:
    # Ollama runs the same GGUF files as llama.cpp, whose rows already cover them.
    md = site.models["internlm2-7b"]
    assert "ollama" in md.record.frameworks
    assert not [c for c in md.analysis.local if c.framework and c.framework.id == "ollama"]


def test_models_without_ort_get_no_ort_rows(site: SiteAnalysis) -> None:
    for mid, md in site.models.items():
        if ORT not in md.record.frameworks:
            assert not _ort_rows(site, mid), mid
