"""Rendering pages into the staging directory: what a page is, and the processes that render and write them.

`render_site` picks how: on a small catalog the pages are shared out between forked processes; on a large one a
forked worker would copy most of the computed site (a page of memory that either process writes to, if only a
reference count, is copied), so this process renders every page and a writer process, started afresh, writes
the files and scans their links. Either way every page is rendered by the same code from the
same data, so the output is byte-identical to a serial build.
"""

from __future__ import annotations

import gc
import multiprocessing
import resource
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

from jinja2 import Environment

from site_builder.engine_cache import cores
from site_builder.incremental import affected
from site_builder.linkcheck import Summary, digest, scan
from site_builder.output import write_bytes
from site_builder.pages.base import PageModel


@dataclass(frozen=True)
class Page:
    """One output file: its template, a function that builds its page model, and what it depends on.

    `deps` names catalog records as "<kind>/<id>"; "<kind>/*" means every record of that kind and "*"
    everything; "model-figures/<id>" is a model record without its description and sources (what listing pages
    read of every model), "gpu-rows/<GPU id>" what that GPU's page shows of every model
    (analysis.gpu_rows_digests). The preview server and an incremental build re-render only pages whose
    dependencies changed, so every record a page shows must be named here (tests/site/test_incremental.py compares
    with full builds).
    """

    path: str  # relative output path, e.g. models/x/index.html
    template: str
    make: Callable[[], PageModel]  # the page model the template reads: a frozen dataclass
    deps: frozenset[str] = frozenset({"*"})
    owner: str = ""  # the model whose page this is (its page, deploy pages, comparisons); "": a site-wide page

    def affected_by(self, changed: set[str]) -> bool:
        return affected(self.deps, changed)


def _progress(done: int, total: int) -> None:
    if sys.stderr.isatty():
        width = 30
        filled = width * done // total
        print(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} pages", end="", file=sys.stderr)
        if done == total:
            print(file=sys.stderr)


@dataclass(frozen=True)
class RenderSettings:
    """What every page's template receives besides its page model."""

    base: str  # path prefix for links, e.g. "/" or "/catalog/"
    absolute: str  # origin + prefix for canonical URLs
    catalog_date: str
    search: bool
    live_reload: bool = False  # the preview server's reload script
    site_title: str = "Model Catalog"
    repository: str = ""  # source repository URL for the footer; empty: none


def _render_one(env: Environment, page: Page, settings: RenderSettings) -> str:
    context = page.make()
    ctx = {
        "page": context,
        "base": settings.base,
        "canonical": settings.absolute + page.path.removesuffix("index.html"),
        "catalog_date": settings.catalog_date,
        "search_enabled": settings.search,
        "live_reload": settings.live_reload,
        "site_title": settings.site_title,
        "repository": settings.repository,
    }
    return env.get_template(page.template).render(ctx)


class RenderError(RuntimeError):
    """A page's model or template failed; the message names the page and its template."""


def render_page(env: Environment, page: Page, settings: RenderSettings) -> str:
    try:
        return _render_one(env, page, settings)
    except Exception as err:
        raise RenderError(f"error rendering {page.path} ({page.template}): {type(err).__name__}: {err}") from err


@dataclass
class Rendered:
    """What rendering pages gives the rest of the build: how many files changed, and each page's links (scanned from
    the bytes as they were written, so the link check does not read every page again)."""

    written: int = 0
    links: dict[str, Summary] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)  # sha256 of each page written, by path

    def add(self, other: Rendered) -> None:
        self.written += other.written
        self.links.update(other.links)
        self.digests.update(other.digests)

    def keep(self, out: Path, path: str, data: bytes) -> None:
        """Write one rendered page (unless its file already holds these bytes); scan its links and hash it."""
        target = out / path
        if not target.is_file() or target.read_bytes() != data:
            write_bytes(out, path, data)
            self.written += 1
        self.links[path] = scan(data)
        self.digests[path] = digest(data)


