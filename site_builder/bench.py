"""`make bench`: build a large synthetic catalog and print pages per second and peak memory.

Shapes are drawn from the real catalog's models and GPUs (scaled and renamed), so the engine and templates
do realistic work. Run `python -m site_builder.bench --models 2000 --gpus 60`.
"""

from __future__ import annotations

import argparse
import gzip
import random
import resource
import shutil
import tempfile
import time
from pathlib import Path

import yaml

from site_builder.build import build_site

ROOT = Path(__file__).resolve().parent.parent


def _load(folder: Path) -> list[dict[str, object]]:
    return [yaml.safe_load(p.read_text()) for p in sorted(folder.glob("*.yaml"))]


def generate(target: Path, models: int, gpus: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    src = ROOT / "catalog"
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=int, default=2000)
    parser.add_argument("--gpus", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="catalog-bench-") as tmp:
        cat, out = Path(tmp) / "catalog", Path(tmp) / "site"
        generate(cat, args.models, args.gpus)
        start = time.perf_counter()
        result = build_site(cat, out, search=False)
        seconds = time.perf_counter() - start
        if not result.ok:
            print("bench build failed")
            return 1
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        pages = sorted(out.glob("models/*/index.html"), key=lambda p: p.stat().st_size)
        largest = pages[-1]
        gz = len(gzip.compress(largest.read_bytes()))
        print(
            f"models={args.models} gpus={args.gpus} pages={result.pages} seconds={seconds:.1f} "
            f"pages_per_s={result.pages / seconds:.1f} peak_rss_mib={peak_mib:.0f} "
            f"largest_model_page={largest.stat().st_size / 1024:.0f}KiB gzip={gz / 1024:.0f}KiB"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
