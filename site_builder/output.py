"""Writing the site: everything goes to a fresh directory beside the output, swapped in at the end.

A failed build removes its temporary directory and leaves the previous site exactly as it was. The output
directory is only ever replaced when it is absent, empty or a previous build (it holds `MARKER`), and never
when it is, or contains, the catalog, the repository or the working directory: `--out .` must not delete
someone's files.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from site_builder.paths import REPOSITORY

MARKER = ".site-builder-output"
MARKER_TEXT = "Written by site-builder: this directory is replaced on every build.\n"


class UnsafeOutputError(Exception):
    """The output directory holds something a build must not replace; nothing was touched."""


def _is_previous_build(out: Path) -> bool:
    if (out / MARKER).is_file():
        return True
    # Sites built before the marker existed: the home page and the JSON API only this builder writes.
    return (out / "index.html").is_file() and (out / "api" / "v1" / "models.json").is_file()


def check_output_dir(out: Path, catalog: Path) -> None:
    """Raise UnsafeOutputError unless replacing `out` can only lose a previous build."""
    if out.is_symlink():
        raise UnsafeOutputError(f"output directory {out} is a symbolic link; give the real directory")
    target = out.resolve()
    protected = {
        "the catalog": catalog.resolve(),
        "the repository": REPOSITORY,
        "the working directory": Path.cwd().resolve(),
        "the home directory": Path.home().resolve(),
    }
    for what, path in protected.items():
        if path == target or path.is_relative_to(target):
            relation = "is" if path == target else "contains"
            raise UnsafeOutputError(f"refusing to replace {out}: it {relation} {what}; choose another --out")
    if not target.exists():
        return
    if not target.is_dir():
        raise UnsafeOutputError(f"refusing to replace {out}: it is a file, not a directory")
    if any(target.iterdir()) and not _is_previous_build(target):
        raise UnsafeOutputError(
            f"refusing to replace {out}: it is not empty and not a previous build (no {MARKER} file); "
            "choose another --out or empty it yourself"
        )


def mark(out: Path) -> None:
    """Mark `out` as ours, so the next build may replace it."""
    (out / MARKER).write_text(MARKER_TEXT, encoding="utf-8")


@contextmanager
def staging_dir(out: Path) -> Iterator[Path]:
    """Yield an empty directory on the same filesystem as `out`; swap it in if the block succeeds."""
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.build-", dir=out.parent))
    try:
        yield tmp
        mark(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    swap(tmp, out)


def swap(new: Path, out: Path) -> None:
    old = out.with_name(f".{out.name}.old-{os.getpid()}-{time.time_ns()}")
    if out.exists():
        out.replace(old)
    new.replace(out)
    # mkdtemp creates 0700 directories; a published site must be readable.
    out.chmod(0o755)
    if old.exists():
        remove_later(old)


def remove_later(old: Path) -> None:
    """Remove the replaced site in a detached process: the new site is already in place, and unlinking a few
    thousand files took seconds of a one-second incremental build on a busy disk."""
    code = "import shutil, sys; shutil.rmtree(sys.argv[1], ignore_errors=True)"
    try:
        subprocess.Popen(
            [sys.executable, "-c", code, str(old)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # not stopped by a Ctrl-C meant for the build
        )
    except OSError:
        shutil.rmtree(old, ignore_errors=True)


def write_text(root: Path, rel: str, text: str) -> Path:
    return write_bytes(root, rel, text.encode("utf-8"))


def write_bytes(root: Path, rel: str, data: bytes) -> Path:
    """Write one file by rename, so the preview server never serves a half-written (or empty) page."""
    path = root / rel
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    try:
        try:
            tmp.write_bytes(data)
        except FileNotFoundError:  # its folder is new (most files share a folder already made: no mkdir for them)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(data)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
