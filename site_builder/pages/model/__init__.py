"""The model page, one module per section; the names other page modules use are re-exported here."""

from site_builder.pages.model.common import (
    CandidateView,
    attention_kind,
    candidate_view,
    deploy_slug,
    setup_label,
    work_note,
)
from site_builder.pages.model.page import ModelPage, model_page

__all__ = [
    "CandidateView",
    "ModelPage",
    "attention_kind",
    "candidate_view",
    "deploy_slug",
    "model_page",
    "setup_label",
    "work_note",
]