def render_pages(
    env: Environment, pages: list[Page], out: Path, settings: RenderSettings, done: Callable[[], None] | None = None
) -> Rendered:
    """Render pages into `out` (unchanged bytes are not rewritten)."""
    result = Rendered()
    for i, page in enumerate(pages, 1):
        html = render_page(env, page, settings)
        result.keep(out, page.path, html.encode("utf-8"))
        if done is None:
            _progress(i, len(pages))
        else:
            done()
    return result


MEMORY_BUDGET = 1 << 30  # bytes the whole build may hold: this process plus its render workers
# What each forked renderer ends up holding, over this process's size before rendering: it copies most of the
# computed site, and grows while rendering (page models, output, the links kept). Measured with `make bench`: two
# renderers held 2.1 times the parent's size at 1,000 models, 2.7 times at 2,000 (1,283 MiB).
RENDER_GROWTH = 1.4


def default_jobs() -> int:
    """Processes to render with: one per core this process may use; 1 where fork is unavailable."""
    return cores() if "fork" in multiprocessing.get_all_start_methods() else 1


# Relative render cost of a page, for splitting the work evenly (CPU time per page type measured by `make bench` at
# 300 models x 60 GPUs): a GPU page or a listing shows a row per model of the catalog, so it grows with it.
PAGE_COST = {"model.html": 10.0, "deploy.html": 1.0, "compare.html": 0.5, "family.html": 10.0}
COST_PER_LISTED_MODEL = 0.07  # gpu.html and index.html, per model
OTHER_PAGE_COST = 10.0


def page_cost(page: Page, models: int) -> float:
    if page.template in ("gpu.html", "index.html"):
        return COST_PER_LISTED_MODEL * models
    return PAGE_COST.get(page.template, OTHER_PAGE_COST)


def split_work(pages: list[Page], jobs: int, models: int) -> list[list[Page]]:
    """`jobs` shares of about equal cost, in page order: the site-wide pages one by one, then whole models (a model's
    page, deploy pages and the comparisons it leads), contiguous in catalog order. (After an edit to a model's figures,
    most pages to render are site-wide: every GPU page lists the model.)"""
    groups: list[list[Page]] = [[p] for p in pages if not p.owner]
    by_owner: dict[str, list[Page]] = {}
    for p in pages:
        if p.owner:
            by_owner.setdefault(p.owner, []).append(p)
    groups += by_owner.values()
    left = sum(page_cost(p, models) for p in pages)
    shares: list[list[Page]] = [[]]
    cost = 0.0
    for group in groups:
        # A share is full at its even part of what was left when it started.
        if shares[-1] and cost >= left / (jobs - len(shares) + 1) and len(shares) < jobs:
            left -= cost
            shares.append([])
            cost = 0.0
        shares[-1] += group
        cost += sum(page_cost(p, models) for p in group)
    return [share for share in shares if share] or [[]]


def _resident_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def render_site(
    env: Environment, pages: list[Page], out: Path, settings: RenderSettings, jobs: int, models: int
) -> Rendered:
    """Render `pages` into `out` with up to `jobs` processes, within MEMORY_BUDGET (see the module's docstring).

    `models` is the catalog's size (site-wide pages grow with it). A worker's error is raised here, so the staging
    directory is discarded as for a serial failure."""
    # Frozen objects are never scanned by the cyclic GC: no collection walks the whole computed site again (a large
    # catalog's render spent seconds there), and no forked process writes to (and copies) every page of it to do so.
    gc.collect()
    gc.freeze()
    try:
        if jobs <= 1 or len(pages) < 2 * jobs:
            return render_pages(env, pages, out, settings)
        for name in {p.template for p in pages}:
            env.get_template(name)  # compile once, before any fork
        forks = "fork" in multiprocessing.get_all_start_methods()
        if forks and jobs * _resident_bytes() * RENDER_GROWTH <= MEMORY_BUDGET:
            return _render_shares(env, split_work(pages, jobs, models), out, settings, len(pages))
        return _render_with_writer(env, pages, out, settings)
    finally:
        gc.unfreeze()


