"""The compatibility matrix: every GPU setup × matrix precision, coloured by fit level."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from site_builder.analysis import ModelData
from site_builder.engine.fit import CellState, FitLevel, MatrixLevel
from site_builder.engine.hardware import Setup
from site_builder.engine.plan import MATRIX_PRECISIONS, MatrixCell, MatrixRow
from site_builder.engine.precision import PRECISIONS
from site_builder.pages import format as F
from site_builder.pages.labels import FIT_LEGEND_ORDER, MATRIX_LABELS, kv_cache_label
from site_builder.pages.matrix_cells import cell_label, cell_preset, shorter_fit

# Row groups: by vendor in this order, then newest generation first; CPU profiles form one group, last.
VENDOR_ORDER = ("nvidia", "amd", "intel", "apple", "cpu")
CPU_GROUP = "CPU only"


@dataclass(frozen=True)
class Cell:
    level: MatrixLevel
    label: str
    title: str
    href: str | None  # a shorter context fits: the calculator preset for it


@dataclass(frozen=True)
class SetupRow:
    label: str
    href: str
    memory: str
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Group:
    name: str
    rows: tuple[SetupRow, ...]


@dataclass(frozen=True)
class LegendEntry:
    level: FitLevel
    label: str


@dataclass(frozen=True)
class Matrix:
    columns: tuple[str, ...]
    groups: tuple[Group, ...]
    share: str
    cells: int
    gpu_count: int
    workload: str
    legend: tuple[LegendEntry, ...]


def _group_name(row: MatrixRow) -> str:
    rec = row.setup.record
    return rec.architecture if rec.segment != "cpu" else CPU_GROUP


# A page's matrix repeats few sizes (each GPU's usable memory, each format's total): formatted once, not per cell.
_gib = functools.lru_cache(maxsize=1024)(F.gib)


def _cell(c: MatrixCell, setup: Setup, base: str, model_id: str) -> Cell:
    shorter = shorter_fit(c)
    if c.total_bytes is not None:
        title = f"{_gib(c.total_bytes)} needed of {_gib(c.usable_bytes)} usable per GPU"
        if shorter:
            title += f"; one sequence of up to {c.max_context:,} tokens fits"
    else:
        title = "GPU cannot run this precision" if c.level == CellState.NOT_APPLICABLE else "memory unknown"
    if shorter:
        return Cell(c.level, cell_label(c), title, cell_preset(model_id, setup, c, base))
    return Cell(c.level, MATRIX_LABELS[c.level], title, None)


def _setup_row(row: MatrixRow, base: str, model_id: str) -> SetupRow:
    rec = row.setup.record
    cells = tuple(_cell(c, row.setup, base, model_id) for c in row.cells)
    capacity = row.setup.capacity_bytes * row.setup.count if row.setup.capacity_bytes else None
    return SetupRow(row.setup.label, f"{base}gpus/{rec.id}/", F.gib(capacity, 0), cells)


def _groups(rows: tuple[MatrixRow, ...], base: str, model_id: str) -> tuple[Group, ...]:
    groups: dict[str, list[SetupRow]] = {}
    rank: dict[str, tuple[int, int]] = {}  # group → (vendor position, latest release year among its GPUs)
    for row in rows:
        rec = row.setup.record
        key = _group_name(row)
        groups.setdefault(key, []).append(_setup_row(row, base, model_id))
        year = max(row.setup.base.release_year or 0, rec.release_year or 0)
        vendor, best = rank.get(key, (VENDOR_ORDER.index(rec.vendor), 0))
        rank[key] = (vendor, max(best, year))
    ordered = sorted(groups.items(), key=lambda kv: (rank[kv[0]][0], -rank[kv[0]][1], kv[0]))
    return tuple(Group(name, tuple(members)) for name, members in ordered)


def matrix(md: ModelData, base: str) -> Matrix:
    an = md.analysis
    w = an.fit_workload
    return Matrix(
        columns=tuple(PRECISIONS[p].label for p in MATRIX_PRECISIONS),
        groups=_groups(an.matrix, base, md.record.id),
        share=F.percent(an.fit_share),
        cells=an.fit_cells,
        gpu_count=len(an.matrix),
        workload=f"one sequence of {w.context:,} tokens, {kv_cache_label(w.kv_precision)}",
        legend=tuple(LegendEntry(lv, MATRIX_LABELS[lv]) for lv in FIT_LEGEND_ORDER),
    )
