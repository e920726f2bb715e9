"""Records, scheduled dates and shared time words, on sentences written for these tests.

A record ("its worst day since 1997") is the day's move set against every session after the
named time; its year dates no figure. A date that names a coming event ("results are due on
Tuesday") dates nothing. Moves are read from the market snapshot here, not typed in.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from pipeline.claims.extract import extract_candidates
from pipeline.claims.table import claims_table
from pipeline.config import Settings
from pipeline.market.prices import prices_table


def frame(*texts: str, language: str = "en") -> pl.DataFrame:
    n = len(texts)
    return pl.DataFrame(
        {"article_id": ["r"] * n, "sentence_idx": list(range(n)), "text": list(texts),
         "language": [language] * n}
    )  # fmt: skip


def candidates(*texts: str, language: str = "en"):
    return extract_candidates(frame(*texts, language=language))


@pytest.fixture(scope="module")
def prices() -> pl.DataFrame:
    return prices_table(Settings().market_dir)


def hsi_move(prices: pl.DataFrame, day: dt.date) -> float:
    """The Hang Seng's close-to-close move on `day`, in percent, from the snapshot."""
    hsi = prices.filter((pl.col("instrument") == "HSI") & ~pl.col("placeholder")).sort("date")
    hsi = hsi.with_columns(move=(pl.col("close") / pl.col("close").shift(1) - 1) * 100)
    return hsi.filter(pl.col("date") == day)["move"].item()


def checked(prices, *texts, when, language="en") -> pl.DataFrame:
    articles = pl.DataFrame(
        {"article_id": ["r"], "published_at": [when], "published_date": [when.date()]},
        schema_overrides={"published_at": pl.Datetime("us", "UTC")},
    )
    return claims_table(frame(*texts, language=language), articles, prices)


def test_a_record_year_is_no_period_change_in_any_language():
    en = candidates("The benchmark index sank 6.5% on Monday, its worst one-day loss since 2008.")
    de = candidates(
        "Der Hang Seng verlor am Montag 6,5 Prozent, der größte Tagesverlust seit 2008.",
        language="de",
    )
    zh = candidates("恒指今日急跌6.5% 創2008年以來最大跌幅", language="zh")
    for found in (en, de, zh):
        moves = [c for c in found if c.unit == "percent" and c.kind != "record"]
        assert [c.kind for c in moves] == ["pct_change_day"]
        assert all(s[0] != "year" for c in moves for s in c.specs)
    assert [(c.kind, c.base_spec) for c in en if c.kind == "record"] == [("record", ("year", 2008))]


def test_a_record_in_the_next_sentence_takes_the_last_move():
    found = candidates(
        "Hong Kong-listed shares of Alibaba jumped 9.4% on Thursday.",
        "It was the strongest daily gain since March 2021.",
    )
    record = [c for c in found if c.kind == "record"]
    assert len(record) == 1 and record[0].value == 9.4 and record[0].sentence_idx == 1
    assert record[0].base_spec == ("month", 2021, 3)
    assert record[0].quote.endswith("since March 2021")


def test_records_are_checked_against_every_later_session(prices):
    day, after = dt.date(2025, 4, 7), dt.date(2025, 4, 8)
    crash, rebound = hsi_move(prices, day), hsi_move(prices, after)
    when = dt.datetime(2025, 4, 8, 11, 0, tzinfo=dt.UTC)  # after the Hong Kong close
    table = checked(
        prices,
        f"The Hang Seng Index sank {abs(crash):.1f}% on Monday, its biggest one-day drop "
        "since 2000.",
        f"The Hang Seng Index rebounded {rebound:.1f}% on Tuesday, its best day since 2022.",
        when=when,
    )
    rec = table.filter(pl.col("kind") == "record").sort("sentence_idx")
    assert rec["verdict"].to_list() == ["supported", "contradicted"]
    assert rec["claim_date"].to_list() == [day, after]
    # the refutation names the bigger gain it found after 2022
    assert rec["observed_value"][1] > rebound + 1


