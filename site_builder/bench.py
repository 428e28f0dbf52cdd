"""`make bench`: build a large synthetic catalog; print pages per second, peak memory and page weights.

Shapes are drawn from the real catalog's models and GPUs (scaled and renamed), so the engine and templates
do realistic work. Run `python -m site_builder.bench --models 2000 --gpus 60`; `--models 200 --profile 30` builds a
smaller catalog in one process under cProfile and prints its 30 costliest functions (own time, then cumulative).
"""

from __future__ import annotations

import argparse
import cProfile
import gzip
import os
import pstats
import random
import re
import resource
import shutil
import tempfile
import threading
import time
from pathlib import Path

import yaml

from site_builder import engine_cache
from site_builder.build import build_site
from site_builder.paths import CATALOG


def _load(folder: Path) -> list[dict[str, object]]:
    return [yaml.safe_load(p.read_text()) for p in sorted(folder.glob("*.yaml"))]


def generate(target: Path, models: int, gpus: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    src = CATALOG
    for sub in ("frameworks", "families", "providers"):
        shutil.copytree(src / sub, target / sub)
    (target / "providers").mkdir(exist_ok=True)
    for p in (target / "providers").glob("*.yaml"):
        p.unlink()  # API prices reference real model ids
    (target / "gpus").mkdir()
    (target / "models").mkdir()
    base_gpus = [g for g in _load(src / "gpus") if not g.get("bundle")]
    for i in range(gpus):
        g = dict(rng.choice(base_gpus))
        g["id"] = f"{g['id']}-syn{i}"
        g["short_name"] = f"{g['short_name']} #{i}"
        (target / "gpus" / f"{g['id']}.yaml").write_text(yaml.safe_dump(g, sort_keys=False))
    base_models = _load(src / "models")
    for i in range(models):
        m = dict(rng.choice(base_models))
        m["id"] = f"{m['id']}-syn{i}"
        m["name"] = f"{m['name']} (synthetic {i})"
        m.pop("stated_params", None)
        (target / "models" / f"{m['id']}.yaml").write_text(yaml.safe_dump(m, sort_keys=False))


class PeakMemory:
    """Peak proportional set size (PSS) of this process and its render workers together, sampled.

    RSS would count the pages forked workers share with the parent once per process; PSS splits them.
    Reading smaps_rollup walks the process's page tables (system time), so samples are half a second apart.
    Where /proc has no smaps_rollup, falls back to this process's peak RSS.
    """

    def __init__(self, interval: float = 0.5) -> None:
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)

    @staticmethod
    def _pss_kib(pid: int) -> int:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0

    @staticmethod
    def _children(pid: int) -> list[int]:
        found = []
        for task in Path(f"/proc/{pid}/task").glob("*/children"):
            try:
                found += [int(c) for c in task.read_text().split()]
            except OSError:
                continue
        return found

    def _run(self, interval: float) -> None:
        me = os.getpid()
        while not self._stop.wait(interval):
            self.peak_kib = max(self.peak_kib, sum(self._pss_kib(p) for p in [me, *self._children(me)]))

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        if not self.peak_kib:
            self.peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _cpu_seconds() -> float:
    """User + system CPU time of this process and its finished workers: comparable on a busy machine."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _gz(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=6, mtime=0))


def page_weight(site: Path, page: Path) -> dict[str, int]:
    """Bytes of one page: HTML raw and gzipped, and everything its first view transfers (HTML, stylesheets,
    scripts; gzipped), then the chart bundle a visitor fetches on scrolling to a chart."""
    html = page.read_text(encoding="utf-8")
    assets = re.findall(r'<(?:link rel="stylesheet"|script[^>]*) (?:href|src)="/([^"]+)"', html)
    first = _gz(page) + sum(_gz(site / a) for a in assets if (site / a).is_file())
    lazy = sum(_gz(site / a) for a in set(re.findall(r'data-plotly="/([^"]+)"', html)))
    return {"html": page.stat().st_size, "html_gz": _gz(page), "first_view_gz": first, "charts_gz": lazy}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=int, default=2000)
    parser.add_argument("--gpus", type=int, default=60)
    parser.add_argument("--jobs", type=int, default=None, help="render processes (default: one per core)")
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="build in one process under cProfile; print N top costs"
    )
    parser.add_argument(
        "--warm",
        action="store_true",
        help="then build again into a new folder with the engine's results cached (what a rebuild costs)",
    )
    args = parser.parse_args()
    profiler = cProfile.Profile() if args.profile else None
    if profiler is not None:  # the engine's cache would compute in worker processes, out of the profiler's sight
        os.environ[engine_cache.ENV] = "off"
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="catalog-bench-") as tmp:
        cat, out = Path(tmp) / "catalog", Path(tmp) / "site"
        generate(cat, args.models, args.gpus)
        start, cpu = time.perf_counter(), _cpu_seconds()
        with PeakMemory() as mem:
            if profiler is not None:  # workers would escape the profiler: one process renders everything
                profiler.enable()
            result = build_site(cat, out, search=False, jobs=1 if profiler is not None else args.jobs)
            if profiler is not None:
                profiler.disable()
        seconds = time.perf_counter() - start
        if not result.ok:
            print("bench build failed")
            return 1
        pages = sorted(out.glob("models/*/index.html"), key=lambda p: p.stat().st_size)
        largest = page_weight(out, pages[-1])
        print(
            f"models={args.models} gpus={args.gpus} pages={result.pages} seconds={seconds:.1f} "
            f"pages_per_s={result.pages / seconds:.1f} peak_pss_mib={mem.peak_kib / 1024:.0f} "
            f"cores={len(os.sched_getaffinity(0))} load_before={load:.1f} build_cpu_s={_cpu_seconds() - cpu:.1f}\n"
            f"phases (wall s): {' '.join(f'{k}={v:.1f}' for k, v in result.phases.items())}\n"
            f"largest model page ({pages[-1].parent.name}): html={largest['html'] / 1024:.0f}KiB "
            f"html_gz={largest['html_gz'] / 1024:.0f}KiB "
            f"first_view_transfer_gz={largest['first_view_gz'] / 1024:.0f}KiB "
            f"chart_bundle_on_scroll_gz={largest['charts_gz'] / 1024:.0f}KiB"
        )
        if args.warm:
            start, cpu = time.perf_counter(), _cpu_seconds()
            with PeakMemory() as warm_mem:
                again = build_site(cat, Path(tmp) / "site-warm", search=False, jobs=args.jobs)
            seconds = time.perf_counter() - start
            print(
                f"warm engine cache: seconds={seconds:.1f} pages_per_s={again.pages / seconds:.1f} "
                f"peak_pss_mib={warm_mem.peak_kib / 1024:.0f} build_cpu_s={_cpu_seconds() - cpu:.1f} "
                f"phases (wall s): {' '.join(f'{k}={v:.1f}' for k, v in again.phases.items())}"
            )
    if profiler is not None:
        stats = pstats.Stats(profiler)
        stats.sort_stats("tottime").print_stats(args.profile)
        stats.sort_stats("cumulative").print_stats(args.profile)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
