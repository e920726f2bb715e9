"""`python -m pipeline market update`: this week's daily bars from the live source, kept locally.

For every instrument of the instruments table with a `live_symbol`, the chart endpoint of
`pipeline.market.live` (Yahoo's, or `BRIEFING_MARKET_URL`) is asked for the days since
`--since` (default: a week before the newest day already held for it). The bars go into the
local updates folder (`Settings.market_update_dir`, `data/market/`, git-ignored) as one
`INSTRUMENT.csv` per instrument in the snapshot's plain layout (Date,Open,High,Low,Close,Volume),
which `pipeline.market.prices` reads after the shared snapshot (see `update_sources` for which
source wins a day both cover). Beside them `PROVENANCE.json` records, per file, the URL asked,
when, how many rows, the date range, the file's SHA-256, and that the prices are as traded.

Nothing is written half-way: every instrument is fetched into memory first, and only when all
succeeded is the whole folder rebuilt beside the old one and swapped in (`pipeline.io`). Any
failure (HTTP error, rate limit, timeout, a payload that is not a chart) is an `InputError`
naming the instrument, and the folder stays as it was.
"""

from __future__ import annotations

import datetime as dt
import http.client
import shutil
import time
import urllib.error
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl

from pipeline import reference
from pipeline.config import Settings
from pipeline.errors import InputError
from pipeline.io import json_text, sha256_file, staged_build, write_text_atomic
from pipeline.market import live
from pipeline.market.prices import UPDATE_PROVENANCE, market_files, prices, read_market_file

REFETCH_DAYS = 7  # the source revises recent bars; re-ask for the last week held
FIRST_FETCH_DAYS = 365  # an instrument with no data yet gets one year
BAR_COLUMNS = ("date", "open", "high", "low", "close", "volume")
PRICE_BASIS = (
    "as traded: the chart's `close` (split-adjusted only, not dividend-adjusted); "
    "the dividend-adjusted `adjclose` is not stored"
)


@dataclass(frozen=True)
class Fetched:
    """One instrument's answer: the request and its daily bars (BAR_COLUMNS)."""

    instrument: str
    symbol: str
    url: str
    start: dt.date
    bars: pl.DataFrame


def update_market(
    settings: Settings,
    since: dt.date | None = None,
    until: dt.date | None = None,
    base_url: str | None = None,
    delay: float | None = None,
    timeout: float = 30,
    log: Callable[[str], None] = print,
) -> Path:
    """Fetch every live instrument, then swap the rebuilt updates folder in; returns it."""
    base = base_url or settings.market_url or live.CHART_URL
    pause = settings.fetch_delay if delay is None else delay
    now = dt.datetime.now(dt.UTC)
    until = until or now.date()
    starts = start_dates(settings, since, until)
    fetched = []
    for n, instrument in enumerate(starts):
        if n and pause > 0:
            time.sleep(pause)  # one host, asked once per instrument: be polite
        fetched.append(fetch_instrument(instrument, starts[instrument], until, base, timeout, now))
        log(f"fetched {instrument}: {fetched[-1].bars.height} daily bars")
    out = settings.market_update_dir
    write_updates(out, fetched, now)
    log(f"wrote {len(fetched)} instruments to {out}")
    if out not in settings.market_dirs:
        log(f"note: {out} is not listed in BRIEFING_MARKET_DIR, so builds will not read it")
    return out


def start_dates(settings: Settings, since: dt.date | None, until: dt.date) -> dict[str, dt.date]:
    """First day to ask for, per live instrument: `since`, or a week before the newest held."""
    symbols = [
        i for i, ins in reference.instruments(settings.reference_dir).items() if ins.live_symbol
    ]
    if since is not None:
        return dict.fromkeys(symbols, since)
    held = (
        settings.market_dirs
        if settings.market_update_dir in settings.market_dirs
        else (
            *settings.market_dirs,
            settings.market_update_dir,
        )
    )
    newest = dict(
        prices(market_files(held)).group_by("instrument").agg(pl.col("date").max()).iter_rows()
    )
    default = until - dt.timedelta(days=FIRST_FETCH_DAYS)
    return {
        i: (newest[i] - dt.timedelta(days=REFETCH_DAYS)) if i in newest else default
        for i in symbols
    }


