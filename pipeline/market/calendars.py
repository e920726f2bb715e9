"""Exchange sessions and closing times, and the rule mapping a publication time to the first
session that could react to it.

Two sources, each used for what it knows best:
- **The data** decides which past days were sessions. Each exchange's calendar benchmark (the
  first index of that exchange in `instruments.csv`: HSI, S&P 500, CSI 300) traded on exactly the
  exchange's sessions, including ad-hoc closures that no rule-based calendar knows (Hong Kong's
  typhoon and rainstorm days of September 2023 are sessions in `exchange_calendars`, not in the
  data).
- **`exchange_calendars`** (XHKG, XNYS, XSHG) gives closing times, so half-days such as Hong
  Kong's 31 December close at noon, and the sessions after the data ends, so a holiday after
  the snapshot is not counted as a trading day.

Both are settled once per build in the `sessions` table (`sessions_table`), which the claims
and events read. `exchange_calendars` (and pandas under it) is imported only to build it, so
a build that reuses the market tables never loads them.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import polars as pl

from pipeline.reference import instruments

if TYPE_CHECKING:
    import exchange_calendars as xcals

HORIZON = dt.timedelta(days=400)  # how far past the data's last day sessions are known


@dataclass(frozen=True)
class Exchange:
    name: str
    tz: str
    close: dt.time  # the regular end of the continuous session, local time
    benchmark: str  # instrument whose trading days define the past sessions
    calendar: str  # exchange_calendars code


@cache
def exchanges() -> dict[str, Exchange]:
    """One entry per exchange in the instruments table, with its calendar benchmark."""
    found: dict[str, Exchange] = {}
    rows = instruments().values()
    for ins in sorted(rows, key=lambda i: i.kind != "index"):  # indices first, table order kept
        if ins.exchange in found:
            continue
        cal = _rule_calendar(ins.calendar, dt.date(2024, 1, 2), dt.date(2024, 12, 31))
        close = cal.closes.dt.tz_convert(ins.timezone).dt.time.mode().iloc[0]  # not a half-day
        found[ins.exchange] = Exchange(
            ins.exchange, ins.timezone, close, ins.instrument, ins.calendar
        )
    return found


@cache
def _rule_calendar(code: str, start: dt.date, end: dt.date) -> xcals.ExchangeCalendar:
    """`exchange_calendars` for `code`, clamped to the years its holiday rules are recorded for."""
    import exchange_calendars as xcals

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its pandas deprecation notices are not ours to act on
        kind = type(xcals.get_calendar(code))
        lo, hi = kind.bound_min(), kind.bound_max()
        start = max(start, lo.date()) if lo is not None else start
        end = min(end, hi.date()) if hi is not None else end
        return xcals.get_calendar(code, start=start.isoformat(), end=end.isoformat())


INSTRUMENT_EXCHANGE: dict[str, str] = {i: ins.exchange for i, ins in instruments().items()}


def exchange_calendars(prices: pl.DataFrame) -> pl.DataFrame:
    """`exchange`, `date`: every past session of each exchange, from its benchmark's rows."""
    parts = [
        prices.filter(pl.col("instrument") == ex.benchmark).select(
            pl.lit(name).alias("exchange"), "date"
        )
        for name, ex in exchanges().items()
    ]
    return pl.concat(parts).unique().sort("exchange", "date")


