"""Engine results kept across builds: a model's analysis, stored under a hash of everything it is computed from.

`analyse(model, gpus, frameworks)` reads the model record, every GPU and framework record and the engine's code,
nothing else, so its result is keyed by the model record's JSON, one hash of the GPU and framework records (in
the order the engine walks them) and one of the code (the engine, the record models and this file, with the
Python and pydantic versions). An edited model record recomputes that model only; an edited GPU, framework or
engine file starts a new generation, in which every model is recomputed once.

The same store keeps the analysis stage's other per-model results (`compute_all`: deploy pages, sweeps, the
calculator's answer), each kind under its own name and with a digest of anything else it reads in its key.

Layout: `<dir>/<generation>/<model id>/<kind>-<key>.pickle`. Records inside a stored analysis are kept as
references (a GPU's id) and resolved to the current build's records on loading: the key says they are equal,
and the pages keep sharing one object per record. The directory is `.cache/site-builder/engine` beside the
catalog folder, or `$SITE_BUILDER_CACHE` (`off`: no cache). A damaged or unreadable file is recomputed.
"""

from __future__ import annotations

import copyreg
import functools
import hashlib
import io
import multiprocessing
import os
import pickle
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from site_builder import picklefile
from site_builder.codehash import sources_hash
from site_builder.engine.budget import KvCapacity
from site_builder.engine.estimate import CostResult, MemoryResult, SpeedResult, Workload
from site_builder.engine.hardware import Setup, make_setup
from site_builder.engine.launch import LaunchSettings
from site_builder.engine.money import FullLoad
from site_builder.engine.plan import Analysis, Candidate, MatrixCell, MatrixRow, analyse
from site_builder.engine.precision import PRECISIONS, Precision
from site_builder.engine.sweep import SweepPoint
from site_builder.paths import PACKAGE
from site_builder.picklefile import PROTOCOL
from site_builder.records import FrameworkRecord, GpuRecord, ModelRecord
from site_builder.records.model import Architecture

# The code a stored result is computed by: the engine, the record models it reads (defaults, derived fields), the
# analysis stage and query (deploy pages' analyses, the calculator's answer) and the way results are stored here.
SOURCES = (
    PACKAGE / "engine",
    PACKAGE / "records",
    PACKAGE / "analysis.py",
    PACKAGE / "query.py",
    PACKAGE / "engine_cache.py",
)
ENV = "SITE_BUILDER_CACHE"
KEEP_GENERATIONS = 3  # a few: switching between two branches, or undoing a GPU edit, still finds its results
T = TypeVar("T")
# The engine's slotted result classes (many objects per model; none has an init=False field): stored as the call
# that makes them, see _slotted.
SLOTTED: tuple[type, ...] = (
    Candidate,
    MatrixCell,
    MatrixRow,
    Workload,
    MemoryResult,
    SpeedResult,
    CostResult,
    SweepPoint,
    LaunchSettings,
    KvCapacity,
    FullLoad,
)


@functools.cache
def code_hash() -> str:
    return sources_hash(PACKAGE, SOURCES)


def cores() -> int:
    """The cores this process may use (its affinity mask where the OS has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def default_dir(catalog_root: Path) -> Path | None:
    """Where a build from this catalog keeps engine results; None when `$SITE_BUILDER_CACHE` is `off`."""
    chosen = os.environ.get(ENV, "")
    if chosen == "off":
        return None
    if chosen:
        return Path(chosen)
    return catalog_root.resolve().parent / ".cache" / "site-builder" / "engine"


# Stand-ins a stored analysis names in place of a record; the loader resolves them to the current build's records.
def _gpu(gid: str) -> GpuRecord:
    raise RuntimeError("resolved by EngineCache's loader")


def _framework(fid: str) -> FrameworkRecord:
    raise RuntimeError("resolved by EngineCache's loader")


def _model(mid: str) -> ModelRecord:
    raise RuntimeError("resolved by EngineCache's loader")


def _architecture(mid: str) -> Architecture:
    raise RuntimeError("resolved by EngineCache's loader")


def _setup(gid: str, multiplier: int) -> Setup:
    raise RuntimeError("resolved by EngineCache's loader")


def _precision(pid: str) -> Precision:
    return PRECISIONS[pid]


def _slotted(obj: Any) -> Any:
    """A slotted frozen dataclass as a call of its class on its field values. The dataclass's own __setstate__ looks
    its fields up again for every object, which made loading a model's results several times slower."""
    return (type(obj), tuple(getattr(obj, name) for name in type(obj).__slots__))