def test_a_scheduled_date_dates_nothing_after_it():
    found = candidates(
        "Alibaba is due to report results on Thursday.",
        "The shares rose 2.4%.",
    )
    assert found[0].specs == ()
    found = candidates(
        "Hong Kong trading reopens on Monday after the holiday. The shares rose 2.4%.",
    )
    assert found[0].specs == ()
    found = candidates("Der Konzern wird am Donnerstag Zahlen vorlegen. Die Aktie stieg um 2 Prozent.",
                       language="de")  # fmt: skip
    assert found[0].specs == ()


def test_a_move_and_the_level_it_reached_share_their_time_words():
    found = candidates("The ADRs climbed 3.2% to $120.50 on Wednesday.")
    assert [c.specs for c in found] == [(("weekday", 2),), (("weekday", 2),)]
    # a new clause after the move keeps its own date
    found = candidates("The ADRs climbed 3.2%, while Tencent added 1% on Wednesday.")
    assert found[0].specs == ()


def test_collapsed_is_a_fall():
    found = candidates("Shares of the company collapsed 11% on Friday.")
    assert [(c.kind, c.value) for c in found] == [("pct_change_day", -11.0)]


def test_time_words_of_a_clause_about_another_event_are_not_the_figures():
    en = candidates(
        "The index climbed 2.2%, lifted by hopes for stimulus after the party congress opened "
        "on Tuesday."
    )
    assert en[0].specs == ()
    de = candidates(
        "Am Mittwoch stieg die Aktie um 3,1 Prozent, nachdem sie am Dienstag schon gefallen war.",
        language="de",
    )
    assert de[0].specs == (("weekday", 2),)


def test_the_next_sentence_takes_the_day_of_the_first_dated_figure():
    found = candidates(
        "The ADRs gained 4% on Thursday, erasing Monday's 3% drop.",
        "The ADRs then slid 2% in late trading.",
    )
    assert found[-1].specs[0] == ("weekday", 3) and found[-1].inherited


def test_the_company_named_alone_is_the_articles_own_listing():
    found = candidates(
        "The American depositary receipts fell 1.5% on Friday.",
        "Alibaba's Hong Kong shares rose 2% on Monday.",
        "Alibaba stock is up 40% this year.",
    )
    assert [c.instrument for c in found] == ["BABA", "9988.HK", "BABA"]
    # "there" points back to the venue just named
    de = candidates(
        "Die ADRs verloren an der Wall Street 1,5 Prozent.",
        "In Hongkong legte die Aktie am Dienstag 2 Prozent zu.",
        "Dort hatten die Papiere am Montag noch 1 Prozent verloren.",
        language="de",
    )
    assert [c.instrument for c in de] == ["BABA", "9988.HK", "9988.HK"]


def test_chinese_us_listed_shares_are_the_adr():
    found = candidates("阿里巴巴在美國掛牌的股票週一收跌1.2%。", language="zh")
    assert [(c.instrument, c.value) for c in found] == [("BABA", -1.2)]


def test_a_possessive_day_after_the_figure_names_another_move():
    found = candidates("The Hong Kong shares added 1.8% to HK$120.40, extending Friday's rally.")
    assert [c.specs for c in found] == [(), ()]
    found = candidates("Friday's 4% slide followed a quiet week.")
    assert found[0].specs == (("weekday", 4),)


def test_a_figure_of_another_market_is_dated_by_its_words_or_the_publication(prices):
    when = dt.datetime(2025, 4, 8, 11, 0, tzinfo=dt.UTC)
    table = checked(
        prices,
        "In Tokyo the Nikkei 225 tumbled 7.8% on Monday.",
        "Auf Tradegate kostete die Aktie zuletzt 95,10 Euro.",
        when=when,
    )
    days = dict(zip(table["quote"], table["claim_date"], strict=True))
    assert sorted(days.values()) == [dt.date(2025, 4, 7), when.date()]
    assert set(table["verdict"]) == {"unverifiable"}


