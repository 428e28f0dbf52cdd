"""The GPU page's "which models run on this GPU for my context and users" control.

The page arrives with the static table (the matrix's one-sequence fit check and the serving workload's speed);
static/gpu_fit.js recomputes every row with static/engine.js, which answers what `site-builder estimate --json`
prints, for the reader's context, users and GPU count. The query keeps `estimate`'s flag names: `context`,
`concurrency`, `gpus`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from site_builder.engine import constants as C
from site_builder.engine.plan import MATRIX_PRECISIONS
from site_builder.pages.labels import FIT_LABELS
from site_builder.records import GpuRecord

# The answer the speed column assumes, as on the rest of the site; the prompt fills the rest of the context.
ANSWER_TOKENS = C.SERVE_OUTPUT


@dataclass(frozen=True)
class GpuControl:
    gpu: str
    per: int  # GPUs in one record (a bundle's count): the GPU count moves in these steps
    context: int
    concurrency: int
    gpus: int
    answer: int
    precisions: str  # JSON list: the matrix columns, in order
    fit_labels: str  # JSON: fit level -> label
    data_url: str
    script: str
    static_note: str


def gpu_control(g: GpuRecord, base: str, static_note: str) -> GpuControl:
    per = g.bundle.count if g.bundle else 1
    return GpuControl(
        gpu=g.id,
        per=per,
        context=C.FIT_CONTEXT,
        concurrency=1,
        gpus=per,
        answer=ANSWER_TOKENS,
        precisions=json.dumps(list(MATRIX_PRECISIONS)),
        fit_labels=json.dumps(FIT_LABELS, sort_keys=True),
        data_url=f"{base}api/v1/engine/",
        script=f"{base}static/gpu_fit.js",
        static_note=static_note,
    )
