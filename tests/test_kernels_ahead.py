"""Kernels started ahead: the next page's kernel boots while this page runs, yet every page
still gets a fresh kernel of its own, and none is left behind when a page fails."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from processes import alive, command_line, descendants

from pipeline.render.engine import RenderError, render_project

QUARTO_YML = """\
project:
  type: website
  render: [one.qmd, two.qmd, three.qmd]
website:
  title: Kernels ahead
"""
# Each page says which process ran it, when that process started (clock ticks since boot)
# and whether a name bound by an earlier page is visible; the first page is slow on purpose.
PAGE = """\
---
title: {name}
---

```{{python}}
import os, time
stat = open("/proc/self/stat").read().rsplit(")", 1)[1].split()
started = int(stat[19]) / os.sysconf("SC_CLK_TCK")
print("pid", os.getpid(), "started", started, "leak", "marker" in globals())
marker = "{name}"
{body}
```
"""


def kernel_processes() -> list[str]:
    running = [command_line(pid) for pid in descendants(os.getpid()) if alive(pid)]
    return [cmd for cmd in running if "ipykernel" in cmd]


def write_project(root: Path, first_body: str) -> Path:
    root.mkdir(parents=True)
    (root / "_quarto.yml").write_text(QUARTO_YML)
    bodies = {"one": first_body, "two": "", "three": ""}
    for name, body in bodies.items():
        (root / f"{name}.qmd").write_text(PAGE.format(name=name, body=body))
    return root


def said(html: str) -> dict[str, str]:
    words = html.split("pid", 1)[1].split("<", 1)[0].split()
    return {"pid": words[0], "started": words[2], "leak": words[4]}


def test_each_page_has_a_fresh_kernel_started_while_the_page_before_ran(tmp_path: Path) -> None:
    slow = 'time.sleep(1.5); print("done at", time.clock_gettime(time.CLOCK_BOOTTIME))'
    root = write_project(tmp_path / "p", slow)
    render_project(root, log=lambda *_: None)
    pages = {n: (root / "_site" / f"{n}.html").read_text() for n in ("one", "two", "three")}
    seen = {n: said(html) for n, html in pages.items()}
    assert len({s["pid"] for s in seen.values()}) == 3  # one kernel per page
    assert {s["leak"] for s in seen.values()} == {"False"}  # no name from an earlier page
    first_done = float(pages["one"].split("done at", 1)[1].split("<", 1)[0])
    # The second page's kernel was up before the first page's slow cell ended.
    assert float(seen["two"]["started"]) < first_done - 0.5
    assert not kernel_processes()


def test_a_failing_page_leaves_no_kernel_started_ahead(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", "time.sleep(1.0)\nraise ValueError('page one broke')")
    with pytest.raises(RenderError, match="page one broke"):
        render_project(root, log=lambda *_: None)
    assert not kernel_processes()  # the kernel started for page two was stopped too


NOISY = """\
import time
print("imported at", time.clock_gettime(time.CLOCK_BOOTTIME))
"""


def test_leading_import_cells_run_as_soon_as_the_kernel_is_up(tmp_path: Path) -> None:
    """An import-only first cell runs in the kernel started ahead; its output still lands on
    its own page, and the cells after it run in the same kernel."""
    slow = 'time.sleep(4); print("done at", time.clock_gettime(time.CLOCK_BOOTTIME))'
    root = write_project(tmp_path / "p", slow)
    (root / "noisy.py").write_text(NOISY)
    two = (
        (root / "two.qmd")
        .read_text()
        .replace("```{python}", "```{python}\nimport noisy\n```\n\n```{python}", 1)
    )
    (root / "two.qmd").write_text(two)
    render_project(root, log=lambda *_: None)
    one = (root / "_site" / "one.html").read_text()
    html = (root / "_site" / "two.html").read_text()
    imported = float(html.split("imported at", 1)[1].split("<", 1)[0])
    first_done = float(one.split("done at", 1)[1].split("<", 1)[0])
    assert imported < first_done  # ran while page one's slow cell was still running
    assert "imported at" not in one and said(html)["leak"] == "False"
    assert not kernel_processes()


def test_an_import_that_fails_ahead_is_reported_at_its_own_page_and_line(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", "")
    two = (
        (root / "two.qmd")
        .read_text()
        .replace("```{python}", "```{python}\nimport no_such_module_here\n```\n\n```{python}", 1)
    )
    (root / "two.qmd").write_text(two)
    with pytest.raises(RenderError, match=r"^two\.qmd .*: cell at line 5 raised: ModuleNotFound"):
        render_project(root, log=lambda *_: None)
    assert (root / "_site" / "one.html").is_file()  # page one was rendered first, as always
    assert not kernel_processes()


def test_take_keeps_kernels_for_later_pages_and_stops_those_passed(tmp_path, monkeypatch):
    """A page whose plan changed during the render (it needs no kernel after all, or needs one
    it was not listed for) costs no kernel started ahead for the pages after it."""
    from types import SimpleNamespace

    from pipeline.render import kernel as k

    def request(name: str) -> k.KernelRequest:
        return k.KernelRequest((name, "html"), tmp_path, {})

    stopped: list[str] = []

    async def discard_all(kernels) -> None:
        stopped.extend(x.request.key[0] for x in kernels)

    monkeypatch.setattr(k, "_discard_all", discard_all)
    space = k.KernelSpace(tmp_path, "ipc")
    launched = []
    monkeypatch.setattr(
        space, "_launch", lambda r: launched.append(r) or SimpleNamespace(request=r)
    )
    try:
        a, b, c = (SimpleNamespace(request=request(n), log=None) for n in "abc")
        space.ahead = [a, b, c]
        assert space.take(request("b")) is b  # page a ran no kernel after all
        assert stopped == ["a"] and space.ahead == [c] and not launched
        space.take(request("x"))  # a page not listed: a kernel of its own, c kept
        assert [r.key[0] for r in launched] == ["x"] and space.ahead == [c]
    finally:
        space.loop.close()


def _early_render(root: Path, tmp_path: Path, guess: dict[str, str]) -> tuple[list[int], dict]:
    """Start the likely kernels with the environment `guess`, let them boot in the background
    (as they do while `make report` builds the tables), then render with the execution
    cache; the early kernels' pids and what each page says of its kernel."""
    import time

    from pipeline.config import Settings
    from pipeline.render import freeze
    from pipeline.render.engine import start_likely_kernels
    from pipeline.render.kernel import kernel_space

    cache = freeze.Cache(tmp_path / "freeze", Settings.from_env())
    with kernel_space() as space:
        start_likely_kernels(root, space, guess)
        with space.in_background():
            deadline = time.monotonic() + 30
            while not all(k.ready.done() for k in space.ahead) and time.monotonic() < deadline:
                time.sleep(0.05)
        early = [k.km.provisioner.pid for k in space.ahead]
        render_project(root, log=lambda *_: None, cache=cache, kernels=space)
    pages = {n: said((root / "_site" / f"{n}.html").read_text()) for n in ("one", "two", "three")}
    return early, pages


def test_kernels_started_before_the_tables_run_the_pages_they_were_started_for(tmp_path):
    root = write_project(tmp_path / "p", "")
    early, pages = _early_render(root, tmp_path, dict(os.environ))
    assert len(early) == 3  # the first pages with cells, each format
    assert [int(pages[n]["pid"]) for n in ("one", "two", "three")] == early
    assert {s["leak"] for s in pages.values()} == {"False"}  # still a kernel per page
    assert not kernel_processes()


def test_kernels_started_for_another_environment_are_stopped_and_not_used(tmp_path):
    """A guess the new tables prove wrong (here: an environment the render does not have, as
    when the as-of date moves) costs a wasted start, never a page run in the wrong one."""
    root = write_project(tmp_path / "p", "")
    early, pages = _early_render(root, tmp_path, dict(os.environ, BRIEFING_GUESS="wrong"))
    assert len(early) == 3
    assert not {int(s["pid"]) for s in pages.values()} & set(early)
    assert not any(alive(pid) for pid in early)
    assert not kernel_processes()
