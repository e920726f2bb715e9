"""Anchor each candidate to an instrument's calendar and a publication time: frame operations.

Every candidate row gets the publication time of its article, the exchange of its instrument
(from `data/reference/instruments.csv`), the last session that had closed when the piece was
published (a `join_asof` to the exchange's sessions), and the calendar dates its relative time
expressions point at. Nothing here loops over claims: candidates are exploded to one row per
time expression and resolved as columns.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from pipeline.reference import instruments

PUBLICATION_SCHEMA = {
    "article_id": pl.String,
    "pub_at": pl.Datetime("us", "UTC"),
    "pub_date": pl.Date,
    "date_firm": pl.Boolean,
    "date_method": pl.String,
}
WEAK_DATES = ("text_no_year", "inferred")
# Another market or venue has no calendar here: its figures are still dated (for the reader
# and the scorer) by their time words, read on the publication's UTC date.
NO_ZONE = "UTC"


def publications(articles: pl.DataFrame) -> pl.DataFrame:
    """`article_id`, `pub_at` (UTC), `pub_date`, `date_method` (time | date | unknown).

    `published_time_known` False means the corpus stored a bare date as midnight UTC.
    """
    cols = articles.columns
    at = pl.col("published_at") if "published_at" in cols else pl.lit(None)
    at = at.cast(pl.Datetime("us", "UTC"))
    day = pl.col("published_date") if "published_date" in cols else pl.lit(None, pl.Date)
    known = pl.col("published_time_known") if "published_time_known" in cols else pl.lit(True)
    at = pl.when(known.fill_null(True)).then(at)
    day = day.fill_null(pl.col("published_at").cast(pl.Date)) if "published_at" in cols else day
    # a year the corpus supplied itself, or a date inferred from claims, dates the article
    # but cannot make a miss a refutation
    how = pl.col("date_method") if "date_method" in cols else pl.lit(None, pl.String)
    firm = ~how.is_in(WEAK_DATES).fill_null(False)
    frame = articles.select(
        pl.col("article_id"), at.alias("pub_at"), day.alias("pub_date"), firm.alias("date_firm")
    )
    return frame.with_columns(
        date_method=pl.when(pl.col("pub_at").is_not_null())
        .then(pl.lit("time"))
        .when(pl.col("pub_date").is_not_null())
        .then(pl.lit("date"))
        .otherwise(pl.lit("unknown"))
    ).cast(PUBLICATION_SCHEMA)


def instrument_facts() -> pl.DataFrame:
    """`instrument`, `exchange`, `timezone`, `ins_name` from the reference table."""
    rows = [
        {"instrument": i, "exchange": r.exchange, "timezone": r.timezone, "ins_name": r.name}
        for i, r in instruments().items()
    ]
    return pl.DataFrame(rows)


def sessions(sessions_table: pl.DataFrame, until: dt.date | None = None) -> pl.DataFrame:
    """`exchange`, `date`, `close_time`: each exchange's sessions (the `sessions` table) up to
    two weeks past `until` (default: the last traded day), with its regular close.

    Days past the data are sessions by the rules, or weekdays past them (provisional).
    Nothing here is per claim.
    """
    traded = sessions_table.filter(pl.col("basis") == "traded")["date"]
    if traded.len() == 0:
        return pl.DataFrame(schema={"exchange": pl.String, "date": pl.Date, "close_time": pl.Time})
    last = (until or traded.max()) + dt.timedelta(days=14)
    return (
        sessions_table.filter(pl.col("date") <= last)
        .select("exchange", "date", close_time="regular_close")
        .sort("exchange", "date")
    )


def session_on_or_before(
    frame: pl.DataFrame, sess: pl.DataFrame, on: str, out: str
) -> pl.DataFrame:
    """Add `out`: the last session of the row's exchange on or before column `on`."""
    right = sess.select("exchange", pl.col("date").alias(out), pl.col("date").alias("_key"))
    keyed = frame.filter(pl.col(on).is_not_null() & pl.col("exchange").is_not_null())
    rest = frame.filter(pl.col(on).is_null() | pl.col("exchange").is_null())
    joined = keyed.sort(on).join_asof(
        right,
        left_on=on,
        right_on="_key",
        by="exchange",
        strategy="backward",
        check_sortedness=False,
    )
    return pl.concat([joined.drop("_key"), rest.with_columns(pl.lit(None, pl.Date).alias(out))])


