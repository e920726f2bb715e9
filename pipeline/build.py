"""Building an edition end to end: tables, then the site and PDF, swapped in only when whole.

`make report` calls `report()`. The site is rendered into a temporary folder beside `_site/`
and swapped in at the end, so a build that fails part-way leaves the last good site as it was.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pipeline.config import PROJECT_ROOT, Settings


def quarto_available() -> bool:
    return shutil.which("quarto") is not None


def choose_engine(requested: str | None) -> str:
    """`quarto` when Quarto is on PATH (unless QUARTO=0), else the built-in renderer."""
    flag = (requested or os.environ.get("QUARTO", "")).strip().lower()
    if flag in ("0", "builtin", "no", "false"):
        return "builtin"
    if flag in ("1", "quarto", "yes", "true"):
        if not quarto_available():
            from pipeline.errors import InputError

            raise InputError(
                "QUARTO=1 asks for Quarto, but `quarto` is not on PATH",
                fix="install Quarto, or run with QUARTO=0 for the built-in renderer",
            )
        return "quarto"
    return "quarto" if quarto_available() else "builtin"


def render_site(settings: Settings, engine: str, log=print) -> Path:
    """Render the project into a fresh temporary folder and return it (not yet swapped in)."""
    build_root = settings.site_dir.parent / ".build"
    build_root.mkdir(parents=True, exist_ok=True)
    out = Path(tempfile.mkdtemp(prefix="site-", dir=build_root))
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
            from pipeline.render import render_project

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
    from pipeline.editions import swap_in
    from pipeline.tables import build_tables, write_tables

    t0 = time.perf_counter()
    tables = build_tables(settings)
    write_tables(tables, settings.processed_dir, settings)
    log(f"tables for edition {tables.edition.id} in {time.perf_counter() - t0:.1f}s")
    chosen = choose_engine(engine)
    t1 = time.perf_counter()
    built = render_site(settings, chosen, log=log)
    swap_in(built, settings.site_dir)
    log(
        f"site rendered with {chosen} engine in {time.perf_counter() - t1:.1f}s -> {settings.site_dir}"
    )
    return settings.site_dir
