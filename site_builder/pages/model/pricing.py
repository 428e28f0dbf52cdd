"""API prices and the break-even utilization of self-hosting against the cheapest API."""

from __future__ import annotations

from dataclasses import dataclass

from site_builder.engine.money import api_usd_per_request, breakeven_share, self_usd_per_request
from site_builder.engine.plan import Candidate, full_load
from site_builder.pages import format as F
from site_builder.pages.figures import Fig, engine, stated
from site_builder.pages.model.common import setup_label
from site_builder.pages.site import ModelData
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
    if not md.api_prices:
        return ()
    w = md.analysis.serve_workload
    prov, ap = min(
        md.api_prices,
        key=lambda t: api_usd_per_request(t[1].input_usd_per_mtok, t[1].output_usd_per_mtok, w.prompt, w.output),
    )
    api = api_usd_per_request(ap.input_usd_per_mtok, ap.output_usd_per_mtok, w.prompt, w.output)
    api_note = (
        f"{prov.name}, as of {ap.as_of}: {w.prompt:,} input tokens at {F.usd(ap.input_usd_per_mtok)}/M plus "
        f"{w.output:,} output tokens at {F.usd(ap.output_usd_per_mtok)}/M"
    )
    rows = (_breakeven_row(md, c, api, api_note) for c in md.analysis.recommendations)
    return tuple(r for r in rows if r is not None)


def _breakeven_row(md: ModelData, c: Candidate, api: float, api_note: str) -> BreakevenRow | None:
    w = md.analysis.serve_workload
    if c.cost is None or c.speed is None or not c.speed.output_tokens_per_s or w.output < 1:
        return None
    hourly = c.cost.price_per_hour_usd
    stated_cost = self_usd_per_request(hourly, c.speed.output_tokens_per_s, w.output)
    full = full_load(md.analysis.facts, c)
    full_tps = full.speed.output_tokens_per_s if full else None
    busy = self_usd_per_request(hourly, full_tps, w.output) if full_tps else None
    share = breakeven_share(busy, api) if busy is not None else None
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
