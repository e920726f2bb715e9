"""Where a render's time goes: seconds per step of one page and format, for the log.

`make bench` (bench/report_bench.py) reads these figures from the build's log lines to show
what a one-article rebuild spends on kernels, cells, pandoc and Typst, so a change to the
renderer can be judged by its effect on each step rather than on the total alone.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

STEPS: dict[str, float] = {}  # step -> seconds, since the last `take()`


@contextlib.contextmanager
def step(name: str) -> Iterator[None]:
    """Add the time spent inside the block to `name`."""
    t0 = time.perf_counter()
    try:
        yield
    finally:
        STEPS[name] = STEPS.get(name, 0.0) + time.perf_counter() - t0


def take() -> dict[str, float]:
    """The steps timed since the last call, and forget them."""
    out = dict(STEPS)
    STEPS.clear()
    return out


def summary(steps: dict[str, float]) -> str:
    """ "kernel 1.1s, cells 1.6s, pandoc 0.3s": the steps that took any time, in order."""
    return ", ".join(f"{name} {s:.1f}s" for name, s in steps.items() if s >= 0.05)
