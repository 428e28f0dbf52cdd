"""Incremental builds: after an edit to catalog records, render only the pages whose inputs changed.

Every build writes a manifest beside its pages: a hash of everything that is not a record (code, templates,
static files, site config, options), a hash per record, the site-wide values any page may show, each page's
declared inputs (`Page.deps`), the sha256 of each page and a digest of the HTML Pagefind indexed. The next build
compares: when only records changed, it renders the pages whose old or new inputs name a changed record (old: a page
that stopped listing a similar model changes too), and any page the previous site lacks; every other page is taken
from the previous site as a hard link (made by another process while the catalog is loaded and analysed: Seeding),
and a rendered page whose bytes did not change keeps its link. A change to a site-wide value renders every page into
that copy; anything else changed (code, templates, static files, config, options), or a previous site without a
readable manifest, and the build renders every page into an empty directory. The result is byte-identical to a
clean build (tests/site/test_incremental.py).
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import shutil
import threading
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeGuard, TypeVar

from site_builder.uptodate import Inputs

if TYPE_CHECKING:
    from site_builder.analysis import SiteAnalysis


class Page(Protocol):
    """What this module reads of rendering.Page (which imports this module)."""

    @property
    def path(self) -> str: ...

    @property
    def deps(self) -> frozenset[str]: ...


P = TypeVar("P", bound=Page)

MANIFEST = ".build-manifest.json"
VERSION = 2


@dataclass(frozen=True)
class Manifest:
    code: str
    records: dict[str, str]
    site: dict[str, str]  # values every page may show (catalog date, error bars): a change renders every page
    pages: dict[str, list[str]]  # output path -> the records it depends on, as Page.deps names them
    search: str = ""  # digest of the HTML pages Pagefind indexed; "" when the build made no search index
    digests: dict[str, str] = field(default_factory=dict)  # output path -> sha256 of the HTML page written there

    def text(self) -> str:
        return json.dumps({"version": VERSION, **asdict(self)}, sort_keys=True, separators=(",", ":")) + "\n"


def new_manifest(
    inputs: Inputs, derived: dict[str, str], site_values: dict[str, str], pages: Sequence[Page]
) -> Manifest:
    """`derived`: hashes of parts of records, for pages that read only those parts (see model_figures)."""
    records = {**inputs.records, **derived}
    return Manifest(inputs.code, records, site_values, {p.path: sorted(p.deps) for p in pages})


# What a page that lists every model (the index) never shows: an edit to these alone does not re-render it.
TEXT_FIELDS = {"description", "sources"}


def model_figures(site: SiteAnalysis) -> dict[str, str]:
    """ "model-figures/<id>": a hash of each model record without its prose and citations."""
    return {
        f"model-figures/{mid}": hashlib.sha256(md.record.model_dump_json(exclude=TEXT_FIELDS).encode()).hexdigest()
        for mid, md in site.models.items()
    }


def gpu_rows(site: SiteAnalysis) -> dict[str, str]:
    """ "gpu-rows/<GPU id>": what that GPU's page shows of every model (analysis.gpu_rows_digests), in catalog
    order."""
    found = {}
    for gid in site.gpus:
        shown = "".join(f"{mid}\0{md.gpu_rows.get(gid, '')}\0" for mid, md in site.models.items())
        found[f"gpu-rows/{gid}"] = hashlib.sha256(shown.encode()).hexdigest()
    return found


def read_manifest(out: Path) -> Manifest | None:
    """The manifest of the site in `out`, or None when it is missing, unreadable or of another version."""
    try:
        data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        if data.pop("version") != VERSION:
            return None
        manifest = Manifest(**data)
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None
    valid = (
        isinstance(manifest.code, str)
        and isinstance(manifest.search, str)
        and all(
            isinstance(v, str)
            for v in (
                *manifest.records.values(),
                *manifest.site.values(),
                *manifest.digests.keys(),
                *manifest.digests.values(),
            )
        )
        and all(isinstance(d, list) and all(isinstance(x, str) for x in d) for d in manifest.pages.values())
    )
    return manifest if valid else None


def site_values(site: SiteAnalysis, catalog_date: str) -> dict[str, str]:
    """What every page may show that no single record decides: the newest date in the catalog (the footer) and the
    calibration error bars (from every benchmark and the models, GPUs and frameworks it was measured on)."""
    bars = repr(sorted(site.error_bars.cells.items()))
    return {"catalog_date": catalog_date, "error_bars": hashlib.sha256(bars.encode()).hexdigest()}


def affected(deps: Iterable[str], changed: set[str]) -> bool:
    """Whether a page depending on `deps` ("<kind>/<id>", "<kind>/*" or "*") may change when `changed` records did
    (in the same forms: "<kind>/*" when any of a kind may have changed)."""
    deps = set(deps)
    if "*" in deps or "*" in changed:
        return True
    kinds = {key.split("/", 1)[0] for key in changed if key.endswith("/*")}
    return any(key in deps or f"{key.split('/', 1)[0]}/*" in deps for key in changed) or any(
        dep.split("/", 1)[0] in kinds for dep in deps
    )


def reusable(previous: Manifest | None, code: str, out: Path) -> TypeGuard[Manifest]:
    """Whether the previous site's files may be reused: made by the same code, templates, static files, config and
    options (`code`, uptodate.Inputs.code), and whole. If not, every page is rendered into an empty directory."""
    return previous is not None and previous.code == code and (out / "static").is_dir()


def pages_to_render(previous: Manifest | None, current: Manifest, pages: list[P], out: Path) -> list[P] | None:
    """The pages an incremental build renders into a copy of `out`, or None when every page must be rendered into an
    empty directory (not `reusable`)."""
    if not reusable(previous, current.code, out):
        return None
    if previous.site != current.site:
        return list(pages)  # every page, still into a copy of the previous site: one rendered the same stays a link
    old, new = previous.records, current.records
    changed = {k for k in old.keys() | new.keys() if old.get(k) != new.get(k)}
    return [
        p
        for p in pages
        if p.path not in previous.pages
        or affected(p.deps, changed)
        or affected(previous.pages[p.path], changed)
        or not (out / p.path).is_file()
    ]


class Seeding:
    """seed_staging in a process of its own (a thread where the OS cannot fork), started as soon as the previous site
    is known to be `reusable`: linking a thousand pages overlaps loading and analysing the catalog. (A thread gets the
    GIL back after each call only at the interpreter's switch interval, so beside a busy thread it linked a page per 5
    ms.) `join` before anything else writes into the staging directory."""

    def __init__(self, out: Path, staging: Path, previous: Manifest) -> None:
        self.staging = staging
        self.pages = set(previous.pages)
        args = (out, staging, sorted(previous.pages))
        self.worker: multiprocessing.process.BaseProcess | threading.Thread
        if "fork" in multiprocessing.get_all_start_methods():
            self.worker = multiprocessing.get_context("fork").Process(target=_seed, args=args, daemon=True)
        else:
            self.worker = threading.Thread(target=_seed, args=args, daemon=True)
        self.worker.start()

    def join(self) -> None:
        self.worker.join()
        if isinstance(self.worker, multiprocessing.process.BaseProcess) and self.worker.exitcode != 0:
            raise RuntimeError(f"linking the previous site's files failed (exit code {self.worker.exitcode})")

    def drop_others(self, keep: Iterable[str]) -> None:
        """Remove the linked pages that are not in `keep` (a deleted model's, say) and the folders that leaves empty:
        a clean build would not have them."""
        for rel in sorted(self.pages - set(keep)):
            page = self.staging / rel
            page.unlink(missing_ok=True)
            for folder in page.parents:
                if folder == self.staging or any(folder.iterdir()):
                    break
                folder.rmdir()


def _seed(out: Path, staging: Path, pages: list[str]) -> None:
    seed_staging(out, staging, pages, ["static"])


def seed_staging(out: Path, staging: Path, keep: Iterable[str], folders: Iterable[str]) -> None:
    """Fill the empty staging directory with hard links to the previous site's pages `keep` and `folders`.

    Safe because nothing writes into a staged file in place: output.write_text writes a new file and renames it
    over the old name, which only replaces the link (the previous site, still being served, keeps its bytes).
    Anything that writes into the staging directory must keep doing so; Pagefind, which writes its own files,
    gets a `pagefind/` folder that is not linked (see build.build_site).
    """
    for rel in keep:
        if (out / rel).is_file():
            _link(out / rel, staging / rel)
    for folder in folders:
        for parent, _, files in os.walk(out / folder):  # Path.rglob is several times slower
            for name in files:
                path = Path(parent, name)
                _link(path, staging / path.relative_to(out))


def _link(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:  # a filesystem without hard links: a copy is as safe, only slower
        shutil.copy2(source, target)
