"""Verdicts: resolved candidates joined to `prices`, observed values and bands as columns.

Each way of checking a claim (`stat`) is one *measure*: a function from the resolved
candidates of that stat to `observed`, `claim_date`, `period_start`, `basis`, `note` and
whether a miss refutes the claim. Measures are joins to the sessions table (`session_rows`),
`join_asof` for to-date bases and range joins for periods. The band then comes from the
tolerance table (`tolerance.tolerance_bands`, joined on qualifier and scale) and the verdict
is one expression, the same for every claim.
"""

from __future__ import annotations

import polars as pl

from pipeline.claims.tolerance import band_exprs, tolerance_bands

ROW = ["close", "close_traded", "high", "low", "volume", "adjusted"]


def session_rows(prices: pl.DataFrame) -> pl.DataFrame:
    """One row per real session (placeholders left out) with the previous session beside it,
    and the mean volume of the 20 sessions before (`vol_prev20`)."""
    real = prices.filter(~pl.col("placeholder")).sort("instrument", "date")
    prev = [pl.col(c).shift(1).over("instrument").alias(f"prev_{c}") for c in ["date", *ROW]]
    vol = (
        real.filter(pl.col("volume").is_not_null())
        .with_columns(
            vol_prev20=pl.col("volume")
            .cast(pl.Float64)
            .shift(1)
            .rolling_mean(20)
            .over("instrument")
        )
        .select("instrument", "date", "vol_prev20")
    )
    return (
        real.select("instrument", "date", *ROW)
        .with_columns(prev)
        .join(vol, on=["instrument", "date"], how="left")
        .with_columns(_neighbours())
    )


def _neighbours() -> list[pl.Expr]:
    """The sessions either side: their closes and moves, to tell a wrong figure from a figure
    about the next or the previous session when the article's time does not fix which."""
    level = pl.coalesce("close_traded", "close")
    move = (pl.col("close") / pl.col("close").shift(1) - 1) * 100
    points = pl.col("close") - pl.col("close").shift(1)
    over = "instrument"
    return [
        level.shift(1).over(over).alias("alt_prev_level"),
        level.shift(-1).over(over).alias("alt_next_level"),
        move.shift(1).over(over).alias("alt_prev_move"),
        move.shift(-1).over(over).alias("alt_next_move"),
        points.shift(1).over(over).alias("alt_prev_points"),
        points.shift(-1).over(over).alias("alt_next_points"),
        pl.col("date").shift(-1).over(over).alias("alt_next_date"),
    ]


def placeholders(prices: pl.DataFrame) -> pl.DataFrame:
    return (
        prices.filter(pl.col("placeholder"))
        .select("instrument", "date")
        .with_columns(is_placeholder=pl.lit(True))
    )


