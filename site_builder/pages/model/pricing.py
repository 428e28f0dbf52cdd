"""API prices and the break-even utilization of self-hosting against the cheapest API."""

from __future__ import annotations

from dataclasses import dataclass

from site_builder.analysis import BreakevenRow as Computed
from site_builder.analysis import ModelData
from site_builder.pages import format as F
from site_builder.pages.figures import Fig, engine, stated
from site_builder.pages.model.common import setup_label
from site_builder.records.provider import ApiPrice, ProviderRecord


@dataclass(frozen=True)
class ApiRow:
    provider: str
    href: str
    input: Fig
    output: Fig
    note: str


@dataclass(frozen=True)
class BreakevenRow:
    label: str
    self: Fig
    busy: Fig
    api: Fig
    utilization: Fig


@dataclass(frozen=True)
class Pricing:
    api_rows: tuple[ApiRow, ...]
    breakeven: tuple[BreakevenRow, ...]


def pricing(md: ModelData) -> Pricing:
    return Pricing(tuple(_api_row(prov, ap) for prov, ap in md.api_prices), _breakeven(md))


def _api_row(prov: ProviderRecord, ap: ApiPrice) -> ApiRow:
    return ApiRow(
        provider=prov.name,
        href=prov.url,
        input=stated(F.usd(ap.input_usd_per_mtok), f"as of {ap.as_of}", ap.source),
        output=stated(F.usd(ap.output_usd_per_mtok), f"as of {ap.as_of}", ap.source),
        note=ap.note or "",
    )


def _breakeven(md: ModelData) -> tuple[BreakevenRow, ...]:
    """Per recommended setup: dollars per request at the stated load and at full load, against the cheapest API."""
    be = md.breakeven
    if be is None:
        return ()
    w = md.analysis.serve_workload
    prov, ap, api = be.provider, be.price, be.api_usd_per_request
    api_note = (
        f"{prov.name}, as of {ap.as_of}: {w.prompt:,} input tokens at {F.usd(ap.input_usd_per_mtok)}/M plus "
        f"{w.output:,} output tokens at {F.usd(ap.output_usd_per_mtok)}/M"
    )
    return tuple(_breakeven_row(md, row, api, api_note) for row in be.rows)


def _breakeven_row(md: ModelData, row: Computed, api: float, api_note: str) -> BreakevenRow:
    w = md.analysis.serve_workload
    c, full, busy, share = row.candidate, row.full, row.busy_usd_per_request, row.share
    hourly, stated_cost = row.usd_per_hour, row.usd_per_request
    if busy is None:
        verdict = engine("unknown", "no throughput estimate at full load")
    elif share is None:
        verdict = engine(
            "never",
            "The API is cheaper even when the GPUs are busy all month: at full load a request costs "
            f"{F.usd_request(busy)} self-hosted against {F.usd_request(api)} from the API",
        )
    else:
        verdict = engine(
            F.percent(share),
            "Self-hosting costs the same per request as the cheapest API when the GPUs are busy at full load "
            "this share of the month (rent is paid whether or not they are)",
        )
    return BreakevenRow(
        label=setup_label(c),
        self=engine(
            F.usd_request(stated_cost),
            f"{F.usd(hourly)}/h ÷ requests per hour at {w.concurrency} concurrent users",
        ),
        busy=engine(
            F.usd_request(busy) if busy is not None else "unknown",
            f"{full.concurrency} concurrent users, the throughput-optimal load that fits" if full else "",
        ),
        api=engine(F.usd_request(api), api_note),
        utilization=verdict,
    )
