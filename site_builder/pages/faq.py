"""schema.org FAQPage JSON-LD from a model page's FAQ."""

from __future__ import annotations

import json
from typing import Any


def faq_jsonld(page: dict[str, Any]) -> str:
    data = {
        "@context": "https://schema.org",
        "@type": "FAQPage",
        "mainEntity": [
            {"@type": "Question", "name": f["q"], "acceptedAnswer": {"@type": "Answer", "text": f["a"]}}
            for f in page["faq"]
        ],
    }
    # "</" would close the surrounding <script>; JSON allows the escaped form.
    return json.dumps(data, sort_keys=True, ensure_ascii=False).replace("</", "<\\/")
