"""What base.html reads from every page model, whatever the page: its title, description and chart flag."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class PageModel(Protocol):
    """Every page model the build renders: a frozen dataclass with at least these fields (read-only)."""

    @property
    def title(self) -> str: ...

    @property
    def description(self) -> str: ...

    @property
    def charts(self) -> bool: ...  # the page draws charts: base.html loads charts.js


@dataclass(frozen=True)
class TextPage:
    """A page whose template holds all its text (about, search, 404): only what base.html reads."""

    title: str
    description: str
    charts: bool = False