class Calendar:
    """Sorted sessions of one exchange with next/previous lookups and each day's close."""

    def __init__(self, exchange: str, sessions: list[dt.date]) -> None:
        self.exchange = exchanges()[exchange]
        self.sessions = sorted(set(sessions))
        self._set = set(self.sessions)
        self.last = self.sessions[-1] if self.sessions else dt.date.min
        first = self.sessions[0] if self.sessions else dt.date(2000, 1, 3)
        end = max(self.last, first) + HORIZON
        self._rules = _rule_calendar(self.exchange.calendar, max(first, dt.date(1990, 1, 2)), end)
        self._after = {d.date() for d in self._rules.sessions if d.date() > self.last}
        # Past the rules' last recorded year, weekdays stand in (provisional).
        self._rules_end = self._rules.last_session.date()

    @classmethod
    def from_prices(cls, exchange: str, prices: pl.DataFrame) -> Calendar:
        bench = exchanges()[exchange].benchmark
        return cls(exchange, prices.filter(pl.col("instrument") == bench)["date"].to_list())

    def is_session(self, day: dt.date) -> bool:
        if day > self._rules_end:
            return day.weekday() < 5
        if day > self.last:
            return day in self._after
        return day in self._set

    def close_at(self, day: dt.date) -> dt.time:
        """Local closing time of `day`'s session: noon on a Hong Kong half-day, else the regular close."""
        import pandas as pd

        stamp = pd.Timestamp(day)
        if day > self._rules_end or not self._rules.is_session(stamp):
            return self.exchange.close
        return self._rules.session_close(stamp).tz_convert(self.exchange.tz).time()

    def sessions_frame(self) -> pl.DataFrame:
        """`date`, `close_utc`: every known session (past ones from the data, later ones from
        the rules) with its closing instant, for as-of joins of publication times."""
        days = pl.DataFrame({"date": sorted(self._set | self._after)}, schema={"date": pl.Date})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            closes = self._rules.closes
            rules = pl.DataFrame(
                {
                    "date": [d.date() for d in closes.index],
                    "close_utc": [c.to_pydatetime() for c in closes],
                }
            ).with_columns(pl.col("close_utc").dt.convert_time_zone("UTC"))
        regular = (
            pl.col("date")
            .dt.combine(pl.lit(self.exchange.close))
            .dt.replace_time_zone(self.exchange.tz)
            .dt.convert_time_zone("UTC")
        )
        return (
            days.join(rules, on="date", how="left")
            .with_columns(pl.col("close_utc").fill_null(regular).dt.cast_time_unit("us"))
            .sort("date")
        )

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
        saving is handled); published before that day's close on a session day (noon on a
        half-day) -> that session; otherwise (after the close, weekend, holiday) -> the next
        session. With a date only, the time is unknown: the first session on or after that date.
        """
        if published_at is not None:
            local = self.local_time(published_at)
            day = local.date()
            if self.is_session(day) and local.time() < self.close_at(day):
                return day
            return self.on_or_after(day + dt.timedelta(days=1))
        if published_date is not None:
            return self.on_or_after(published_date)
        return None

    def local_time(self, published_at: dt.datetime) -> dt.datetime:
        utc = published_at if published_at.tzinfo else published_at.replace(tzinfo=dt.UTC)
        return utc.astimezone(ZoneInfo(self.exchange.tz))

    def local_date(self, published_at: dt.datetime) -> dt.date:
        return self.local_time(published_at).date()


def calendars(prices: pl.DataFrame) -> dict[str, Calendar]:
    """All exchange calendars from a prices table."""
    return {name: Calendar.from_prices(name, prices) for name in exchanges()}


SESSIONS_SCHEMA = {
    "exchange": pl.String,
    "date": pl.Date,
    "close_utc": pl.Datetime("us", "UTC"),
    "regular_close": pl.Time,
    "basis": pl.String,
}


def sessions_table(prices: pl.DataFrame) -> pl.DataFrame:
    """`sessions`: every session of each exchange from its benchmark's first day in the data to
    HORIZON past its last, with the closing instant and where the day comes from.

    `basis` is "traded" (the benchmark has a row that day), "scheduled" (after the data, a
    session by the exchange's rules) or "weekday" (past the years the rules are recorded for:
    provisional). `regular_close` is the exchange's usual local close (a half-day closes
    earlier, as `close_utc` shows).
    """
    parts = [_exchange_sessions(cal) for cal in calendars(prices).values() if cal.sessions]
    if not parts:
        return pl.DataFrame(schema=SESSIONS_SCHEMA)
    return pl.concat(parts).sort("exchange", "date")


def _exchange_sessions(cal: Calendar) -> pl.DataFrame:
    ex = cal.exchange
    known = cal.sessions_frame()
    past_rules = max(cal.last, cal._rules_end) + dt.timedelta(days=1)
    weekdays = pl.DataFrame(
        {"date": pl.date_range(past_rules, cal.last + HORIZON, eager=True)}
    ).filter(pl.col("date").dt.weekday() <= 5)
    regular = (
        pl.col("date")
        .dt.combine(pl.lit(ex.close))
        .dt.replace_time_zone(ex.tz)
        .dt.convert_time_zone("UTC")
        .dt.cast_time_unit("us")
    )
    basis = (
        pl.when(pl.col("date") <= cal.last)
        .then(pl.lit("traded"))
        .when(pl.col("close_utc").is_not_null())
        .then(pl.lit("scheduled"))
        .otherwise(pl.lit("weekday"))
    )
    return (
        pl.concat([known, weekdays.with_columns(close_utc=pl.lit(None, known["close_utc"].dtype))])
        .with_columns(basis=basis)
        .with_columns(
            pl.col("close_utc").fill_null(regular),
            exchange=pl.lit(ex.name),
            regular_close=pl.lit(ex.close),
        )
        .select(list(SESSIONS_SCHEMA))
        .cast(SESSIONS_SCHEMA)
    )
