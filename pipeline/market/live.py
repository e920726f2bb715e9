"""Optional live loader: the same `prices` schema from Yahoo Finance's public chart endpoint.

Split in two so the pure half can be tested offline: `fetch_chart` does the network call
(plain urllib, no extra dependency) and `normalise_chart` turns the JSON into `prices` rows.
Yahoo's chart `close` is the as-traded close (split-adjusted only) and `adjclose` the
dividend-adjusted one, so live rows carry `adjusted = False` and `close_traded = close`.
The snapshot in `pipeline.market.prices` stays the default; this module is never called by the tests
with the network.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse
import urllib.request
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl

from pipeline import reference
from pipeline.errors import InputError
from pipeline.market.prices import PRICES_SCHEMA

CHART_URL = "https://query1.finance.yahoo.com/v8/finance/chart/{symbol}"
USER_AGENT = "Mozilla/5.0 (briefing pipeline)"
# instrument -> (live symbol, currency), from the instruments table
SYMBOLS: dict[str, tuple[str, str]] = {
    i: (ins.live_symbol, ins.currency)
    for i, ins in reference.instruments().items()
    if ins.live_symbol
}


def chart_url(instrument: str, start: dt.date, end: dt.date, base: str = CHART_URL) -> str:
    """The chart request for one instrument; `base` holds `{symbol}` (BRIEFING_MARKET_URL)."""
    symbol = SYMBOLS[instrument][0]
    t0 = int(dt.datetime.combine(start, dt.time(), dt.UTC).timestamp())
    t1 = int(dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), dt.UTC).timestamp())
    query = urllib.parse.urlencode(
        {
            "period1": t0,
            "period2": t1,
            "interval": "1d",
            "events": "div,split",
            "includeAdjustedClose": "true",
        }
    )
    if "{symbol}" not in base:
        base = base.rstrip("/") + "/{symbol}"
    return base.format(symbol=urllib.parse.quote(symbol)) + "?" + query


def fetch_chart(
    instrument: str, start: dt.date, end: dt.date, timeout: float = 30, base: str = CHART_URL
) -> bytes:
    """Network half: the raw JSON bytes of Yahoo's chart endpoint."""
    req = urllib.request.Request(
        chart_url(instrument, start, end, base), headers={"User-Agent": USER_AGENT}
    )
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - configured host
        return resp.read()


def normalise_chart(
    payload: bytes | str | dict, instrument: str, source: str = "yahoo-chart"
) -> pl.DataFrame:
    """Pure half: chart JSON -> `prices` rows (PRICES_SCHEMA).

    Dates are the session's local date in the exchange's own time zone (Yahoo stamps the open).
    Rows with no price at all (Yahoo's empty holiday bars) are left out; a row with some prices
    but no close is bad input and raises `InputError`.
    """
    try:
        data = payload if isinstance(payload, dict) else json.loads(payload)
        chart = data["chart"]
        if chart.get("error"):
            raise InputError(f"Yahoo chart error: {chart['error']}", source)
        res = chart["result"][0]
        meta, stamps = res["meta"], res.get("timestamp") or []
        quote = res["indicators"]["quote"][0]
    except (KeyError, IndexError, TypeError, json.JSONDecodeError) as exc:
        raise InputError(f"not a Yahoo chart payload ({exc!r})", source) from None
    tz = ZoneInfo(meta.get("exchangeTimezoneName") or "UTC")
    n = len(stamps)
    cols = {k: (quote.get(k) or [None] * n) for k in ("open", "high", "low", "close", "volume")}
    if any(len(v) != n for v in cols.values()):
        raise InputError("chart arrays differ in length", source)
    df = pl.DataFrame(
        {
            "date": [dt.datetime.fromtimestamp(t, tz).date() for t in stamps],
            **{k: pl.Series(v, dtype=pl.Float64) for k, v in cols.items()},
        }
    ).with_row_index("row")
    empty = pl.all_horizontal([pl.col(k).is_null() for k in ("open", "high", "low", "close")])
    df = df.filter(~empty)
    bad = df.filter(pl.col("close").is_null() | (pl.col("close") <= 0))
    if bad.height:
        raise InputError("row without a positive close", source, line=int(bad["row"][0]))
    dup = df.filter(pl.col("date").is_duplicated())
    if dup.height:
        raise InputError(f"duplicate day {dup['date'][0]}", source, line=int(dup["row"][0]))
    currency = SYMBOLS.get(instrument, (instrument, meta.get("currency") or ""))[1]
    flat = (
        (pl.col("open") == pl.col("close"))
        & (pl.col("high") == pl.col("close"))
        & (pl.col("low") == pl.col("close"))
    )
    return (
        df.select(
            pl.lit(instrument).alias("instrument"),
            "date",
            "open",
            "high",
            "low",
            "close",
            "volume",
            pl.lit(currency).alias("currency"),
            pl.lit(False).alias("adjusted"),
            pl.col("close").alias("close_traded"),
            pl.lit(source).alias("source_file"),
            (flat & (pl.col("volume") == 0)).fill_null(False).alias("placeholder"),
        )
        .cast(PRICES_SCHEMA)
        .sort("date")
    )


def load_live(
    instruments: list[str], start: dt.date, end: dt.date, out: Path | None = None, fetch=fetch_chart
) -> pl.DataFrame:
    """Fetch and normalise several instruments; optionally write Parquet atomically."""
    frames = [
        normalise_chart(fetch(ins, start, end), ins, f"yahoo-chart:{SYMBOLS[ins][0]}")
        for ins in instruments
    ]
    prices = pl.concat(frames).filter(pl.col("date") <= end).sort("instrument", "date")
    if out is not None:
        tmp = Path(out).with_suffix(".tmp")
        prices.write_parquet(tmp)
        tmp.replace(out)
    return prices
