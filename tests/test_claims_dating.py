"""Publication dates from claims are a last resort: several independent claims must agree.

The fixture article is written here from the snapshot's own moves (read with Polars from the
prices table), so the test does not depend on typed-in market numbers.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from pipeline.claims.dating import infer_publication_dates
from pipeline.config import Settings
from pipeline.market.prices import prices_table

DAY = dt.date(2025, 9, 24)  # a Wednesday on which both Hong Kong and New York traded


@pytest.fixture(scope="module")
def prices() -> pl.DataFrame:
    return prices_table(Settings().market_dir)


def move(prices: pl.DataFrame, instrument: str, day: dt.date) -> float:
    rows = prices.filter(pl.col("instrument") == instrument, ~pl.col("placeholder")).sort("date")
    rows = rows.with_columns(prev=pl.col("close").shift(1)).filter(pl.col("date") == day)
    return (rows["close"].item() / rows["prev"].item() - 1) * 100


def articles(*dated: tuple[str, dt.date | None]) -> pl.DataFrame:
    return pl.DataFrame(
        {"article_id": [a for a, _ in dated], "published_date": [d for _, d in dated]},
        schema={"article_id": pl.String, "published_date": pl.Date},
    )


def sentences(rows: list[tuple[str, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "article_id": [a for a, _ in rows],
            "sentence_idx": list(range(len(rows))),
            "text": [t for _, t in rows],
            "language": ["en"] * len(rows),
        }
    )


def test_three_agreeing_claims_date_an_undated_article(prices):
    hk, hsi, ny = (move(prices, i, DAY) for i in ("9988.HK", "HSI", "BABA"))
    text = [
        ("u", f"On Wednesday, Alibaba's Hong Kong shares closed {hk:.1f}% higher."),
        ("u", f"The Hang Seng Index gained {hsi:.1f}% on Wednesday."),
        ("u", f"In New York the ADRs rose {ny:.1f}% on Wednesday."),
        ("d", "A dated article gives the edition its window."),
    ]
    out = infer_publication_dates(sentences(text), articles(("u", None), ("d", DAY)), prices)
    row = out.row(0, named=True)
    assert row["article_id"] == "u"
    # the earliest date on which all three Wednesday moves can have been reported
    assert row["published_date_inferred"] == DAY
    assert "3 of 3" in row["date_evidence"] and "next reading" in row["date_evidence"]


def test_one_claim_is_not_enough_and_a_stated_date_is_kept(prices):
    hk = move(prices, "9988.HK", DAY)
    text = [
        ("u", f"On Wednesday, Alibaba's Hong Kong shares closed {hk:.1f}% higher."),
        ("d", f"On Wednesday, Alibaba's Hong Kong shares closed {hk:.1f}% higher."),
    ]
    stated = dt.date(2025, 3, 3)
    out = infer_publication_dates(sentences(text), articles(("u", None), ("d", stated)), prices)
    assert out.height == 0
