"""A deployment page's launch command: each flag the engine derived, with what it does for the reader.

The values come from `engine.launch.launch_settings` (the numbers `estimate --json` reports for the same setup and
framework); the flag spellings come from the framework record's sourced launch template.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from site_builder.engine.launch import LaunchSettings
from site_builder.engine.plan import Candidate
from site_builder.engine.precision import Precision
from site_builder.pages import format as F
from site_builder.pages.calculator import calculator_href
from site_builder.records import FrameworkRecord, ModelRecord
from site_builder.records.framework import LaunchTemplate

KV_NAMES = {"fp8": "FP8", "fp16": "16-bit", "bf16": "16-bit (BF16)", "fp32": "32-bit", "q8_0": "8-bit (Q8_0)"}


@dataclass(frozen=True)
class FlagNote:
    flag: str  # the words as they appear in the command
    means: str  # what it does, with the engine's numbers


@dataclass(frozen=True)
class LaunchCommand:
    command: str
    flags: tuple[FlagNote, ...]


# Words with no quote, backslash or other whitespace, one space apart: shlex.split gives what str.split does, and its
# character-at-a-time lexer was a third of a deployment page's cost.
_PLAIN_WORDS = re.compile(r"[^'\"\\\s]+(?: [^'\"\\\s]+)*")


def split_words(text: str) -> list[str]:
    """shlex.split(text), without its lexer where the text has nothing to unquote."""
    return text.split(" ") if _PLAIN_WORDS.fullmatch(text) else shlex.split(text)


def _words(template: str, value: object) -> list[str]:
    return split_words(template.replace("{value}", str(value)))


def _budget_note(s: LaunchSettings, value: str, c: Candidate) -> str:
    pool = f"the KV-cache pool then holds {s.kv_tokens:,} tokens"
    if s.budget_rule == "sglang":
        gb = c.setup.capacity_bytes or 0
        return (
            f"share of each GPU's memory for the weights plus the KV-cache pool; {value} is what SGLang derives for a "
            f"{F.gib(gb)} GPU (the rest is its reserve for activations and CUDA graphs): {pool}"
        )
    if s.budget_rule == "of-free":
        return f"share of the memory the weights and activation buffers leave free that goes to the KV cache; {pool}"
    return f"share of each GPU's total memory the engine may fill with weights, activations and KV cache; {pool}"


def published_checkpoint(m: ModelRecord, precision: str) -> str | None:
    """The repository of a checkpoint in this format that the record cites, if any."""
    return next((ck.repo for ck in m.checkpoints if ck.precision == precision), None)


# Runtimes whose model argument is a local GGUF file whatever the weight format (llama.cpp's record: "{model} is a
# local GGUF file"; its 16- and 32-bit formats are GGUF containers too).
GGUF_RUNTIMES = ("llama-cpp",)


def model_reference(m: ModelRecord, prec: Precision, framework_id: str = "") -> tuple[str, str]:
    """What a command loads for this format, and what it is: a published checkpoint the catalog cites, the released
    repository, or a local GGUF file."""
    published = published_checkpoint(m, prec.id)
    if published is not None and framework_id not in GGUF_RUNTIMES:
        return published, f"the published {prec.label} checkpoint of {m.name} (downloaded on first start)"
    if prec.family == "gguf" or framework_id in GGUF_RUNTIMES:
        return (
            f"{m.id}.{prec.id}.gguf",
            f"a local GGUF file of the model in {prec.label} (the format is fixed by the file)",
        )
    return m.hf_repo, "the model's Hugging Face repository (downloaded on first start)"


def launch_command(
    fw: FrameworkRecord, c: Candidate, model_ref: str, s: LaunchSettings, ref_note: str = ""
) -> LaunchCommand | None:
    """The framework's command for candidate `c`, every flag filled from the engine's settings `s`."""
    t: LaunchTemplate | None = fw.launch
    if t is None:
        return None
    parts = split_words(t.command.replace("{model}", model_ref))
    notes = [FlagNote(model_ref, ref_note or "the model to load")]

    def add(template: str | None, value: object, means: str) -> None:
        if template is None:
            return
        words = _words(template, value)
        parts.extend(words)
        notes.append(FlagNote(" ".join(words), means))

    w = c.workload
    if s.tensor_parallel > 1:
        add(t.tensor_parallel, s.tensor_parallel, f"splits every layer over the {s.tensor_parallel} GPUs")
    if s.budget_rule == "exact":
        # llama.cpp's context is the KV cache of all its slots together: each slot gets an equal share.
        add(
            t.max_model_len,
            s.kv_tokens,
            f"KV cache of {s.kv_tokens:,} tokens, {w.context:,} per slot (a {w.prompt:,}-token prompt and a "
            f"{w.output:,}-token answer); one sequence of up to {s.max_model_len:,} tokens fits on this setup",
        )
        add(t.max_sequences, s.sequences, f"{s.sequences} slot(s): requests served at the same time")
    else:
        add(
            t.max_model_len,
            s.max_model_len,
            f"longest request (prompt + answer) the server accepts: the most one sequence can hold beside the "
            f"weights on this setup (the model's window is {s.context_window:,} tokens)",
        )
    quant = t.quantization_values.get(c.precision.id)
    if quant:
        add(t.quantization, quant, f"loads the weights as {c.precision.label}")
    kv = t.kv_cache_values.get(w.kv_precision)
    if kv:
        add(t.kv_cache_dtype, kv, f"keeps the KV cache in {KV_NAMES.get(w.kv_precision, w.kv_precision)}")
    if s.budget_value is not None:
        value = f"{s.budget_value:g}"
        add(t.gpu_memory_utilization, value, _budget_note(s, value, c))
    if s.budget_rule != "exact" and s.sequences > 0:
        add(
            t.max_sequences,
            s.sequences,
            f"runs at most {s.sequences:,} requests at once: that many {w.context:,}-token sequences fill the KV "
            "pool, so a running request is never evicted for lack of room (later ones wait in the queue)",
        )
    provider = t.execution_provider_values.get(c.setup.base.vendor)
    if provider:
        add(t.execution_provider, provider, f"builds the export for the {provider} execution provider")
    return LaunchCommand(" ".join(shlex.quote(p) for p in parts), tuple(notes))


def calculator_preset(model_id: str, c: Candidate, base: str) -> str:
    """The calculator with this page's whole setup: GPU, count, format, KV precision, the workload and framework."""
    w = c.workload
    flags: dict[str, object] = {"gpu": c.setup.record.id, "gpus": c.setup.count, "precision": c.precision.id}
    flags |= {"kv-precision": w.kv_precision, "context": w.context, "concurrency": w.concurrency}
    flags |= {"prompt": w.prompt, "output": w.output}
    if c.framework is not None:
        flags["framework"] = c.framework.id
    return calculator_href(base, model_id, flags)
