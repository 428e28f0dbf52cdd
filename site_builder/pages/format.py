"""Number formatting for display. Units are explicit: GB here means 10**9 bytes, GiB 2**30."""

from __future__ import annotations

from site_builder.engine.constants import GIB


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
    if v >= 100:
        return f"{v:,.0f} tok/s"
    return f"{v:,.1f} tok/s"


def usd_request(v: float | None) -> str:
    """Dollars per request: requests cost fractions of a cent, so keep three significant figures."""
    if v is None:
        return "unknown"
    return f"${v:.3g}" if v >= 0.01 else f"${v:.2g}"


def ms(v: float | None) -> str:
    if v is None:
        return "unknown"
    if v >= 1000:
        return f"{v / 1000:,.2f} s"
    return f"{v:,.1f} ms" if v < 100 else f"{v:,.0f} ms"


def usd(v: float | None, digits: int = 2) -> str:
    if v is None:
        return "unknown"
    return f"${v:,.{digits}f}"


def usd_month(v: float | None) -> str:
    return "unknown" if v is None else f"${v:,.0f}/mo"


def context(n: int) -> str:
    if n >= 1024 and n % 1024 == 0:
        return f"{n // 1024}K"
    return f"{n:,}"


def percent(v: float, digits: int = 0) -> str:
    return f"{v * 100:.{digits}f}%"
