"""Number formatting for display. Units are explicit: GB here means 10**9 bytes, GiB 2**30."""

from __future__ import annotations

from site_builder.engine.constants import GIB

# From this value up, speeds and latencies show no decimals: a tenth is noise beside the engine's error.
WHOLE_FROM = 100
MS_PER_S = 1000
CENT = 0.01
# Context windows are powers of two; "128K" means 128 × 1024 tokens, as model cards write it.
TOKENS_PER_K = 1024


def gib(nbytes: float | None, digits: int = 1) -> str:
    if nbytes is None:
        return "unknown"
    return f"{nbytes / GIB:,.{digits}f} GiB"


def params(n: int | None) -> str:
    if n is None:
        return "unknown"
    if n >= 1e9:
        return f"{n / 1e9:,.2f}B" if n < 1e11 else f"{n / 1e9:,.0f}B"
    return f"{n / 1e6:,.0f}M"


def integer(n: int | float | None) -> str:
    return "unknown" if n is None else f"{n:,.0f}"


def tokens_per_s(v: float | None) -> str:
    if v is None:
        return "unknown"
    if v >= WHOLE_FROM:
        return f"{v:,.0f} tok/s"
    return f"{v:,.1f} tok/s"


def usd_request(v: float | None) -> str:
    """Dollars per request: requests cost fractions of a cent, so keep three significant figures."""
    if v is None:
        return "unknown"
    return f"${v:.3g}" if v >= CENT else f"${v:.2g}"


def ms(v: float | None) -> str:
    if v is None:
        return "unknown"
    if v >= MS_PER_S:
        return f"{v / MS_PER_S:,.2f} s"
    return f"{v:,.1f} ms" if v < WHOLE_FROM else f"{v:,.0f} ms"


def usd(v: float | None, digits: int = 2) -> str:
    if v is None:
        return "unknown"
    return f"${v:,.{digits}f}"


def usd_month(v: float | None) -> str:
    return "unknown" if v is None else f"${v:,.0f}/mo"


def context(n: int) -> str:
    if n >= TOKENS_PER_K and n % TOKENS_PER_K == 0:
        return f"{n // TOKENS_PER_K}K"
    return f"{n:,}"


def percent(v: float, digits: int = 0) -> str:
    return f"{v * 100:.{digits}f}%"
