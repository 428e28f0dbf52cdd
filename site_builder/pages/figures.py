"""A figure on a page: its text plus where it comes from, shown on hover/focus and in print."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Provenance = Literal["engine", "measured", "stated"]
PROVENANCE_LABEL = {"engine": "computed by the engine", "measured": "measured", "stated": "stated by a source"}


@dataclass(frozen=True)
class Fig:
    text: str
    prov: Provenance
    note: str = ""
    href: str | None = None

    @property
    def label(self) -> str:
        return PROVENANCE_LABEL[self.prov]


def engine(text: str, note: str = "") -> Fig:
    return Fig(text, "engine", note)


def stated(text: str, note: str = "", href: str | None = None) -> Fig:
    return Fig(text, "stated", note, href)


def measured(text: str, note: str = "", href: str | None = None) -> Fig:
    return Fig(text, "measured", note, href)
