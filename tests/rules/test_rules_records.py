"""Rules on any record: its id against its file name, the fields its sources name, its canonical layout."""

from __future__ import annotations

from pathlib import Path

from rule_support import at, model_data, run, shipped_text, start


def test_id_matches_file(tmp_path: Path) -> None:
    assert run("record.id-matches-file", tmp_path / "good", {"models/m.yaml": model_data()}) == []
    lines = run("record.id-matches-file", tmp_path / "bad", {"models/other.yaml": model_data()})
    assert lines == [f"{at(tmp_path / 'bad' / 'models' / 'other.yaml', 'id: ')}: id: must equal the file name 'other'"]


def test_supports_name_fields(tmp_path: Path) -> None:
    def sourced(*supports: str) -> dict[str, object]:
        return model_data() | {"sources": [{"url": "https://example.org/c", "title": "c", "supports": list(supports)}]}

    rule = "record.supports-name-fields"
    assert run(rule, tmp_path / "good", {"models/m.yaml": sourced("architecture", "architecture.hidden_size")}) == []
    lines = run(rule, tmp_path / "bad", {"models/m.yaml": sourced("architecture", "architecure")})
    path = tmp_path / "bad" / "models" / "m.yaml"
    assert lines == [f"{start(path, 'architecure')}: sources.0.supports.1: names no field of the record: 'architecure'"]


def test_canonical_format(tmp_path: Path) -> None:
    text = shipped_text("models", "internlm-20b")
    assert run("record.canonical-format", tmp_path / "good", {"models/internlm-20b.yaml": text}) == []
    # The same record with `name` before `id`: canonical order puts the id first.
    lines = text.splitlines(keepends=True)
    i, j = (
        next(n for n, s in enumerate(lines) if s.startswith("id:")),
        next(n for n, s in enumerate(lines) if s.startswith("name:")),
    )
    lines[i], lines[j] = lines[j], lines[i]
    bad = run("record.canonical-format", tmp_path / "bad", {"models/internlm-20b.yaml": "".join(lines)})
    path = tmp_path / "bad" / "models" / "internlm-20b.yaml"
    assert bad == [f"{path}:1:1: warning: format: not in canonical key order and style (run `site-builder fmt`)"]
