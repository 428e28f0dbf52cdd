"""The model page (/models/<id>/): one typed section per part of the product guide."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from site_builder.analysis import ModelData, SiteAnalysis
from site_builder.pages.calculator import Calculator, calculator_view
from site_builder.pages.model.architecture import Architecture, architecture
from site_builder.pages.model.catalog_facts import CatalogFacts, catalog_facts
from site_builder.pages.model.faq import Question, faq, faq_jsonld
from site_builder.pages.model.header import Header, header
from site_builder.pages.model.matrix import Matrix, matrix
from site_builder.pages.model.measured import MeasuredRow, measured_rows
from site_builder.pages.model.memory import Memory, PrecisionImpact, Vram, memory, precision_impact, vram
from site_builder.pages.model.pricing import Pricing, pricing
from site_builder.pages.model.recommendations import Recommendations, recommendations
from site_builder.pages.model.similar import SimilarCard, similar
from site_builder.pages.model.speed import Local, Performance, local, performance
from site_builder.pages.throughput_latency import throughput_latency_chart
from site_builder.records import ModelRecord


@dataclass(frozen=True)
class ModelPage:
    model: ModelRecord
    title: str
    description: str
    header: Header
    architecture: Architecture
    memory: Memory
    matrix: Matrix
    recommendations: Recommendations
    pricing: Pricing
    performance: Performance
    local: Local
    vram: Vram | None
    precision: PrecisionImpact
    facts: CatalogFacts
    measured: tuple[MeasuredRow, ...]
    similar: tuple[SimilarCard, ...]
    faq: tuple[Question, ...]
    jsonld: str  # schema.org FAQPage, written into the page head
    calculator: Calculator
    latency_chart: dict[str, Any] | None  # throughput against per-user speed as users are added
    charts: bool = True  # the page draws charts: base.html loads charts.js


def model_page(md: ModelData, site: SiteAnalysis, base: str) -> ModelPage:
    m = md.record
    questions = faq(md)
    return ModelPage(
        model=m,
        title=f"{m.name}: GPU requirements, VRAM, speed and cost",
        description=f"What it takes to self-host {m.name}: memory at every precision, which GPUs it fits, "
        f"throughput and cost per million tokens.",
        header=header(md, site),
        architecture=architecture(md),
        memory=memory(md),
        matrix=matrix(md, base),
        recommendations=recommendations(md, site, base),
        pricing=pricing(md),
        performance=performance(md, site, base),
        local=local(md, site, base),
        vram=vram(md),
        precision=precision_impact(md),
        facts=catalog_facts(md, site),
        measured=measured_rows(md, site),
        similar=similar(md, site, base),
        faq=questions,
        jsonld=faq_jsonld(questions),
        calculator=calculator_view(md, site, base),
        latency_chart=throughput_latency_chart(md),
    )
