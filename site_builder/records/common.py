"""Types shared by every record kind."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

SLUG_RE = re.compile(r"^[a-z0-9]+(?:[-.][a-z0-9]+)*$")
URL_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*$")


def _slug(value: str) -> str:
    if not SLUG_RE.match(value):
        raise ValueError(f"must be a lowercase slug (letters, digits, '-' or '.'), got {value!r}")
    return value


def _url(value: str) -> str:
    if not URL_RE.match(value):
        raise ValueError(f"must be an http(s) URL, got {value!r}")
    return value


Slug = Annotated[str, AfterValidator(_slug), Field(description="Lowercase id: letters, digits, '-' and '.'.")]
Url = Annotated[str, AfterValidator(_url), Field(description="An http(s) URL.")]

PrecisionId = Literal[
    "fp32",
    "bf16",
    "fp16",
    "fp8",
    "int8",
    "awq-int4",
    "gptq-int4",
    "int4",
    "int4-experts",
    "mxfp4",
    "nvfp4",
    "q8_0",
    "q6_k",
    "q5_k_m",
    "q4_k_m",
    "q4_0",
]
KvPrecisionId = Literal["fp16", "bf16", "fp8", "fp32", "q8_0"]


class Record(BaseModel):
    """Base of every catalog record: unknown fields are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Source(Record):
    """Where a fact comes from. `supports` names the record fields this source backs."""

    url: Url
    title: str | None = Field(default=None, description="Title of the page or document.")
    supports: list[str] = Field(
        default_factory=list,
        description="Record fields (dotted paths) this source backs, e.g. ['release_date', 'license'].",
    )
    accessed: dt.date | None = Field(default=None, description="When the source was read (YYYY-MM-DD).")
    quote: str | None = Field(default=None, description="The sentence or table row that states the fact.")


class Sourced(Record):
    sources: list[Source] = Field(min_length=1, description="Every source a figure in this record comes from.")
