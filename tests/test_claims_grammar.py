"""The claim grammar on sentences written for these tests (English, German, Chinese).

Each fixture is our own wording; prices and verdicts come from the market snapshot through
`claims_table`, and expected market values are read from the snapshot CSVs here.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from pipeline.claims.extract import extract_candidates
from pipeline.claims.table import claims_table
from pipeline.config import Settings
from pipeline.market.prices import prices_table
from pipeline.text.numbers import find_market_numbers


def frame(*texts: str, language: str = "en", article_id: str = "t") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "article_id": [article_id] * len(texts),
            "sentence_idx": list(range(len(texts))),
            "text": list(texts),
            "language": [language] * len(texts),
        }
    )


def candidates(*texts: str, language: str = "en"):
    return extract_candidates(frame(*texts, language=language))


@pytest.fixture(scope="module")
def prices() -> pl.DataFrame:
    return prices_table(Settings().market_dir)


def checked(prices, *texts, language="en", when=dt.datetime(2025, 9, 2, 10, 0, tzinfo=dt.UTC)):
    articles = pl.DataFrame(
        {"article_id": ["t"], "published_at": [when], "published_date": [when.date()]},
        schema_overrides={"published_at": pl.Datetime("us", "UTC")},
    )
    return claims_table(frame(*texts, language=language), articles, prices)


def test_chinese_numbers_scales_and_units():
    found = {
        q.span: (q.value, q.unit)
        for q in find_market_numbers(
            "市值約3.1萬億港元，成交4500万股，收报88.5元，大漲120點，约3倍", "zh"
        )
    }
    assert found["3.1萬億港元"] == (3.1e12, "HKD")
    assert found["4500万股"] == (4.5e7, "shares")
    assert found["88.5元"] == (88.5, "YUAN")
    assert found["120點"] == (120.0, "points")
    assert found["3倍"] == (3.0, "ratio")


def test_revenue_capex_targets_and_market_value_are_never_prices():
    texts = (
        "Quarterly revenue came in at $31.2 billion, and the company set a price target of $200.",
        "The group plans to invest $12 billion, giving it a market value of $300 billion.",
    )
    assert candidates(*texts) == []
    de = candidates(
        "Der Umsatz stieg auf 250 Mrd. Yuan; das Kursziel liegt bei 180 Dollar.", language="de"
    )
    assert de == []
    zh = candidates("季度收入2400億元人民幣，按年增長8%，目標價200港元。", language="zh")
    assert zh == []


def test_euro_quote_on_a_german_venue_is_other():
    (c,) = candidates("Auf Tradegate notierte das Papier zuletzt bei 99,50 Euro.", language="de")
    assert c.instrument == "OTHER" and c.kind == "intraday_price" and c.unit == "EUR"


def test_periods_decide_the_kind():
    kinds = [
        c.kind
        for c in candidates(
            "Alibaba shares in Hong Kong have gained 12% this year.",
            "The ADRs are up 4% this month.",
            "Over the past month the stock has lost about 6%.",
        )
    ]
    assert kinds == ["pct_change_ytd", "pct_change_mtd", "pct_change_period"]
    (de,) = candidates("Seit Jahresbeginn legte die Aktie um 20 Prozent zu.", language="de")
    assert de.kind == "pct_change_ytd"
    (zh,) = candidates("阿里巴巴（9988）今年以來累計上漲30%。", language="zh")
    assert (zh.kind, zh.instrument) == ("pct_change_ytd", "9988.HK")


def test_intraday_words_make_intraday_claims():
    (en,) = candidates("Alibaba's Hong Kong shares rose as much as 7% before paring gains.")
    assert (en.kind, en.stat, en.qualifier) == ("intraday_move", "intraday", "as much as")
    (zh,) = candidates("阿里巴巴（9988）盤中一度高見120元。", language="zh")
    assert (zh.kind, zh.instrument, zh.unit) == ("intraday_price", "9988.HK", "HKD")


def test_chinese_index_points_and_unverifiable_indices():
    c = candidates("恒指收報25000點，全日升300點；國指升1.5%，科指跌2%。", language="zh")
    got = [(x.instrument, x.kind, x.unit) for x in c]
    assert got[:2] == [("HSI", "close_price", "points"), ("HSI", "pct_change_day", "points")]
    assert {x.instrument for x in c[2:]} == {"HSCEI", "HSTECH"}


def test_volume_multiple_of_the_average():
    (c,) = candidates("Trading volume in New York was about 3.2 times the 20-day average.")
    assert (c.kind, c.stat, c.value, c.qualifier, c.instrument) == (
        "volume", "volume", 3.2, "about", "BABA",
    )  # fmt: skip


def test_chinese_close_checked_against_the_snapshot(prices):
    # 1 Sep 2025 is a Hong Kong session; the close is read back from the prices table
    hk = prices.filter(pl.col("instrument") == "9988.HK", pl.col("date") == dt.date(2025, 9, 1))
    close = round(hk["close_traded"].item(), 1)
    out = checked(prices, f"阿里巴巴（9988）9月1日收報{close}元。", language="zh")
    row = out.row(0, named=True)
    assert (row["instrument"], row["kind"], row["claim_date"]) == (
        "9988.HK",
        "close_price",
        dt.date(2025, 9, 1),
    )
    assert row["verdict"] == "supported"
    wrong = checked(prices, f"阿里巴巴（9988）9月1日收報{close * 1.2:.1f}元。", language="zh")
    assert wrong["verdict"].item() == "contradicted"


def test_intraday_price_uses_the_session_range_not_the_close(prices):
    hk = prices.filter(pl.col("instrument") == "9988.HK", pl.col("date") == dt.date(2025, 9, 1))
    high = hk["high"].item()
    out = checked(
        prices, f"Alibaba's Hong Kong shares touched HK${high:.2f} at one point on Sept 1."
    )
    row = out.row(0, named=True)
    assert row["kind"] == "intraday_price" and row["verdict"] == "supported"
    assert "session's range" in row["note"]


def test_german_verb_stems_and_particles():
    (move, price) = candidates(
        "Die Papiere rutschten in New York um 3,1 Prozent auf 150,20 Dollar ab.", language="de"
    )
    assert (move.kind, move.value, move.instrument) == ("pct_change_day", -3.1, "BABA")
    assert (price.kind, price.value, price.unit) == ("close_price", 150.2, "USD")


def test_a_coordinated_figure_shares_the_verb_and_a_period_belongs_to_its_number():
    month, year = candidates(
        "The Hong Kong shares are up 12% this month and roughly 40% this year."
    )
    assert (month.kind, month.value) == ("pct_change_mtd", 12.0)
    assert (year.kind, year.value, year.qualifier) == ("pct_change_ytd", 40.0, "about")


def test_chinese_tenths_and_a_fall_below_a_high():
    (zh,) = candidates("阿里港股今年以來累升逾五成。", language="zh")
    assert (zh.kind, zh.value, zh.qualifier) == ("pct_change_ytd", 50.0, "over")
    (en,) = candidates("The ADRs remain about 15% below their March high.")
    assert (en.kind, en.stat, en.value, en.base_spec) == (
        "pct_change_period",
        "since",
        -15.0,
        ("month", None, 3),
    )


def _hk(prices, day):
    rows = prices.filter(pl.col("instrument") == "9988.HK", ~pl.col("placeholder")).sort("date")
    rows = rows.with_columns(prev=pl.col("close_traded").shift(1))
    return rows.filter(pl.col("date") == day).row(0, named=True)


def test_a_timed_intraday_level_is_only_ever_refuted(prices):
    r = _hk(prices, dt.date(2025, 9, 1))
    inside = (r["low"] / r["prev"] - 1) * 50 + (r["high"] / r["prev"] - 1) * 50  # mid-range
    when = dt.datetime(2025, 9, 1, 9, 0, tzinfo=dt.UTC)
    text = "As of 11:05 a.m., Alibaba's Hong Kong shares were up {:.1f}%."
    ok = checked(prices, text.format(inside), when=when).row(0, named=True)
    assert (ok["kind"], ok["verdict"]) == ("intraday_move", "unverifiable")
    assert "not in the data" in ok["note"]
    far = (r["high"] / r["prev"] - 1) * 100 + 5
    bad = checked(prices, text.format(far), when=when).row(0, named=True)
    assert bad["verdict"] == "contradicted"


def test_a_miss_that_fits_the_session_before_is_a_date_question(prices):
    # the 1 Sep close quoted in a piece dated 2 Sep with no time: the 2 Sep close differs
    close = round(_hk(prices, dt.date(2025, 9, 1))["close_traded"], 2)
    assert abs(close - _hk(prices, dt.date(2025, 9, 2))["close_traded"]) > 0.5
    articles = pl.DataFrame(
        {"article_id": ["t"], "published_date": [dt.date(2025, 9, 2)], "published_at": [None]},
        schema_overrides={"published_at": pl.Datetime("us", "UTC")},
    )
    text = f"Alibaba's Hong Kong shares closed at HK${close:.2f}."
    row = claims_table(frame(text), articles, prices).row(0, named=True)
    assert row["verdict"] == "unverifiable" and "session before" in row["note"]
    timed = checked(prices, text, when=dt.datetime(2025, 9, 2, 10, 0, tzinfo=dt.UTC))
    assert timed["verdict"].item() == "contradicted"  # a publication time fixes the session


def test_a_stretch_counted_back_is_a_period_not_a_day(prices):
    """ "over the past five sessions", "in the last two weeks", "in den vergangenen fünf
    Handelstagen", "過去五個交易日": the change from the close that far back."""
    got = [
        (c.kind, c.stat, c.lookback)
        for c in candidates(
            "The ADRs have fallen 12% over the past five sessions.",
            "In the last two weeks the Hong Kong shares gained 9%.",
            "The stock is up 40% over the past 12 months.",
        )
    ]
    assert got == [
        ("pct_change_period", "lookback", "5s"),
        ("pct_change_period", "lookback", "2w"),
        ("pct_change_period", "lookback", "12mo"),
    ]
    (de,) = candidates(
        "In den vergangenen fünf Handelstagen verlor die Aktie 8 Prozent.", language="de"
    )
    (zh,) = candidates("阿里巴巴（9988）過去五個交易日累計下跌8%。", language="zh")
    assert (de.stat, de.lookback) == (zh.stat, zh.lookback) == ("lookback", "5s")
    # checked against the close five sessions before the last one (29 Aug 2025, from 22 Aug)
    five = "The ADRs have {verb} {pct} over the past five sessions."
    row = adr_change_checked(
        prices, dt.date(2025, 8, 22), dt.date(2025, 8, 29), five, ("risen", "fallen")
    )
    assert (row["claim_date"], row["period_start"]) == (dt.date(2025, 8, 29), dt.date(2025, 8, 22))
    assert row["verdict"] == "supported"