def test_a_ticker_in_brackets_names_the_listing():
    found = candidates(
        "Hong Kong-listed shares of the group slipped 1% on Monday.",
        "Alibaba (BABA) shares rose 3.3% on Tuesday.",
    )
    assert [c.instrument for c in found] == ["9988.HK", "BABA"]


def test_a_volume_figure_after_a_dated_move_takes_its_day():
    found = candidates(
        "The ADRs closed 1.9% lower on Wednesday.",
        "Volume was about 1.5 times the 20-day average.",
    )
    assert found[-1].kind == "volume" and found[-1].specs == (("weekday", 2),)
    # a volume figure about another listing does not
    found = candidates(
        "The ADRs closed 1.9% lower on Wednesday.",
        "In Hong Kong, volume was about 1.5 times the 20-day average.",
    )
    assert found[-1].instrument == "9988.HK" and found[-1].specs == ()


def test_an_undated_figure_that_fits_the_session_after_publication_is_no_refutation(prices):
    spx = prices.filter((pl.col("instrument") == "SPX") & ~pl.col("placeholder")).sort("date")
    spx = spx.with_columns(move=(pl.col("close") / pl.col("close").shift(1) - 1) * 100)
    moves = dict(zip(spx["date"], spx["move"], strict=True))
    published = dt.datetime(2025, 11, 17, 11, 15, tzinfo=dt.UTC)  # before the New York open
    later = moves[dt.date(2025, 11, 17)]
    assert abs(later - moves[dt.date(2025, 11, 14)]) > 0.5  # the two sessions differ
    table = checked(prices, f"The S&P 500 fell {abs(later):.1f}%.", when=published)
    row = table.row(0, named=True)
    assert (row["claim_date"], row["verdict"]) == (dt.date(2025, 11, 14), "unverifiable")
    assert "session after" in row["note"]
    # a figure with its own day is still refuted on that day
    dated = checked(prices, f"On Friday the S&P 500 fell {abs(later):.1f}%.", when=published)
    assert dated["verdict"].to_list() == ["contradicted"]


def test_a_running_total_is_a_period_change_not_the_days_move():
    en = candidates("The shares rose 3% on Tuesday, bringing their gain since the results to 20%.")
    de = candidates(
        "Die Aktie stieg am Dienstag um 3 Prozent und baute ihr Plus damit auf rund 20 Prozent aus.",
        language="de",
    )
    for found in (en, de):
        assert [(c.kind, c.value) for c in found] == [
            ("pct_change_day", 3.0),
            ("pct_change_period", 20.0),
        ]
    # period words still decide: "seit Anfang Oktober ... auf 30 Prozent" is month-to-date
    mtd = candidates(
        "Seit Anfang Oktober summiert sich das Plus der Aktie auf rund 30 Prozent.", language="de"
    )
    assert [c.kind for c in mtd] == ["pct_change_mtd"]


def test_a_year_to_date_figure_of_a_later_update_is_no_refutation(prices):
    baba = prices.filter((pl.col("instrument") == "BABA") & ~pl.col("placeholder")).sort("date")
    closes = dict(zip(baba["date"], baba["close_traded"], strict=True))
    base = closes[dt.date(2024, 12, 31)]
    friday, monday = dt.date(2025, 11, 14), dt.date(2025, 11, 17)
    later = (closes[monday] / base - 1) * 100
    assert abs(later - (closes[friday] / base - 1) * 100) > 2  # the two sessions differ
    published = dt.datetime(2025, 11, 17, 11, 15, tzinfo=dt.UTC)  # before the Monday open
    table = checked(prices, f"The ADRs are up {later:.0f}% this year.", when=published)
    row = table.row(0, named=True)
    assert (row["claim_date"], row["verdict"]) == (friday, "unverifiable")
    # a figure that fits neither session is still refuted
    wrong = checked(prices, f"The ADRs are up {later + 15:.0f}% this year.", when=published)
    assert wrong["verdict"].to_list() == ["contradicted"]
