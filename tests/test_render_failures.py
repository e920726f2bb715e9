"""A build that fails says why in one line and stops (issue 16), wherever the checkout is (15.4).

Each test runs the real CLI (`python -m pipeline render --project DIR`) in a subprocess on a
small project written here, with one failure injected, and checks what a cron job or CI run
would see: the process ends by itself within a deadline with the render-failure exit code, one
line names the page and the cause and points at the log, stderr holds no traceback, no kernel
or other child is left running, and the last good `_site/` and `editions/` are byte for byte as
they were.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from processes import alive, command_line, descendants

from pipeline.config import PROJECT_ROOT, Settings

DEADLINE = 60  # seconds a failing build may take to end by itself
EXIT_RENDER = 3
QUARTO_YML = """\
project:
  type: website
  output-dir: _site
  execute-dir: project
  render: [report/index.qmd]
"""
FRONT = "---\ntitle: Failure drill\n{extra}---\n\nSome text before the code.\n\n"
TYPST_FRONT = "format:\n  html: default\n  typst:\n    output-file: drill.pdf\n"
BROKEN_KERNEL = (
    '{"argv": ["/nonexistent/python", "-m", "ipykernel_launcher", "-f", "{connection_file}"],'
    ' "display_name": "Python 3 (missing)", "language": "python"}'
)


def snapshot(root: Path) -> dict[str, str]:
    """Every file under `root` by SHA-256, folders as 'dir'."""
    return {
        p.relative_to(root).as_posix(): "dir"
        if p.is_dir()
        else hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
    }


def cell(code: str) -> str:
    return f"```{{python}}\n{code}\n```\n\n"


@dataclasses.dataclass
class Result:
    code: int
    err: str
    seconds: float
    left_running: list[str]


class Drill:
    """A tiny project plus a last good site and editions archive, all under one folder."""

    def __init__(self, root: Path, page: str, front: str = "") -> None:
        self.root = root
        self.project = root / "project"
        (self.project / "report").mkdir(parents=True)
        (self.project / "_quarto.yml").write_text(QUARTO_YML, encoding="utf-8")
        (self.project / "report" / "index.qmd").write_text(
            FRONT.format(extra=front) + page, encoding="utf-8"
        )
        self.site = root / "_site"
        (self.site / "data").mkdir(parents=True)
        (self.site / "index.html").write_text("<html>last good edition</html>", encoding="utf-8")
        (self.site / "data" / "prices.csv").write_text("day,close\n1,2\n", encoding="utf-8")
        self.editions = root / "editions"
        (self.editions / "2025-11-01-abc").mkdir(parents=True)
        (self.editions / "2025-11-01-abc" / "index.html").write_text("old", encoding="utf-8")
        self.tmp = root / "tmp"  # the run's TMPDIR: where its kernel sockets must go, and go
        self.tmp.mkdir()
        self.before = (snapshot(self.site), snapshot(self.editions))

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(
            os.environ,
            QUARTO="0",
            BRIEFING_SITE_DIR=str(self.site),
            BRIEFING_EDITIONS_DIR=str(self.editions),
            BRIEFING_PROCESSED_DIR=str(self.root / "processed"),
            TMPDIR=str(self.tmp),
        )
        env.update(extra)
        return env

    def start(self, *argv: str, **env: str) -> subprocess.Popen:
        cmd = argv or (sys.executable, "-m", "pipeline", "render", "--project", str(self.project))
        return subprocess.Popen(
            cmd,
            cwd=PROJECT_ROOT,
            env=self.env(**env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )

    def run(self, *argv: str, deadline: float = DEADLINE, **env: str) -> Result:
        proc = self.start(*argv, **env)
        return finish(proc, deadline)

    def assert_untouched(self) -> None:
        assert (snapshot(self.site), snapshot(self.editions)) == self.before
        assert not list(self.tmp.iterdir()), "the kernels' private folder was left behind"


def finish(proc: subprocess.Popen, deadline: float, started: set[int] | None = None) -> Result:
    """Wait for `proc` to end by itself, noting every process it starts on the way."""
    started = set() if started is None else started
    t0 = time.monotonic()
    while proc.poll() is None and time.monotonic() - t0 < deadline:
        started |= descendants(proc.pid)
        time.sleep(0.05)
    seconds = time.monotonic() - t0
    if proc.poll() is None:
        kill_all(proc, started)
        pytest.fail(f"the build was still running after {deadline} s")
    _, err = proc.communicate()
    time.sleep(0.3)
    left = [command_line(pid) or str(pid) for pid in started if alive(pid)]
    kill_all(proc, started)
    return Result(proc.returncode, err, seconds, left)


def kill_all(proc: subprocess.Popen, pids: set[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    if proc.poll() is None:
        proc.kill()
        proc.communicate()


def assert_one_line_failure(result: Result, drill: Drill, *says: str) -> str:
    """Exit code, one `error:` line naming the page and the cause, the log, nothing else."""
    assert result.code == EXIT_RENDER, result.err
    lines = [line for line in result.err.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1, result.err
    assert errors[0].startswith("error: report/index.qmd (builtin engine"), result.err
    for text in says:
        assert text in errors[0], result.err
    assert "Traceback" not in result.err, result.err
    details = [line for line in lines if line.startswith("  details: ")]
    assert len(details) == 1, result.err
    log = Path(details[0].removeprefix("  details: "))
    assert log.is_file() and log.parent == drill.root / ".build" / "logs"
    assert "Traceback" in log.read_text(encoding="utf-8")  # the full story is in the log
    assert not result.left_running, result.left_running
    drill.assert_untouched()
    return errors[0]


# --------------------------------------------------------------------------- the failures


def test_a_kernel_spec_whose_executable_is_missing(tmp_path: Path) -> None:
    kernels = tmp_path / "jupyter" / "kernels" / "python3"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(BROKEN_KERNEL, encoding="utf-8")
    drill = Drill(tmp_path / "drill", cell("print('never runs')"))
    result = drill.run(JUPYTER_PATH=str(tmp_path / "jupyter"))
    line = assert_one_line_failure(result, drill, "kernel did not start", "/nonexistent/python")
    assert "FileNotFoundError" in line and str(kernels) in line


def test_a_kernel_that_dies_during_a_cell(tmp_path: Path) -> None:
    drill = Drill(tmp_path, cell("x = 1") + cell("import os\nos._exit(1)"))
    result = drill.run()
    assert_one_line_failure(
        result, drill, "kernel died in the cell at line 11", "exited with code 1"
    )


def test_a_cell_that_raises(tmp_path: Path) -> None:
    drill = Drill(tmp_path, cell("raise LookupError('no close price for the as-of day')"))
    result = drill.run()
    assert_one_line_failure(
        result, drill, "cell at line 7 raised", "LookupError: no close price for the as-of day"
    )


def test_a_cell_running_past_execute_timeout(tmp_path: Path) -> None:
    drill = Drill(tmp_path, cell("import time\ntime.sleep(120)"), "execute:\n  timeout: 2\n")
    result = drill.run()
    assert_one_line_failure(result, drill, "cell at line 9 timed out", "after 2 s")
    assert result.seconds < 30


def test_typst_source_that_cannot_compile(tmp_path: Path) -> None:
    page = "```{=typst}\n#let unfinished = (\n```\n"
    drill = Drill(tmp_path, page, TYPST_FRONT)
    result = drill.run()
    line = assert_one_line_failure(
        result, drill, "typst): Typst could not compile the PDF", "unclosed delimiter"
    )
    assert "index.typ:" in line  # where in the generated Typst source


def test_a_missing_font(tmp_path: Path) -> None:
    page = '```{=typst}\n#set text(font: ("Nofont Serif", "Nofont Sans"))\n```\n\nText.\n'
    drill = Drill(tmp_path, page, TYPST_FRONT)
    result = drill.run()
    assert_one_line_failure(result, drill, "font missing", '"Nofont Serif", "Nofont Sans"')


def test_socket_folder_never_depends_on_the_checkout_path(tmp_path: Path) -> None:
    """Project, site and TMPDIR nested past the 107-byte Unix socket limit still render."""
    deep = tmp_path.joinpath(*["a-rather-long-folder-name"] * 7)
    assert len(str(deep)) > 150
    drill = Drill(deep, cell("print('rendered from deep down')"))
    # TMPDIR (deep/tmp) is too long for a socket too: the kernel must use /tmp instead.
    result = drill.run()
    assert result.code == 0, result.err
    assert "rendered from deep down" in (drill.site / "report" / "index.html").read_text()
    assert not result.left_running
    assert not list(drill.tmp.iterdir())


def test_kernel_falls_back_to_quiet_loopback_tcp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture
) -> None:
    """No short folder anywhere: the kernel listens on 127.0.0.1 and says nothing about it."""
    from pipeline.render import kernel
    from pipeline.render.engine import render_project

    deep = tmp_path.joinpath(*["x" * 40] * 3)
    deep.mkdir(parents=True)
    monkeypatch.setattr(kernel, "SOCKET_BASES", (str(deep),))
    with kernel.kernel_space() as space:
        assert space.transport == "tcp" and space.folder.parent == deep
        assert stat.S_IMODE(space.folder.stat().st_mode) == 0o700  # private to this user
    assert not list(deep.iterdir())
    drill = Drill(tmp_path / "drill", cell("print('over loopback')"))
    render_project(drill.project, log=lambda *_: None)
    assert "over loopback" in (drill.project / "_site" / "report" / "index.html").read_text()
    assert "TCP" not in capfd.readouterr().err
    assert not list(deep.iterdir())


STUCK_CLI = """
import asyncio, sys
from pathlib import Path
import pipeline.render.kernel as kernel