def _local(tz_col: str, when: pl.Expr) -> pl.Expr:
    """`when` (UTC) as wall-clock time in the row's exchange time zone."""
    zones = sorted({r.timezone for r in instruments().values()} | {NO_ZONE})
    expr = pl.lit(None, pl.Datetime("us"))
    for tz in zones:
        local = when.dt.convert_time_zone(tz).dt.replace_time_zone(None)
        expr = pl.when(pl.col(tz_col) == tz).then(local).otherwise(expr)
    return expr


def anchor(cands: pl.DataFrame, pubs: pl.DataFrame, sess: pl.DataFrame) -> pl.DataFrame:
    """Add the publication, the exchange, the local publication date and `latest`: the last
    session that had closed when the piece appeared. Date-only publications count as 12:00
    UTC: Asian sessions of that day have closed, the New York session has not."""
    noon = pl.col("pub_date").cast(pl.Datetime("us")).dt.replace_time_zone("UTC") + pl.duration(
        hours=12
    )
    when = pl.coalesce(pl.col("pub_at"), noon)
    close = sess.select("exchange", "close_time").unique("exchange")
    frame = (
        cands.join(pubs, on="article_id", how="left")
        .with_columns(pl.col("date_method").fill_null("unknown"))
        .join(instrument_facts(), on="instrument", how="left")
        .with_columns(
            exchange=pl.when(pl.col("stat") == "flow").then(pl.lit("HKEX")).otherwise("exchange"),
            timezone=pl.when(pl.col("stat") == "flow")
            .then(pl.lit("Asia/Hong_Kong"))
            .otherwise(pl.col("timezone").fill_null(NO_ZONE)),
        )
        .join(close, on="exchange", how="left")
        .with_columns(_local("timezone", when).alias("local"))
        .with_columns(local_date=pl.col("local").dt.date())
        .with_columns(
            cutoff=pl.when(pl.col("local").dt.time() >= pl.col("close_time"))
            .then(pl.col("local_date"))
            .otherwise(pl.col("local_date") - pl.duration(days=1)),
            day_before=pl.col("local_date") - pl.duration(days=1),
        )
    )
    frame = session_on_or_before(frame, sess, "cutoff", "latest")
    return session_on_or_before(frame, sess, "day_before", "yesterday").sort("cid")


def _ymd(y: pl.Expr, m: pl.Expr, d: pl.Expr) -> pl.Expr:
    """A date from columns; an impossible one (30 February) is null, not an error."""
    text = pl.format(
        "{}-{}-{}",
        y.cast(pl.String).str.zfill(4),
        m.cast(pl.String).str.zfill(2),
        d.cast(pl.String).str.zfill(2),
    )
    return text.str.to_date("%Y-%m-%d", strict=False)


def spec_span(spec: str, local: str = "local_date", yesterday: str = "yesterday"):
    """(start, end) expressions for the struct column `spec`, relative to the date `local`."""
    s, loc = pl.col(spec).struct, pl.col(local)
    kind = s.field("kind")
    back = ((loc.dt.weekday() - 1 - s.field("wd")) % 7).cast(pl.Int64)
    weekday = loc - pl.duration(days=back)
    stated = _ymd(pl.coalesce(s.field("y"), loc.dt.year()), s.field("m"), s.field("d"))
    last_year = _ymd(loc.dt.year() - 1, s.field("m"), s.field("d"))
    date = pl.when(s.field("y").is_null() & (stated > loc)).then(last_year).otherwise(stated)
    this_month = _ymd(loc.dt.year(), loc.dt.month(), s.field("d"))
    dom = pl.when(this_month > loc).then(this_month.dt.offset_by("-1mo")).otherwise(this_month)
    month_year = pl.coalesce(
        s.field("y"),
        pl.when(s.field("m") <= loc.dt.month()).then(loc.dt.year()).otherwise(loc.dt.year() - 1),
    )
    month_start = _ymd(month_year, s.field("m"), pl.lit(1))
    year_start = _ymd(s.field("y"), pl.lit(1), pl.lit(1))
    last_week = loc.dt.truncate("1w") - pl.duration(days=7)
    single = (
        pl.when(kind == "weekday").then(weekday)
        .when(kind == "date").then(date)
        .when(kind == "dom").then(dom)
        .when(kind == "today").then(loc)
        .when(kind == "yesterday").then(pl.col(yesterday))
    )  # fmt: skip
    start = (
        pl.when(kind == "month").then(month_start).when(kind == "year").then(year_start)
        .when(kind == "last_week").then(last_week)
        .otherwise(single)
    )  # fmt: skip
    end = (
        pl.when(kind == "month").then(month_start.dt.month_end())
        .when(kind == "year").then(_ymd(s.field("y"), pl.lit(12), pl.lit(31)))
        .when(kind == "last_week").then(last_week + pl.duration(days=6))
        .otherwise(single)
    )  # fmt: skip
    return start, end


