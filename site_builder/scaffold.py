"""`site-builder new`: start a record with every field present, so a contributor only fills in values.

A model started from a Hugging Face config.json is complete and valid at once (see hfimport). Any other
new record lists every field of its schema as a commented-out line with what to put there: the file
parses, and `site-builder check` then names each required field still missing, with its line.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from site_builder.fmt import field_order, nested_model, schema_line
from site_builder.hfimport import HfConfigError, record_from_file, scalar
from site_builder.problems import display_path
from site_builder.records import GpuRecord, ModelRecord
from site_builder.records.common import SLUG_RE

FOLDERS = {"model": "models", "gpu": "gpus"}
MODELS: dict[str, type[BaseModel]] = {"model": ModelRecord, "gpu": GpuRecord}

# What to put in a field, where the schema's own description does not say it in a contributor's terms.
HINTS = {
    "gpu.name": "full name as the vendor writes it, e.g. NVIDIA H100 SXM5 80GB",
    "gpu.memory_gb": "memory in GB (decimal) from the datasheet",
    "gpu.memory_type": "HBM3, HBM3e, GDDR6X, LPDDR5X...",
    "gpu.memory_bandwidth_gbps": "GB/s from the datasheet",
    "gpu.compute": "dense peak TFLOPS/TOPS from the datasheet; halve rates quoted 'with sparsity'",
    "gpu.tdp_watts": "board power in W from the datasheet",
    "gpu.interconnect": "the GPU-to-GPU link, for tensor parallelism",
    "gpu.release_year": "year it shipped",
    "gpu.bundle": "only for a record that is several GPUs of another record (e.g. an NVL pair)",
    "gpu.bundle.gpu": "id of the single-GPU record in catalog/gpus/",
    "gpu.bundle.count": "how many of it",
    "gpu.prices.usd_per_gpu_hour": "USD per GPU-hour as listed",
    "gpu.prices.as_of": "YYYY-MM-DD the price was read",
    "gpu.prices": "one entry per offer, with the page it was read from",
    "gpu.notes": "anything a reader should know about the figures",
    "gpu.sources": "every page a figure comes from; supports lists the fields it backs",
    "model.name": "display name as the model card writes it",
    "model.hf_repo": "ORG/NAME on huggingface.co",
    "model.organization": "who released it, as the model card names it",
    "model.family": "id of catalog/families/<family>.md",
    "model.architecture": "easier: site-builder new model --id ID --from-hf-config config.json",
    "model.sources": "every page a figure comes from; supports lists the fields it backs",
}


# --- commented-out skeletons from the record models -------------------------------------------------


def hint(kind: str, path: str, info: FieldInfo) -> str:
    """What to write in a field: our hint, else the schema's description, plus the allowed values."""
    parts = [HINTS.get(f"{kind}.{path}") or (info.description or "").rstrip(".")]
    choices = literal_choices(info.annotation)
    if choices:
        parts.append(f"{'any' if is_list(info.annotation) else 'one'} of: {', '.join(choices)}")
    if info.is_required():
        parts.append("required")
    return "; ".join(part for part in parts if part)


def literal_choices(annotation: Any) -> list[str]:
    if get_origin(annotation) is Literal:
        return [str(arg) for arg in get_args(annotation)]
    for arg in get_args(annotation):
        found = literal_choices(arg)
        if found:
            return found
    return []


def is_list(annotation: Any) -> bool:
    if get_origin(annotation) is list:
        return True
    return any(is_list(arg) for arg in get_args(annotation))


def commented_fields(kind: str, model: type[BaseModel], indent: str, prefix: str, skip: set[str]) -> Iterator[str]:
    """One `# field:   # what to put` line per field, nested records expanded below their key."""
    for name in field_order(model):
        if name in skip:
            continue
        info = model.model_fields[name]
        path = f"{prefix}{name}"
        note = hint(kind, path, info)
        child = nested_model(info.annotation)
        many = is_list(info.annotation)
        empty = " []" if many and child is None else ""
        yield f"# {indent}{name}:{empty}   # {note}" if note else f"# {indent}{name}:{empty}"
        if child is not None:
            yield from nested_fields(kind, child, indent, path, many)


def nested_fields(kind: str, child: type[BaseModel], indent: str, path: str, many: bool) -> Iterator[str]:
    lines = list(commented_fields(kind, child, indent + "  ", f"{path}.", set()))
    if many and lines:
        # The first field of a list item carries the "- " marker, level with the list's key (fmt's layout).
        first = lines[0]
        cut = 2 + len(indent)
        lines[0] = f"{first[:cut]}- {first[cut + 2 :]}"
    yield from lines


def skeleton(kind: str, record_id: str) -> str:
    model = MODELS[kind]
    lines = [schema_line(FOLDERS[kind]), f"id: {scalar(record_id)}"]
    lines.extend(commented_fields(kind, model, "", "", {"id"}))
    return "\n".join(lines) + "\n"


