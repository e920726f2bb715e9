"""One exception type for bad input, so the CLI can print a clear message instead of a traceback.

Every place that rejects input raises `InputError` naming the file (and line or row where known);
`python -m pipeline` catches it, prints it and exits non-zero without touching published output.
"""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """Bad input: a file, a row or a setting the pipeline cannot use."""

    def __init__(
        self,
        message: str,
        path: str | Path | None = None,
        line: int | None = None,
        fix: str | None = None,
    ) -> None:
        self.path = Path(path) if path is not None else None
        self.line = line
        self.fix = fix
        where = ""
        if path is not None:
            where = f"{path}"
            if line is not None:
                where += f":{line}"
            where += ": "
        text = f"{where}{message}"
        if fix:
            text += f"\n  fix: {fix}"
        super().__init__(text)
