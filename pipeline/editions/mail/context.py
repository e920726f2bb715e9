"""The email's story as numbers and names, from the edition's tables; no words are made here.

`email_context` is the one place that decides what the message says: which listing leads,
which move was the biggest, which claims could not be checked. It returns dates, floats,
counts and names (instrument ids, exchanges, titles); the language templates
(`pipeline/templates/email_<lang>.j2`) turn them into sentences, so an English and a German
reader get the same figures in their own words. A headline chosen elsewhere (the site's story)
can later be passed in as `lead` without touching the templates' inputs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from pipeline.findings.summary import verdict_counts
from pipeline.reference import instruments

# Same window as the site's key findings (`pipeline.briefing.narrative.TRIGGER_WINDOW_DAYS`,
# which editions/ may not import): an article up to 3 days before a move may have triggered it.
TRIGGER_WINDOW_DAYS = 3


def listing_names() -> pl.DataFrame:
    """Who and where each instrument is (issuer, exchange, its time zone for the city name)."""
    return pl.DataFrame(
        [
            {
                "instrument": i.instrument,
                "issuer": i.issuer,
                "exchange": i.exchange,
                "tz": i.timezone,
            }
            for i in instruments().values()
        ]
    )


def year_to_date_rows(year_to_date: pl.DataFrame) -> list[dict[str, Any]]:
    """Each listing's change since the last close of the previous year, biggest move first."""
    return (
        year_to_date.join(listing_names(), on="instrument", how="left")
        .with_columns(adjusted=pl.col("basis") != "as traded")
        .sort(pl.col("change").abs(), descending=True)
        .to_dicts()
    )


def biggest_move(
    abnormal_returns: pl.DataFrame, articles: pl.DataFrame, year: int, as_of: dt.date
) -> dict[str, Any] | None:
    """The year's largest daily move net of the market, with the nearest article before it."""
    moves = (
        abnormal_returns.filter((pl.col("date").dt.year() == year) & (pl.col("date") <= as_of))
        .join(listing_names(), on="instrument", how="left")
        .sort(pl.col("abnormal_ret").abs(), descending=True)
    )
    if moves.is_empty():
        return None
    move = moves.row(0, named=True)
    window = articles.filter(
        pl.col("published_date").is_between(
            move["date"] - dt.timedelta(days=TRIGGER_WINDOW_DAYS), move["date"]
        )
    ).sort("published_date")
    move["article"] = (
        window.select("title", "source", "language", "published_date").row(-1, named=True)
        if window.height
        else None
    )
    move["window_days"] = TRIGGER_WINDOW_DAYS
    return move


def indexed_prices(prices: pl.DataFrame, year_to_date: pl.DataFrame) -> list[dict[str, Any]]:
    """Each listing's closes from its year-to-date base, as an index (base close = 100).

    The base and the last point are the `year_to_date` table's own, so the chart ends exactly
    at the change the text states.
    """
    base = year_to_date.select("instrument", "base_date", "last_date", "base")
    return (
        prices.join(base, on="instrument", how="inner")
        .filter(pl.col("date").is_between(pl.col("base_date"), pl.col("last_date")))
        .select("instrument", "date", index=pl.col("close") / pl.col("base") * 100)
        .sort("instrument", "date")
        .to_dicts()
    )


def unverifiable_claims(claims: pl.DataFrame) -> list[dict[str, Any]]:
    """Claims the market data cannot check, counted per instrument and kind of figure."""
    return (
        claims.filter(pl.col("verdict") == "unverifiable")
        .group_by("instrument", "kind")
        .agg(n=pl.len())
        .sort(["n", "instrument", "kind"], descending=[True, False, False])
        .to_dicts()
    )


def email_context(tables: dict[str, pl.DataFrame], edition: dict[str, Any]) -> dict[str, Any]:
    """Everything the email states, computed from the tables of one edition.

    `edition` carries `edition_id` and `as_of` (ISO date or `date`). Returns plain values:
    `ytd` rows (largest change first, the headline's `lead`), the biggest `move`, verdict
    counts and the `unverifiable` claims; templates only word and format them.
    """
    as_of = edition["as_of"]
    as_of = as_of if isinstance(as_of, dt.date) else dt.date.fromisoformat(str(as_of))
    articles, claims = tables["articles"], tables["claims"]
    ytd = year_to_date_rows(tables["year_to_date"])
    dated = articles["published_date"].drop_nulls()
    return {
        "edition_id": edition["edition_id"],
        "as_of": as_of,
        "year": as_of.year,
        "ytd": ytd,
        "lead": ytd[0] if ytd else None,
        "move": biggest_move(tables["abnormal_returns"], articles, as_of.year, as_of),
        "n_articles": articles.height,
        "first_article": dated.min() if dated.len() else None,
        "last_article": dated.max() if dated.len() else None,
        "n_claims": claims.height,
        "verdicts": verdict_counts(claims),
        "unverifiable": unverifiable_claims(claims),
        "series": indexed_prices(tables["prices"], tables["year_to_date"]),
    }
