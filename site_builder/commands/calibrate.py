"""`site-builder calibrate`: the engine's error against every measured benchmark record."""

from __future__ import annotations

import argparse
from pathlib import Path

from site_builder.commands.common import Subparsers, add_catalog


def register(sub: Subparsers[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("calibrate", help="compare the engine with every measured benchmark record")
    add_catalog(p)
    p.add_argument("--fit", action="store_true", help="also search efficiency factors that fit best")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print the engine's error against every benchmark record (`--fit`: also the best-fitting efficiencies)."""
    from site_builder.engine.calibrate import compare_all, fit_efficiency, fit_stack_per_sequence, summarize
    from site_builder.engine.errorbars import summarize_categories
    from site_builder.problems import CatalogError, Report
    from site_builder.validate import validate_catalog

    report = Report()
    catalog = validate_catalog(Path(args.catalog), report)
    if report.errors:
        raise CatalogError(report)
    models = {k: v.record for k, v in catalog.models.items()}
    gpus = {k: v.record for k, v in catalog.gpus.items()}
    fws = {k: v.record for k, v in catalog.frameworks.items()}
    benches = [v.record for v in catalog.benchmarks.values()]
    comps = compare_all(benches, models, gpus, fws)
    print(f"{'metric':34} {'n':>3} {'median |err|':>13} {'worst |err|':>12}  worst record")
    for row in summarize(comps):
        print(f"{row.metric:34} {row.count:>3} {row.median_ape:>12.1%} {row.worst_ape:>12.1%}  {row.worst_id}")
    print(
        f"{len(comps)} of {len(benches)} benchmark records compared (the rest lack a model, GPU or precision,"
        " or measure hardware only)"
    )
    print()
    print(f"{'category':34} {'n':>3} {'median |err|':>13} {'worst |err|':>12}  worst record")
    for cat in summarize_categories(comps, models, gpus, fws):
        if cat.median_ape is None or cat.worst_ape is None:
            print(f"{cat.category:34} {0:>3} {'no records':>13}")
            continue
        print(f"{cat.category:34} {cat.count:>3} {cat.median_ape:>12.1%} {cat.worst_ape:>12.1%}  {cat.worst_id}")
    if args.fit:
        fitted = fit_efficiency(benches, models, gpus, fws)
        for engine, eff in fitted.efficiency.items():
            print(
                f"fitted {engine}: memory={eff.memory} compute={eff.compute} step_overhead_s={eff.step_overhead_s}"
                f" per_sequence_s={eff.per_sequence_s} moe_token_layer_s={eff.moe_token_layer_s}"
            )
        for (engine, vendor), value in fit_stack_per_sequence(benches, models, gpus, fws).items():
            print(f"fitted per-sequence step cost, {engine} on {vendor}: {value * 1e6:g} us per layer")
    return 0
