"""Rules on family articles: the review date, and footnote citations against the sources that back them."""

from __future__ import annotations

import re
from collections.abc import Iterator

from site_builder.catalog import Located
from site_builder.problems import Problem, Severity
from site_builder.records import FamilyRecord
from site_builder.rules.registry import Finding, RuleContext, each_family, rule

CITE_RE = re.compile(r"\[\^([A-Za-z0-9_-]+)\]")


@rule("family.reviewed-not-future", "reviewed is not after today")
def reviewed_not_future(context: RuleContext) -> Iterator[Problem]:
    for f in context.catalog.families.values():
        if f.record.reviewed > context.today:
            yield f.problem(("reviewed",), f"{f.record.reviewed} is in the future")


@rule("family.citations-have-sources", "every [^key] the text cites is the key of a source")
@each_family
def citations_have_sources(f: Located[FamilyRecord]) -> Iterator[Finding]:
    keys = {c.key for c in f.record.sources}
    for key in sorted(set(CITE_RE.findall(f.body)) - keys):
        yield ("sources",), f"the text cites [^{key}] but no source has that key"


@rule("family.sources-cited", "the text cites every source", Severity.WARNING)
@each_family
def sources_cited(f: Located[FamilyRecord]) -> Iterator[Finding]:
    used = set(CITE_RE.findall(f.body))
    for i, source in enumerate(f.record.sources):
        if source.key not in used:
            yield ("sources", i, "key"), f"source {source.key!r} is never cited in the text"


@rule("family.source-keys-unique", "no two sources share a key")
@each_family
def source_keys_unique(f: Located[FamilyRecord]) -> Iterator[Finding]:
    keys = [c.key for c in f.record.sources]
    for i, key in enumerate(keys):
        if keys.count(key) > 1:
            yield ("sources", i, "key"), f"duplicate source key {key!r}"
