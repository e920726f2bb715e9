"""Market snapshot -> prices, validation and calendars. Expected values are read from the CSVs
here with the csv module, independently of the code under test."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from pipeline.config import Settings
from pipeline.errors import InputError
from pipeline.market.calendars import HORIZON, Calendar, exchange_calendars, sessions_table
from pipeline.market.prices import (
    BABA_FILE,
    HK_FILE,
    PRICES_SCHEMA,
    SOURCES,
    market_files,
    prices_table,
    read_market_file,
)
from pipeline.market.validation import validation

MARKET = Settings().market_dir
UTC = dt.UTC


def rows(rel: str) -> list[dict]:
    with open(MARKET / rel, newline="") as fh:
        reader = csv.reader(fh)
        header = [h.strip() for h in next(reader)]
        return [dict(zip(header, [v.strip() for v in r], strict=False)) for r in reader]


def iso_rows(rel: str) -> dict[dt.date, dict]:
    out = {}
    for r in rows(rel):
        try:
            out[dt.date.fromisoformat(r["Date"][:10])] = r
        except ValueError:
            continue  # ticker row
    return out


@pytest.fixture(scope="module")
def prices() -> pl.DataFrame:
    return prices_table(MARKET)


def test_schema_and_one_row_per_instrument_day(prices):
    assert prices.schema == pl.Schema(PRICES_SCHEMA)
    assert prices.select(pl.struct("instrument", "date").is_duplicated().sum()).item() == 0
    assert {"BABA", "9988.HK", "HSI", "SPX", "SPY", "KWEB", "MCHI", "FXI", "CSI300"} <= set(
        prices["instrument"].unique()
    )


def test_baba_main_file_and_documented_factor(prices):
    koi = iso_rows(BABA_FILE)
    factor = 118.33 / 120.33
    baba = prices.filter(pl.col("instrument") == "BABA")
    for day in (dt.date(2025, 2, 11), dt.date(2025, 6, 11)):
        r = baba.filter(pl.col("date") == day).row(0, named=True)
        assert r["source_file"] == BABA_FILE and r["adjusted"]
        assert r["close"] == pytest.approx(float(koi[day]["Close"]))
        assert r["close_traded"] == pytest.approx(round(float(koi[day]["Close"]) / factor, 2))
    after = baba.filter(pl.col("date") == dt.date(2025, 11, 14)).row(0, named=True)
    assert not after["adjusted"]
    assert after["close_traded"] == pytest.approx(float(koi[dt.date(2025, 11, 14)]["Close"]))
    # before the previous ex-date the factor does not hold: no as-traded close is claimed
    old = baba.filter(pl.col("date") == dt.date(2022, 10, 24)).row(0, named=True)
    assert old["close_traded"] is None and old["adjusted"]


def test_baba_long_run_from_raw_bluefin(prices):
    raw = iso_rows("Bluefin-Tuna__Yahoo-Finance-Historical-Data/BABA.csv")
    baba = prices.filter(
        (pl.col("instrument") == "BABA") & (pl.col("date") <= dt.date(2020, 12, 11))
    )
    assert baba.height == len(raw)
    peak = max(raw, key=lambda d: float(raw[d]["Close"]) if d.year == 2020 else 0)
    r = baba.filter(pl.col("date") == peak).row(0, named=True)
    assert not r["adjusted"] and r["close_traded"] == pytest.approx(float(raw[peak]["Close"]))


def test_9988_raw_from_2025_06_11_and_placeholders(prices):
    az = iso_rows(HK_FILE)
    hk = prices.filter(pl.col("instrument") == "9988.HK")
    raw = hk.filter(pl.col("date") >= dt.date(2025, 6, 11))
    assert raw["adjusted"].any() is False
    assert (raw["close_traded"] == raw["close"]).all()
    assert (
        hk.filter(pl.col("date") < dt.date(2025, 6, 11))["close_traded"].null_count()
        == hk.filter(pl.col("date") < dt.date(2025, 6, 11)).height
    )
    # Flat zero-volume rows are Yahoo's Hong Kong half-days: a real close (it differs from the
    # previous one, and the HSI moves that day), with unknown volume; none repeats the day before.
    flat = {
        d
        for d, r in az.items()
        if float(r["Volume"]) == 0
        and r["Open"] == r["High"] == r["Low"]
        and float(r["Open"]) == float(r["Close"])
    }
    ours = hk.filter(pl.col("source_file") == HK_FILE)
    half_days = ours.filter(pl.col("date").is_in(sorted(flat)))
    assert flat and half_days.height == len(flat)
    assert not half_days["placeholder"].any() and half_days["volume"].null_count() == len(flat)
    assert dt.date(2024, 12, 31) in flat and dt.date(2025, 1, 28) in flat
    hsi = prices.filter((pl.col("instrument") == "HSI") & pl.col("date").is_in(sorted(flat)))
    assert hsi.height and (hsi["close"] != hsi["open"]).all()


def test_hsi_mmddyy_newest_first(prices):
    raw = rows("clamx4__stockdata/index/HSI.csv")
    parsed = {dt.datetime.strptime(r["Date"], "%m/%d/%y").date(): float(r["Close"]) for r in raw}
    hsi = prices.filter(pl.col("instrument") == "HSI")
    assert hsi.height == len(parsed)
    assert hsi["date"].is_sorted()
    for day in (dt.date(2025, 2, 12), min(parsed), max(parsed)):
        assert hsi.filter(pl.col("date") == day)["close"].item() == pytest.approx(parsed[day])
    assert hsi["volume"].null_count() == hsi.height


def test_ticker_rows_dropped():
    lines = (MARKET / HK_FILE).read_text().splitlines()
    assert lines[1].startswith(",9988.HK")
    df = read_market_file(MARKET / HK_FILE)
    assert df.height == len(lines) - 2
    hsi6 = read_market_file(MARKET / "flippe2__blank-app/data/^HSI.csv")
    assert (
        hsi6.height
        == len((MARKET / "flippe2__blank-app/data/^HSI.csv").read_text().splitlines()) - 3
    )


def test_as_of_cut_off():
    cut = dt.date(2025, 11, 18)
    p = prices_table(MARKET, as_of=cut)
    assert p["date"].max() == cut


def test_validation_table_covers_every_file():
    v = validation(prices_table(MARKET), market_files(MARKET))
    assert set(v["file"]) == {s.path for s in SOURCES}
    for check in ("schema", "duplicates", "non_positive", "gaps_vs_calendar", "outliers"):
        assert v.filter(pl.col("check") == check).height == len(SOURCES)
    assert v.filter(pl.col("check").is_in(["duplicates", "non_positive", "schema"]))[
        "status"
    ].unique().to_list() == ["pass"]
    # the known 9988.HK gap (a day HSI traded but the stock file lacks) is reported, not hidden
    gaps = v.filter((pl.col("file") == HK_FILE) & (pl.col("check") == "gaps_vs_calendar"))
    az = set(iso_rows(HK_FILE))
    hsi = {
        dt.datetime.strptime(r["Date"], "%m/%d/%y").date()
        for r in rows("clamx4__stockdata/index/HSI.csv")
    }
    missing = {d for d in hsi if min(az) <= d <= max(az)} - az
    assert gaps["n"].item() == len(missing)


# -- bad input --------------------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "bad.csv"
    p.write_text(text)
    return p


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("Date,Open,High,Low\n2025-01-02,1,2,1\n", 1, "missing column"),
        ("Date,Close\n2025-01-02,10\n2025-13-45,11\n", 3, "unparsable date"),
        ("Date,Close\n2025-01-02,10\n2025-01-03,11\n2025-01-02,12\n", 4, "duplicate day"),
        ("Date,Close\n2025-01-02,10\n2025-01-03,-11\n", 3, "close"),
        ("Date,Close\n2025-01-02,10\n2025-01-03,abc\n", 3, "unparsable close"),
    ],
)
def test_bad_input_names_file_and_row(tmp_path, text, line, words):
    p = write(tmp_path, text)
    with pytest.raises(InputError) as err:
        read_market_file(p)
    assert err.value.path == p and err.value.line == line
    assert words in str(err.value)


def test_empty_file(tmp_path):
    p = write(tmp_path, "")
    with pytest.raises(InputError, match="empty"):
        read_market_file(p)
    p.write_text("Date,Close\n")
    with pytest.raises(InputError, match="no rows"):
        read_market_file(p)


def test_missing_snapshot_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="not found"):
        prices_table(tmp_path)


# -- calendars and the time-zone rule ---------------------------------------------------------


def test_calendars_come_from_the_benchmarks(prices):
    cals = exchange_calendars(prices)
    hsi = {
        dt.datetime.strptime(r["Date"], "%m/%d/%y").date()
        for r in rows("clamx4__stockdata/index/HSI.csv")
    }
    assert set(cals.filter(pl.col("exchange") == "HKEX")["date"]) == hsi
    hk = Calendar.from_prices("HKEX", prices)
    assert hk.is_session(dt.date(2025, 1, 29)) == (dt.date(2025, 1, 29) in hsi)
    ny = Calendar.from_prices("NYSE", prices)
    assert not ny.is_session(dt.date(2025, 11, 15))  # a Saturday
    assert ny.on_or_after(dt.date(2025, 11, 15)) == dt.date(2025, 11, 17)


def test_reaction_session_time_zones(prices):
    ny = Calendar.from_prices("NYSE", prices)
    hk = Calendar.from_prices("HKEX", prices)
    t = dt.datetime(2025, 11, 18, 16, 50, 6, tzinfo=UTC)  # 17:50 Berlin
    assert ny.reaction_session(t) == dt.date(2025, 11, 18)  # 11:50 New York, before the close
    assert hk.reaction_session(t) == dt.date(2025, 11, 19)  # 00:50 Hong Kong next day
    sunday = dt.datetime(2025, 11, 16, 5, 21, tzinfo=UTC)  # 00:21 New York
    assert ny.reaction_session(sunday) == dt.date(2025, 11, 17)
    assert hk.reaction_session(sunday) == dt.date(2025, 11, 17)
    # US daylight saving: 20:30 UTC is 16:30 EDT (after the close) but 15:30 EST (before it)
    assert ny.reaction_session(dt.datetime(2025, 3, 10, 20, 30, tzinfo=UTC)) == dt.date(2025, 3, 11)
    assert ny.reaction_session(dt.datetime(2025, 1, 10, 20, 30, tzinfo=UTC)) == dt.date(2025, 1, 10)
    # Hong Kong has no daylight saving: 08:30 UTC is 16:30 HKT, after the close
    assert hk.reaction_session(dt.datetime(2025, 7, 10, 8, 30, tzinfo=UTC)) == dt.date(2025, 7, 11)
    assert hk.reaction_session(None, dt.date(2025, 11, 16)) == dt.date(2025, 11, 17)
    assert hk.reaction_session(None, None) is None


# -- live loader: only the pure normaliser, on a fixture written here ---------------------------


def chart_fixture() -> dict:
    hk = ZoneInfo("Asia/Hong_Kong")
    days = [
        dt.datetime(2025, 2, 11, 9, 30, tzinfo=hk),
        dt.datetime(2025, 2, 12, 9, 30, tzinfo=hk),
        dt.datetime(2025, 2, 13, 9, 30, tzinfo=hk),
        dt.datetime(2025, 2, 14, 9, 30, tzinfo=hk),
    ]
    return {
        "chart": {
            "error": None,
            "result": [
                {
                    "meta": {
                        "currency": "HKD",
                        "symbol": "9988.HK",
                        "exchangeTimezoneName": "Asia/Hong_Kong",
                    },
                    "timestamp": [int(d.timestamp()) for d in days],
                    "indicators": {
                        "quote": [
                            {
                                "open": [10.0, 11.0, None, 12.0],
                                "high": [10.5, 12.0, None, 12.0],
                                "low": [9.5, 10.8, None, 12.0],
                                "close": [10.2, 11.5, None, 12.0],
                                "volume": [100, 200, None, 0],
                            }
                        ],
                        "adjclose": [{"adjclose": [10.1, 11.4, None, 12.0]}],
                    },
                }
            ],
        }
    }


def test_live_normaliser_gives_the_prices_schema():
    from pipeline.market.live import chart_url, normalise_chart

    df = normalise_chart(chart_fixture(), "9988.HK")
    assert df.schema == pl.Schema(PRICES_SCHEMA)
    assert df["date"].to_list() == [
        dt.date(2025, 2, 11),
        dt.date(2025, 2, 12),
        dt.date(2025, 2, 14),
    ]
    assert df["close_traded"].to_list() == df["close"].to_list() == [10.2, 11.5, 12.0]
    assert df["placeholder"].to_list() == [False, False, True]
    assert not df["adjusted"].any() and set(df["currency"]) == {"HKD"}
    assert "9988.HK" in chart_url("9988.HK", dt.date(2025, 1, 1), dt.date(2025, 2, 1))
    assert "%5EHSI" in chart_url("HSI", dt.date(2025, 1, 1), dt.date(2025, 2, 1))


def test_live_normaliser_rejects_bad_payloads():
    from pipeline.market.live import normalise_chart

    with pytest.raises(InputError, match="not a Yahoo chart"):
        normalise_chart(b"{}", "BABA")
    with pytest.raises(InputError, match="chart error"):
        normalise_chart({"chart": {"error": {"code": "Not Found"}, "result": None}}, "BABA")
    bad = chart_fixture()
    bad["chart"]["result"][0]["indicators"]["quote"][0]["close"][1] = None
    with pytest.raises(InputError, match="positive close") as err:
        normalise_chart(bad, "9988.HK")
    assert err.value.line == 1


def test_live_loader_with_a_fake_fetch(tmp_path):
    import json

    from pipeline.market.live import load_live

    out = tmp_path / "live.parquet"
    df = load_live(
        ["9988.HK"],
        dt.date(2025, 2, 1),
        dt.date(2025, 2, 13),
        out=out,
        fetch=lambda *a: json.dumps(chart_fixture()),
    )
    assert df["date"].max() == dt.date(2025, 2, 12)
    assert pl.read_parquet(out).equals(df)


def test_a_build_reads_each_market_file_once(tmp_path, make_settings, monkeypatch) -> None:
    """Prices and validation share one parse of each snapshot file (it used to be 67 reads)."""
    from collections import Counter

    from pipeline.tables import build_tables

    reads: Counter[str] = Counter()
    real = pl.read_csv

    def counting_read_csv(source, *args, **kwargs):
        if str(source).startswith(str(MARKET)):
            reads[str(source)] += 1
        return real(source, *args, **kwargs)

    monkeypatch.setattr(pl, "read_csv", counting_read_csv)
    build_tables(make_settings(tmp_path))
    assert reads, "the build read no market file through polars"
    assert set(reads.values()) == {1}, reads
    assert len(reads) == len({src.path for src in SOURCES})


def test_half_days_close_at_noon_and_move_later_news_to_the_next_session(prices) -> None:
    """exchange_calendars knows Hong Kong's 31 December half-day; a fixed 16:00 close did not."""
    hk = Calendar.from_prices("HKEX", prices)
    assert hk.close_at(dt.date(2024, 12, 31)) == dt.time(12, 0)
    assert hk.close_at(dt.date(2025, 2, 12)) == dt.time(16, 0)
    # 13:00 Hong Kong on the half-day: after that day's close, so the next session reacts
    afternoon = dt.datetime(2024, 12, 31, 5, 0, tzinfo=UTC)
    assert hk.reaction_session(afternoon) == hk.on_or_after(dt.date(2025, 1, 1))
    assert hk.reaction_session(dt.datetime(2024, 12, 31, 2, 0, tzinfo=UTC)) == dt.date(2024, 12, 31)
    ny = Calendar.from_prices("NYSE", prices)
    assert ny.close_at(dt.date(2025, 11, 28)) == dt.time(13, 0)  # the day after Thanksgiving


