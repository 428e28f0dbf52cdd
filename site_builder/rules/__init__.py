"""Cross-record rules: a registry of small named checks (`site-builder check --list-rules` lists them).

Schema checks (types, required fields, unknown fields) happen while loading; these rules check what a
schema cannot: references between records, architecture consistency, dates, and stated figures against
computed ones. Each module holds one group; importing it registers its rules.
"""

from site_builder.rules import architecture, families, gpus, models, records, references
from site_builder.rules.gpus import pcie_link_gbps
from site_builder.rules.records import FORMAT_RULE
from site_builder.rules.references import HIDDEN_REFERENCES
from site_builder.rules.registry import RULES, Rule, RuleContext, rule, run_rules

GROUPS = (architecture, families, gpus, models, records, references)

__all__ = [
    "FORMAT_RULE",
    "GROUPS",
    "HIDDEN_REFERENCES",
    "RULES",
    "Rule",
    "RuleContext",
    "pcie_link_gbps",
    "rule",
    "run_rules",
]