def fmt(x: pl.Expr, sign: bool = False) -> pl.Expr:
    """A number with two decimals ("+2.54", "112.78"), as Python's f"{x:+.2f}" writes it."""
    cents = (x * 100).round(0).cast(pl.Int64)
    a = cents.abs()
    body = pl.concat_str(
        [(a // 100).cast(pl.String), pl.lit("."), (a % 100).cast(pl.String).str.zfill(2)]
    )
    lead = pl.when(cents < 0).then(pl.lit("-")).otherwise(pl.lit("+" if sign else ""))
    return pl.concat_str([lead, body])


def _s(col: str) -> pl.Expr:
    """A date as the note's reader reads it: "14 Nov 2025", never broken across lines."""
    return pl.col(col).dt.strftime("%-d\u00a0%b\u00a0%Y")


def _months(start: str, end: str) -> pl.Expr:
    """A span of whole months in words: "October 2020", or "Jan 2025 to Mar 2025"."""
    a, b = pl.col(start).dt.strftime("%B %Y"), pl.col(end).dt.strftime("%B %Y")
    return pl.when(a == b).then(a).otherwise(pl.concat_str([a, pl.lit(" to "), b]))


def change_between(r0: str, r1: str) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(percent change, basis, note) between rows prefixed `r0`/`r1`: as traded when both
    ends have an as-traded close, else the ratio of adjusted closes (and the note says why)."""
    traded = pl.col(f"{r0}close_traded").is_not_null() & pl.col(f"{r1}close_traded").is_not_null()
    pct = (
        pl.when(traded)
        .then((pl.col(f"{r1}close_traded") / pl.col(f"{r0}close_traded") - 1) * 100)
        .otherwise((pl.col(f"{r1}close") / pl.col(f"{r0}close") - 1) * 100)
    )
    basis = pl.when(traded).then(pl.lit("as-traded")).otherwise(pl.lit("adjusted"))
    note = (
        pl.when(traded).then(pl.lit(""))
        .when(pl.col(f"{r0}adjusted") != pl.col(f"{r1}adjusted"))
        .then(pl.lit("an ex-dividend date lies between the two closes; change includes the dividend; "))
        .otherwise(pl.lit("ratio of adjusted closes (no known ex-date between them, so equal to as traded); "))
    )  # fmt: skip
    return pct, basis, note


def points_between(r0: str, r1: str) -> pl.Expr:
    return pl.col(f"{r1}close") - pl.col(f"{r0}close")


PUB_NOTE = (
    pl.when(pl.col("date_method") == "inferred")
    .then(pl.lit("publication date inferred from claims; "))
    .otherwise(pl.lit(""))
)


def _out(frame: pl.DataFrame, **cols: pl.Expr) -> pl.DataFrame:
    """The columns every measure returns; what a measure does not set stays null."""
    base = {
        "observed": pl.lit(None, pl.Float64), "claim_date": pl.lit(None, pl.Date),
        "period_start": pl.lit(None, pl.Date), "basis": pl.lit(None, pl.String),
        "note": pl.lit(None, pl.String), "refutable": pl.lit(True),
        "range_lo": pl.lit(None, pl.Float64), "range_hi": pl.lit(None, pl.Float64),
        "test_claim": pl.lit(False), "alt_prev": pl.lit(None, pl.Float64),
        "alt_next": pl.lit(None, pl.Float64),
    }  # fmt: skip
    base.update(cols)
    return frame.select("cid", *[e.alias(k) for k, e in base.items()])


def _missing_session(frame: pl.DataFrame) -> pl.Expr:
    """Why a claim's session is not in the data (or null when it is)."""
    why = (
        pl.when(pl.col("is_placeholder").fill_null(False))
        .then(pl.lit("half-day placeholder row"))
        .otherwise(pl.lit("not a session in the data"))
    )
    return (
        pl.when(pl.col("day").is_null()).then(PUB_NOTE + pl.lit("no date"))
        .when(pl.col("r1_close").is_null())
        .then(pl.concat_str([PUB_NOTE, pl.col("instrument"), pl.lit(" "), _s("day"), pl.lit(": "), why]))
    )  # fmt: skip


def measure_close(f: pl.DataFrame) -> pl.DataFrame:
    traded = pl.col("r1_close_traded").is_not_null()
    obs = pl.coalesce("r1_close_traded", "r1_close")
    kind = pl.when(traded).then(pl.lit("as-traded")).otherwise(pl.lit("dividend-adjusted"))
    tail = (
        pl.when(traded)
        .then(pl.lit(""))
        .otherwise(pl.lit("; only adjusted prices in the snapshot for this date"))
    )
    note = pl.concat_str(
        [PUB_NOTE, kind, pl.lit(" close "), fmt(obs), pl.lit(" on "), _s("day"), tail]
    )
    missing = _missing_session(f)
    ok = missing.is_null()
    return _out(
        f, observed=pl.when(ok).then(obs), claim_date=pl.col("day"),
        basis=pl.when(ok).then(pl.when(traded).then(pl.lit("as-traded")).otherwise(pl.lit("adjusted"))),
        note=pl.coalesce(missing, note), refutable=traded,
        alt_prev=pl.col("alt_prev_level"), alt_next=pl.col("alt_next_level"),
    )  # fmt: skip


def measure_day(f: pl.DataFrame) -> pl.DataFrame:
    pct, basis, bnote = change_between("r0_", "r1_")
    points = pl.col("unit") == "points"
    obs = pl.when(points).then(points_between("r0_", "r1_")).otherwise(pct)
    unit = pl.when(points).then(pl.lit(" points")).otherwise(pl.lit("%"))
    note = pl.concat_str([
        PUB_NOTE, pl.when(points).then(pl.lit("")).otherwise(bnote), pl.col("instrument"),
        pl.lit(" "), fmt(obs, sign=True), unit, pl.lit(" from "), _s("r0_date"), pl.lit(" to "),
        _s("day"),
    ])  # fmt: skip
    missing = pl.coalesce(
        _missing_session(f),
        pl.when(pl.col("r0_close").is_null()).then(PUB_NOTE + pl.lit("no previous close")),
    )
    ok = missing.is_null()
    low = (pl.col("r1_low") / pl.col("r0_close") - 1) * 100
    high = (pl.col("r1_high") / pl.col("r0_close") - 1) * 100
    return _out(
        f, observed=pl.when(ok).then(obs), claim_date=pl.col("day"),
        period_start=pl.when(ok).then(pl.col("r0_date")),
        basis=pl.when(ok).then(pl.when(points).then(pl.lit("as-traded")).otherwise(basis)),
        note=pl.coalesce(missing, note), range_lo=low, range_hi=high,
        alt_prev=pl.when(points).then(pl.col("alt_prev_points")).otherwise(pl.col("alt_prev_move")),
        alt_next=pl.when(points).then(pl.col("alt_next_points")).otherwise(pl.col("alt_next_move")),
    )  # fmt: skip


def measure_intraday(f: pl.DataFrame) -> pl.DataFrame:
    """As much as / at one point: the session's extreme in the claimed direction."""
    up = pl.col("value") >= 0
    ext = pl.when(up).then(pl.col("r1_high")).otherwise(pl.col("r1_low"))
    which = pl.when(up).then(pl.lit("high")).otherwise(pl.lit("low"))
    obs = (ext / pl.col("r0_close") - 1) * 100
    basis = pl.when(pl.col("r1_adjusted")).then(pl.lit("adjusted")).otherwise(pl.lit("as-traded"))
    note = pl.concat_str([
        PUB_NOTE, pl.lit("intraday "), which, pl.lit(" vs previous close (not the close); "),
        pl.col("instrument"), pl.lit(" "), fmt(obs, sign=True), pl.lit("% from "), _s("r0_date"),
        pl.lit(" to "), _s("day"),
    ])  # fmt: skip
    missing = pl.coalesce(
        _missing_session(f),
        pl.when(pl.col("r0_close").is_null()).then(PUB_NOTE + pl.lit("no previous close")),
        pl.when(ext.is_null()).then(pl.concat_str([PUB_NOTE, pl.lit("no intraday "), which])),
    )
    ok = missing.is_null()
    return _out(
        f, observed=pl.when(ok).then(obs), claim_date=pl.col("day"),
        period_start=pl.when(ok).then(pl.col("r0_date")), basis=pl.when(ok).then(basis),
        note=pl.coalesce(missing, note),
    )  # fmt: skip


def measure_range(f: pl.DataFrame) -> pl.DataFrame:
    """A move "at the time of writing" or an intraday level: somewhere in the session's
    range (low to high), so the claim's band only has to overlap that range."""
    move = pl.col("stat") == "writing"
    low = (
        pl.when(move)
        .then((pl.col("r1_low") / pl.col("r0_close") - 1) * 100)
        .otherwise(pl.col("r1_low"))
    )
    high = (
        pl.when(move)
        .then((pl.col("r1_high") / pl.col("r0_close") - 1) * 100)
        .otherwise(pl.col("r1_high"))
    )
    obs = pl.col("value").clip(low, high)
    unit = pl.when(move).then(pl.lit("%")).otherwise(pl.lit(""))
    what = (
        pl.when(move)
        .then(pl.lit("at the time of writing: "))
        .otherwise(pl.lit("intraday level, checked against the session's range, not the close: "))
    )
    note = pl.concat_str([
        PUB_NOTE, what, pl.col("instrument"), pl.lit(" ranged "), fmt(low, sign=True), unit,
        pl.lit(" to "), fmt(high, sign=True), unit, pl.lit(" on "), _s("day"),
    ])  # fmt: skip
    missing = pl.coalesce(
        _missing_session(f),
        pl.when(move & pl.col("r0_close").is_null()).then(PUB_NOTE + pl.lit("no previous close")),
        pl.when(pl.col("r1_low").is_null()).then(PUB_NOTE + pl.lit("no intraday range")),
    )
    ok = missing.is_null()
    traded = move | pl.col("r1_close_traded").is_not_null()
    basis = pl.when(pl.col("r1_adjusted")).then(pl.lit("adjusted")).otherwise(pl.lit("as-traded"))
    return _out(
        f, observed=pl.when(ok).then(obs), claim_date=pl.col("day"),
        period_start=pl.when(ok & move).then(pl.col("r0_date")), basis=pl.when(ok).then(basis),
        note=pl.coalesce(missing, note), refutable=traded, range_lo=low, range_hi=high,
        test_claim=pl.lit(True),
    )  # fmt: skip


def _asof(frame: pl.DataFrame, rows: pl.DataFrame, on: str, prefix: str) -> pl.DataFrame:
    """Add the session row of the claim's instrument on or before column `on`, prefixed."""
    right = (
        rows.select("instrument", "date", *ROW)
        .rename({c: f"{prefix}{c}" for c in ["date", *ROW]})
        .with_columns(pl.col(f"{prefix}date").alias("_key"))
    )
    keyed = frame.filter(pl.col(on).is_not_null())
    joined = (
        keyed.sort(on)
        .join_asof(
            right.sort("_key"),
            left_on=on,
            right_on="_key",
            by="instrument",
            strategy="backward",
            check_sortedness=False,
        )
        .drop("_key")
    )
    return pl.concat([joined, frame.filter(pl.col(on).is_null())], how="diagonal_relaxed")


TO_DATE = {
    "ytd": ("year-to-date", pl.col("day").dt.truncate("1y") - pl.duration(days=1)),
    "mtd": ("month-to-date", pl.col("day").dt.truncate("1mo") - pl.duration(days=1)),
    "wtd": ("week-to-date", pl.col("day").dt.truncate("1w") - pl.duration(days=1)),
    # "5s" (sessions) is counted on the session table in `_sessions_back`; "2w", "1mo", "1y"
    # on the calendar
    "lookback": (
        "look-back",
        pl.when(~pl.col("lookback").str.ends_with("s")).then(
            pl.col("day").dt.offset_by(pl.lit("-") + pl.col("lookback"))
        ),
    ),
}


def _sessions_back(f: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """`base_end` of a look-back counted in sessions: the session that many before the end."""
    n = pl.col("lookback").str.extract(r"^(\d+)s$").cast(pl.Int64)
    idx = (
        rows.select("instrument", "date")
        .sort("instrument", "date")
        .with_columns(sidx=pl.int_range(pl.len()).over("instrument"))
    )
    f = f.with_columns(_n=n).join(
        idx.rename({"date": "e_date", "sidx": "_e"}), on=["instrument", "e_date"], how="left"
    )
    f = f.with_columns(_b=pl.col("_e") - pl.col("_n")).join(
        idx.rename({"date": "_b_date", "sidx": "_b"}), on=["instrument", "_b"], how="left"
    )
    return f.with_columns(
        base_end=pl.when(pl.col("_n").is_not_null()).then("_b_date").otherwise("base_end")
    ).drop("_n", "_e", "_b", "_b_date")


def measure_to_date(f: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """Change from the last close of the previous year, month or week, or from the close a
    look-back reaches ("over the past five sessions", "in the last two weeks")."""
    base_end = pl.lit(None, pl.Date)
    what = pl.lit(None, pl.String)
    for stat, (name, expr) in TO_DATE.items():
        base_end = pl.when(pl.col("stat") == stat).then(expr).otherwise(base_end)
        what = pl.when(pl.col("stat") == stat).then(pl.lit(name)).otherwise(what)
    f = f.with_columns(base_end=base_end, what=what)
    f = _asof(_sessions_back(_asof(f, rows, "day", "e_"), rows), rows, "base_end", "b_")
    same = (
        pl.when(pl.col("stat") == "ytd").then(pl.col("b_date").dt.year() == pl.col("base_end").dt.year())
        .when(pl.col("stat") == "mtd").then(pl.col("b_date").dt.truncate("1mo") == pl.col("base_end").dt.truncate("1mo"))
        .otherwise(pl.col("b_date") > pl.col("base_end") - pl.duration(days=7))
    )  # fmt: skip
    pct, basis, bnote = change_between("b_", "e_")
    # the same change to the session after, for a page updated later
    after = rows.sort("instrument", "date").select(
        "instrument", pl.col("date").alias("e_date"),
        *[pl.col(c).shift(-1).over("instrument").alias(f"n_{c}") for c in ROW],
    )  # fmt: skip
    f = f.join(after, on=["instrument", "e_date"], how="left")
    alt_next = change_between("b_", "n_")[0]  # on the same basis as the claim's own change
    note = _change_note(pct, bnote)
    missing = (
        pl.when(pl.col("day").is_null()).then(PUB_NOTE + pl.lit("no date"))
        .when(pl.col("e_close").is_null() | pl.col("b_close").is_null() | ~same.fill_null(False))
        .then(pl.concat_str([PUB_NOTE, pl.lit("no "), pl.col("instrument"), pl.lit(" data for the "), pl.col("what"), pl.lit(" base")]))
    )  # fmt: skip
    ok = missing.is_null()
    return _out(
        f, observed=pl.when(ok).then(pct), claim_date=pl.when(ok).then(pl.col("e_date")).otherwise(pl.col("day")),
        period_start=pl.when(ok).then(pl.col("b_date")), basis=pl.when(ok).then(basis),
        note=pl.coalesce(missing, note), alt_next=pl.when(ok).then(alt_next),
    )  # fmt: skip


def _change_note(pct: pl.Expr, basis_note: pl.Expr) -> pl.Expr:
    """How a period change was measured: "<basis>; 9988.HK +37.36% from <base> to <end>"."""
    return pl.concat_str([
        PUB_NOTE, basis_note, pl.col("instrument"), pl.lit(" "), fmt(pct, sign=True),
        pl.lit("% from "), _s("b_date"), pl.lit(" to "), _s("e_date"),
    ])  # fmt: skip


def _in_span(f: pl.DataFrame, rows: pl.DataFrame, start: str, end: str) -> pl.DataFrame:
    """Every session of the claim's instrument between columns `start` and `end`."""
    keys = f.select("cid", "instrument", start, end).filter(pl.col(start).is_not_null())
    return keys.join(rows, on="instrument").filter(
        pl.col("date").is_between(pl.col(start), pl.col(end))
    )


def measure_since(f: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """Change since a period: from its lowest close for a rise (highest for a fall)."""
    f = f.with_columns(end_day=pl.coalesce("day", "latest"))
    span = _in_span(f, rows, "base_start", "base_end").join(f.select("cid", "value"), on="cid")
    key = pl.when(pl.col("value") >= 0).then(pl.col("close")).otherwise(-pl.col("close"))
    base = span.sort("cid", key, "date").group_by("cid").first()
    base = base.select("cid", *[pl.col(c).alias(f"b_{c}") for c in ["date", *ROW]])
    f = _asof(f.join(base, on="cid", how="left"), rows, "end_day", "e_")
    pct, basis, bnote = change_between("b_", "e_")
    note = _change_note(pct, bnote)
    missing = (
        pl.when(pl.col("base_start").is_null()).then(PUB_NOTE + pl.lit("start of the period unclear"))
        .when(pl.col("b_close").is_null() | pl.col("e_close").is_null())
        .then(pl.concat_str([PUB_NOTE, pl.lit("no "), pl.col("instrument"), pl.lit(" data for the period")]))
    )  # fmt: skip
    ok = missing.is_null()
    return _out(
        f, observed=pl.when(ok).then(pct),
        claim_date=pl.when(ok).then(pl.col("e_date")).otherwise(pl.col("end_day")),
        period_start=pl.when(ok).then(pl.col("b_date")).otherwise(pl.col("base_start")),
        basis=pl.when(ok).then(basis), note=pl.coalesce(missing, note),
    )  # fmt: skip


def measure_span(f: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """Change over a named month ("in October"): from the last close before it to its last
    close, or to the claim's day while the month is still running."""
    f = f.with_columns(
        b_key=pl.col("base_start") - pl.duration(days=1),
        e_key=pl.min_horizontal("base_end", pl.coalesce("day", "latest")),
    )
    f = _asof(_asof(f, rows, "b_key", "b_"), rows, "e_key", "e_")
    pct, basis, bnote = change_between("b_", "e_")
    missing = (
        pl.when(pl.col("base_start").is_null()).then(PUB_NOTE + pl.lit("start of the period unclear"))
        .when(pl.col("b_close").is_null() | pl.col("e_close").is_null() | (pl.col("e_date") < pl.col("base_start")))
        .then(pl.concat_str([PUB_NOTE, pl.lit("no "), pl.col("instrument"), pl.lit(" data for the period")]))
    )  # fmt: skip
    ok = missing.is_null()
    return _out(
        f, observed=pl.when(ok).then(pct), claim_date=pl.when(ok).then(pl.col("e_date")),
        period_start=pl.when(ok).then(pl.col("b_date")).otherwise(pl.col("base_start")),
        basis=pl.when(ok).then(basis), note=pl.coalesce(missing, _change_note(pct, bnote)),
    )  # fmt: skip


def measure_record(f: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """ "Its biggest one-day gain since March 2022": the most extreme daily move the same way
    in the sessions after the named period up to the claim's day. It is the claim's own move
    when the record holds; a bigger one in between is observed instead and refutes it (only
    when the article's time fixes the day)."""
    pct = change_between("prev_", "")[0]
    moves = rows.with_columns(move=pct).filter(pl.col("move").is_not_null())
    keys = f.select("cid", "instrument", "day", "base_end", "value")
    way = pl.when(pl.col("value") >= 0).then(pl.col("move")).otherwise(-pl.col("move"))
    best = (
        keys.join(moves.select("instrument", "date", "move"), on="instrument")
        .filter((pl.col("date") > pl.col("base_end")) & (pl.col("date") <= pl.col("day")))
        .sort("cid", way, "date", descending=[False, True, False])
        .group_by("cid")
        .agg(x_date=pl.col("date").first(), x_move=pl.col("move").first())
    )
    reach = moves.group_by("instrument").agg(first_date=pl.col("date").min())
    f = f.join(best, on="cid", how="left").join(reach, on="instrument", how="left")
    way_word = pl.when(pl.col("value") >= 0).then(pl.lit("rise")).otherwise(pl.lit("fall"))
    note = pl.concat_str([
        PUB_NOTE, pl.col("instrument"), pl.lit(" biggest one-day "), way_word, pl.lit(" after "),
        _s("base_end"), pl.lit(" up to "), _s("day"), pl.lit(": "), fmt(pl.col("x_move"), sign=True),
        pl.lit("% on "), _s("x_date"),
    ])  # fmt: skip
    missing = (
        pl.when(pl.col("base_end").is_null()).then(PUB_NOTE + pl.lit("the time the record is set against is not read"))
        .when(pl.col("r1_close").is_null()).then(_missing_session(f))
        .when(pl.col("first_date") > pl.col("base_end"))
        .then(pl.concat_str([PUB_NOTE, pl.lit("no "), pl.col("instrument"), pl.lit(" data as far back as "), _s("base_end")]))
    )  # fmt: skip
    ok = missing.is_null() & pl.col("x_move").is_not_null()
    # The session is fixed by a publication time, or by the claim's own day words ("ended
    # Monday's session", "on 9 September") read against a publication day the text states.
    own_day = (
        pl.col("specs").list.first().struct.field("kind").is_in(["weekday", "date", "dom"])
        & (pl.col("date_method") == "date") & pl.col("date_firm").fill_null(False)
    )  # fmt: skip
    firm = ((pl.col("date_method") == "time") | own_day.fill_null(False)) & ~pl.col("inherited")
    return _out(
        f, observed=pl.when(ok).then(pl.col("x_move")), claim_date=pl.col("day"),
        period_start=pl.col("base_end"), basis=pl.when(ok).then(pl.lit("daily moves")),
        note=pl.coalesce(missing, note), refutable=firm,
    )  # fmt: skip


def measure_extreme(f: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """ "A peak of around $310 in October 2020": the closing high (low) of the period."""
    f = f.with_columns(
        p_start=pl.coalesce("span_start", "day"), p_end=pl.coalesce("span_end", "day"),
        is_high=pl.col("stat") == "period_high",
        nearest=pl.col("stat") == "period_close",
        by_range=pl.col("qualifier") == "intraday",
    )  # fmt: skip
    flags = f.select("cid", "is_high", "nearest", "by_range", "value")
    span = _in_span(f, rows, "p_start", "p_end").join(flags, on="cid")
    traded = pl.col("close_traded").is_not_null().all().over("cid")
    close = pl.when(pl.col("traded")).then(pl.col("close_traded")).otherwise(pl.col("close"))
    # reached intraday ("im Handelsverlauf"): the session highs and lows, not the closes
    extreme = pl.when(pl.col("is_high")).then(pl.col("high")).otherwise(pl.col("low"))
    span = span.with_columns(traded=traded).with_columns(
        key=pl.when(pl.col("by_range") & extreme.is_not_null()).then(extreme).otherwise(close)
    )
    # "closed at $317.14 in October 2020": the close of that month nearest the claim
    order = (
        pl.when(pl.col("nearest")).then((pl.col("key") - pl.col("value")).abs())
        .when(pl.col("is_high")).then(-pl.col("key"))
        .otherwise(pl.col("key"))
    )  # fmt: skip
    pick = span.sort("cid", order, "date").group_by("cid").agg(
        pl.col("date").first().alias("x_date"), pl.col("key").first().alias("x_obs"),
        pl.col("traded").first().alias("x_traded"), pl.col("high").max().alias("x_high"),
        pl.col("low").min().alias("x_low"),
    )  # fmt: skip
    f = f.join(pick, on="cid", how="left")
    extreme = (
        pl.when(pl.col("nearest")).then(pl.lit("close nearest the claim"))
        .when(pl.col("is_high")).then(pl.lit("high")).otherwise(pl.lit("low"))
    )  # fmt: skip
    intr = pl.when(pl.col("is_high")).then(pl.col("x_high")).otherwise(pl.col("x_low"))
    tail = (
        pl.when(~pl.col("x_traded")).then(pl.lit("; only adjusted prices in the snapshot for this period, as-traded level unknown"))
        .when(intr.is_not_null()).then(pl.concat_str([pl.lit("; intraday "), extreme, pl.lit(" "), fmt(intr)]))
        .otherwise(pl.lit(""))
    )  # fmt: skip
    note = pl.concat_str([
        PUB_NOTE, pl.when(pl.col("x_traded")).then(pl.lit("as-traded")).otherwise(pl.lit("dividend-adjusted")),
        pl.lit(" closing "), extreme, pl.lit(" of "), _months("p_start", "p_end"),
        pl.lit(" is "), fmt(pl.col("x_obs")),
        pl.lit(" on "), _s("x_date"), tail,
    ])  # fmt: skip
    missing = (
        pl.when(pl.col("p_start").is_null()).then(PUB_NOTE + pl.lit("no period given"))
        .when(pl.col("x_obs").is_null())
        .then(pl.concat_str([PUB_NOTE, pl.lit("no "), pl.col("instrument"), pl.lit(" data for "), _months("p_start", "p_end")]))
    )  # fmt: skip
    ok = missing.is_null()
    return _out(
        f, observed=pl.when(ok).then(pl.col("x_obs")), claim_date=pl.col("x_date"),
        period_start=pl.when(pl.col("x_obs").is_not_null()).then(pl.col("p_start")),
        basis=pl.when(ok).then(pl.when(pl.col("x_traded")).then(pl.lit("as-traded")).otherwise(pl.lit("adjusted"))),
        note=pl.coalesce(missing, note), refutable=pl.col("x_traded").fill_null(False),
    )  # fmt: skip


def _volume_days(f: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """Sessions a volume claim is about: every session its time expressions name, else its day."""
    # a multiple of the average can span the days named ("during this period"); a share
    # count is one session's volume
    ratio = f.filter(pl.col("stat") == "volume")
    spans = (
        ratio.select("cid", "instrument", "spec_spans").explode("spec_spans").unnest("spec_spans")
    )
    named = (
        spans.filter(pl.col("s").is_not_null())
        .join(rows, on="instrument")
        .filter(pl.col("date").is_between(pl.col("s"), pl.col("e")))
    )
    named = named.select("cid", "date").unique()
    fallback = (
        f.join(named.select("cid").unique(), on="cid", how="anti")
        .filter(pl.col("day").is_not_null())
        .select("cid", pl.col("day").alias("date"))
    )
    return pl.concat([named, fallback])


def measure_volume(f: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """A multiple of the mean volume of the 20 sessions before the first day named, or a
    share count (the mean over the days named)."""
    days = _volume_days(f, rows)
    vols = days.join(f.select("cid", "instrument"), on="cid").join(
        rows.select("instrument", "date", "volume", "vol_prev20"), on=["instrument", "date"], how="left"
    )  # fmt: skip
    first = vols.sort("cid", "date").group_by("cid").agg(
        pl.col("date").min().alias("v_start"), pl.col("date").max().alias("v_end"),
        pl.col("vol_prev20").first().alias("v_base"),
        pl.col("volume").filter(pl.col("volume").is_not_null()).cast(pl.Float64).mean().alias("v_mean"),
    )  # fmt: skip
    base = first.select("cid", "v_base")
    f = f.join(first, on="cid", how="left").join(
        _per_day(vols.join(base, on="cid")), on="cid", how="left"
    )
    ratio = pl.col("stat") == "volume"
    obs = pl.when(ratio).then(pl.col("v_mean") / pl.col("v_base")).otherwise(pl.col("v_mean"))
    note = pl.concat_str([
        PUB_NOTE, pl.lit("mean volume "), _s("v_start"), pl.lit(" to "), _s("v_end"),
        pl.when(ratio).then(pl.concat_str([
            pl.lit(" vs mean of the previous 20 sessions = "), fmt(obs), pl.lit("x (") ,
            pl.col("per_day"), pl.lit(")"),
        ])).otherwise(pl.concat_str([pl.lit(" = "), obs.round(0).cast(pl.Int64).cast(pl.String), pl.lit(" shares")])),
    ])  # fmt: skip
    missing = (
        pl.when(pl.col("v_start").is_null()).then(PUB_NOTE + pl.lit("no date for the volume claim"))
        .when(obs.is_null())
        .then(pl.concat_str([PUB_NOTE, pl.lit("no "), pl.col("instrument"), pl.lit(" volume for the period or the 20 sessions before")]))
    )  # fmt: skip
    ok = missing.is_null()
    return _out(
        f, observed=pl.when(ok).then(obs), claim_date=pl.col("v_end"), period_start=pl.col("v_start"),
        basis=pl.when(ok).then(pl.lit("as-traded")), note=pl.coalesce(missing, note),
    )  # fmt: skip


def measure_turnover(f: pl.DataFrame) -> pl.DataFrame:
    """Turnover in money, approximated as the session's close times its share volume.

    The exchange's own figure sums every trade at its own price, and the snapshot has daily
    bars only, so the two differ on a day that moved a lot: a figure inside the band is
    supported, a miss is not a refutation. A figure in another currency than the listing's
    is not checked."""
    from pipeline.reference import instruments_table

    currency = instruments_table().select("instrument", listing_currency="currency")
    f = f.join(currency, on="instrument", how="left")
    obs = pl.coalesce("r1_close_traded", "r1_close") * pl.col("r1_volume")
    missing = pl.coalesce(
        _missing_session(f),
        pl.when(pl.col("r1_volume").is_null()).then(
            pl.concat_str([PUB_NOTE, pl.lit("no "), pl.col("instrument"), pl.lit(" volume")])
        ),
        pl.when(pl.col("unit") != pl.col("listing_currency")).then(
            pl.concat_str([
                pl.lit("turnover in "), pl.col("unit"), pl.lit("; the listing trades in "),
                pl.col("listing_currency"),
            ])
        ),
    )  # fmt: skip
    note = pl.concat_str([
        PUB_NOTE, pl.lit("turnover approximated as close x volume = "), pl.col("unit"),
        pl.lit(" "), fmt(obs / 1e9), pl.lit("bn on "), _s("day"),
        pl.lit(" (the exchange's figure prices each trade; the snapshot has daily bars only, "
               "so a miss is not a refutation)"),
    ])  # fmt: skip
    ok = missing.is_null()
    return _out(
        f, observed=pl.when(ok).then(obs), claim_date=pl.col("day"),
        basis=pl.when(ok).then(pl.lit("as-traded")), note=pl.coalesce(missing, note),
        refutable=pl.lit(False),
    )  # fmt: skip


def _per_day(vols: pl.DataFrame) -> pl.DataFrame:
    """`cid`, `per_day`: "2025-11-14: 2.64x, 2025-11-17: 1.31x" for each volume claim."""
    parts = vols.filter(pl.col("volume").is_not_null() & pl.col("v_base").is_not_null())
    parts = parts.sort("cid", "date").with_columns(
        part=pl.concat_str(
            [_s("date"), pl.lit(": "), fmt(pl.col("volume") / pl.col("v_base")), pl.lit("x")]
        )
    )
    return parts.group_by("cid").agg(pl.col("part").str.join(", ").alias("per_day"))


def _unverifiable(f: pl.DataFrame, has_data: pl.Series) -> pl.DataFrame:
    """Claims the snapshot cannot check, each with the reason (null when it can)."""
    name = pl.coalesce("ins_name", "instrument", pl.lit("instrument"))
    reason = (
        pl.when(pl.col("stat") == "flow").then(pl.lit(
            "no Stock Connect or fund-flow data in the market snapshot; the flow figures "
            "cited by other sources are listed beside the turnover chart"))
        .when((pl.col("instrument") == "OTHER") & (pl.col("unit") == "EUR")).then(pl.lit(
            "a euro quote on a German venue is neither the New York nor the Hong Kong listing; "
            "no euro venue data in the market snapshot"))
        .when(pl.col("instrument") == "OTHER").then(pl.lit(
            "not an instrument this briefing tracks (another market, company or venue); "
            "no data in the market snapshot"))
        .when(~pl.col("instrument").is_in(has_data.implode())).then(
            pl.concat_str([pl.lit("no "), name, pl.lit(" data in the market snapshot")]))
        .when(pl.col("stat") == "premarket").then(pl.lit(
            "premarket move: the market snapshot has regular-session prices only"))
        .when(pl.col("local").is_null()).then(pl.lit(
            "publication date unknown and could not be inferred"))
    )  # fmt: skip
    # the session the claim is about is known even where the snapshot cannot check it
    date = (
        pl.when(pl.col("stat").is_in(["flow", "premarket"]))
        .then(pl.coalesce("day", "latest"))
        .otherwise(pl.col("day"))
    )
    return _out(f.with_columns(reason=reason), note=pl.col("reason"), claim_date=date).filter(
        pl.col("note").is_not_null()
    )


MEASURES = {
    "close": measure_close,
    "day": measure_day,
    "intraday": measure_intraday,
    "writing": measure_range,
    "intraday_price": measure_range,
    "turnover": measure_turnover,
    "ytd": measure_to_date,
    "mtd": measure_to_date,
    "wtd": measure_to_date,
    "lookback": measure_to_date,
    "since": measure_since,
    "span": measure_span,
    "record": measure_record,
    "period_high": measure_extreme,
    "period_low": measure_extreme,
    "period_close": measure_extreme,
    "volume": measure_volume,
    "volume_shares": measure_volume,
}
NEEDS_ROWS = {
    measure_to_date,
    measure_since,
    measure_span,
    measure_extreme,
    measure_volume,
    measure_record,
}


def observe(resolved: pl.DataFrame, prices: pl.DataFrame) -> pl.DataFrame:
    """One row per candidate: what the market data says, or why it cannot say."""
    rows = session_rows(prices)
    r1 = (
        rows.rename({c: f"r1_{c}" for c in ROW})
        .rename({f"prev_{c}": f"r0_{c}" for c in ["date", *ROW]})
        .rename({"date": "day"})
    )
    f = resolved.join(r1, on=["instrument", "day"], how="left").join(
        placeholders(prices).rename({"date": "day"}), on=["instrument", "day"], how="left"
    )
    skip = _unverifiable(f, rows["instrument"].unique())
    todo = f.join(skip.select("cid"), on="cid", how="anti")
    parts = [skip]
    for fn in dict.fromkeys(MEASURES.values()):
        stats = [s for s, g in MEASURES.items() if g is fn]
        part = todo.filter(pl.col("stat").is_in(stats))
        if part.height:
            parts.append(fn(part, rows) if fn in NEEDS_ROWS else fn(part))
    return pl.concat(parts, how="vertical_relaxed")


SCALE = (
    pl.when(pl.col("unit") == "percent").then(pl.lit("pct"))
    .when(pl.col("unit") == "points").then(pl.lit("points"))
    .when(pl.col("unit") == "x_prev20_mean").then(pl.lit("multiple"))
    .when(pl.col("unit") == "shares").then(pl.lit("shares"))
    .otherwise(pl.lit("price"))
)  # fmt: skip
RULE_QUALIFIER = (
    pl.when(pl.col("stat") == "writing").then(pl.lit("at time of writing"))
    .when(pl.col("stat").is_in(["intraday", "intraday_price"]) & (pl.col("qualifier") == "exact"))
    .then(pl.lit("intraday"))
    # an approximated measure is never read as exact
    .when((pl.col("stat") == "turnover") & (pl.col("qualifier") == "exact")).then(pl.lit("about"))
    .otherwise(pl.col("qualifier"))
)  # fmt: skip
CHANGES = ("day", "intraday", "ytd", "mtd", "wtd", "lookback", "since", "span")


def _neighbour_sessions(f: pl.DataFrame, lo: pl.Expr, hi: pl.Expr) -> pl.DataFrame:
    """A miss that fits the session before or after is a date the article does not fix (no
    publication time, or a day taken from an earlier sentence), not a wrong figure:
    unverifiable, and the note names the session it fits."""

    def fits(x: pl.Expr) -> pl.Expr:
        return x.is_not_null() & (lo.is_null() | (x >= lo)) & (hi.is_null() | (x <= hi))

    # The session is fixed by a publication time, or by the claim's own day words ("ended
    # Monday's session", "on 9 September") read against a publication day the text states.
    own_day = (
        pl.col("specs").list.first().struct.field("kind").is_in(["weekday", "date", "dom"])
        & (pl.col("date_method") == "date") & pl.col("date_firm").fill_null(False)
    )  # fmt: skip
    firm = ((pl.col("date_method") == "time") | own_day.fill_null(False)) & ~pl.col("inherited")
    loose = (pl.col("verdict") == "contradicted") & ~firm
    weak = (pl.col("verdict") == "contradicted") & ~pl.col("date_firm").fill_null(True)
    before, after = loose & fits(pl.col("alt_prev")), loose & fits(pl.col("alt_next"))
    # A figure with no time words that misses the last close before publication but fits the
    # next session can only come from a later update of the page ("updated after the close"):
    # the page's time does not fix it either.
    undated_own = pl.col("specs").list.len().fill_null(0).eq(0) | pl.col("stat").is_in(
        ["ytd", "mtd", "wtd"]
    )
    updated = (
        (pl.col("verdict") == "contradicted") & firm & undated_own
        & (pl.col("day") == pl.col("latest")) & fits(pl.col("alt_next"))
    )  # fmt: skip
    after = after | updated
    which = (
        pl.when(before).then(pl.lit("the session before")).otherwise(pl.lit("the session after"))
    )
    note = pl.concat_str([
        pl.col("note"), pl.lit("; the figure fits "), which, pl.lit(" and the article's time "
        "does not fix the session, so this is a date question, not a wrong figure"),
    ])  # fmt: skip
    either = before | after
    # With no publication time, "the last close" is a guess: a to-date, volume or intraday
    # figure without a date of its own is not refuted by the guessed session either.
    undated_figure = pl.col("specs").list.len().fill_null(0).eq(0) | pl.col("inherited")
    guessed_session = (
        (pl.col("verdict") == "contradicted") & (pl.col("date_method") == "date")
        & ~pl.col("stat").is_in(["day", "close"]) & undated_figure
    )  # fmt: skip
    weak = weak | guessed_session
    guessed = weak & ~either
    doubt = pl.concat_str([
        pl.col("note"), pl.lit("; the session is uncertain (the article gives no publication time, or its "
        "year or date was inferred), so a miss is not a refutation"),
    ])  # fmt: skip
    return f.with_columns(
        verdict=pl.when(either | guessed).then(pl.lit("unverifiable")).otherwise("verdict"),
        note=pl.when(either).then(note).when(guessed).then(doubt).otherwise("note"),
    )


def verdicts(resolved: pl.DataFrame, prices: pl.DataFrame) -> pl.DataFrame:
    """`resolved` plus `observed_value`, `tolerance_lo/hi`, `verdict`, `note`, `basis`,
    `claim_date`, `period_start`: the band from the tolerance table, one verdict rule."""
    bands = tolerance_bands().rename({"qualifier": "rule_qualifier"})
    f = (
        resolved.drop("day_before", strict=False)
        .join(observe(resolved, prices), on="cid", how="left")
        .with_columns(scale=SCALE, rule_qualifier=RULE_QUALIFIER)
        .join(bands, on=["rule_qualifier", "scale"], how="left")
    )
    lo, hi = band_exprs(pl.col("value"), pl.col("step"))
    checked = pl.col("observed").is_not_null()
    f = f.with_columns(
        tolerance_lo=pl.when(checked).then(lo), tolerance_hi=pl.when(checked).then(hi)
    )
    lo, hi, obs = pl.col("tolerance_lo"), pl.col("tolerance_hi"), pl.col("observed")
    inside = (lo.is_null() | (obs >= lo)) & (hi.is_null() | (obs <= hi))
    overlap = (lo.is_null() | (pl.col("range_hi") >= lo)) & (
        hi.is_null() | (pl.col("range_lo") <= hi)
    )
    ok = pl.when(pl.col("test_claim")).then(overlap).otherwise(inside)
    wrong_way = (
        pl.col("stat").is_in(CHANGES)
        & (obs * pl.col("value") < 0)
        & (obs.abs() >= pl.col("step") * 0.5)
    )
    # A level "as of 11:24" inside the session's range is consistent, not checked: the
    # snapshot has no intraday series. Outside the range it is refuted.
    timed = pl.col("stat") == "writing"
    verdict = (
        pl.when(obs.is_null()).then(pl.lit("unverifiable"))
        .when(ok & ~wrong_way & timed).then(pl.lit("unverifiable"))
        .when(ok & ~wrong_way).then(pl.lit("supported"))
        .when(pl.col("refutable")).then(pl.lit("contradicted"))
        .otherwise(pl.lit("unverifiable"))
    )  # fmt: skip
    f = f.with_columns(verdict=verdict)
    f = _neighbour_sessions(f, lo, hi)
    f = f.with_columns(
        note=pl.when(timed & (pl.col("verdict") == "unverifiable") & obs.is_not_null())
        .then(
            pl.col("note")
            + pl.lit("; consistent with that range, but the level at that time is not in the data")
        )
        .otherwise("note")
    )
    # Published that day at an unknown hour: the piece may describe the move before the close.
    # If some level inside the session fits the claim, the close cannot refute it.
    maybe_earlier = (
        (pl.col("verdict") == "contradicted") & (pl.col("stat") == "day")
        & (pl.col("date_method") == "date") & (pl.col("day") == pl.col("pub_date"))
        & pl.col("range_lo").is_not_null() & overlap & (pl.col("unit") == "percent")
        & ~pl.col("closing")
    )  # fmt: skip
    earlier = pl.concat_str([
        pl.col("note"), pl.lit("; publication time unknown and the session ranged "),
        fmt(pl.col("range_lo"), sign=True), pl.lit("% to "), fmt(pl.col("range_hi"), sign=True),
        pl.lit("%, so the piece may describe the move before the close"),
    ])  # fmt: skip
    return f.with_columns(
        verdict=pl.when(maybe_earlier).then(pl.lit("unverifiable")).otherwise("verdict"),
        note=pl.when(maybe_earlier).then(earlier).otherwise("note"),
        observed_value=obs,
    )
