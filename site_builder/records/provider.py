"""API providers and their per-model token prices."""

from __future__ import annotations

from pydantic import Field

from site_builder.records.common import Record, Slug, Sourced, Url

# Far above any listed API price (the dearest are a few hundred USD per million tokens): a typo guard.
MAX_USD_PER_MTOK = 10_000


class ApiPrice(Record):
    model: Slug
    input_usd_per_mtok: float = Field(ge=0, le=MAX_USD_PER_MTOK)
    output_usd_per_mtok: float = Field(ge=0, le=MAX_USD_PER_MTOK)
    as_of: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    source: Url
    note: str | None = None


class ProviderRecord(Sourced):
    id: Slug
    name: str
    url: Url
    api_prices: list[ApiPrice] = Field(default_factory=list)
