"""`market update` against a real HTTP server on 127.0.0.1 that answers in the chart API's format.

The payloads are written here; for the S&P 500 the served closes are the snapshot's own (read
from its CSV with the csv module), so the overlap check has something true to agree with.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from local_server import LocalServer, Request

from pipeline import reference
from pipeline.config import PROJECT_ROOT, Settings
from pipeline.errors import InputError
from pipeline.io import sha256_file
from pipeline.market.prices import market_files, prices, read_market_file
from pipeline.market.update import update_market
from pipeline.market.validation import validation

SNAPSHOT = Settings().market_dir
SPX_FILE = "clamx4__stockdata/index/SPX.csv"
BY_SYMBOL = {ins.live_symbol: ins for ins in reference.instruments().values() if ins.live_symbol}
SINCE, UNTIL = dt.date(2026, 7, 20), dt.date(2026, 7, 31)  # the snapshot's SPX ends 2026-07-24
OFF_DAY = dt.date(2026, 7, 22)  # the served S&P close is 1% off the snapshot's that day


def snapshot_spx() -> dict[dt.date, float]:
    """SPX closes of the WSJ file (MM/DD/YY, a space after each comma), read independently."""
    with open(SNAPSHOT / SPX_FILE, newline="") as fh:
        reader = csv.reader(fh, skipinitialspace=True)
        header = [h.strip().lower() for h in next(reader)]
        return {
            dt.datetime.strptime(r[0].strip(), "%m/%d/%y").date(): float(r[header.index("close")])
            for r in reader
        }


def weekdays(start: dt.date, end: dt.date) -> list[dt.date]:
    days = [start + dt.timedelta(n) for n in range((end - start).days)]
    return [d for d in days if d.weekday() < 5]


def chart_payload(symbol: str, req: Request, spx: dict[dt.date, float]) -> dict:
    """The chart API's JSON for the asked range: one bar per weekday, stamped at 10:00 local."""
    ins = BY_SYMBOL[symbol]
    tz = ZoneInfo(ins.timezone)
    start = dt.datetime.fromtimestamp(int(req.query["period1"]), dt.UTC).date()
    end = dt.datetime.fromtimestamp(int(req.query["period2"]), dt.UTC).date()
    days = weekdays(start, end)
    closes = []
    for n, day in enumerate(days):
        close = spx.get(day, 6000.0 + n) if symbol == "^GSPC" else 100.0 + n
        closes.append(round(close * 1.01, 2) if day == OFF_DAY else close)
    stamps = [int(dt.datetime.combine(d, dt.time(10), tz).timestamp()) for d in days]
    quote = {
        "open": closes,
        "high": [c + 1 for c in closes],
        "low": [c - 1 for c in closes],
        "close": closes,
        "volume": [1000 + n for n in range(len(days))],
    }
    meta = {"symbol": symbol, "currency": ins.currency, "exchangeTimezoneName": ins.timezone}
    result = {"meta": meta, "timestamp": stamps, "indicators": {"quote": [quote]}}
    return {"chart": {"result": [result], "error": None}}


def chart_route(spx: dict[dt.date, float], fail: dict[str, tuple[int, bytes]] | None = None):
    def answer(req: Request):
        symbol = req.path.rsplit("/", 1)[1]
        import urllib.parse

        symbol = urllib.parse.unquote(symbol)
        if fail and symbol in fail:
            status, body = fail[symbol]
            if status == 0:  # hang past the client's timeout
                time.sleep(2)
                status = 200
            return status, {"Content-Type": "application/json", "Retry-After": "120"}, body
        body = json.dumps(chart_payload(symbol, req, spx)).encode()
        return 200, {"Content-Type": "application/json"}, body

    return answer


@pytest.fixture(scope="module")
def spx() -> dict[dt.date, float]:
    return snapshot_spx()


@pytest.fixture
def server(spx):
    srv = LocalServer().start()
    srv.routes["/v8/finance/chart/"] = chart_route(spx)
    yield srv
    srv.stop()


def settings_for(tmp_path: Path) -> Settings:
    out = tmp_path / "updates"
    return dataclasses.replace(Settings(), market_updates=(out,), market_update_dir=out)


def run_update(settings: Settings, server: LocalServer, **kw) -> Path:
    return update_market(
        settings,
        since=SINCE,
        until=UNTIL,
        base_url=server.base + "/v8/finance/chart/{symbol}",
        delay=0,
        log=lambda *_: None,
        **kw,
    )


def test_update_writes_every_instrument_and_its_provenance(tmp_path, server):
    settings = settings_for(tmp_path)
    out = run_update(settings, server)
    record = json.loads((out / "PROVENANCE.json").read_text())
    assert set(record["files"]) == {
        f"{i}.csv" for i, ins in BY_SYMBOL.items() for i in [ins.instrument]
    }
    asked = {r.path.rsplit("/", 1)[1] for r in server.requests}
    assert {"BABA", "9988.HK", "%5EGSPC"} <= asked
    assert all("briefing" in r.headers["user-agent"] for r in server.requests)
    for name, entry in record["files"].items():
        frame = read_market_file(out / name)  # the snapshot reader, strict checks included
        assert entry["sha256"] == sha256_file(out / name)
        assert entry["rows"] == frame.height == len(weekdays(SINCE, UNTIL + dt.timedelta(1)))
        assert (entry["first"], entry["last"]) == (
            str(frame["date"].min()),
            str(frame["date"].max()),
        )
        assert entry["adjusted"] is False and entry["url"].startswith(server.base)
    assert "as traded" in record["prices"]