real_stop = kernel.stop_kernel

async def stuck_stop(km, graceful):
    if graceful:
        return await real_stop(km, graceful)
    Path(sys.argv[1]).write_text("stuck")
    await asyncio.sleep(3600)  # a cleanup that never ends

kernel.stop_kernel = stuck_stop
from pipeline.__main__ import main

sys.exit(main(sys.argv[2:]))
"""


def test_sigterm_ends_a_build_stuck_after_an_error(tmp_path: Path) -> None:
    drill = Drill(tmp_path, cell("raise RuntimeError('bad table')"))
    script, marker = tmp_path / "stuck_cli.py", tmp_path / "stuck"
    script.write_text(STUCK_CLI, encoding="utf-8")
    argv = ("render", "--project", str(drill.project))
    proc = drill.start(
        sys.executable, str(script), str(marker), *argv, PYTHONPATH=str(PROJECT_ROOT)
    )
    started: set[int] = set()
    t0 = time.monotonic()
    while not marker.exists():
        assert proc.poll() is None and time.monotonic() - t0 < DEADLINE, proc.communicate()
        started |= descendants(proc.pid)
        time.sleep(0.05)
    started |= descendants(proc.pid)
    assert any("ipykernel" in command_line(pid) for pid in started)  # stuck with its kernel
    proc.send_signal(signal.SIGTERM)
    result = finish(proc, 15, started)
    assert result.code == 128 + signal.SIGTERM, result.err
    assert result.err.strip().startswith("error: interrupted by SIGTERM"), result.err
    assert "Traceback" not in result.err
    assert not result.left_running, result.left_running
    drill.assert_untouched()


def test_verbose_prints_the_full_report(tmp_path: Path) -> None:
    drill = Drill(tmp_path, cell("raise LookupError('no close price for the as-of day')"))
    result = drill.run(
        sys.executable, "-m", "pipeline", "render", "--verbose", "--project", str(drill.project)
    )
    assert result.code == EXIT_RENDER
    assert "Traceback" in result.err and "LookupError" in result.err


# A stand-in for Quarto (which cannot be installed here): it starts a helper that would
# outlive it, says what Quarto says when a cell fails, and fails.
FAKE_QUARTO = """#!/bin/sh
sleep 300 &
echo "[1/2] report/index.qmd"
echo "Starting python3 kernel...Done"
echo "ERROR: LookupError: no close price for the as-of day" >&2
sleep 1
exit 1
"""


def test_quarto_failure_is_one_line_and_takes_its_processes_along(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "quarto").write_text(FAKE_QUARTO, encoding="utf-8")
    (bin_dir / "quarto").chmod(0o755)
    drill = Drill(tmp_path / "drill", cell("print('not run by the fake')"))
    result = drill.run(QUARTO="1", PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    assert result.code == EXIT_RENDER, result.err
    line = result.err.splitlines()[0]
    assert line == (
        "error: report/index.qmd (quarto engine): quarto render failed (exit code 1): "
        "ERROR: LookupError: no close price for the as-of day"
    ), result.err
    assert "Traceback" not in result.err and "[1/2]" not in result.err
    assert not result.left_running, result.left_running  # the `sleep` went with Quarto
    drill.assert_untouched()


# --------------------------------------------------------------------------- the real report


def test_report_builds_from_a_clone_at_a_long_path(tmp_path: Path) -> None:
    """Issue 16's first trigger: `make report` from a clone whose path is 150+ characters."""
    clone = tmp_path.joinpath(*["newsroom-cron-checkouts"] * 6, "repo")
    assert len(str(clone)) >= 150
    subprocess.run(
        ["git", "clone", "--quiet", str(PROJECT_ROOT), str(clone)], check=True, timeout=120
    )
    defaults = Settings.from_env()  # this checkout's inputs: the clone has no ../shared
    env = dict(
        os.environ,
        QUARTO="0",
        BRIEFING_MARKET_DIR=str(defaults.market_dir),
        BRIEFING_LEXICON_DIR=str(defaults.lexicon_dir),
    )
    for name in ("BRIEFING_SITE_DIR", "BRIEFING_EDITIONS_DIR", "BRIEFING_PROCESSED_DIR"):
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "report"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert (clone / "_site" / "index.html").is_file()
    assert list((clone / "_site").glob("*.pdf"))
    # A render leaves the checkout clean, so the next edition's manifest is not "dirty".
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=clone,
        capture_output=True,
        text=True,
        check=True,
    )
    assert status.stdout == "", status.stdout
    manifest = json.loads((clone / "_site" / "manifest.json").read_text())
    assert manifest["git"]["dirty"] is False and manifest["engine"] == "builtin"
