"""Every colour the site uses, in one table: the build writes the CSS custom properties and fit-level rules
from it, and chart figures take their trace colours from it, so a chart and the page around it agree.

Light fit colours carry dark text; the axe browser test (tests/site/test_browser.py) checks colour contrast on
rendered pages.
"""

from __future__ import annotations

from dataclasses import dataclass

from site_builder.engine.fit import CellState, FitLevel


@dataclass(frozen=True)
class Swatch:
    background: str
    text: str | None = None  # None: the .cell rule's text colour in site.css


# Page tokens: (light, dark). site.css uses them as var(--name).
THEME: dict[str, tuple[str, str]] = {
    "bg": ("#fbfbfc", "#14161a"),
    "fg": ("#1c1f24", "#e6e8ec"),
    "muted": ("#5b6270", "#a5acb8"),
    "card": ("#fff", "#1c1f25"),
    "line": ("#e3e6eb", "#2e333c"),
    "accent": ("#2f5fc4", "#8fb0ff"),
    # Provenance underlines: computed by the engine, measured, stated by a source.
    "engine": ("#2f5fc4", "#8fb0ff"),
    "measured": ("#2f8f5b", "#7fd19f"),
    "stated": ("#8a5a00", "#e0b458"),
}

# Fit levels: green (plenty of headroom) through red (barely fits) to grey (does not fit). The same in both
# colour schemes, so a screenshot reads the same either way.
FIT_COLOURS: dict[FitLevel, Swatch] = {
    FitLevel.EXCELLENT: Swatch("#267a4c"),
    FitLevel.GOOD: Swatch("#8cc17a", "#1c1f24"),
    FitLevel.MODERATE: Swatch("#e6c84a", "#1c1f24"),
    FitLevel.TIGHT: Swatch("#e0893a", "#1c1f24"),
    FitLevel.VERY_TIGHT: Swatch("#b83b3b"),
    FitLevel.NO_FIT: Swatch("#5f646d", "#fff"),
}

# Chart traces in order; a stacked chart cycles through them.
CHART_PALETTE = ("#3b6fd8", "#e0803a", "#4ca37a", "#b04fc0", "#c94a4a", "#8a8f98")
CHART_LIMIT_LINE = "#c94a4a"  # a limit drawn across bars (usable memory)
CHART_REFERENCE_LINE = "#888"  # a reference diagonal (prediction = measurement)


def _css_class(level: FitLevel | CellState) -> str:
    return ".fit-" + level.value.replace("/", "\\/")


def _rule(selector: str, declarations: dict[str, str]) -> str:
    return selector + "{" + ";".join(f"{k}:{v}" for k, v in declarations.items()) + "}"


def css_custom_properties() -> str:
    """Custom properties for the light scheme and the dark one; fit colours are the same in both."""
    light = {f"--{name}": pair[0] for name, pair in THEME.items()}
    light |= {f"--fit-{level.value}": s.background for level, s in FIT_COLOURS.items()}
    dark = {f"--{name}": pair[1] for name, pair in THEME.items()}
    return _rule(":root", light) + "\n@media (prefers-color-scheme:dark){" + _rule(":root", dark) + "}"


def css_fit_rules() -> str:
    """One rule per fit level, and a plain style for cells without one. They must follow the .cell rule."""
    rules = []
    for level, s in FIT_COLOURS.items():
        declarations = {"background": f"var(--fit-{level.value})"}
        if s.text is not None:
            declarations["color"] = s.text
        rules.append(_rule(_css_class(level), declarations))
    no_level = ",".join(_css_class(state) for state in CellState)
    rules.append(_rule(no_level, {"background": "transparent", "color": "var(--muted)"}))
    return "\n".join(rules)