TO_LATEST = ("day", "close", "ytd", "mtd", "wtd", "lookback", "intraday", "writing",
             "intraday_price", "premarket", "volume", "volume_shares", "turnover", "record")  # fmt: skip


def resolve_dates(anchored: pl.DataFrame, sess: pl.DataFrame) -> pl.DataFrame:
    """Add `day` (the session a claim is about), `span_start`/`span_end` (a period), the
    `base_start`/`base_end` of a "since" change, and `spec_days` (every day a volume claim's
    time expressions name)."""
    rows = (
        anchored.select("cid", "local_date", "yesterday", "specs")
        .with_columns(pl.col("specs").list.eval(pl.int_range(pl.len())).alias("spec_idx"))
        .explode("specs", "spec_idx")
        .filter(pl.col("specs").is_not_null())
    )
    s, e = spec_span("specs")
    rows = rows.with_columns(s.alias("s"), e.alias("e")).filter(pl.col("s").is_not_null())
    first = (
        rows.sort("cid", "spec_idx")
        .group_by("cid")
        .agg(pl.col("s").first(), pl.col("e").first(), pl.col("specs").struct.field("kind").first())
    )
    first = first.rename({"kind": "first_kind"})
    spans = rows.group_by("cid").agg(pl.struct("s", "e").alias("spec_spans"))
    bs, be = spec_span("base_spec")
    frame = (
        anchored.join(first, on="cid", how="left")
        .join(spans, on="cid", how="left")
        .with_columns(base_start=bs, base_end=be)
    )
    declared = pl.col("specs").list.first().struct.field("kind")
    to_latest = pl.col("stat").is_in(TO_LATEST)
    day = pl.when(pl.col("s") == pl.col("e")).then(pl.col("s"))
    # A session figure with no date, or with only a month or year around it ("in October"
    # inherited from the sentence before), is about the last close before publication.
    span_only = pl.col("s").is_null() | (pl.col("s") != pl.col("e"))
    day = pl.when(to_latest & span_only).then(pl.col("latest")).otherwise(day)
    # An inherited or implicit date (and any to-date period) cannot lie after the last close.
    capped = to_latest & (
        ~declared.is_in(["weekday", "date", "dom"]).fill_null(False)
        | pl.col("stat").is_in(["ytd", "mtd", "wtd", "lookback"])
    )
    day = pl.when(capped & (day > pl.col("latest"))).then(pl.col("latest")).otherwise(day)
    span = pl.col("s") != pl.col("e")
    frame = frame.with_columns(
        day=day,
        span_start=pl.when(span).then(pl.col("s")),
        span_end=pl.when(span).then(pl.col("e")),
    ).drop("s", "e")
    # A day taken over from an earlier sentence that is no session of this claim's exchange
    # (a holiday there) was about another market: the claim is about the last close.
    open_days = sess.select("exchange", pl.col("date").alias("day"), pl.lit(True).alias("_open"))
    frame = frame.join(open_days, on=["exchange", "day"], how="left")
    stray = pl.col("inherited") & pl.col("_open").is_null() & pl.col("day").is_not_null()
    fix = stray & pl.col("stat").is_in(TO_LATEST)
    frame = frame.with_columns(day=pl.when(fix).then(pl.col("latest")).otherwise("day"))
    # no calendar (another market, a euro venue): the day its time words name, else the
    # publication's date; such figures are unverifiable, the date only says which day is meant
    no_calendar = pl.col("exchange").is_null() & pl.col("stat").is_in(TO_LATEST)
    return frame.with_columns(
        day=pl.when(no_calendar).then(pl.coalesce("day", "local_date")).otherwise("day")
    ).drop("_open")
