"""The engine's inputs as compact JSON for static/engine.js, so the browser computes what `estimate --json` prints.

Everything that needs the catalog's records or parameter counting is derived here, by the Python engine itself:
per model its parameter parts, weight bytes per format, KV groups, per-layer attention layout and shape numbers;
per GPU the figures the engine reads; per framework its engine class and memory-budget rule; and the precision
table, calibrated constants and error bars once, in a shared file. engine.js only evaluates the closed forms.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from site_builder.engine import constants as C
from site_builder.engine.errorbars import SPEED_KEYS, ErrorBars, hardware_class
from site_builder.engine.hardware import make_setup
from site_builder.engine.memory import ModelFacts, layer_windows, replicated_bytes, weight_bytes
from site_builder.engine.money import model_api_prices
from site_builder.engine.params import SPARSE_COMPRESS_RATIO, compress_ratio, has_indexer, layer_attention_dims
from site_builder.engine.plan import FRAMEWORK_PREFERENCE, _multipliers
from site_builder.engine.precision import FP8_KV_RECIPES, KV_BYTES, PRECISIONS
from site_builder.output import write_text
from site_builder.records import FrameworkRecord, GpuRecord, ModelRecord
from site_builder.records.provider import ProviderRecord

FORMAT_VERSION = 1
ENGINE_CLASSES = ("batched-server", "local")
HARDWARE_CLASSES = (
    "Apple silicon",
    "CPUs",
    "AMD and Intel GPUs",
    "NVIDIA datacenter GPUs",
    "NVIDIA desktop GPUs",
)


def dumps(data: Any) -> str:
    """Compact and key-sorted: the same catalog always gives the same bytes."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False) + "\n"


def _runs(items: Iterable[list[Any]]) -> list[list[Any]]:
    """Run-length encode per-layer rows as [*row, count], keeping layer order (engine.js sums them in that order)."""
    out: list[list[Any]] = []
    for row in items:
        if out and out[-1][:-1] == row:
            out[-1][-1] += 1
        else:
            out.append([*row, 1])
    return out


def _kv_share_layers(facts: ModelFacts) -> list[list[Any]] | None:
    """Per own-cache layer [kv_heads, K+V width, window] where layers differ in KV heads (kv_share_per_gpu)."""
    a, s = facts.arch, facts.shape
    if s.is_mla:
        return None
    if a.num_global_key_value_heads is None and a.global_head_dim is None and a.sliding_num_key_value_heads is None:
        return None
    windows = layer_windows(a)
    rows = []
    for i in range(s.layers - (a.num_kv_shared_layers or 0)):
        d = layer_attention_dims(a, s, i)
        rows.append([d.kv_heads, d.head_dim + d.v_head_dim, windows[i]])
    return _runs(rows)


def _attended_layers(facts: ModelFacts) -> list[list[Any]] | None:
    """Per layer [window, top-k, compression ratio, has indexer] for sparse and compressed attention (memory.py's
    _attended_layers plus has_indexer); None for dense attention."""
    a = facts.arch
    if a.compress_ratios is None and not a.index_n_heads:
        return None
    windows = layer_windows(a)
    topk = a.index_topk or 0
    rows = []
    for i in range(facts.shape.layers):
        if a.compress_ratios is not None:
            ratio = compress_ratio(a, i)
            rows.append([windows[i], topk if ratio == SPARSE_COMPRESS_RATIO else 0, ratio, has_indexer(a, i)])
        else:
            rows.append([None, topk, 0, has_indexer(a, i)])
    return _runs(rows)


