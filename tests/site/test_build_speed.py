"""What keeps builds and queries fast: no layout re-parse in builds, queries read only their records."""

from __future__ import annotations

from pathlib import Path

from site_builder.build import build_site
from site_builder.catalog import load_catalog
from site_builder.problems import Report
from site_builder.validate import FORMAT_RULE, validate_catalog


def test_the_layout_check_runs_in_check_not_in_builds(catalog_copy: Path) -> None:
    record = catalog_copy / "models" / "internlm-20b.yaml"
    lines = record.read_text().splitlines(keepends=True)
    record.write_text("".join([lines[1], lines[0], *lines[2:]]))  # same data, keys out of canonical order
    checked, built = Report(), Report()
    validate_catalog(catalog_copy, checked)
    validate_catalog(catalog_copy, built, format_check=False)
    assert [p.path for p in checked.problems if p.rule == FORMAT_RULE] == [str(record)]
    assert not built.problems


def test_a_query_reads_only_the_records_it_needs(catalog_copy: Path) -> None:
    (catalog_copy / "providers" / "broken.yaml").write_text("id: [\n")
    (catalog_copy / "models" / "zz-broken.yaml").write_text("id: [\n")
    report = Report()
    only: dict[str, set[str] | None] = {"models": {"internlm-20b", "no-such-model"}, "gpus": None, "frameworks": None}
    catalog = load_catalog(catalog_copy, report, only=only)
    assert not report.problems, "records the query does not read are not parsed"
    assert list(catalog.models) == ["internlm-20b"]
    assert set(catalog.gpus) == {p.stem for p in (catalog_copy / "gpus").glob("*.yaml")}
    assert not catalog.providers and not catalog.benchmarks and not catalog.families
    everything = Report()
    load_catalog(catalog_copy, everything)
    assert {Path(p.path).name for p in everything.errors} == {"broken.yaml", "zz-broken.yaml"}


def test_a_build_with_unchanged_inputs_does_nothing_and_an_edit_rebuilds(tmp_path: Path, catalog_copy: Path) -> None:
    out = tmp_path / "site"
    first = build_site(catalog_copy, out, search=False)
    assert first.ok and first.pages > 100
    page = out / "models/internlm-20b/index.html"
    inode, marker = out.stat().st_ino, (out / ".build-inputs").read_text()
    again = build_site(catalog_copy, out, search=False)
    assert again.ok and again.pages == first.pages
    assert out.stat().st_ino == inode, "an up-to-date site is left in place, not rebuilt and swapped"
    assert build_site(catalog_copy, out, search=False, base_url="/other/").ok
    assert out.stat().st_ino != inode, "different options are different inputs"
    record = catalog_copy / "models/internlm-20b.yaml"
    record.write_text(record.read_text().replace("name: InternLM 20B", "name: InternLM 20B (edited)", 1))
    assert build_site(catalog_copy, out, search=False).ok
    assert "InternLM 20B (edited)" in page.read_text()
    assert (out / ".build-inputs").read_text() != marker


def test_similar_models_are_the_top_scores_of_every_pair() -> None:
    from site_builder.engine.plan import facts_of
    from site_builder.engine.quality import quality_index
    from site_builder.engine.similar import SIMILAR_COUNT, relations, similar_all, similar_models, similarity

    catalog = load_catalog(Path("catalog"), Report(), only={"models": None})
    models = {mid: (m.record, facts_of(m.record), quality_index(m.record)) for mid, m in catalog.models.items()}
    assert len(models) > SIMILAR_COUNT
    every_model = similar_all(models)
    for mid, (a, fa, qa) in models.items():
        # The definition, spelt out: score every other model, best first, ties by id; describe the kept ones.
        every = [(similarity(a, fa, b, fb), oid, b, fb, qb) for oid, (b, fb, qb) in models.items() if oid != mid]
        every.sort(key=lambda t: (-t[0], t[1]))
        expected = [(oid, score, relations(a, fa, qa, b, fb, qb)) for score, oid, b, fb, qb in every[:SIMILAR_COUNT]]
        assert [(s.model.id, s.score, s.relations) for s in similar_models(a, models)] == expected
        assert every_model[mid] == similar_models(a, models)


def test_similar_models_of_a_large_catalog_with_many_ties_are_the_top_scores_of_every_pair() -> None:
    """Copies of the real models (the bench's catalog) tie on every term: the search that skips pairs must still
    return exactly what scoring every pair returns, ties by id."""
    from site_builder.engine.plan import facts_of
    from site_builder.engine.quality import quality_index
    from site_builder.engine.similar import similar_all, similar_models

    catalog = load_catalog(Path("catalog"), Report(), only={"models": None})
    base = [m.record for _, m in sorted(catalog.models.items())]
    copies = [base[i % len(base)].model_copy(update={"id": f"{base[i % len(base)].id}-copy{i}"}) for i in range(400)]
    models = {m.id: (m, facts_of(m), quality_index(m)) for m in [*base, *copies]}
    fast = similar_all(models)
    for mid in list(models)[::7]:
        assert fast[mid] == similar_models(models[mid][0], models)