class _Progress:
    """The progress bar of pages rendered by every process, drawn by this one."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.count = multiprocessing.get_context("fork").Value("i", 0)

    def tick(self) -> None:
        with self.count.get_lock():
            self.count.value += 1
        if multiprocessing.parent_process() is None:
            _progress(min(self.count.value, self.total - 1), self.total)

    def finish(self) -> None:
        _progress(self.total, self.total)


def _failure(err: BaseException) -> str:
    message = str(err) if isinstance(err, RenderError) else f"{type(err).__name__}: {err}"
    return f"{message}\n{traceback.format_exc()}"


def _collect(worker: multiprocessing.process.BaseProcess, receive: Connection) -> Rendered:
    """A worker's result, or its error raised here; a worker that died without a word is an error too."""
    outcome: tuple[Rendered | None, str | None] | None = None
    while outcome is None and (worker.is_alive() or receive.poll()):
        if receive.poll(0.05):
            outcome = receive.recv()
    if outcome is None:  # killed (out of memory, a signal) before it could report
        raise RuntimeError(f"a render worker died: exit code {worker.exitcode}")
    rendered, error = outcome
    if error or rendered is None:  # the first line names the page; the worker's traceback follows
        raise RenderError(error)
    return rendered


def _render_shares(
    env: Environment, shares: list[list[Page]], out: Path, settings: RenderSettings, total: int
) -> Rendered:
    """Shares of the pages rendered by this process (the first) and forked workers, each writing its own files."""
    ctx = multiprocessing.get_context("fork")
    progress = _Progress(total)

    def work(share: list[Page], send: Connection) -> None:
        try:
            send.send((render_pages(env, share, out, settings, progress.tick), None))
        except BaseException as err:  # reported to the parent, which raises it
            send.send((None, _failure(err)))
        finally:
            send.close()

    workers: list[tuple[multiprocessing.process.BaseProcess, Connection]] = []
    try:
        for share in shares[1:]:
            receive, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=work, args=(share, send), daemon=True)
            proc.start()
            send.close()
            workers.append((proc, receive))
        result = render_pages(env, shares[0], out, settings, progress.tick)
        for worker, receive in workers:
            result.add(_collect(worker, receive))
    finally:
        for worker, _ in workers:
            if worker.is_alive():
                worker.terminate()
            worker.join()
    progress.finish()
    return result


# The writer is started afresh, not forked: a forked writer would map this process's memory, and every page of it
# this process then touches while rendering (a reference count is enough) would be copied, the writer keeping the
# original: the computed site twice over, though the writer reads none of it.
WRITER_START = "spawn"


def writer_context() -> multiprocessing.context.SpawnContext | multiprocessing.context.ForkContext:
    return multiprocessing.get_context("fork") if WRITER_START == "fork" else multiprocessing.get_context("spawn")


def _write_pages(out: Path, pages_in: Connection, result_out: Connection) -> None:
    """The writer: each message is a page's path, a NUL and its bytes; an empty one ends the pages."""
    written = Rendered()
    try:
        while message := pages_in.recv_bytes():
            path, _, data = message.partition(b"\0")
            written.keep(out, path.decode("utf-8"), data)
        result_out.send((written, None))
    except BaseException as err:  # reported to the parent, which raises it
        result_out.send((None, _failure(err)))
    finally:
        result_out.close()


def _render_with_writer(env: Environment, pages: list[Page], out: Path, settings: RenderSettings) -> Rendered:
    """Every page rendered here, handed as bytes to a writer process that writes the files and scans their links."""
    ctx = writer_context()
    pages_in, pages_out = ctx.Pipe(duplex=False)
    result_in, result_out = ctx.Pipe(duplex=False)
    writer = ctx.Process(target=_write_pages, args=(out, pages_in, result_out), daemon=True)
    writer.start()
    pages_in.close()
    result_out.close()
    try:
        try:
            for i, page in enumerate(pages, 1):
                pages_out.send_bytes(
                    page.path.encode("utf-8") + b"\0" + render_page(env, page, settings).encode("utf-8")
                )
                _progress(i, len(pages))
            pages_out.send_bytes(b"")
        except (BrokenPipeError, ConnectionResetError):  # the writer stopped: its own report says why
            pass
        return _collect(writer, result_in)
    finally:
        pages_out.close()
        if writer.is_alive():
            writer.terminate()
        writer.join()