def model_data(model: ModelRecord, facts: ModelFacts, providers: Iterable[ProviderRecord] = ()) -> dict[str, Any]:
    a, s, p = facts.arch, facts.shape, facts.params
    qk_dim = ((a.qk_nope_head_dim or 0) + (a.qk_rope_head_dim or 0)) if s.is_mla else s.head_dim
    return {
        "version": FORMAT_VERSION,
        "id": model.id,
        "context_window": model.context_window,
        "native_precision": model.native_precision,
        "frameworks": sorted(model.frameworks),
        # Whole-model weight bytes per format: parameter counting and GGUF tensor mixes stay in Python.
        "weights_bytes": {pid: weight_bytes(facts, prec) for pid, prec in PRECISIONS.items()},
        "replicated_bytes": replicated_bytes(facts),
        "params": {
            "total": p.total,
            "active": p.active,
            "embedding": p.embedding,
            "experts": p.experts,
            "vision": p.vision,
        },
        "tie_word_embeddings": bool(a.tie_word_embeddings),
        "shape": {
            "hidden": s.hidden,
            "layers": s.layers,
            "heads": s.heads,
            "kv_heads": s.kv_heads,
            "head_dim": s.head_dim,
            "vocab": s.vocab,
            "dense_ffn": s.dense_ffn,
            "experts": s.experts,
            "experts_per_token": s.experts_per_token,
            "expert_ffn": s.expert_ffn,
            "dense_layers": s.dense_layers,
            "is_mla": s.is_mla,
            "qk_dim": qk_dim,
            "v_dim": a.v_head_dim or s.head_dim,
        },
        "tensor_parallel": {
            "heads": a.num_attention_heads,
            "kv_heads": a.num_key_value_heads or a.num_attention_heads,
            "mla": a.kv_lora_rank is not None,
        },
        "kv_groups": [[w, n] for w, n in facts.kv_groups],
        "kv_layers": facts.kv_layers,
        "linear_state_bytes": facts.linear_state_bytes,
        "kv_share_layers": _kv_share_layers(facts),
        "attended_layers": _attended_layers(facts),
        "compressed": a.compress_ratios is not None,
        "index_n_heads": a.index_n_heads or 0,
        "index_head_dim": a.index_head_dim or 0,
        "mla_width": (a.kv_lora_rank or 0) + (a.qk_rope_head_dim or 0),
        # [provider id, name, input and output USD per million tokens, as of, source], in money.model_api_prices order
        "api_prices": [
            [prov.id, prov.name, ap.input_usd_per_mtok, ap.output_usd_per_mtok, ap.as_of, ap.source]
            for prov, ap in model_api_prices(providers, model.id)
        ],
    }


def _gpu(record: GpuRecord, gpus: dict[str, GpuRecord]) -> dict[str, Any]:
    setup = make_setup(record, gpus)
    price = setup.price_per_gpu_hour()
    return {
        "short_name": record.short_name,
        "vendor": record.vendor,
        "segment": record.segment,
        "compute": {k: v for k, v in record.compute.model_dump().items() if v is not None},
        "capacity_bytes": None if record.memory_gb is None else int(record.memory_gb * C.CAPACITY_UNIT_BYTES),
        "usable_fraction": record.usable_memory_fraction or C.USABLE_FRACTION,
        "bandwidth_gbps": record.memory_bandwidth_gbps,
        "bundle": {"gpu": record.bundle.gpu, "count": record.bundle.count} if record.bundle else None,
        # The link and price as a setup picked from this record sees them (a bundle's own, else its card's).
        "link_kind": setup.link_kind,
        "link_bytes_s": setup.link_bytes_s,
        "price_per_gpu_hour": None if price is None else list(price),
        "hardware_class": hardware_class(record),
        # GPU counts the recommendations try on this record (bundles: whole bundles), which the planner searches
        "counts": [m * setup.count for m in _multipliers(record, gpus)],
    }


def _error_bars(bars: ErrorBars) -> dict[str, Any]:
    """engine class -> hardware class -> speed key -> [error in percent rounded as estimate prints it, count]."""
    out: dict[str, Any] = {}
    for engine in ENGINE_CLASSES:
        for hw in HARDWARE_CLASSES:
            cell: dict[str, Any] = {}
            for key in SPEED_KEYS:
                bar = bars.lookup(key, engine, hw)
                cell[key] = [round(bar.pct * 100, 1), bar.count] if bar else None
            out.setdefault(engine, {})[hw] = cell
    return out


def _finite(x: float) -> float | None:
    return None if math.isinf(x) else x


def shared_data(gpus: dict[str, GpuRecord], frameworks: dict[str, FrameworkRecord], bars: ErrorBars) -> dict[str, Any]:
    return {
        "version": FORMAT_VERSION,
        "gpus": {gid: _gpu(g, gpus) for gid, g in sorted(gpus.items())},
        "frameworks": {
            fid: {"engine_class": f.engine_class, "precisions": list(f.precisions), "vendors": list(f.vendors)}
            for fid, f in sorted(frameworks.items())
        },
        "framework_preference": list(FRAMEWORK_PREFERENCE),
        "precisions": {
            pid: {
                "label": p.label,
                "bits_per_weight": p.bits_per_weight,
                "compute": p.compute,
                "native_compute_needed": p.native_compute_needed,
                "family": p.family,
            }
            for pid, p in PRECISIONS.items()
        },
        "kv_bytes": KV_BYTES,
        # The keys sort in the file; the CLI lists the choices in the engine's order.
        "precision_order": list(PRECISIONS),
        "kv_precision_order": list(KV_BYTES),
        "error_bars": _error_bars(bars),
        "constants": _constants(),
    }


