"""Read the market-data snapshot into one tidy `prices` table, and report on every file.

The snapshot (see `PROVENANCE.md` in the market folder) mixes five CSV layouts: plain yfinance
exports, yfinance exports with a ticker row or a three-row header, WSJ index files with MM/DD/YY
dates newest first and a space after each comma, a Yahoo download with `Adj Close`, and
close-only files. Some series are dividend-adjusted before an ex-date. This module reads each
layout once, keeps one primary file per instrument and date range (the choice is in `SOURCES`
and in docs/market.md), flags zero-volume half-day placeholders and derives the as-traded close
only where the adjustment factor is documented and checks out against the price grid.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import pandera.polars as pa
import polars as pl

from pipeline import reference
from pipeline.errors import InputError

# -- what to read -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """One snapshot file feeding one instrument; earlier entries win for their date range."""

    instrument: str
    path: str  # relative to the market folder
    adjusted: bool  # whether the file is dividend-adjusted (before its newest ex-date)
    role: str = "primary"  # primary | fill | crosscheck

    @property
    def currency(self) -> str:
        return reference.instruments()[self.instrument].currency

    @property
    def exchange(self) -> str:
        """The exchange whose calendar it trades on (instruments table): HKEX, NYSE or SSE."""
        return reference.instruments()[self.instrument].exchange


# Priority order per instrument. A `fill` file only contributes dates outside the range already
# covered by the files above it, so sources never interleave. `crosscheck` files are validated
# but never enter `prices`.
SOURCES: tuple[Source, ...] = (
    Source("BABA", "Koi-west__stock-predictor/data/BABA.csv", True),
    Source("BABA", "Bluefin-Tuna__Yahoo-Finance-Historical-Data/BABA.csv", False, "fill"),
    Source("BABA", "dsturdy__Factor_Attribution_5_csvs/data/BABA.csv", True, "fill"),
    Source("9988.HK", "AZScience__mohinhdudoan/data/9988.HK.csv", True),
    Source("9988.HK", "CCF0001__Forriz-Pair-Trading/data/9988.HK.csv", True, "fill"),
    Source("HSI", "clamx4__stockdata/index/HSI.csv", False),
    Source("HSI", "flippe2__blank-app/data/^HSI.csv", False, "crosscheck"),
    Source("SPX", "clamx4__stockdata/index/SPX.csv", False),
    Source("SPY", "Koi-west__stock-predictor/data/SPY.csv", True),
    Source("SPY", "dsturdy__Factor_Attribution_5_csvs/data/SPY.csv", True, "fill"),
    Source("KWEB", "AZScience__mohinhdudoan/data/KWEB.csv", True),
    Source("KWEB", "dsturdy__Factor_Attribution_5_csvs/data/KWEB.csv", True, "fill"),
    Source("MCHI", "AZScience__mohinhdudoan/data/MCHI.csv", True),
    Source("MCHI", "dsturdy__Factor_Attribution_5_csvs/data/MCHI.csv", True, "fill"),
    Source("FXI", "dsturdy__Factor_Attribution_5_csvs/data/FXI.csv", True),
    Source("CSI300", "AZScience__mohinhdudoan/data/000300.SS.csv", False),
)

# Documented in PROVENANCE.md: Koi-west BABA rows up to and including 2025-06-11 are RAW x
# 118.33/120.33 (US$2.00 ex-dividend on 2025-06-12); rows after are RAW.
BABA_FILE = "Koi-west__stock-predictor/data/BABA.csv"
BABA_LAST_ADJUSTED = dt.date(2025, 6, 11)
BABA_FACTOR = 118.33 / 120.33
# 9988.HK: AZScience rows from 2025-06-11 on are RAW; the Forriz file carries the dividends.
HK_FILE = "AZScience__mohinhdudoan/data/9988.HK.csv"
HK_DIV_FILE = "CCF0001__Forriz-Pair-Trading/data/9988.HK.csv"
HK_FIRST_RAW = dt.date(2025, 6, 11)

COLUMNS = ("date", "open", "high", "low", "close", "volume")
PRICES_SCHEMA: dict[str, pl.DataType] = {
    "instrument": pl.String(),
    "date": pl.Date(),
    "open": pl.Float64(),
    "high": pl.Float64(),
    "low": pl.Float64(),
    "close": pl.Float64(),
    "volume": pl.Float64(),
    "currency": pl.String(),
    "adjusted": pl.Boolean(),
    "close_traded": pl.Float64(),
    "source_file": pl.String(),
    "placeholder": pl.Boolean(),
}

# Pandera schema every normalised file must pass before it may enter `prices`.
FILE_SCHEMA = pa.DataFrameSchema(
    {
        "date": pa.Column(pl.Date, nullable=False, unique=True),
        "close": pa.Column(pl.Float64, pa.Check.gt(0), nullable=False),
        "open": pa.Column(pl.Float64, pa.Check.gt(0), nullable=True),
        "high": pa.Column(pl.Float64, pa.Check.gt(0), nullable=True),
        "low": pa.Column(pl.Float64, pa.Check.gt(0), nullable=True),
        "volume": pa.Column(pl.Float64, pa.Check.ge(0), nullable=True),
    },
    strict=False,
)

# -- reading one file ---------------------------------------------------------------------------

_HEADER_LABELS = {"", "ticker", "price", "date"}
_ALIASES = {"adj close": "adj_close", "stock splits": "splits"}


def _tidy_name(name: str) -> str:
    key = name.strip().lower()
    return _ALIASES.get(key, key)


@dataclass(frozen=True)
class MarketFile:
    """One snapshot file, parsed once per build: its rows, and how many lines it had."""

    label: str  # path relative to the market folder
    frame: pl.DataFrame  # date, open, high, low, close, volume, dividends, line
    rows_in_file: int  # data lines before ticker/header label rows were dropped
    source: Source | None = None  # set for a file of an updates folder (not in `SOURCES`)


def market_files(market_dirs: Path | Sequence[Path]) -> dict[str, MarketFile]:
    """Every file named in `SOURCES` (in the first folder), then every file of the updates
    folders after it (`update_sources`), each read exactly once; prices and validation share
    them."""
    dirs = [Path(market_dirs)] if isinstance(market_dirs, str | os.PathLike) else list(market_dirs)
    files = {
        label: _parse(Path(dirs[0]) / label, label)
        for label in dict.fromkeys(src.path for src in SOURCES)
    }
    for src, path in update_sources(dirs[1:]):
        files[src.path] = replace(_parse(path, src.path), source=src)
    return files


UPDATE_PROVENANCE = "PROVENANCE.json"  # written by `pipeline.market.update` beside the files


def update_sources(folders: Sequence[Path]) -> list[tuple[Source, Path]]:
    """The files of the updates folders as `fill` sources, in folder order.

    An updates folder holds one `INSTRUMENT.csv` per instrument of the instruments table
    (Date,Open,High,Low,Close,Volume, prices as traded). It comes after every `SOURCES` file of
    the snapshot and after the folders before it, so for a day two folders both cover the
    earlier folder wins (fill rule in `prices`); their disagreements are reported in
    `validation` (`overlap_agrees`), never averaged. A CSV named after no instrument is an
    error; other files (the provenance record) are not read. Missing folders hold nothing.
    """
    known = reference.instruments()
    out: list[tuple[Source, Path]] = []
    seen: dict[str, Path] = {}
    for folder in map(Path, folders):
        if not folder.is_dir():
            continue
        if folder.name in seen:
            raise InputError(
                f"two market updates folders share the name {folder.name!r}",
                folder,
                fix=f"rename one of them (the other is {seen[folder.name]})",
            )
        seen[folder.name] = folder
        for path in sorted(folder.glob("*.csv")):
            if path.name.startswith("."):
                continue
            if path.stem not in known:
                raise InputError(
                    f"{path.name} is not named after an instrument of the instruments table",
                    path,
                    fix="name update files INSTRUMENT.csv, e.g. BABA.csv or 9988.HK.csv",
                )
            out.append((Source(path.stem, f"{folder.name}/{path.name}", False, "fill"), path))
    return out


def sources_of(files: dict[str, MarketFile]) -> tuple[Source, ...]:
    """`SOURCES`, then the updates files among `files`, in priority order."""
    return SOURCES + tuple(f.source for f in files.values() if f.source is not None)


def read_market_file(path: Path, label: str | None = None, strict: bool = True) -> pl.DataFrame:
    """One snapshot CSV as a frame (see `_parse`); with `strict`, checked as `prices` checks it."""
    out = _parse(Path(path), label or str(path)).frame
    if strict:
        check_file(out, label or str(path))
    return out


def _parse(path: Path, label: str) -> MarketFile:
    """Read one snapshot CSV in any of its layouts into date/open/high/low/close/volume.

    Returns the rows sorted by date with `line` (1-based line in the file) kept so that any later
    complaint can name the row. yfinance ticker rows and multi-header rows (no date, no numbers)
    are dropped and counted in `validation`. Duplicate days and non-positive prices are kept
    here for the validation report; `check_file` refuses them in files that feed `prices`.
    """
    raw = _read_raw(path, label)
    num_cols = [c for c in NUMERIC_COLUMNS if c in raw.columns]
    df = _data_rows(raw, num_cols, label)
    iso = pl.col("date").str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
    mdy = pl.col("date").str.to_date("%m/%d/%y", strict=False)
    df = df.with_columns(
        pl.when(pl.col("date").str.contains(r"^\d{4}-\d{2}-\d{2}"))
        .then(iso)
        .otherwise(mdy)
        .alias("_date"),
        *[pl.col(c).cast(pl.Float64, strict=False).alias(f"_{c}") for c in num_cols],
    )
    bad_date = df.filter(pl.col("_date").is_null())
    if bad_date.height:
        r = bad_date.row(0, named=True)
        raise InputError(
            f"unparsable date {r['date']!r}",
            label,
            line=r["line"],
            fix="dates must be YYYY-MM-DD or MM/DD/YY",
        )
    for c in num_cols:
        bad = df.filter(pl.col(c).is_not_null() & (pl.col(c) != "") & pl.col(f"_{c}").is_null())
        if bad.height:
            r = bad.row(0, named=True)
            raise InputError(f"unparsable {c} {r[c]!r}", label, line=r["line"])
    out = df.select(
        pl.col("_date").alias("date"),
        *[
            (pl.col(f"_{c}") if c in num_cols else pl.lit(None, pl.Float64)).alias(c)
            for c in ("open", "high", "low", "close", "volume", "dividends")
        ],
        "line",
    ).sort("date")
    if out["close"].null_count():
        r = out.filter(pl.col("close").is_null()).row(0, named=True)
        raise InputError("missing close", label, line=r["line"])
    return MarketFile(label=label, frame=out, rows_in_file=raw.height)


NUMERIC_COLUMNS = ("open", "high", "low", "close", "volume", "dividends")


def _read_raw(path: Path, label: str) -> pl.DataFrame:
    """The CSV as text columns with tidy names; a file that is missing, empty or lacks Date
    and Close is an InputError naming it."""
    if not path.is_file():
        raise InputError("market file not found", label)
    if path.stat().st_size == 0:
        raise InputError("market file is empty", label, fix="restore the file from the snapshot")
    try:
        raw = pl.read_csv(path, infer_schema=False, truncate_ragged_lines=True)
    except (pl.exceptions.NoDataError, pl.exceptions.ComputeError) as exc:
        raise InputError(f"cannot read CSV: {exc}", label) from None
    raw = raw.rename({c: _tidy_name(c) for c in raw.columns})
    if "date" not in raw.columns and raw.columns and raw.columns[0] == "price":
        # yfinance multi-header: "Price,Close,..." then "Ticker,..." and "Date,,,," rows
        raw = raw.rename({"price": "date"})
    if raw.height == 0:
        raise InputError("market file has a header but no rows", label)
    missing = [c for c in ("date", "close") if c not in raw.columns]
    if missing:
        raise InputError(
            f"missing column(s) {missing}; found {raw.columns}",
            label,
            line=1,
            fix="the file needs at least Date and Close",
        )
    return raw


def _data_rows(raw: pl.DataFrame, num_cols: list[str], label: str) -> pl.DataFrame:
    """Rows with their file line number, without yfinance ticker and header label rows."""
    df = raw.with_columns(
        pl.int_range(2, pl.len() + 2).alias("line"),
        *[pl.col(c).str.strip_chars() for c in ["date", *num_cols]],
    )
    # Label rows (ticker row, "Date,,,," row): no usable date and no number anywhere.
    numeric = [pl.col(c).cast(pl.Float64, strict=False) for c in num_cols]
    is_label = pl.col("date").str.to_lowercase().is_in(list(_HEADER_LABELS)) & pl.all_horizontal(
        [n.is_null() for n in numeric]
    )
    df = df.filter(~is_label)
    if df.height == 0:
        raise InputError("market file has no data rows", label)
    return df


def check_file(df: pl.DataFrame, label: str) -> None:
    """Run the pandera schema; raise `InputError` naming the first failing row."""
    dup = df.sort("line").filter(~pl.col("date").is_first_distinct())
    if dup.height:
        r = dup.row(0, named=True)
        first = df.filter(pl.col("date") == r["date"])["line"].min()
        raise InputError(
            f"duplicate day {r['date']} (first seen on line {first})",
            label,
            line=r["line"],
            fix="keep one row per trading day",
        )
    try:
        FILE_SCHEMA.validate(df.drop("dividends", "line", strict=False), lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases.filter(pl.col("index").is_not_null()).sort("index")
        if cases.height == 0:
            raise InputError(f"schema check failed: {exc}", label) from None
        case = cases.row(0, named=True)
        line = int(df["line"][int(case["index"])])
        what = (
            "duplicate day"
            if case["check"] == "field_uniqueness"
            else f"{case['column']} fails {case['check']} (value {case['failure_case']})"
        )
        raise InputError(
            what, label, line=line, fix="the snapshot must hold one row per day and positive prices"
        ) from None


# -- adjustments --------------------------------------------------------------------------------


def on_grid(values: pl.Expr, tick: pl.Expr | float, tol: float = 0.005) -> pl.Expr:
    """True where a price sits on its tick grid (within `tol` ticks), i.e. looks as traded."""
    steps = values / tick
    return (steps - steps.round()).abs() < tol


def hk_tick(price: pl.Expr) -> pl.Expr:
    """HKEX tick size for a price (spread table part A, the band relevant to 9988)."""
    return (
        pl.when(price < 0.25)
        .then(0.001)
        .when(price < 0.5)
        .then(0.005)
        .when(price < 10)
        .then(0.01)
        .when(price < 20)
        .then(0.02)
        .when(price < 100)
        .then(0.05)
        .when(price < 200)
        .then(0.1)
        .when(price < 500)
        .then(0.2)
        .when(price < 1000)
        .then(0.5)
        .otherwise(1.0)
    )


def baba_traded(df: pl.DataFrame) -> pl.DataFrame:
    """Add `close_traded`/`adjusted` to the Koi-west BABA file.

    Rows after 2025-06-11 are raw. Rows up to 2025-06-11 are raw x 118.33/120.33, but only back
    to the previous ex-date: earlier rows carry older dividends too (2022-10-24 reads 59.97
    against a raw 63.15). That start is found from the data: the unbroken run of rows ending on
    2025-06-11 whose close / factor lands on the one-cent grid; those are rounded to the cent.
    Rows before it get null.
    """
    cand = pl.col("close") / BABA_FACTOR
    df = df.with_columns(
        (pl.col("date") <= BABA_LAST_ADJUSTED).alias("adjusted"),
        on_grid(cand, 0.01).alias("_grid"),
    )
    pre = df.filter(pl.col("adjusted")).sort("date", descending=True)
    run = pre.with_columns((~pl.col("_grid")).cum_sum().alias("_breaks")).filter(
        pl.col("_breaks") == 0
    )
    start = run["date"].min() if run.height else None
    return df.with_columns(
        pl.when(~pl.col("adjusted"))
        .then(pl.col("close"))
        .when(pl.lit(start is not None) & (pl.col("date") >= pl.lit(start)))
        .then(cand.round(2))
        .otherwise(None)
        .alias("close_traded")
    ).drop("_grid")


def hk_factors(div_file: pl.DataFrame) -> pl.DataFrame:
    """Yahoo back-adjustment factors for 9988.HK, derived from the Forriz file's Dividends.

    Yahoo scales every row before an ex-date by f = 1 - D / C_raw(day before). Since the file's
    day-before close is (C_raw - D) x (factors of later ex-dates), C_raw = adj / later + D, so
    each factor follows from the file itself, newest ex-date first. Returns `from_date`,
    `to_date` (exclusive), `factor` (cumulative, to divide the file's closes by).
    """
    divs = div_file.filter(pl.col("dividends") > 0).sort("date", descending=True)
    rows = []
    later = 1.0
    for ex_date, amount in divs.select("date", "dividends").iter_rows():  # a handful of ex-dates
        before = div_file.filter(pl.col("date") < ex_date).sort("date").tail(1)
        if before.height == 0:
            break
        raw_prev = before["close"][0] / later + amount
        f = 1 - amount / raw_prev
        later *= f
        rows.append((ex_date, later))
    out = pl.DataFrame(rows, schema={"ex_date": pl.Date, "factor": pl.Float64}, orient="row")
    return out.sort("ex_date")


def hk_chain_candidate(div_file: pl.DataFrame) -> pl.DataFrame:
    """Forriz 9988.HK closes divided by the `hk_factors` chain: a candidate as-traded close."""
    factors = hk_factors(div_file)
    fz = (
        div_file.select("date", "close")
        .sort("date")
        .join_asof(
            factors.sort("ex_date"),
            left_on="date",
            right_on="ex_date",
            strategy="forward",
            allow_exact_matches=False,
        )
    )
    return fz.filter(pl.col("factor").is_not_null()).select(
        "date", (pl.col("close") / pl.col("factor")).alias("candidate")
    )


def hk_traded(main: pl.DataFrame) -> pl.DataFrame:
    """Add `close_traded`/`adjusted` to a 9988.HK file: raw from 2025-06-11 on, null before.

    The Yahoo factor chain derived from the Forriz Dividends column (`hk_factors`) does not
    reproduce prices on the HKEX tick grid before 2025-06-11 (about one row in ten lands on it,
    no better than chance; see `validation`), so no as-traded close is claimed there.
    """
    return main.with_columns((pl.col("date") < HK_FIRST_RAW).alias("adjusted")).with_columns(
        pl.when(~pl.col("adjusted")).then(pl.col("close")).otherwise(None).alias("close_traded")
    )


# -- the prices table ---------------------------------------------------------------------------


def flag_placeholder(df: pl.DataFrame) -> pl.DataFrame:
    """A zero-volume row with open = high = low = close that repeats the previous close is a
    placeholder, not a trade.

    Yahoo writes Hong Kong half-day sessions (24 and 31 December, Lunar New Year's Eve) as flat
    zero-volume rows too, but with that session's real close: the close differs from the day
    before, and the Hang Seng Index moves on the same days. Such a row is a real close whose
    volume is unknown (`volume` is then null), so year-to-date figures may start from it.
    """
    flat = (
        (pl.col("open") == pl.col("close"))
        & (pl.col("high") == pl.col("close"))
        & (pl.col("low") == pl.col("close"))
        & (pl.col("volume") == 0)
    ).fill_null(False)
    repeats = (pl.col("close") == pl.col("close").shift(1)).fill_null(False)
    return (
        df.sort("date")
        .with_columns((flat & repeats).alias("placeholder"), _flat=flat)
        .with_columns(
            pl.when(pl.col("_flat") & ~pl.col("placeholder"))
            .then(None)
            .otherwise(pl.col("volume"))
            .alias("volume")
        )
        .drop("_flat")
    )


def _source_frame(files: dict[str, MarketFile], src: Source) -> pl.DataFrame:
    df = files[src.path].frame
    check_file(df, src.path)
    if src.path == BABA_FILE:
        df = baba_traded(df)
    elif src.path in (HK_FILE, HK_DIV_FILE):
        df = hk_traded(df)
    elif src.adjusted:
        df = df.with_columns(
            pl.lit(True).alias("adjusted"), pl.lit(None, pl.Float64).alias("close_traded")
        )
    else:
        df = df.with_columns(pl.lit(False).alias("adjusted"), pl.col("close").alias("close_traded"))
    return flag_placeholder(df).with_columns(
        pl.lit(src.instrument).alias("instrument"),
        pl.lit(src.currency).alias("currency"),
        pl.lit(src.path).alias("source_file"),
    )


def prices_table(market_dirs: Path | Sequence[Path], as_of: dt.date | None = None) -> pl.DataFrame:
    """`prices` straight from the market folders; with `as_of`, no row after that date is kept."""
    out = prices(market_files(market_dirs))
    return out if as_of is None else out.filter(pl.col("date") <= as_of)


def prices(market_files: dict[str, MarketFile]) -> pl.DataFrame:
    """One row per instrument and trading day, from the primary file for each date range.

    Fill files only add dates outside the range of the files above them in `SOURCES`, so a
    series switches source at most at its ends (returns across a switch are not computed; see
    `pipeline.market.returns`). A file that feeds prices must pass `check_file`.
    """
    parts: list[pl.DataFrame] = []
    covered: dict[str, list[tuple[dt.date, dt.date]]] = {}
    for src in sources_of(market_files):
        if src.role == "crosscheck":
            continue
        df = _source_frame(market_files, src)
        spans = covered.setdefault(src.instrument, [])
        keep = pl.lit(True)
        for lo, hi in spans:
            keep = keep & ~pl.col("date").is_between(lo, hi)
        df_kept = df.filter(keep)
        spans.append((df["date"].min(), df["date"].max()))
        if df_kept.height:
            parts.append(df_kept.select(list(PRICES_SCHEMA)).cast(PRICES_SCHEMA))
    return pl.concat(parts).sort("instrument", "date")
