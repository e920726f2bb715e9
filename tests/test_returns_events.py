"""Returns, market model, events and flows, checked against values computed here from the CSVs."""

from __future__ import annotations

import datetime as dt
import math
import random

import polars as pl
import pytest
from market_files import rows_by_date

from pipeline.config import Settings
from pipeline.market.events import events_table, market_models
from pipeline.market.flows import flows_table, read_reference, reported_flows
from pipeline.market.prices import BABA_FILE, HK_FILE, prices_table
from pipeline.market.returns import returns_table

MARKET = Settings().market_dir
REFERENCE = Settings().reference_dir


@pytest.fixture(scope="module")
def prices():
    return prices_table(MARKET)


@pytest.fixture(scope="module")
def returns(prices):
    return returns_table(prices)


def last_model(y: list[float], x: list[float]) -> dict:
    """The model fitted on all of y, x: the one for the session just after them."""
    pair = pl.DataFrame({"x": [*x, 0.0], "y": [*y, 0.0]})
    return market_models(pair, estimation=(-len(x), -1)).row(-1, named=True)


def test_market_model_recovers_a_toy_line():
    rng = random.Random(7)
    x = [rng.uniform(-0.03, 0.03) for _ in range(120)]
    y = [0.001 + 1.5 * v for v in x]
    mm = last_model(y, x)
    assert mm["alpha"] == pytest.approx(0.001, abs=1e-12)
    assert mm["beta"] == pytest.approx(1.5, abs=1e-12)
    assert mm["resid_sd"] == pytest.approx(0.0, abs=1e-6)
    assert mm["n"] == 120


def test_market_model_hand_example():
    # y = 1 + 2x with residuals +1, -1, +1, -1 at x = 0..3: OLS slope from the formula
    x, y = [0.0, 1.0, 2.0, 3.0], [2.0, 2.0, 6.0, 6.0]
    mm = last_model(y, x)
    mx, my = 1.5, 4.0
    beta = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True)) / sum(
        (a - mx) ** 2 for a in x
    )
    assert mm["beta"] == pytest.approx(beta)
    assert mm["alpha"] == pytest.approx(my - beta * mx)
    resid = [b - mm["alpha"] - beta * a for a, b in zip(x, y, strict=True)]
    assert mm["resid_sd"] == pytest.approx(math.sqrt(sum(r * r for r in resid) / 2))


def test_daily_return_matches_csv(returns):
    koi = rows_by_date(BABA_FILE)
    r = returns.filter((pl.col("instrument") == "BABA") & (pl.col("date") == dt.date(2025, 11, 14)))
    expected = (
        float(koi[dt.date(2025, 11, 14)]["Close"]) / float(koi[dt.date(2025, 11, 13)]["Close"]) - 1
    )
    assert r["ret"].item() == pytest.approx(expected)
    assert r["log_ret"].item() == pytest.approx(math.log1p(expected))


def test_placeholders_and_source_switches_give_no_return(returns, prices):
    hk = returns.filter(pl.col("instrument") == "9988.HK")
    az = rows_by_date(HK_FILE)
    # Lunar New Year's Eve 2025 was a half-day: Yahoo's row is flat with zero volume, but its
    # close is that session's real close, so it has a return and starts the next one.
    eve, after = dt.date(2025, 1, 28), dt.date(2025, 2, 3)
    assert float(az[eve]["Volume"]) == 0
    prev = max(d for d in az if d < eve)
    for day, before in ((eve, prev), (after, eve)):
        assert hk.filter(pl.col("date") == day)["ret"].item() == pytest.approx(
            float(az[day]["Close"]) / float(az[before]["Close"]) - 1
        )
    switch = returns.filter(
        (pl.col("instrument") == "BABA") & (pl.col("date") == dt.date(2021, 1, 4))
    )
    assert switch["ret"].item() is None  # first Koi-west row after the dsturdy fill


@pytest.fixture(scope="module")
def articles():
    return pl.DataFrame(
        {
            "article_id": ["a", "b"],
            "published_at": [dt.datetime(2025, 11, 18, 16, 50, tzinfo=dt.UTC), None],
            "published_date": [dt.date(2025, 11, 18), None],
            "title": ["t", "u"],
            "source": ["s", "s"],
            "language": ["en", "en"],
        },
        schema_overrides={"published_at": pl.Datetime("us", "UTC")},
    )


def test_events_market_model_and_cars(articles, prices, returns):
    ev = events_table(articles, prices, returns)
    assert ev.height == 4
    row = ev.filter((pl.col("article_id") == "a") & (pl.col("instrument") == "BABA")).row(
        0, named=True
    )
    assert row["benchmark"] == "SPX" and row["event_date"] == dt.date(2025, 11, 18)
    # independent recomputation with Polars on the same window
    pair = (
        returns.filter(pl.col("instrument") == "BABA")
        .select("date", pl.col("ret").alias("y"))
        .join(
            returns.filter(pl.col("instrument") == "SPX").select("date", pl.col("ret").alias("x")),
            on="date",
        )
        .drop_nulls()
        .sort("date")
        .with_row_index("i")
    )
    i = pair.filter(pl.col("date") == row["event_date"])["i"].item()
    est = pair.filter(pl.col("i").is_between(i - 250, i - 11))
    beta = est.select(pl.cov("x", "y") / pl.col("x").var()).item()
    alpha = est["y"].mean() - beta * est["x"].mean()
    assert row["estimation_days"] == est.height == 240
    assert row["beta"] == pytest.approx(beta) and row["alpha"] == pytest.approx(alpha)
    win = pair.filter(pl.col("i").is_between(i - 1, i + 5)).with_columns(
        (pl.col("y") - alpha - beta * pl.col("x")).alias("ar")
    )
    assert row["abnormal_ret"] == pytest.approx(win.filter(pl.col("i") == i)["ar"].item())
    assert row["car_m1_p1"] == pytest.approx(win.filter(pl.col("i") <= i + 1)["ar"].sum())
    assert row["car_m1_p5"] == pytest.approx(win["ar"].sum())
    assert row["t_car_m1_p5"] == pytest.approx(row["car_m1_p5"] / (row["resid_sd"] * math.sqrt(7)))
    hk = ev.filter((pl.col("article_id") == "a") & (pl.col("instrument") == "9988.HK")).row(
        0, named=True
    )
    assert hk["benchmark"] == "HSI" and hk["event_date"] == dt.date(2025, 11, 19)
    undated = ev.filter(pl.col("article_id") == "b")
    assert (
        undated["event_date"].null_count() == 2
        and undated["note"].str.contains("no publication").all()
    )