def adr_change_checked(prices, start: dt.date, end: dt.date, template: str, verbs) -> dict:
    """The ADR's change from the close of `start` to that of `end`, written into `template`
    (`verbs`: the rise and the fall word) as a claim and checked: the one claim row."""
    ny = prices.filter(pl.col("instrument") == "BABA", ~pl.col("placeholder")).sort("date")
    close = dict(zip(ny["date"], ny["close"], strict=True))
    move = (close[end] / close[start] - 1) * 100
    text = template.format(verb=verbs[0] if move > 0 else verbs[1], pct=f"{abs(move):.1f}%")
    return checked(prices, text).row(0, named=True)


def test_a_prices_currency_names_the_listing_of_the_moves_around_it():
    (price, move) = candidates("阿里巴巴股價收報158.3港元，跌2.1%。", language="zh")
    assert (price.instrument, move.instrument) == ("9988.HK", "9988.HK")
    (move, price) = candidates("Alibaba shares ended 0.2% lower at HK$154.60.")
    assert (move.instrument, price.instrument) == ("9988.HK", "9988.HK")
    # a scaled amount is no share price: the move keeps the article's listing
    (move,) = candidates("Alibaba, with revenue of HK$250 billion, saw its shares fall 2%.")
    assert move.instrument == "BABA"


