"""schema.org FAQPage JSON-LD from a model page's FAQ."""

from __future__ import annotations

from typing import Any

from site_builder.render import script_json


def faq_jsonld(page: dict[str, Any]) -> str:
    data = {
        "@context": "https://schema.org",
        "@type": "FAQPage",
        "mainEntity": [
            {"@type": "Question", "name": f["q"], "acceptedAnswer": {"@type": "Answer", "text": f["a"]}}
            for f in page["faq"]
        ],
    }
    return script_json(data)
