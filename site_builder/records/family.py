"""Family articles: Markdown with YAML front matter."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from site_builder.records.common import Record, Slug, Url


class Citation(Record):
    key: str = Field(pattern=r"^[A-Za-z0-9_-]+$", description="Footnote key used as [^key] in the text.")
    title: str
    url: Url
    accessed: dt.date | None = None


class FamilyRecord(Record):
    id: Slug
    title: str
    organization: str
    description: str = Field(description="One sentence for listings and meta tags.")
    reviewed: dt.date
    revision: int = Field(ge=1)
    links: dict[str, Url] = Field(default_factory=dict, description="Homepage, GitHub, Hugging Face...")
    sources: list[Citation] = Field(min_length=1)