def test_calendar_stretches_and_times_of_day_decide_the_kind():
    """A named month or last week is the change over it; a time of the trading day makes an
    intraday figure; a total over undated sessions or a fall from a high has no day."""
    got = [
        (c.kind, c.stat, c.base_spec)
        for c in candidates(
            "The stock gained 15% in October.",
            "Alibaba shares rose 3% last week.",
            "BABA shares were up 1.8% in afternoon trading on Tuesday.",
            "Shares of Alibaba ended the week 4% lower.",
            "It was the stock's third straight decline, totaling 8%.",
            "Alibaba's shares are down 20% from their 52-week high.",
        )
    ]
    assert got == [
        ("pct_change_period", "span", ("month", None, 10)),
        ("pct_change_period", "span", ("last_week",)),
        ("intraday_move", "intraday", None),
        ("pct_change_period", "wtd", None),
        ("pct_change_period", "since", None),
        ("pct_change_period", "since", None),
    ]
    zh = candidates("上週阿里巴巴累計下跌6%。", "上週五阿里港股下跌4.4%。", language="zh")
    assert [(c.stat, c.specs) for c in zh] == [("span", ()), ("day", (("weekday", 4),))]
    (de,) = candidates(
        "Seit dem Rekordhoch im Oktober hat die Aktie 20 Prozent verloren.", language="de"
    )
    assert de.stat == "since"


