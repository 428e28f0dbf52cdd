"""The computed site: every engine result the pages need, derived once per build."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from site_builder.catalog import Catalog
from site_builder.engine.calibrate import Comparison, compare_all
from site_builder.engine.errorbars import ErrorBars, error_bars
from site_builder.engine.memory import ModelFacts
from site_builder.engine.plan import Analysis, Candidate
from site_builder.engine.quality import QualityIndex, quality_index
from site_builder.engine.similar import Similar, similar_all
from site_builder.engine_cache import EngineCache, default_dir
from site_builder.records import BenchmarkRecord, FamilyRecord, FrameworkRecord, GpuRecord, ModelRecord
from site_builder.records.provider import ApiPrice, ProviderRecord


@dataclass(frozen=True)
class ModelData:
    record: ModelRecord
    analysis: Analysis
    quality: QualityIndex | None
    similar: tuple[Similar, ...]
    benchmarks: tuple[Comparison | BenchmarkRecord, ...]
    api_prices: tuple[tuple[ProviderRecord, ApiPrice], ...]

    @property
    def facts(self) -> ModelFacts:
        return self.analysis.facts

    @property
    def best(self) -> Candidate | None:
        return self.analysis.recommendations[0] if self.analysis.recommendations else None


@dataclass
class SiteData:
    catalog: Catalog
    models: dict[str, ModelData] = field(default_factory=dict)
    comparisons: list[Comparison] = field(default_factory=list)

    @functools.cached_property
    def error_bars(self) -> ErrorBars:
        """Calibration residuals by metric, engine class and hardware class, for the speed figures' error bars."""
        return error_bars(self.comparisons, self.gpus, self.frameworks)

    @property
    def gpus(self) -> dict[str, GpuRecord]:
        return {k: v.record for k, v in sorted(self.catalog.gpus.items())}

    @property
    def frameworks(self) -> dict[str, FrameworkRecord]:
        return {k: v.record for k, v in sorted(self.catalog.frameworks.items())}

    @property
    def families(self) -> dict[str, FamilyRecord]:
        return {k: v.record for k, v in sorted(self.catalog.families.items())}

    def compare_pairs(self) -> list[tuple[str, str]]:
        pairs = set()
        for mid, md in self.models.items():
            for s in md.similar:
                pairs.add(tuple(sorted((mid, s.model.id))))
        return sorted(pairs)  # type: ignore[arg-type]


def compare_slug(a: str, b: str) -> str:
    x, y = sorted((a, b))
    return f"{x}-vs-{y}"


def compute_site(catalog: Catalog, previous: SiteData | None = None) -> SiteData:
    """Run the engine over the catalog. With `previous` (the preview server's last build), a model whose
    record, GPUs and frameworks are all unchanged keeps its analysis instead of being recomputed."""
    gpus = {k: v.record for k, v in sorted(catalog.gpus.items())}
    frameworks = {k: v.record for k, v in sorted(catalog.frameworks.items())}
    models = {k: v.record for k, v in sorted(catalog.models.items())}
    benches = [v.record for v in catalog.benchmarks.values()]
    comparisons = compare_all(benches, models, gpus, frameworks)
    by_model: dict[str, list[Comparison | BenchmarkRecord]] = {}
    compared = {c.record.id for c in comparisons}
    for c in comparisons:
        by_model.setdefault(c.record.model or "", []).append(c)
    for b in sorted(benches, key=lambda r: r.id):
        if b.model and b.id not in compared:
            by_model.setdefault(b.model, []).append(b)
    prices: dict[str, list[tuple[ProviderRecord, ApiPrice]]] = {}
    for p in sorted(catalog.providers.values(), key=lambda x: x.record.id):
        for ap in p.record.api_prices:
            prices.setdefault(ap.model, []).append((p.record, ap))

    reusable = previous is not None and previous.gpus == gpus and previous.frameworks == frameworks
    analyses = {}
    for mid, m in models.items():
        old = previous.models.get(mid) if previous is not None and reusable else None
        if old is not None and old.record == m:
            analyses[mid] = old.analysis
    engine = EngineCache(default_dir(catalog.root), gpus, frameworks)
    analyses.update(engine.analyse_all({mid: m for mid, m in models.items() if mid not in analyses}))
    qualities = {mid: quality_index(m) for mid, m in models.items()}
    triples = {mid: (m, analyses[mid].facts, qualities[mid]) for mid, m in models.items()}
    similar = similar_all(triples)
    site = SiteData(catalog=catalog, comparisons=comparisons)
    for mid, m in models.items():
        site.models[mid] = ModelData(
            record=m,
            analysis=analyses[mid],
            quality=qualities[mid],
            similar=similar[mid],
            benchmarks=tuple(by_model.get(mid, [])),
            api_prices=tuple(sorted(prices.get(mid, []), key=lambda t: t[1].output_usd_per_mtok)),
        )
    return site