def test_past_sessions_come_from_the_data_and_later_ones_from_the_exchange_rules(prices) -> None:
    edition = prices.filter(pl.col("date") <= dt.date(2025, 11, 19))  # as an edition cuts them
    hk = Calendar.from_prices("HKEX", edition)
    last = hk.last
    # Hong Kong closed for rainstorms on 8 Sep 2023: a session by the rules, not in the data.
    assert not hk.is_session(dt.date(2023, 9, 8))
    # After the data ends, holidays are known: Christmas is no session, 29 Dec 2025 is.
    assert last < dt.date(2025, 12, 25)
    assert not hk.is_session(dt.date(2025, 12, 25))
    assert not hk.is_session(dt.date(2025, 12, 26))
    assert hk.on_or_after(dt.date(2025, 12, 25)) == dt.date(2025, 12, 29)
    ny = Calendar.from_prices("NYSE", edition)
    assert not ny.is_session(dt.date(2025, 11, 27))  # Thanksgiving, after the edition's data


def test_sessions_table_settles_each_day_once_from_data_then_rules_then_weekdays(prices) -> None:
    """The claims and events read their trading days from `sessions`: the benchmark's days in
    the data, the rules' sessions (with their half-day closes) after it, weekdays past those."""
    edition = prices.filter(pl.col("date") <= dt.date(2025, 11, 19))
    sessions = sessions_table(edition)
    hk = sessions.filter(pl.col("exchange") == "HKEX")
    hsi_days = edition.filter(pl.col("instrument") == "HSI")["date"]
    traded = hk.filter(pl.col("basis") == "traded")["date"]
    assert traded.to_list() == sorted(hsi_days.to_list())
    assert hk["date"].is_unique().all() and hk["date"].is_sorted()
    day = dict(zip(hk["date"].to_list(), hk.iter_rows(named=True), strict=True))
    assert dt.date(2025, 12, 25) not in day  # Christmas, after the data: no session
    assert day[dt.date(2025, 12, 29)]["basis"] == "scheduled"
    # The 31 December half-day closes at noon Hong Kong time (04:00 UTC), in and after the data.
    assert day[dt.date(2024, 12, 31)]["close_utc"].hour == 4
    assert day[dt.date(2025, 12, 31)]["close_utc"].hour == 4
    assert day[dt.date(2025, 11, 19)]["close_utc"].hour == 8  # 16:00 Hong Kong
    assert set(hk["regular_close"].to_list()) == {dt.time(16, 0)}
    # Known for HORIZON days past the data (the last of them may fall on a weekend or holiday).
    horizon_end = traded.max() + HORIZON
    assert horizon_end - dt.timedelta(days=7) <= hk["date"].max() <= horizon_end
    ny = sessions.filter(pl.col("exchange") == "NYSE")
    assert dt.date(2025, 11, 27) not in ny["date"].to_list()  # Thanksgiving
    later = ny.filter(pl.col("basis") != "traded")
    assert later["date"].min() > edition.filter(pl.col("instrument") == "SPX")["date"].max()
    assert set(sessions["basis"].unique().to_list()) <= {"traded", "scheduled", "weekday"}
    weekdays = sessions.filter(pl.col("basis") == "weekday")
    assert (weekdays["date"].dt.weekday() <= 5).all()
