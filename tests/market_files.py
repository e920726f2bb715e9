"""Reading the market snapshot independently of `pipeline.market.prices`, so tests check the pipeline
against the raw files rather than against itself."""

from __future__ import annotations

import csv
import datetime as dt

from pipeline.config import Settings

MARKET = Settings().market_dir


def rows_by_date(rel: str) -> dict[dt.date, dict]:
    """Rows of a Yahoo-style CSV keyed by date; ticker and header rows without a date are skipped."""
    out = {}
    with open(MARKET / rel, newline="") as fh:
        for r in csv.DictReader(fh):
            try:
                out[dt.date.fromisoformat(r["Date"][:10])] = r
            except ValueError:
                continue
    return out