class _Loader(pickle.Unpickler):
    def __init__(self, data: bytes, resolve: Mapping[str, Callable[..., object]]) -> None:
        super().__init__(io.BytesIO(data))
        self.resolve = resolve

    def find_class(self, module: str, name: str) -> Any:
        if module == __name__ and name in self.resolve:
            return self.resolve[name]
        return super().find_class(module, name)


class EngineCache:
    """`analyse` for one build's GPU and framework records, served from the cache directory where it can be."""

    def __init__(
        self, directory: Path | None, gpus: dict[str, GpuRecord], frameworks: dict[str, FrameworkRecord]
    ) -> None:
        self.gpus, self.frameworks = gpus, frameworks
        h = hashlib.sha256(code_hash().encode())
        for kind, records in (("gpus", gpus), ("frameworks", frameworks)):
            for rid, record in records.items():  # in order: the engine's tables follow it
                h.update(f"{kind}/{rid}\0".encode() + record.model_dump_json().encode() + b"\0")
        self.generation = h.hexdigest()[:32]
        self.folder = None if directory is None else directory / self.generation
        self.hits = self.misses = 0
        self._pruned = False

    def analyse(self, model: ModelRecord) -> Analysis:
        return self.compute_all({model.id: model}, self._analyse, Analysis, jobs=1)[model.id]

    def analyse_all(self, models: Mapping[str, ModelRecord], jobs: int | None = None) -> dict[str, Analysis]:
        return self.compute_all(models, self._analyse, Analysis, jobs=jobs)

    def _analyse(self, model: ModelRecord) -> Analysis:
        return analyse(model, self.gpus, self.frameworks)

    def compute_all(
        self,
        models: Mapping[str, ModelRecord],
        compute: Callable[[ModelRecord], T],
        kind: type[T],
        *,
        extra: str = "",
        jobs: int | None = None,
    ) -> dict[str, T]:
        """`compute(model)` for every model, from the cache where it can be; the misses computed in `jobs` forked
        processes (default: one per core). A result reads the model record, the build's GPU and framework records
        and `extra` (a digest of anything else it depends on), nothing else: the file name holds all of them.

        The workers hand their results over through the cache folder, so without one (or without fork) they are
        computed here, one after another; a model a worker did not store is computed here too.
        """
        jobs = cores() if jobs is None else jobs
        results: dict[str, T] = {}
        missing: list[tuple[str, ModelRecord, Path]] = []
        for mid, model in models.items():
            path = None if self.folder is None else self._path(model, kind, extra)
            stored = None if path is None else self._load(path, model, kind)
            if stored is not None:
                self.hits += 1
                results[mid] = stored
            elif path is not None:
                missing.append((mid, model, path))
        forks = "fork" in multiprocessing.get_all_start_methods() and not multiprocessing.current_process().daemon
        if forks and jobs > 1 and len(missing) >= 2 * jobs:
            self._prune()  # before the workers write, so that none of them prunes
            self._compute_in_workers(missing, compute, jobs)
            for mid, model, path in missing:
                stored = self._load(path, model, kind)
                if stored is not None:
                    self.misses += 1
                    results[mid] = stored
        for mid, model in models.items():
            if mid not in results:
                results[mid] = compute(model)
                if self.folder is not None:
                    self.misses += 1
                    self._store(self._path(model, kind, extra), results[mid], model)
        return {mid: results[mid] for mid in models}

    def store(self, model: ModelRecord, result: object, *, extra: str = "") -> None:
        """Keep `result` as the one `compute_all` would compute for this model, its class and `extra`."""
        if self.folder is not None:
            self._store(self._path(model, type(result), extra), result, model)

    def _compute_in_workers(
        self, missing: list[tuple[str, ModelRecord, Path]], compute: Callable[[ModelRecord], Any], jobs: int
    ) -> None:
        ctx = multiprocessing.get_context("fork")

        def work(share: list[tuple[str, ModelRecord, Path]]) -> None:
            for _, model, path in share:
                self._store(path, compute(model), model)

        workers = [ctx.Process(target=work, args=(missing[i::jobs],), daemon=True) for i in range(jobs)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()

    def _path(self, model: ModelRecord, kind: type[Any], extra: str) -> Path:
        assert self.folder is not None
        key = hashlib.sha256(f"{extra}\0".encode() + model.model_dump_json().encode()).hexdigest()[:32]
        return self.folder / model.id / f"{kind.__name__}-{key}.pickle"

    def _load(self, path: Path, model: ModelRecord, kind: type[T]) -> T | None:
        try:
            data = path.read_bytes()
        except OSError:
            return None
        resolve: dict[str, Callable[..., object]] = {
            "_gpu": self.gpus.__getitem__,
            "_setup": lambda gid, multiplier: make_setup(self.gpus[gid], self.gpus, multiplier),
            "_framework": self.frameworks.__getitem__,
            "_model": lambda mid: model,
            "_architecture": lambda mid: model.architecture,
        }
        try:
            result = _Loader(data, resolve).load()
        except Exception:  # a damaged or foreign file is only a miss
            return None
        return result if isinstance(result, kind) else None

    def _dumps(self, result: object, model: ModelRecord) -> bytes:
        gpus, frameworks = self.gpus, self.frameworks

        def ref(
            table: Mapping[str, object], stand_in: Callable[[str], object], key: Callable[[Any], str]
        ) -> Callable[[Any], Any]:
            # Only the build's own record becomes a reference; any other object of the class is stored whole.
            return lambda obj: (stand_in, (key(obj),)) if table.get(key(obj)) is obj else obj.__reduce_ex__(PROTOCOL)

        def setup_ref(setup: Setup) -> Any:
            # Made again from its GPU record and count on loading: every analysis then shares make_setup's one object
            # per setup, as freshly computed ones do (a copy per model would hold its cached figures once per model).
            if gpus.get(setup.record.id) is setup.record and make_setup(setup.record, gpus, setup.multiplier) is setup:
                return (_setup, (setup.record.id, setup.multiplier))
            return setup.__reduce_ex__(PROTOCOL)

        buffer = io.BytesIO()
        pickler = pickle.Pickler(buffer, protocol=PROTOCOL)
        pickler.dispatch_table = {
            **copyreg.dispatch_table,
            **dict.fromkeys(SLOTTED, _slotted),
            GpuRecord: ref(gpus, _gpu, lambda g: g.id),
            FrameworkRecord: ref(frameworks, _framework, lambda f: f.id),
            ModelRecord: ref({model.id: model}, _model, lambda m: m.id),
            Architecture: ref({model.id: model.architecture}, _architecture, lambda a: model.id),
            Precision: ref(PRECISIONS, _precision, lambda p: p.id),
            Setup: setup_ref,
        }
        pickler.dump(result)
        return buffer.getvalue()

    def _store(self, path: Path, result: object, model: ModelRecord) -> None:
        """Write atomically (a reader sees the old file or the new one); a cache that cannot be written is skipped."""
        try:
            data = self._dumps(result, model)
            self._prune()
            path.parent.mkdir(parents=True, exist_ok=True)
            kind = path.name.split("-", 1)[0]
            for old in path.parent.glob(f"{kind}-*.pickle"):  # an earlier version of this record
                old.unlink(missing_ok=True)
            picklefile.write_data(path, data)
        except (OSError, pickle.PicklingError):
            return

    def _prune(self) -> None:
        """Once per build that writes: drop all but the newest KEEP_GENERATIONS generations."""
        if self._pruned or self.folder is None:
            return
        self._pruned = True
        self.folder.mkdir(parents=True, exist_ok=True)
        os.utime(self.folder)
        others = sorted(
            (p for p in self.folder.parent.iterdir() if p.is_dir() and p != self.folder),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        for old in others[KEEP_GENERATIONS - 1 :]:
            shutil.rmtree(old, ignore_errors=True)