# --- the command --------------------------------------------------------------------------------


class ScaffoldError(Exception):
    """Shown to the user as one line; nothing was written."""


def target_path(catalog: Path, kind: str, record_id: str) -> Path:
    if not SLUG_RE.match(record_id):
        raise ScaffoldError(f"--id must be a lowercase slug (letters, digits, '-' or '.'), got {record_id!r}")
    if not catalog.is_dir():
        raise ScaffoldError(f"catalog directory {catalog} does not exist (pass --catalog DIR)")
    path = catalog / FOLDERS[kind] / f"{record_id}.yaml"
    if path.exists():
        raise ScaffoldError(f"{display_path(path)} already exists; edit it, or choose another --id")
    return path


@dataclass(frozen=True)
class NewOptions:
    """`site-builder new`: the kind and id of the record, and for a model the config.json to start from."""

    kind: str  # "model" or "gpu"
    id: str
    catalog: Path
    from_hf_config: Path | None = None
    hf_repo: str | None = None
    name: str | None = None
    force: bool = False  # add a model even if the catalog has its hf_repo


def record_text(options: NewOptions) -> str:
    if options.kind == "model" and options.from_hf_config:
        try:
            return record_from_file(options.from_hf_config, options.id, options.name, options.hf_repo)
        except HfConfigError as exc:
            raise ScaffoldError(str(exc)) from None
    if options.from_hf_config:
        raise ScaffoldError("--from-hf-config only applies to `new model`")
    return skeleton(options.kind, options.id)


def next_steps(kind: str, path: Path, from_config: bool) -> list[str]:
    shown = display_path(path)
    if from_config:
        fill = [
            "Check each value that has a comment after it (name, organization, context_window...)",
            "and fill release_date, license, description, capabilities, frameworks and precisions.",
        ]
    else:
        fill = [
            "Uncomment (delete '# ') each field you can fill from a source; delete the lines you cannot.",
            "`site-builder check` reports each required field until it is filled.",
        ]
    return [
        f"created {shown}",
        "next steps:",
        f"  1. {fill[0]}",
        f"     {fill[1]}",
        "  2. Cite every figure under sources: (url, title, supports: [fields it backs], quote).",
        f"  3. site-builder fmt {shown}    # canonical key order and layout",
        "  4. site-builder check            # every problem as path:line:col: field: message",
        f"  5. make serve                    # preview /{FOLDERS[kind]}/{path.stem}/ on http://127.0.0.1:8000",
    ]


def warnings_for(path: Path, text: str) -> list[str]:
    """Catalog facts worth knowing before filling the record in: a missing family, a duplicate repo."""
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        return []
    catalog = path.parent.parent
    notes: list[str] = []
    family = data.get("family")
    if family and not (catalog / "families" / f"{family}.md").exists():
        notes.append(f"note: family {family!r} has no catalog/families/{family}.md: add it or pick another")
    repo = data.get("hf_repo")
    if repo:
        notes.extend(
            f"note: {display_path(other)} already describes {repo}"
            for other in models_with_repo(catalog, str(repo))
            if other != path
        )
    return notes


def models_with_repo(catalog: Path, repo: str) -> list[Path]:
    """Model files whose hf_repo is `repo` (the Hub treats repo ids case-insensitively)."""
    found = []
    for other in sorted((catalog / "models").glob("*.yaml")):
        try:
            data = yaml.safe_load(other.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue  # `site-builder check` reports unreadable records; here they only cannot match
        if isinstance(data, dict) and str(data.get("hf_repo", "")).lower() == repo.lower():
            found.append(other)
    return found


def refuse_duplicate_repo(path: Path, text: str, force: bool) -> None:
    """A second record for a model already in the catalog is a mistake unless asked for (`--force`)."""
    data = yaml.safe_load(text)
    repo = data.get("hf_repo") if isinstance(data, dict) else None
    others = [display_path(p) for p in models_with_repo(path.parent.parent, str(repo)) if p != path] if repo else []
    if others and not force:
        raise ScaffoldError(f"{', '.join(others)} already describes {repo}; edit it, or pass --force to add another")


def new_command(options: NewOptions) -> int:
    try:
        path = target_path(options.catalog, options.kind, options.id)
        text = record_text(options)
        if options.kind == "model":
            refuse_duplicate_repo(path, text, options.force)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as out:  # "x": never overwrite, even in a race
            out.write(text)
    except (ScaffoldError, FileExistsError) as exc:
        print(f"site-builder new: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"site-builder new: error: cannot write {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 1
    from_config = bool(options.kind == "model" and options.from_hf_config)
    print("\n".join(next_steps(options.kind, path, from_config) + warnings_for(path, text)))
    return 0
