"""Static search index with Pagefind (the PyPI package ships the binary), run over the finished site."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def pagefind_binary() -> list[str]:
    return [sys.executable, "-m", "pagefind"]


def index_site(site: Path) -> None:
    result = subprocess.run(
        [*pagefind_binary(), "--site", str(site), "--silent"], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"pagefind failed: {result.stderr.strip() or result.stdout.strip()}")
