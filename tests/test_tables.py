"""Issue 2's tables on the real seeds and market snapshot: schemas, key values, the as-of cut-off.

Expected values are computed here from the raw files, never typed in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import polars as pl
import pytest

from pipeline.editions.identity import compute_edition
from pipeline.tables import build_tables

ARTICLES = sorted(
    p for p in Path("data/articles").iterdir() if p.suffix in (".txt", ".md", ".html")
)


def test_articles_one_row_per_file_with_stable_ids(tables) -> None:
    articles = tables["articles"]
    assert articles.height == len(ARTICLES)
    for path in ARTICLES:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        row = articles.filter(pl.col("path") == path.name)
        assert row.height == 1
        assert digest.startswith(row["article_id"].item())


def test_articles_schema_and_word_counts(tables) -> None:
    articles = tables["articles"]
    for column in (
        "article_id",
        "path",
        "source",
        "language",
        "published_at",
        "published_date",
        "title",
        "text",
        "n_words",
    ):
        assert column in articles.columns
    words = articles.select(pl.col("text").str.split(" ").list.len().alias("approx"), "n_words")
    assert (words["n_words"] > 0).all()
    assert set(articles["language"].to_list()) == {"en", "de"}


def test_prices_schema(tables) -> None:
    prices = tables["prices"]
    for column in (
        "instrument",
        "date",
        "open",
        "high",
        "low",
        "close",
        "volume",
        "currency",
        "adjusted",
        "close_traded",
        "source_file",
    ):
        assert column in prices.columns
    assert prices.select(pl.struct("instrument", "date").is_duplicated().any()).item() is False
    assert {"BABA", "9988.HK", "HSI", "SPX"} <= set(prices["instrument"].unique().to_list())


def test_baba_as_traded_close_matches_documented_factor(tables, settings) -> None:
    # PROVENANCE.md: rows up to 2025-06-11 are raw x 118.33/120.33 (US$2.00 dividend, ex 2025-06-12).
    raw = pl.read_csv(
        settings.market_dir / "Koi-west__stock-predictor/data/BABA.csv", try_parse_dates=True
    )
    adjusted_close = raw.filter(pl.col("Date") == dt.date(2025, 2, 11))["Close"].item()
    expected = adjusted_close / (118.33 / 120.33)
    row = tables["prices"].filter(
        (pl.col("instrument") == "BABA") & (pl.col("date") == dt.date(2025, 2, 11))
    )
    assert row["adjusted"].item() is True
    assert row["close_traded"].item() == pytest.approx(expected, abs=0.005)
    after = tables["prices"].filter(
        (pl.col("instrument") == "BABA") & (pl.col("date") == dt.date(2025, 11, 14))
    )
    assert after["close_traded"].item() == pytest.approx(after["close"].item())


def test_returns_are_simple_daily_returns(tables, settings) -> None:
    raw = (
        pl.read_csv(
            settings.market_dir / "Koi-west__stock-predictor/data/BABA.csv", try_parse_dates=True
        )
        .sort("Date")
        .with_columns(ret=pl.col("Close").pct_change())
    )
    expected = raw.filter(pl.col("Date") == dt.date(2025, 11, 14))["ret"].item()
    got = tables["returns"].filter(
        (pl.col("instrument") == "BABA") & (pl.col("date") == dt.date(2025, 11, 14))
    )
    assert got["ret"].item() == pytest.approx(expected, rel=1e-9)


def test_default_as_of_is_newest_article_and_nothing_is_later(tables) -> None:
    as_of = tables.edition.as_of
    assert as_of == tables["articles"]["published_date"].max()
    for name in ("prices", "returns"):
        assert tables[name]["date"].max() <= as_of
    assert tables.edition.id.startswith(as_of.isoformat())


def test_as_of_cut_off_drops_later_rows(tmp_path: Path, make_settings) -> None:
    cut = dt.date(2025, 11, 10)
    built = build_tables(make_settings(tmp_path, as_of=cut))
    assert (built["articles"]["published_date"].drop_nulls() <= cut).all()
    assert built["articles"].height < len(ARTICLES)
    for name in ("prices", "returns"):
        assert built[name]["date"].max() <= cut
    if built["events"].height:
        assert (built["events"]["event_date"].drop_nulls() <= cut).all()
    if built["claims"].height:
        assert (built["claims"]["claim_date"].drop_nulls() <= cut).all()


def test_same_inputs_same_edition_id(tmp_path: Path, tables, make_settings) -> None:
    settings = make_settings(tmp_path)
    again = build_tables(settings)
    assert compute_edition(settings, again.as_of).id == tables.edition.id
