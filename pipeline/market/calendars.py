"""Exchange calendars derived from the data, and the rule mapping a publication time to the
first session that could react to it.

No calendar library is needed: the benchmark index of each exchange traded on exactly the
exchange's sessions (HSI for HKEX, S&P 500 for NYSE, CSI 300 for Shanghai), and PROVENANCE.md
confirms BABA/SPX and 9988.HK/HSI share their 2025 calendars. Beyond the last row of the data
the calendar continues with weekdays, marked provisional, so a new article still gets a date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import polars as pl


@dataclass(frozen=True)
class Exchange:
    name: str
    tz: str
    close: dt.time  # end of the continuous session, local time
    benchmark: str  # instrument whose trading days define the calendar


EXCHANGES: dict[str, Exchange] = {
    "HKEX": Exchange("HKEX", "Asia/Hong_Kong", dt.time(16, 0), "HSI"),
    "NYSE": Exchange("NYSE", "America/New_York", dt.time(16, 0), "SPX"),
    "SSE": Exchange("SSE", "Asia/Shanghai", dt.time(15, 0), "CSI300"),
}

INSTRUMENT_EXCHANGE: dict[str, str] = {
    "BABA": "NYSE",
    "SPX": "NYSE",
    "SPY": "NYSE",
    "KWEB": "NYSE",
    "MCHI": "NYSE",
    "FXI": "NYSE",
    "9988.HK": "HKEX",
    "HSI": "HKEX",
    "HSTECH": "HKEX",
    "CSI300": "SSE",
}


def exchange_calendars(prices: pl.DataFrame) -> pl.DataFrame:
    """`exchange`, `date`: every session of each exchange, from its benchmark's rows."""
    parts = [
        prices.filter(pl.col("instrument") == ex.benchmark).select(
            pl.lit(name).alias("exchange"), "date"
        )
        for name, ex in EXCHANGES.items()
    ]
    return pl.concat(parts).unique().sort("exchange", "date")


class Calendar:
    """Sorted sessions of one exchange with next/previous lookups."""

    def __init__(self, exchange: str, sessions: list[dt.date]) -> None:
        self.exchange = EXCHANGES[exchange]
        self.sessions = sorted(set(sessions))
        self._set = set(self.sessions)
        self.last = self.sessions[-1] if self.sessions else dt.date.min

    @classmethod
    def from_prices(cls, exchange: str, prices: pl.DataFrame) -> Calendar:
        bench = EXCHANGES[exchange].benchmark
        return cls(exchange, prices.filter(pl.col("instrument") == bench)["date"].to_list())

    def is_session(self, day: dt.date) -> bool:
        if day > self.last:
            return day.weekday() < 5  # provisional beyond the data
        return day in self._set

    def on_or_after(self, day: dt.date) -> dt.date:
        d = day
        while not self.is_session(d):
            d += dt.timedelta(days=1)
        return d

    def on_or_before(self, day: dt.date) -> dt.date | None:
        d = day
        first = self.sessions[0] if self.sessions else day
        while d >= first:
            if self.is_session(d):
                return d
            d -= dt.timedelta(days=1)
        return None

    def previous_year_end(self, day: dt.date) -> dt.date | None:
        """Last session of the year before `day` (the base of a year-to-date change)."""
        return self.on_or_before(dt.date(day.year - 1, 12, 31))

    def reaction_session(
        self, published_at: dt.datetime | None, published_date: dt.date | None = None
    ) -> dt.date | None:
        """First session whose prices could react to a publication.

        With a time: convert to the exchange's local time (zoneinfo, so New York daylight
        saving is handled); published before that day's close on a session day -> that
        session; otherwise (after the close, weekend, holiday) -> the next session. With a date
        only, the time is unknown: the first session on or after that date.
        """
        if published_at is not None:
            utc = published_at if published_at.tzinfo else published_at.replace(tzinfo=dt.UTC)
            local = utc.astimezone(ZoneInfo(self.exchange.tz))
            day = local.date()
            if self.is_session(day) and local.time() < self.exchange.close:
                return day
            return self.on_or_after(day + dt.timedelta(days=1))
        if published_date is not None:
            return self.on_or_after(published_date)
        return None

    def local_date(self, published_at: dt.datetime) -> dt.date:
        utc = published_at if published_at.tzinfo else published_at.replace(tzinfo=dt.UTC)
        return utc.astimezone(ZoneInfo(self.exchange.tz)).date()


def calendars(prices: pl.DataFrame) -> dict[str, Calendar]:
    """All exchange calendars from a prices table."""
    return {name: Calendar.from_prices(name, prices) for name in EXCHANGES}
