"""`site.toml`: where the site is published, what it is called and where its source lives.

Canonical links, Open Graph, the sitemap, robots.txt, the feed and the JSON API take their absolute URLs
from `base_url`; `site-builder build --base-url` overrides it for one build (a preview, an audit).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from site_builder.problems import Problem, display_path

FILENAME = "site.toml"
FIELDS = ("base_url", "title", "repository")
_AT = re.compile(r"\(at line (\d+), column (\d+)\)")


@dataclass(frozen=True)
class SiteConfig:
    base_url: str = "/"
    title: str = "Model Catalog"
    repository: str = ""  # empty: the pages link to no source repository


class ConfigError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.format() for p in problems))
        self.problems = problems


def find_config(catalog_dir: Path) -> Path:
    """The site.toml beside the catalog directory (the repository's top level)."""
    return catalog_dir.resolve().parent / FILENAME


def _line_of(text: str, key: str) -> int:
    for number, line in enumerate(text.splitlines(), 1):
        if line.split("=", 1)[0].strip() == key:
            return number
    return 1


def _check_url(key: str, value: str, absolute_only: bool) -> str | None:
    if absolute_only or "://" in value:
        if not re.fullmatch(r"https?://[^/\s]+(/\S*)?", value):
            return "must be an absolute http(s) URL, e.g. https://example.org/catalog/"
        if key == "base_url" and not value.endswith("/"):
            return "must end with '/', e.g. https://example.org/catalog/"
    elif not value.startswith("/"):
        return "must be an absolute http(s) URL or a path starting with '/'"
    return None


def load_config(path: Path) -> SiteConfig:
    """Read `path` (defaults where it does not exist); raise ConfigError with every problem found."""
    if not path.is_file():
        return SiteConfig()
    where = display_path(path)
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        at = _AT.search(str(err))
        line, col = (int(at.group(1)), int(at.group(2))) if at else (1, 1)
        raise ConfigError([Problem(where, line, col, "", _AT.sub("", str(err)).strip())]) from None
    problems = [
        Problem(where, _line_of(text, key), 1, key, f"unknown setting; expected one of {', '.join(FIELDS)}")
        for key in data
        if key not in FIELDS
    ]
    for key in FIELDS:
        value = data.get(key)
        if value is None:
            continue
        message = "must be a string" if not isinstance(value, str) else None
        if message is None and key != "title" and value:
            message = _check_url(key, value, absolute_only=key == "repository")
        if message is None and key == "title" and not value.strip():
            message = "must not be empty"
        if message:
            problems.append(Problem(where, _line_of(text, key), 1, key, message))
    if problems:
        raise ConfigError(problems)
    return SiteConfig(**{k: v for k, v in data.items() if k in FIELDS})
