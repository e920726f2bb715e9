"""The `validation` table: what was checked in each market file, and what was found.

It works on the files as parsed once per build (`market_files`) and on `prices`, so the
snapshot is never re-read to be validated.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from pipeline.market.calendars import exchange_calendars
from pipeline.market.prices import (
    BABA_FACTOR,
    BABA_FILE,
    BABA_LAST_ADJUSTED,
    FILE_SCHEMA,
    HK_DIV_FILE,
    HK_FILE,
    HK_FIRST_RAW,
    MarketFile,
    Source,
    flag_placeholder,
    hk_chain_candidate,
    hk_tick,
    on_grid,
    sources_of,
)

SCHEMA = {
    "file": pl.String,
    "instrument": pl.String,
    "check": pl.String,
    "status": pl.String,
    "n": pl.Int64,
    "detail": pl.String,
}
HSI_MAIN = "clamx4__stockdata/index/HSI.csv"
HSI_CROSS = "flippe2__blank-app/data/^HSI.csv"


def _row(file: str, instrument: str, check: str, status: str, n: int, detail: str) -> dict:
    return dict(file=file, instrument=instrument, check=check, status=status, n=n, detail=detail)


def _dates(s: pl.Series, n: int = 5) -> str:
    return ", ".join(str(d) for d in s.head(n))


def validation(prices: pl.DataFrame, market_files: dict[str, MarketFile]) -> pl.DataFrame:
    """One row per file x check: schema, ticker rows, duplicates, non-positive prices, gaps and
    extra days against the exchange calendar, outliers, placeholders and adjustment checks.

    `status` is pass / warn / fail / info. Structural problems (missing column, bad date, empty
    file) already raised `InputError` when the file was parsed: a report on a file we cannot
    read would be a guess.
    """
    cals = exchange_calendars(prices)
    out: list[dict] = []
    for src in sources_of(market_files):
        out.extend(_file_checks(src, market_files[src.path], cals))
        if market_files[src.path].source is not None:
            out.append(overlap_check(src, market_files[src.path].frame, prices))
    out.extend(_adjustment_checks(market_files, prices))
    return pl.DataFrame(out, schema=SCHEMA)


def _file_checks(src: Source, file: MarketFile, cals: pl.DataFrame) -> list[dict]:
    df, f, ins = file.frame, src.path, src.instrument
    rows = [
        _row(
            f,
            ins,
            "rows",
            "info",
            df.height,
            f"{df['date'].min()}..{df['date'].max()}, role {src.role}",
        ),
        _row(
            f,
            ins,
            "label_rows_dropped",
            "info",
            file.rows_in_file - df.height,
            "yfinance ticker/header rows without date or numbers",
        ),
        _schema_check(df, f, ins),
    ]
    dups = df.filter(pl.col("date").is_duplicated())
    rows.append(
        _row(
            f,
            ins,
            "duplicates",
            "fail" if dups.height else "pass",
            dups.height,
            _dates(dups["date"].unique().sort()),
        )
    )
    nonpos = df.filter(pl.any_horizontal(pl.col("open", "high", "low", "close") <= 0))
    rows.append(
        _row(
            f,
            ins,
            "non_positive",
            "fail" if nonpos.height else "pass",
            nonpos.height,
            _dates(nonpos["date"]),
        )
    )
    rows.extend(_calendar_checks(src, df, cals))
    rows.append(_outlier_check(df, f, ins))
    ph = flag_placeholder(df).filter(pl.col("placeholder"))
    rows.append(_row(f, ins, "placeholders", "info", ph.height, _dates(ph["date"].tail(5))))
    return rows


# Two sources "agree" on a day when their as-traded closes differ by no more than rounding: half
# a cent, or 0.05% of the price for index points and large prices.
OVERLAP_ABS, OVERLAP_REL = 0.005, 0.0005


def overlap_check(src: Source, frame: pl.DataFrame, prices: pl.DataFrame) -> dict:
    """Does an updates file agree with the earlier source that won the days both cover?

    The earlier folder's row is the one in `prices` (see `update_sources`); here its as-traded
    close is compared with the update's close on every common day. Days where they differ by
    more than rounding are listed (status `fail`), never averaged; days where the earlier
    source has no as-traded close (dividend-adjusted rows) cannot be compared and are counted.
    """
    earlier = prices.filter(
        (pl.col("instrument") == src.instrument) & (pl.col("source_file") != src.path)
    ).select("date", "close_traded", "source_file")
    j = frame.select("date", "close").join(earlier, on="date")
    comparable = j.filter(pl.col("close_traded").is_not_null())
    tol = pl.max_horizontal(pl.lit(OVERLAP_ABS), pl.col("close_traded").abs() * OVERLAP_REL)
    off = comparable.filter((pl.col("close") - pl.col("close_traded")).abs() > tol).sort("date")
    detail = (
        f"{comparable.height} common days compared with "
        f"{', '.join(sorted(set(j['source_file']))) or 'no earlier source'}"
        f" ({j.height - comparable.height} without an as-traded close)"
    )
    if off.height:
        worst = off.row(0, named=True)
        detail += (
            f"; differ beyond rounding on {_dates(off['date'])} "
            f"(first: {worst['close']} here vs {worst['close_traded']})"
        )
    status = "fail" if off.height else "pass"
    return _row(src.path, src.instrument, "overlap_agrees", status, off.height, detail)


def _schema_check(df: pl.DataFrame, f: str, ins: str) -> dict:
    try:
        FILE_SCHEMA.validate(df.drop("dividends", "line"), lazy=True)
        return _row(f, ins, "schema", "pass", 0, "pandera FILE_SCHEMA")
    except pa.errors.SchemaErrors as exc:
        checks = "; ".join(sorted(set(exc.failure_cases["check"].cast(pl.String))))
        return _row(f, ins, "schema", "fail", exc.failure_cases.height, checks)


def _calendar_checks(src: Source, df: pl.DataFrame, cals: pl.DataFrame) -> list[dict]:
    f, ins = src.path, src.instrument
    cal = cals.filter(pl.col("exchange") == src.exchange)["date"]
    span = cal.filter(cal.is_between(df["date"].min(), df["date"].max()))
    missing = span.filter(~span.is_in(df["date"].implode()))
    extra = df["date"].filter(~df["date"].is_in(cal.implode()))
    ref = src.instrument in ("HSI", "SPX", "CSI300") and src.role == "primary"
    gaps = _row(
        f,
        ins,
        "gaps_vs_calendar",
        "info" if ref else ("warn" if missing.len() else "pass"),
        missing.len(),
        "reference calendar itself" if ref else _dates(missing),
    )
    extras = _row(
        f,
        ins,
        "extra_days_vs_calendar",
        "warn" if extra.len() else "pass",
        extra.len(),
        _dates(extra),
    )
    return [gaps, extras]


def _outlier_check(df: pl.DataFrame, f: str, ins: str) -> dict:
    lr = df.select("date", pl.col("close").log().diff().alias("lr")).drop_nulls()
    mad = (lr["lr"] - lr["lr"].median()).abs().median() or 0.0
    outl = lr.filter((pl.col("lr") - pl.col("lr").median()).abs() > 10 * 1.4826 * mad)
    return _row(
        f,
        ins,
        "outliers",
        "warn" if outl.height else "pass",
        outl.height,
        "|log return - median| > 10 robust SD: " + _dates(outl["date"]),
    )


def _adjustment_checks(files: dict[str, MarketFile], prices: pl.DataFrame) -> list[dict]:
    """Cross-checks from PROVENANCE.md that the adjustment handling depends on."""
    p = prices.filter((pl.col("source_file") == BABA_FILE) & pl.col("adjusted"))
    derived = p.filter(pl.col("close_traded").is_not_null())
    rows = [
        _row(
            BABA_FILE,
            "BABA",
            "close_traded_derived",
            "info",
            derived.height,
            f"{derived.height} of {p.height} adjusted rows: close / {BABA_FACTOR:.6f} lands "
            f"on the cent grid from {derived['date'].min()} to {BABA_LAST_ADJUSTED}",
        )
    ]
    cand = hk_chain_candidate(files[HK_DIV_FILE].frame).filter(
        pl.col("date") >= pl.date(2024, 1, 1)
    )
    share = cand.select(
        on_grid(pl.col("candidate"), hk_tick(pl.col("candidate")), 0.05).mean()
    ).item()
    rows.append(
        _row(
            HK_DIV_FILE,
            "9988.HK",
            "yahoo_factor_chain_on_tick_grid",
            "warn" if share < 0.9 else "pass",
            cand.height,
            f"share of 2024+ adjusted rows whose derived close lands on the tick grid: "
            f"{share:.3f}; below 0.9 -> close_traded left null before {HK_FIRST_RAW}",
        )
    )
    rows.append(
        _same_closes(
            files,
            HK_FILE,
            HK_DIV_FILE,
            "9988.HK",
            1e-6,
            HK_FIRST_RAW,
            "raw_from_2025-06-11_equals_forriz",
            HK_FILE,
        )
    )
    rows.append(
        _same_closes(files, HSI_MAIN, HSI_CROSS, "HSI", 0.01, None, "equals_clamx4_HSI", HSI_CROSS)
    )
    return rows


def _same_closes(files, a: str, b: str, ins: str, tol: float, since, check: str, file: str) -> dict:
    """Do two files give the same close on every common day (from `since`)?"""
    j = files[a].frame.join(files[b].frame, on="date")
    if since is not None:
        j = j.filter(pl.col("date") >= since)
    diff = j.filter((pl.col("close") - pl.col("close_right")).abs() > tol).height
    return _row(
        file, ins, check, "pass" if diff == 0 else "fail", diff, f"{j.height} common days compared"
    )
