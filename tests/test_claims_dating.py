"""Publication dates from claims are a last resort: several independent claims must agree.

The fixture article is written here from the snapshot's own moves (read with Polars from the
prices table), so the test does not depend on typed-in market numbers.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from pipeline.claims.dating import _pick, infer_publication_dates
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


def _readings(second_holds: list[int]) -> pl.DataFrame:
    """Two readings of one article: five claims hold on 25 Feb, four on 24 Feb."""
    return pl.DataFrame(
        {
            "source_id": ["u", "u"],
            "trial_date": [dt.date(2025, 2, 25), dt.date(2025, 2, 24)],
            "hits": [5, len(second_holds)],
            "sentences": [4, 3],
            "reading": ["a", "b"],
            "evidence": ["", ""],
            "held": [[1, 2, 3, 4, 5], second_holds],
            "n": [6, 6],
            "stale": [0, 0],
        }
    )


def test_a_reading_that_explains_nothing_more_is_no_rival():
    # the 24 Feb reading holds only claims that also hold on 25 Feb: no rival, 25 Feb is kept
    out = _pick(_readings([1, 2, 3, 4]))
    assert out["published_date_inferred"].to_list() == [dt.date(2025, 2, 25)]
    assert "the next reading makes 0 hold" in out["date_evidence"].item()
    # one claim that holds only on 24 Feb makes it a rival, and 5 against 4 is no clear lead
    assert _pick(_readings([1, 2, 3, 6])).height == 0
