"""Recommended setups for the serving workload, and the single- and multi-GPU deployment options."""

from __future__ import annotations

from dataclasses import dataclass

from site_builder.analysis import ModelData, SiteAnalysis
from site_builder.pages.model.common import CandidateView, candidate_view, work_note


@dataclass(frozen=True)
class Recommendations:
    cards: tuple[CandidateView, ...]
    serve_note: str  # the serving workload, stated once above the cards and the performance table
    min_single: CandidateView | None
    multi: CandidateView | None


def recommendations(md: ModelData, site: SiteAnalysis, base: str) -> Recommendations:
    an, mid, bars = md.analysis, md.record.id, site.error_bars
    return Recommendations(
        cards=tuple(candidate_view(c, base, mid, bars) for c in an.recommendations),
        serve_note=work_note(md.best) if md.best else "",
        min_single=candidate_view(an.min_single_gpu, base, mid, bars) if an.min_single_gpu else None,
        multi=candidate_view(an.best_multi_gpu, base, mid, bars) if an.best_multi_gpu else None,
    )
