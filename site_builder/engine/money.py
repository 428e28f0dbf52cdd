"""Money per request: an API's price against self-hosting at the stated load and at the busiest load that fits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from site_builder.engine.estimate import SpeedResult, Workload, speed
from site_builder.engine.hardware import Setup
from site_builder.engine.memory import ModelFacts
from site_builder.engine.precision import Precision
from site_builder.records.framework import EngineClass
from site_builder.records.provider import ApiPrice, ProviderRecord

SECONDS_PER_HOUR = 3600


def api_usd_per_request(input_usd_per_mtok: float, output_usd_per_mtok: float, prompt: int, output: int) -> float:
    """An API bills the prompt's tokens at its input price and the answer's at its output price."""
    return (prompt * input_usd_per_mtok + output * output_usd_per_mtok) / 1e6


def model_api_prices(providers: Iterable[ProviderRecord], model_id: str) -> list[tuple[ProviderRecord, ApiPrice]]:
    """Every sourced API price of a model, providers by id: the order in which cheapest_api settles a tie."""
    return [(p, ap) for p in sorted(providers, key=lambda x: x.id) for ap in p.api_prices if ap.model == model_id]


def cheapest_api(
    prices: Sequence[tuple[ProviderRecord, ApiPrice]], prompt: int, output: int
) -> tuple[ProviderRecord, ApiPrice, float] | None:
    """The API that charges least for one request of this prompt and answer length, its price, and that charge in
    USD; a tie goes to the first in `prices` (model_api_prices: by provider id)."""
    best: tuple[ProviderRecord, ApiPrice, float] | None = None
    for provider, ap in prices:
        usd = api_usd_per_request(ap.input_usd_per_mtok, ap.output_usd_per_mtok, prompt, output)
        if best is None or usd < best[2]:
            best = (provider, ap, usd)
    return best


def self_usd_per_request(usd_per_hour: float, output_tokens_per_s: float, output: int) -> float:
    """Rented GPUs cost by the hour: the hour's price over the requests the setup completes in it."""
    requests_per_s = output_tokens_per_s / output
    return usd_per_hour / SECONDS_PER_HOUR / requests_per_s


@dataclass(frozen=True, slots=True)
class FullLoad:
    concurrency: int
    speed: SpeedResult


def throughput_optimal(
    facts: ModelFacts, prec: Precision, setup: Setup, work: Workload, engine: EngineClass, max_concurrency: int
) -> FullLoad | None:
    """The concurrency (powers of two up to what fits, and what fits itself) with the most output tokens/s."""
    if max_concurrency < 1 or work.output < 1:
        return None
    trials = sorted({min(2**i, max_concurrency) for i in range(max_concurrency.bit_length() + 1)})
    best: FullLoad | None = None
    for n in trials:
        trial = Workload(work.context, n, work.prompt, work.output, work.kv_precision)
        spd = speed(facts, prec, setup, trial, engine, slots=max_concurrency)
        if spd is None or not spd.output_tokens_per_s:
            continue
        if best is None or spd.output_tokens_per_s > (best.speed.output_tokens_per_s or 0):
            best = FullLoad(n, spd)
    return best


def breakeven_share(busy_usd_per_request: float, api_usd_per_request: float) -> float | None:
    """Share of the month the GPUs must be busy at full load for self-hosting to cost what the API does.

    The month's rent is fixed; at full load it buys requests at `busy_usd_per_request`. Self-hosting matches the API
    once traffic fills busy / api of the month; above 1 it never does (None).
    """
    if api_usd_per_request <= 0:
        return None
    share = busy_usd_per_request / api_usd_per_request
    return share if share <= 1 else None
