"""Types shared by every record kind."""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

SLUG_RE = re.compile(r"^[a-z0-9]+(?:[-.][a-z0-9]+)*$")
URL_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*$")
# C0 controls other than tab, newline and carriage return (the ones XML 1.0 forbids, so feed.xml would break),
# DEL and the C1 controls: all invisible in text.
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# No figure in a record comes near this (parameters are ~1e12, context ~1e7); beyond it is a typo or
# an attempt to overflow the engine's floating-point arithmetic into `inf`.
LARGEST_NUMBER = 1e15


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


def _check_value(value: Any) -> None:
    if isinstance(value, str):
        found = CONTROL_RE.search(value)
        if found:
            raise ValueError(f"contains the control character U+{ord(found.group()):04X}; remove it")
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value) or abs(value) > LARGEST_NUMBER:
            raise ValueError(f"must be a finite number no larger than {LARGEST_NUMBER:.0e}, got {value}")
    elif isinstance(value, (list, tuple)):
        for item in value:
            _check_value(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_value(key)
            _check_value(item)


class Record(BaseModel):
    """Base of every catalog record: unknown fields are errors, values are immutable, numbers finite."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _sane(cls, value: Any) -> Any:
        """No control characters in text, no infinite or absurd numbers, in any field of any record."""
        _check_value(value)
        return value


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