def fetch_instrument(
    instrument: str, start: dt.date, until: dt.date, base: str, timeout: float, now: dt.datetime
) -> Fetched:
    """One instrument's bars up to `until`, without the session of the fetch's own day
    (it may still be trading); any failure is an InputError naming the instrument."""
    symbol = live.SYMBOLS[instrument][0]
    url = live.chart_url(instrument, start, until, base)
    what = f"{instrument} ({symbol})"
    try:
        payload = live.fetch_chart(instrument, start, until, timeout=timeout, base=base)
        frame = live.normalise_chart(payload, instrument, "payload")
    except urllib.error.HTTPError as exc:
        raise _http_error(what, url, exc) from None
    except (TimeoutError, urllib.error.URLError, http.client.HTTPException, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise InputError(
            f"market update for {what}: no answer from the market source ({reason})",
            url,
            fix="check the network (or BRIEFING_MARKET_URL) and run `make update-market` again",
        ) from None
    except InputError as exc:
        raise InputError(
            f"market update for {what}: {str(exc).splitlines()[0]}",
            url,
            fix="the source answered with something that is not a daily chart; try again later",
        ) from None
    today = now.astimezone(ZoneInfo(reference.instruments()[instrument].timezone)).date()
    bars = frame.filter((pl.col("date") <= until) & (pl.col("date") < today))
    return Fetched(instrument, symbol, url, start, bars.select(BAR_COLUMNS))


def _http_error(what: str, url: str, exc: urllib.error.HTTPError) -> InputError:
    if exc.code == 429:
        wait = exc.headers.get("Retry-After") if exc.headers else None
        return InputError(
            f"market update for {what}: the market source is rate-limiting us (HTTP 429)",
            url,
            fix=f"wait {wait + ' seconds' if wait else 'a few minutes'} and run "
            "`make update-market` again (BRIEFING_FETCH_DELAY spaces the requests)",
        )
    return InputError(
        f"market update for {what}: HTTP {exc.code} {exc.reason}",
        url,
        fix="check the instrument's live_symbol in data/reference/instruments.csv",
    )


def write_updates(out: Path, fetched: list[Fetched], now: dt.datetime) -> None:
    """Rebuild the updates folder beside `out` and swap it in whole, provenance included.

    Old bars before each request's start are kept; other files in the folder are carried over.
    A reader (or a build) sees the old folder or the new one, never a mix.
    """
    old_record = _read_provenance(out)
    with staged_build(out) as tmp:
        if out.is_dir():
            for path in out.iterdir():
                if path.is_file() and path.name != UPDATE_PROVENANCE:
                    shutil.copy2(path, tmp / path.name)
        files = dict(old_record.get("files", {}))
        for f in fetched:
            name = f"{f.instrument}.csv"
            bars = merged_bars(out / name, f.bars, f.start)
            if bars.height == 0:
                continue  # nothing to write; the provenance below says 0 rows
            _write_bars(bars, tmp / name)
            files[name] = _file_record(f, bars, tmp / name, now)
        record = {
            "source": "Yahoo Finance chart API (pipeline.market.live)",
            "fetched_at": now.isoformat(timespec="seconds"),
            "prices": PRICE_BASIS,
            "files": files,
            "empty": sorted(f.instrument for f in fetched if f.bars.height == 0),
        }
        write_text_atomic(json_text(record), tmp / UPDATE_PROVENANCE)


def _write_bars(bars: pl.DataFrame, path: Path) -> None:
    """The snapshot's plain layout: Date,Open,High,Low,Close,Volume, ISO dates."""
    bars.rename({c: c.capitalize() for c in BAR_COLUMNS}).write_csv(path)


def _file_record(f: Fetched, bars: pl.DataFrame, path: Path, now: dt.datetime) -> dict:
    return {
        "instrument": f.instrument,
        "symbol": f.symbol,
        "url": f.url,
        "fetched_at": now.isoformat(timespec="seconds"),
        "rows": bars.height,
        "rows_fetched": f.bars.height,
        "first": bars["date"].min().isoformat(),
        "last": bars["date"].max().isoformat(),
        "sha256": sha256_file(path),
        "adjusted": False,
    }


def _read_provenance(out: Path) -> dict:
    import json

    path = out / UPDATE_PROVENANCE
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InputError(
            "provenance record is not JSON", path, fix="delete the folder and update again"
        ) from None


def merged_bars(old_file: Path, new: pl.DataFrame, start: dt.date) -> pl.DataFrame:
    """The file's old bars before `start` (what was not asked again), then the new ones."""
    if not old_file.is_file():
        return new
    old = read_market_file(old_file, old_file.name).select(BAR_COLUMNS)
    return pl.concat([old.filter(pl.col("date") < start), new]).sort("date")