def test_a_named_month_is_checked_from_the_close_before_it_to_its_last_close(prices):
    july = "The ADRs {verb} {pct} in July."
    row = adr_change_checked(
        prices, dt.date(2025, 6, 30), dt.date(2025, 7, 31), july, ("gained", "lost")
    )
    assert (row["period_start"], row["claim_date"]) == (dt.date(2025, 6, 30), dt.date(2025, 7, 31))
    assert row["verdict"] == "supported"


def test_german_venue_moves_are_other_and_leichter_is_a_fall():
    (venue,) = candidates("Auf Tradegate legte der Titel um 2 Prozent zu.", language="de")
    (hk,) = candidates("Die Hongkong-Aktie schloss 0,2 Prozent leichter.", language="de")
    assert venue.instrument == "OTHER"
    assert (hk.instrument, hk.value, hk.kind) == ("9988.HK", -0.2, "pct_change_day")


def test_forecasts_and_business_figures_are_not_market_claims():
    assert (
        candidates(
            "Analysts expect the stock to rise 20% over the next year.",
            "Quick commerce orders jumped 200% in the quarter.",
            "Active users grew 15%.",
        )
        == []
    )
    (move,) = candidates("The stock began to fall and ended 3% lower.")
    assert move.value == -3.0


def test_a_headline_figure_takes_the_day_of_its_ledes_first_dated_figure():
    head, lede, later = candidates(
        "Alibaba soars 5% in Hong Kong",
        "Alibaba's Hong Kong shares rose 5% yesterday after its results.",
        "The Hong Kong shares are up 2% today.",
    )
    assert (head.specs, head.inherited) == ((("yesterday",),), True)
    assert lede.specs == (("yesterday",),) and not lede.inherited
    assert later.specs == (("today",),)  # after the lede, figures keep their own words
