"""Event study: how each listing moved around each article's publication.

For every article and listing (BABA against the S&P 500, 9988.HK against the Hang Seng Index)
the event day is the first session of that exchange that could react to the publication
(`pipeline.market.calendars.Calendar.reaction_session`). A market model estimated by OLS on trading
days [-250, -11] before the event (at least 60 days with both returns) gives abnormal returns;
t statistics divide by the residual standard deviation (times sqrt(L) for an L-day CAR), and
p-values are two-sided from the normal approximation.
"""

from __future__ import annotations

import datetime as dt
import math

import polars as pl

from pipeline.market.calendars import Calendar
from pipeline.market.returns import market_model

LISTINGS: tuple[tuple[str, str, str], ...] = (("BABA", "SPX", "NYSE"), ("9988.HK", "HSI", "HKEX"))
ESTIMATION = (-250, -11)
MIN_ESTIMATION_DAYS = 60

EVENTS_SCHEMA: dict[str, pl.DataType] = {
    "article_id": pl.String(),
    "instrument": pl.String(),
    "benchmark": pl.String(),
    "published_at": pl.Datetime("us", "UTC"),
    "published_date": pl.Date(),
    "event_date": pl.Date(),
    "ret": pl.Float64(),
    "benchmark_ret": pl.Float64(),
    "abnormal_ret": pl.Float64(),
    "car_m1_p1": pl.Float64(),
    "car_m1_p5": pl.Float64(),
    "t_ar": pl.Float64(),
    "t_car_m1_p1": pl.Float64(),
    "t_car_m1_p5": pl.Float64(),
    "p_ar": pl.Float64(),
    "p_car_m1_p1": pl.Float64(),
    "p_car_m1_p5": pl.Float64(),
    "alpha": pl.Float64(),
    "beta": pl.Float64(),
    "resid_sd": pl.Float64(),
    "estimation_days": pl.Int64(),
    "note": pl.String(),
}


def _p(t: float | None) -> float | None:
    return None if t is None else math.erfc(abs(t) / math.sqrt(2))


def _paired(returns: pl.DataFrame, stock: str, bench: str) -> pl.DataFrame:
    s = returns.filter(pl.col("instrument") == stock).select("date", pl.col("ret").alias("y"))
    b = returns.filter(pl.col("instrument") == bench).select("date", pl.col("ret").alias("x"))
    return s.join(b, on="date", how="inner").drop_nulls().sort("date")


def events_table(
    articles: pl.DataFrame,
    prices: pl.DataFrame,
    returns: pl.DataFrame,
    estimation: tuple[int, int] = ESTIMATION,
    min_days: int = MIN_ESTIMATION_DAYS,
) -> pl.DataFrame:
    """One row per article per listing; see EVENTS_SCHEMA and docs/market.md."""
    rows: list[dict] = []
    has_date = "published_date" in articles.columns
    for stock, bench, exchange in LISTINGS:
        cal = Calendar.from_prices(exchange, prices)
        pair = _paired(returns, stock, bench)
        dates = pair["date"].to_list()
        ys, xs = pair["y"].to_list(), pair["x"].to_list()
        pos = {d: i for i, d in enumerate(dates)}
        for art in articles.iter_rows(named=True):
            at = art.get("published_at")
            pday = art.get("published_date") if has_date else None
            row = {k: None for k in EVENTS_SCHEMA}
            row.update(
                article_id=art["article_id"],
                instrument=stock,
                benchmark=bench,
                published_at=at,
                published_date=pday,
            )
            if at is None and pday is None:
                row["note"] = "no publication date: no event"
                rows.append(row)
                continue
            ev = cal.reaction_session(at, pday)
            row["event_date"] = ev
            i = pos.get(ev)
            if i is None:
                row["note"] = f"no {stock}/{bench} return pair on {ev} (outside the data or as-of)"
                rows.append(row)
                continue
            lo, hi = max(0, i + estimation[0]), i + estimation[1]
            if hi - lo + 1 < min_days or hi < 0:
                row["note"] = f"only {max(0, hi - lo + 1)} estimation days (< {min_days})"
                rows.append(row)
                continue
            mm = market_model(ys[lo : hi + 1], xs[lo : hi + 1])
            ar = {
                k: ys[i + k] - mm.alpha - mm.beta * xs[i + k]
                for k in range(-1, 6)
                if 0 <= i + k < len(dates)
            }
            row.update(
                ret=ys[i],
                benchmark_ret=xs[i],
                abnormal_ret=ar[0],
                alpha=mm.alpha,
                beta=mm.beta,
                resid_sd=mm.resid_sd,
                estimation_days=mm.n,
            )
            row["t_ar"] = ar[0] / mm.resid_sd if mm.resid_sd else None
            notes = []
            for name, last in (("car_m1_p1", 1), ("car_m1_p5", 5)):
                if all(k in ar for k in range(-1, last + 1)):
                    car = sum(ar[k] for k in range(-1, last + 1))
                    row[name] = car
                    n = last + 2
                    row["t_" + name] = car / (mm.resid_sd * math.sqrt(n)) if mm.resid_sd else None
                else:
                    notes.append(f"{name} incomplete: window runs past the data")
            for name in ("ar", "car_m1_p1", "car_m1_p5"):
                row["p_" + name] = _p(row["t_" + name])
            row["note"] = "; ".join(notes) or None
            rows.append(row)
    return pl.DataFrame(rows, schema=EVENTS_SCHEMA).sort("article_id", "instrument")


__all__ = ["events_table", "dt"]
