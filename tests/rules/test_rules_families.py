"""Family-article rules: the review date, and footnote citations against the sources that back them."""

from __future__ import annotations

from pathlib import Path

from rule_support import TODAY, at, family_text, run, start


def check(rule_id: str, tmp_path: Path, good: str, bad: str) -> tuple[list[str], Path]:
    """`rule_id`'s lines for the bad article (and its path), after asserting the good one passes."""
    assert run(rule_id, tmp_path / "good", {"families/f.md": good}) == []
    return run(rule_id, tmp_path / "bad", {"families/f.md": bad}), tmp_path / "bad" / "families" / "f.md"


def test_reviewed_not_future(tmp_path: Path) -> None:
    good = family_text("Cited. [^a]", ["a"], reviewed=TODAY.isoformat())
    lines, path = check("family.reviewed-not-future", tmp_path, good, family_text("Cited. [^a]", ["a"], "2026-01-16"))
    # The front matter starts on the file's second line: the position counts the '---' line too.
    assert lines == [f"{at(path, 'reviewed: ')}: reviewed: 2026-01-16 is in the future"]


def test_citations_have_sources(tmp_path: Path) -> None:
    lines, path = check(
        "family.citations-have-sources",
        tmp_path,
        family_text("One [^a].", ["a"]),
        family_text("One [^a], two [^b].", ["a"]),
    )
    assert lines == [f"{start(path, '- key: a')}: sources: the text cites [^b] but no source has that key"]


def test_sources_cited(tmp_path: Path) -> None:
    lines, path = check(
        "family.sources-cited",
        tmp_path,
        family_text("One [^a], two [^b].", ["a", "b"]),
        family_text("One [^a].", ["a", "b"]),
    )
    assert lines == [f"{at(path, 'key: ', nth=2)}: warning: sources.1.key: source 'b' is never cited in the text"]


def test_source_keys_unique(tmp_path: Path) -> None:
    lines, path = check(
        "family.source-keys-unique", tmp_path, family_text("One [^a].", ["a"]), family_text("One [^a].", ["a", "a"])
    )
    assert lines == [
        f"{at(path, 'key: ')}: sources.0.key: duplicate source key 'a'",
        f"{at(path, 'key: ', nth=2)}: sources.1.key: duplicate source key 'a'",
    ]
