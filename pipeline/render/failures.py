"""How a failed render is told: one line for the terminal, the rest for the build log.

A newsroom runs the briefing from cron and CI, where a 70-line traceback hides the one fact
that matters. `RenderError` therefore carries the page, the engine, the format, the step that
failed and its cause, and prints as a single line; `details` keeps what does not fit there (the
cell's traceback, the kernel's own output, pandoc's or Typst's messages) for the log file that
`python -m pipeline` writes under `.build/logs/`.
"""

from __future__ import annotations

import re
from pathlib import Path

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # IPython colours its tracebacks
MAX_CAUSE = 300


class RenderError(Exception):
    """A page failed to render; the message names the page, engine, format, step and cause."""

    def __init__(
        self,
        page: str | Path,
        step: str,
        cause: str,
        *,
        fmt: str | None = None,
        engine: str = "builtin",
        details: str = "",
    ) -> None:
        self.page = str(page)
        self.step = step
        self.cause = one_line(cause)
        self.fmt = fmt
        self.engine = engine
        self.details = plain(details)
        where = f"{engine} engine" + (f", {fmt}" if fmt else "")
        super().__init__(f"{self.page} ({where}): {step}: {self.cause}")


def plain(text: str) -> str:
    """Text without terminal colour codes."""
    return ANSI.sub("", text or "")


def one_line(text: str) -> str:
    """`text` squeezed onto one line of at most MAX_CAUSE characters."""
    squeezed = " ".join(plain(str(text)).split())
    return squeezed if len(squeezed) <= MAX_CAUSE else squeezed[: MAX_CAUSE - 1] + "…"


def last_line(text: str) -> str:
    """The last non-empty line of a program's output: where Python and most tools say why."""
    lines = [line.strip() for line in plain(text).splitlines() if line.strip()]
    return lines[-1] if lines else ""


def said_why(stderr: str) -> str:
    """A program's reason for failing: its last `error:` line (this CLI's own one-line form,
    when a script is `python -m pipeline …`), else its last line."""
    errors = [line.strip() for line in plain(stderr).splitlines() if line.startswith("error:")]
    return errors[-1] if errors else last_line(stderr)