def test_events_respect_as_of(articles):
    p = prices_table(MARKET, as_of=dt.date(2025, 11, 20))
    ev = events_table(articles, p, returns_table(p))
    row = ev.filter((pl.col("article_id") == "a") & (pl.col("instrument") == "BABA")).row(
        0, named=True
    )
    assert row["car_m1_p5"] is None and "car_m1_p5 incomplete" in row["note"]
    assert row["car_m1_p1"] is not None


def test_flows_turnover_spikes_and_references(prices):
    claims = pl.DataFrame(
        {
            "article_id": ["x"],
            "kind": ["flow"],
            "instrument": ["9988.HK"],
            "claim_date": [dt.date(2025, 11, 3)],
            "value": [-1.0],
            "unit": ["HKD"],
            "quote": ["net selling of HK$1"],
        }
    )
    fl = flows_table(prices, claims, REFERENCE)
    assert set(fl["origin"]) == {"market", "corpus", "reference"}
    koi = rows_by_date(BABA_FILE)
    day = dt.date(2025, 11, 14)
    row = fl.filter(
        (pl.col("origin") == "market") & (pl.col("instrument") == "BABA") & (pl.col("date") == day)
    ).row(0, named=True)
    assert row["value"] == pytest.approx(float(koi[day]["Close"]) * float(koi[day]["Volume"]))
    prior = sorted(d for d in koi if d < day)[-20:]
    mean20 = sum(float(koi[d]["Volume"]) for d in prior) / 20
    assert row["volume_20d_mean"] == pytest.approx(mean20)
    assert row["spike"] == (float(koi[day]["Volume"]) / mean20 >= 2)
    ref = fl.filter(pl.col("origin") == "reference")
    assert ref.height == read_reference(REFERENCE).height
    assert ref["url"].str.starts_with("http").all()
    assert fl.filter(pl.col("origin") == "corpus")["value"].item() == -1.0


def test_reported_flows_sit_beside_that_sessions_turnover(prices):
    """One day's HKD flow on a session gets a share of the real turnover; a week's flow, a USD
    figure and the curated rows (market-wide, or dated on a Sunday) get the reason they have none."""
    session, other = dt.date(2025, 11, 3), dt.date(2025, 11, 4)
    claims = pl.DataFrame(
        {
            "article_id": ["a", "b", "c"],
            "kind": ["flow"] * 3,
            "instrument": ["9988.HK"] * 3,
            "claim_date": [session, other, other],
            "value": [-5e8, 2e9, 1e8],
            "unit": ["HKD", "HKD", "USD"],
            "quote": ["net selling of HK$500m", "net buying in the week", "US$100m of buying"],
        }
    )
    articles = pl.DataFrame(
        {"article_id": ["a", "b"], "source": ["Desk A", None], "source_confidence": ["high", None]}
    )
    rf = reported_flows(flows_table(prices, claims, REFERENCE), articles)
    assert rf.height == claims.height + read_reference(REFERENCE).height
    hk = rows_by_date(HK_FILE)[session]
    day_row = rf.filter(pl.col("article_id") == "a").row(0, named=True)
    assert day_row["turnover"] == pytest.approx(float(hk["Close"]) * float(hk["Volume"]))
    assert day_row["share"] == pytest.approx(5e8 / day_row["turnover"])
    assert (day_row["share_note"], day_row["source"]) == (None, "Desk A")
    notes = dict(rf.filter(pl.col("origin") == "corpus").select("article_id", "share_note").rows())
    assert notes == {"a": None, "b": "covers more than one day", "c": "not a sum in HKD"}
    ref = rf.filter(pl.col("origin") == "reference")
    wide = ref.filter(pl.col("instrument").is_null())
    assert wide.height > 0 and (wide["share_note"] == "market-wide figure").all()
    sundays = ref.filter((pl.col("date").dt.weekday() == 7) & pl.col("instrument").is_not_null())
    assert sundays.height > 0 and (sundays["share_note"] == "no session that day").all()
    assert ref["share"].is_null().all() and ref["source"].str.contains(r"\.").all()


def test_reference_rows_need_urls(tmp_path):
    from pipeline.errors import InputError

    (tmp_path / "reported_flows.csv").write_text(
        "date,figure,unit,description,source_url\n2025-01-01,1,HKD,x,https://a\n2025-01-02,2,HKD,y,\n"
    )
    with pytest.raises(InputError) as err:
        read_reference(tmp_path)
    assert err.value.line == 3
