"""The send ledger: append-only JSON lines, fsync'd, so a re-run sends only what is missing.

One record per step (`sending`, then `sent`, `deferred` or `failed`). A `sending` with nothing
after it means the process died mid-transaction: delivery is uncertain and is not repeated
unless the caller asks.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from pipeline.errors import InputError

log = logging.getLogger(__name__)


class Ledger:
    """Append-only JSON lines: {edition_id, email, status, ...}; fsync'd after every record."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def state(self, edition_id: str) -> dict[str, str]:
        """Latest status per (lowercased) email for one edition."""
        latest: dict[str, str] = {}
        if not self.path.is_file():
            return latest
        raw = self.path.read_bytes()
        lines = raw.split(b"\n")
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                key, status = rec["email"].lower(), rec["status"]
            except (json.JSONDecodeError, KeyError, TypeError, AttributeError):
                if number == len(lines):  # torn last write of a crashed run: ignore it
                    log.warning("%s:%d: ignoring an incomplete last record", self.path, number)
                    continue
                raise InputError(
                    "damaged ledger record",
                    self.path,
                    line=number,
                    fix="repair or remove that line; never delete 'sent' records",
                ) from None
            if rec.get("edition_id") == edition_id:
                latest[key] = status
        return latest

    def append(self, **record: object) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = json.dumps(record, sort_keys=True, ensure_ascii=False).encode() + b"\n"
        with self.path.open("a+b") as fh:
            self._drop_torn_tail(fh)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())

    def _drop_torn_tail(self, fh) -> None:
        """Cut a partial last line left by a crash, so every stored line is a whole record."""
        size = fh.seek(0, os.SEEK_END)
        if size == 0:
            return
        fh.seek(0)
        raw = fh.read()
        if raw.endswith(b"\n"):
            return
        keep = raw.rfind(b"\n") + 1
        log.warning("%s: removing an incomplete last record %r", self.path, raw[keep:][:80])
        fh.truncate(keep)
        fh.seek(keep)