def test_snapshot_wins_overlap_and_disagreements_are_reported(tmp_path, server, spx):
    settings = settings_for(tmp_path)
    run_update(settings, server)
    files = market_files(settings.market_dirs)
    all_prices = prices(files)
    s = all_prices.filter(pl.col("instrument") == "SPX").sort("date")
    snapshot_days = s.filter(pl.col("date") <= max(spx))
    new_days = s.filter(pl.col("date") > max(spx))
    assert set(snapshot_days["source_file"]) == {SPX_FILE}  # no day of the snapshot replaced
    assert new_days["date"].to_list() == weekdays(
        max(spx) + dt.timedelta(1), UNTIL + dt.timedelta(1)
    )
    assert set(new_days["source_file"]) == {"updates/SPX.csv"}
    # instruments absent from the snapshot come in from the updates alone
    assert all_prices.filter(pl.col("instrument") == "HSTECH").height > 0
    checks = validation(all_prices, files).filter(pl.col("check") == "overlap_agrees")
    spx_row = checks.filter(pl.col("instrument") == "SPX").row(0, named=True)
    assert spx_row["status"] == "fail" and spx_row["n"] == 1
    assert str(OFF_DAY) in spx_row["detail"]
    # the update's value is reported, the snapshot's is the one kept: never averaged
    assert s.filter(pl.col("date") == OFF_DAY)["close"].item() == spx[OFF_DAY]


def test_a_second_update_keeps_older_bars(tmp_path, server):
    settings = settings_for(tmp_path)
    out = run_update(settings, server)
    before = read_market_file(out / "BABA.csv")
    update_market(
        settings,
        since=dt.date(2026, 7, 27),
        until=dt.date(2026, 8, 7),
        base_url=server.base + "/v8/finance/chart/{symbol}",
        delay=0,
        log=lambda *_: None,
    )
    after = read_market_file(out / "BABA.csv")
    assert after["date"].min() == before["date"].min() == SINCE
    assert after["date"].max() == dt.date(2026, 8, 7)


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (429, b"Too Many Requests", "rate-limiting us \\(HTTP 429\\)"),
        (500, b"oops", "HTTP 500"),
        (200, b"<html>not json</html>", "not a Yahoo chart payload"),
        (200, b'{"chart": {"result": null, "error": {"code": "Not Found"}}}', "chart error"),
        (0, b"{}", "no answer from the market source"),
    ],
)
def test_failures_name_the_instrument_and_write_nothing(tmp_path, spx, status, body, message):
    srv = LocalServer().start()
    srv.routes["/v8/finance/chart/"] = chart_route(spx, {"KWEB": (status, body)})
    settings = settings_for(tmp_path)
    out = settings.market_update_dir
    out.mkdir()
    (out / "BABA.csv").write_text("Date,Open,High,Low,Close,Volume\n2026-07-01,1,1,1,1,1\n")
    try:
        with pytest.raises(InputError, match=message) as err:
            run_update(settings, srv, timeout=0.5)
    finally:
        srv.stop()
    assert "KWEB (KWEB)" in str(err.value)
    assert sorted(p.name for p in out.iterdir()) == ["BABA.csv"]  # untouched
    assert (out / "BABA.csv").read_text().count("\n") == 2
    assert not list(tmp_path.glob(".updates.build-*"))


def test_cli_failure_is_one_line(tmp_path, spx):
    srv = LocalServer().start()
    srv.routes["/v8/finance/chart/"] = chart_route(spx, {"BABA": (429, b"slow down")})
    out = tmp_path / "updates"
    env = dict(
        os.environ,
        BRIEFING_MARKET_URL=srv.base + "/v8/finance/chart/{symbol}",
        BRIEFING_MARKET_DIR=os.pathsep.join([str(SNAPSHOT), str(out)]),
        BRIEFING_MARKET_UPDATE_DIR=str(out),
        BRIEFING_FETCH_DELAY="0",
    )
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pipeline", "market", "update", "--since", "2026-07-20"],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        srv.stop()
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "BABA (BABA)" in done.stderr and "429" in done.stderr
    assert not out.exists()


def test_market_dir_lists_several_folders(tmp_path, monkeypatch):
    a, b = tmp_path / "a", tmp_path / "b"
    monkeypatch.setenv("BRIEFING_MARKET_DIR", os.pathsep.join([str(a), str(b)]))
    s = Settings.from_env()
    assert s.market_dir == a and s.market_dirs == (a, b)
    a.mkdir()
    with pytest.raises(InputError, match="market updates folder not found"):
        dataclasses.replace(s, articles_dir=tmp_path).check()