def _constants() -> dict[str, Any]:
    return {
        "GIB": C.GIB,
        "HOURS_PER_MONTH": C.HOURS_PER_MONTH,
        "RUNTIME_OVERHEAD_BYTES": C.RUNTIME_OVERHEAD_BYTES,
        "LOCAL_RUNTIME_OVERHEAD_BYTES": C.LOCAL_RUNTIME_OVERHEAD_BYTES,
        "SERVER_BATCH_TOKENS": C.SERVER_BATCH_TOKENS,
        "LOCAL_BATCH_TOKENS": C.LOCAL_BATCH_TOKENS,
        "MAX_SAMPLED_SEQUENCES": C.MAX_SAMPLED_SEQUENCES,
        "ACT_FFN_FACTOR": C.ACT_FFN_FACTOR,
        "ACT_HIDDEN_FACTOR": C.ACT_HIDDEN_FACTOR,
        "SAMPLER_FP32_COPIES": C.SAMPLER_FP32_COPIES,
        "FIT_LEVELS": [list(level) for level in C.FIT_LEVELS],
        "ALLREDUCE_LATENCY_S": C.ALLREDUCE_LATENCY_S,
        "EFFICIENCY": {
            k: {
                "memory": e.memory,
                "compute": e.compute,
                "step_overhead_s": e.step_overhead_s,
                "per_sequence_s": e.per_sequence_s,
                "moe_token_layer_s": e.moe_token_layer_s,
            }
            for k, e in C.EFFICIENCY.items()
        },
        # engine class -> GPU vendor -> extra seconds per running sequence
        "STACK_PER_SEQUENCE_S": _by_engine_and_vendor(C.STACK_PER_SEQUENCE_S),
        "UNFUSED_SCORE_BYTES": C.UNFUSED_SCORE_BYTES,
        "STEP_TOKEN_BUDGETS": [[_finite(limit), tokens] for limit, tokens in C.STEP_TOKEN_BUDGETS],
        "LOCAL_STEP_TOKENS": C.LOCAL_STEP_TOKENS,
        "LOCAL_PIPELINE_TOKENS": C.LOCAL_PIPELINE_TOKENS,
        "MAX_PREFILL_LOAD": C.MAX_PREFILL_LOAD,
        "ENGINE_BUDGETS": {
            k: {"rule": b.rule, "fraction": b.fraction, "flag": b.flag} for k, b in C.ENGINE_BUDGETS.items()
        },
        "CLASS_BUDGET": C.CLASS_BUDGET,
        "SGLANG_RESERVED_GIB": [[_finite(below), fixed, per] for below, fixed, per in C.SGLANG_RESERVED_GIB],
        "VLLM_LARGE_BATCH_MIN_GIB": C.VLLM_LARGE_BATCH_MIN_GIB,
        "VLLM_LARGE_BATCH": list(C.VLLM_LARGE_BATCH),
        "VLLM_SMALL_BATCH": list(C.VLLM_SMALL_BATCH),
        "VLLM_SMALL_BATCH_GPUS": list(C.VLLM_SMALL_BATCH_GPUS),
        "SERVER_NON_TORCH_BYTES": list(C.SERVER_NON_TORCH_BYTES),
        "VLLM_SAMPLER_FP32_COPIES": C.VLLM_SAMPLER_FP32_COPIES,
        "DRIVER_RESERVED_FRACTION": C.DRIVER_RESERVED_FRACTION,
        "FP8_KV_RECIPES": [[fw, gpu, list(formats)] for fw, gpu, formats in FP8_KV_RECIPES],
        "TGI_PREFILL_TOKENS": C.TGI_PREFILL_TOKENS,
        "TGI_WIGGLE_ROOM": C.TGI_WIGGLE_ROOM,
        "SPARSE_COMPRESS_RATIO": SPARSE_COMPRESS_RATIO,
    }


def _by_engine_and_vendor(table: Mapping[tuple[str, str], float]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for (engine, vendor), seconds in sorted(table.items()):
        out.setdefault(engine, {})[vendor] = seconds
    return out


def write_engine_data(
    out: Path,
    models: dict[str, tuple[ModelRecord, ModelFacts]],
    gpus: dict[str, GpuRecord],
    frameworks: dict[str, FrameworkRecord],
    bars: ErrorBars,
    providers: Iterable[ProviderRecord] = (),
) -> None:
    """api/v1/engine/shared.json and api/v1/engine/models/<id>.json."""
    write_text(out, "api/v1/engine/shared.json", dumps(shared_data(gpus, frameworks, bars)))
    providers = list(providers)
    for mid, (record, facts) in sorted(models.items()):
        write_text(out, f"api/v1/engine/models/{mid}.json", dumps(model_data(record, facts, providers)))
