"""Publication dates: every date mention of an article, scored, and the best one taken.

A page prints several dates: its own (in a header stamp, a byline, a wire dateline, a footer),
the time it was updated, and the dates its story talks about ("results due on November 25",
"am 20. Februar legt ... vor"). Each mention is scored by the cue before it (published beats
updated; "on/due/from/am/bis" mark a scheduled or reported date), where it sits (a line of
its own, the header, the footer, a copyright line), whether it has a year and a time, and
whether a weekday printed with it agrees. Metadata (sidecar, front matter, HTML tags) wins over
the text. The parsing rules are in `pipeline.text.dates`.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from pipeline.corpus.sources import home_zones
from pipeline.text import dates as td

SHORT_LINE = 200  # characters; longer lines are body paragraphs, read only for wire datelines
MIN_SCORE = 35  # below this a mention is a date in the story, not the article's date
FOOTER_LINES = 5
REFERENCE_SLACK_DAYS = 7
EMPTY = {
    "article_id": pl.String,
    "line_idx": pl.Int32,
    "file_line": pl.Int32,
    "line": pl.String,
    "mention": pl.String,
    "pos": pl.Int64,
    "end": pl.Int64,
} | td.PART_SCHEMA


def date_mentions(lines: pl.DataFrame) -> pl.DataFrame:
    """Every date mention in an article's lines (article_id, line_idx, line), with its cues.

    Short lines are read whole; long ones (body paragraphs) only where they open with a wire
    dateline or say when the article was first published.
    """
    line = pl.col("line")
    cand = lines.select("article_id", "line_idx", "file_line", "line").filter(
        line.str.contains(td.MAYBE_DATE)
        & (
            (line.str.len_chars() <= SHORT_LINE)
            | line.str.contains(r"^\p{Lu}[\p{Lu}\p{L} ./'-]{1,60},")
            | line.str.contains(r"(?i)first published")
        )
    )
    found = td.date_mentions(cand) if cand.height else pl.DataFrame(schema=EMPTY)
    found = found.filter((line.str.len_chars() <= SHORT_LINE) | (pl.col("pos") < 60))
    before = line.str.slice(0, pl.col("pos")).str.to_lowercase().str.slice(-40)
    after = line.str.slice(pl.col("end"), 20).str.to_lowercase()
    return found.with_columns(
        date=td.make_date(pl.col("y"), pl.col("mo"), pl.col("d")),
        cue_published=before.str.contains(td.PUBLISHED_CUE),
        cue_updated=before.str.contains(td.UPDATED_CUE) | after.str.contains(td.UPDATED_AFTER),
        cue_stand=before.str.contains(td.STAND_CUE),
        cue_analysis=before.str.contains(td.ANALYSIS_CUE),
        cue_schedule=before.str.contains(td.SCHEDULE_CUE),
        wire=line.str.slice(0, pl.col("pos")).str.contains(td.WIRE_DATELINE)
        & line.str.slice(pl.col("end")).str.contains(td.WIRE_AFTER),
        copyright_line=line.str.contains(r"(?i)©|ⓒ|\(c\)\s*\d{4}|copyright"),
        rest=line.str.replace_all(td.any_date_regex(), " ")
        .str.replace_all(td.DATELINE_CHROME, " ")
        .str.strip_chars(),
    )


def datelines(mentions: pl.DataFrame) -> pl.DataFrame:
    """article_id, line_idx, is_dateline, d_rest for lines that hold a date mention.

    A line is a dateline (site chrome, removed from the text) when, without its dates and cue
    words, at most three words are left, or at most six on a line divided by | or ·
    ("Fabian Weber | 16.05.2025, 10:41 Uhr | 3 Kommentare"). A dateline glued to a heading
    ("04.11.2025 - 04:13:03Substantial ...") keeps the heading (`d_rest`).
    """
    rest = pl.col("rest")
    words = rest.str.count_matches(r"\S+")
    han = rest.str.count_matches(r"\p{Han}")
    chrome = (rest == "") | (
        (words + han / 4 <= 3) | ((words <= 6) & pl.col("line").str.contains(r"[|·•]"))
    )
    per_line = mentions.group_by("article_id", "line_idx").agg(
        is_dateline=chrome.first() & (pl.col("line").str.len_chars().first() <= SHORT_LINE),
        first_pos=pl.col("pos").min(),
        glued=pl.col("line").first().str.slice(pl.col("end").sort_by("pos").first()),
    )
    return per_line.select(
        "article_id",
        "line_idx",
        "is_dateline",
        d_rest=pl.when((pl.col("first_pos") == 0) & ~pl.col("is_dateline"))
        .then(pl.col("glued").str.strip_chars(" -–|,"))
        .otherwise(None),
    )


def copyright_years(lines: pl.DataFrame) -> pl.DataFrame:
    """article_id, copyright_year: the latest year a copyright line names (dates a year-less
    wire dateline: "HONG KONG, Feb 13 (Reuters)" with "© 2025 Reuters")."""
    return (
        lines.filter(pl.col("line").str.contains(td.COPYRIGHT_YEAR))
        .group_by("article_id")
        # "© 1996-2025 Example": the latest year printed is the current one
        .agg(
            copyright_year=pl.col("line")
            .str.extract_all(r"\b(?:19|20)\d{2}\b")
            .list.eval(pl.element().cast(pl.Int32))
            .list.max()
            .max()
        )
    )


def score_mentions(mentions: pl.DataFrame, layout: pl.DataFrame) -> pl.DataFrame:
    """Add `score` and `cue` to each mention. `layout` has article_id, n_lines, first_body
    (line_idx of the first body paragraph)."""
    m = mentions.join(layout, on="article_id", how="left")
    pub, upd, stand = pl.col("cue_published"), pl.col("cue_updated"), pl.col("cue_stand")
    cued = pub | stand | pl.col("cue_analysis") | pl.col("wire")
    header = pl.col("line_idx") <= pl.col("first_body").fill_null(15)
    footer = pl.col("line_idx") >= pl.col("n_lines") - FOOTER_LINES
    has_year, has_time = pl.col("y").is_not_null(), pl.col("h").is_not_null()
    weekday_wrong = (
        pl.col("wd").is_not_null()
        & pl.col("date").is_not_null()
        & (pl.col("date").dt.weekday() != pl.col("wd"))
    )
    score = (
        10
        + 40 * pub.cast(pl.Int32)
        + 25 * stand.cast(pl.Int32)
        + 10 * (upd & ~pub).cast(pl.Int32)
        + 35 * pl.col("wire").cast(pl.Int32)
        + 40 * pl.col("cue_analysis").cast(pl.Int32)
        + 20 * pl.col("stamp").cast(pl.Int32)
        + 15 * has_time.cast(pl.Int32)
        + 10 * has_year.cast(pl.Int32)
        - 10 * (~has_year).cast(pl.Int32)
        + 15 * header.cast(pl.Int32)
        + 10 * footer.cast(pl.Int32)
        + 10 * pl.col("copyright_line").cast(pl.Int32)
        - 60 * (pl.col("cue_schedule") & ~cued & ~upd).cast(pl.Int32)
        - 200 * weekday_wrong.cast(pl.Int32)
    )
    cue = (
        pl.when(pub)
        .then(pl.lit("published"))
        .when(stand)
        .then(pl.lit("stand/as of"))
        .when(pl.col("wire"))
        .then(pl.lit("wire dateline"))
        .when(upd)
        .then(pl.lit("updated"))
        .when(pl.col("cue_analysis"))
        .then(pl.lit("dated promo line"))
        .when(pl.col("stamp"))
        .then(pl.lit("date stamp"))
        .when(footer)
        .then(pl.lit("footer"))
        .when(header)
        .then(pl.lit("header"))
        .otherwise(pl.lit("body"))
    )
    return m.with_columns(score=score.cast(pl.Int32), cue=cue).filter(
        (pl.col("score") >= MIN_SCORE) & (has_year | cued)
    )


def resolve_years(
    scored: pl.DataFrame, years: pl.DataFrame, as_of: dt.date | None, reference: dt.date | None
) -> pl.DataFrame:
    """Give year-less mentions a year: the article's copyright year; else the latest such day
    not after the as-of date; else (no as-of) the latest not after the reference day (the
    newest fully dated article) plus REFERENCE_SLACK_DAYS. Never the machine clock."""
    m = scored.join(years, on="article_id", how="left")
    mo, d = pl.col("mo"), pl.col("d")
    by_copyright = td.make_date(pl.col("copyright_year"), mo, d)
    if as_of is not None:
        fallback = td.latest_not_after(mo, d, as_of)
        by_copyright = pl.when(by_copyright <= pl.lit(as_of)).then(by_copyright)
    elif reference is not None:
        # The reference is only the newest *fully dated* article; a corpus is collected over
        # days, so a year-less day up to a week after it still counts as this year's.
        fallback = td.latest_not_after(mo, d, reference + dt.timedelta(days=REFERENCE_SLACK_DAYS))
    else:
        fallback = pl.lit(None, pl.Date)
    resolved = pl.coalesce(by_copyright, fallback)
    return m.with_columns(
        year_resolved=pl.col("date").is_null() & pl.col("y").is_null() & resolved.is_not_null(),
        date=pl.coalesce("date", pl.when(pl.col("y").is_null()).then(resolved)),
    ).filter(pl.col("date").is_not_null())


def stamp_times(lines: pl.DataFrame) -> pl.DataFrame:
    """article_id, st_h, st_mi: a time of day printed alone on a short chrome line (a source,
    byline or dateline line: "Quelle: boerse.de Redaktion, 11:20 Uhr"), when the article has
    exactly one. It completes a date printed without a time elsewhere on the page."""
    chrome = pl.col("why").is_in(["source marker", "byline", "dateline"]).fill_null(False)
    found = (
        lines.filter(
            chrome
            & (pl.col("line").str.len_chars() <= 120)
            & ~pl.col("line").str.contains(td.MAYBE_DATE)
        )
        .select("article_id", t=pl.col("line").str.extract_groups(td.TIME_ONLY))
        .unnest("t")
        .filter(pl.col("h").is_not_null())
        .unique()
    )
    return found.filter(pl.len().over("article_id") == 1).select(
        "article_id", st_h=pl.col("h").cast(pl.Int32), st_mi=pl.col("mi").cast(pl.Int32)
    )


def best_text_dates(
    scored: pl.DataFrame, home_tz: pl.DataFrame, times: pl.DataFrame | None = None
) -> pl.DataFrame:
    """The best-scored mention per article as published_at (UTC), published_date (local),
    time known, method, confidence and evidence. `home_tz` (article_id, home_tz) is the
    publisher's zone, used when the text prints a time without one; `times` (see
    `stamp_times`) completes a date that has none."""
    best = (
        scored.sort(
            ["article_id", "score", "line_idx", "pos"], descending=[False, True, False, False]
        )
        .unique("article_id", keep="first", maintain_order=True)
        .join(home_tz, on="article_id", how="left")
    )
    if times is not None:
        best = best.join(times, on="article_id", how="left").with_columns(
            h=pl.coalesce("h", "st_h"),
            mi=pl.when(pl.col("h").is_null()).then("st_mi").otherwise("mi"),
        )
    german_form = pl.col("form").is_in(["dmy", "de"])
    # A date without a time of day is stored as midnight UTC (published_time_known false).
    zone = pl.when(pl.col("h").is_not_null()).then(
        pl.coalesce("tz", "home_tz", pl.when(german_form).then(pl.lit("Europe/Berlin")))
    )
    zones = [
        z
        for z in best["tz"].drop_nulls().unique().to_list()
        + best["home_tz"].drop_nulls().unique().to_list()
        if not z.startswith(("+", "-"))
    ]
    local = pl.col("date").cast(pl.Datetime("us")) + pl.duration(
        hours=pl.col("h").fill_null(0),
        minutes=pl.col("mi").fill_null(0),
        seconds=pl.col("s").fill_null(0),
    )
    confidence = _confidence()
    return best.select(
        "article_id",
        t_at=td.to_utc(local, zone, zones + ["Europe/Berlin"]),
        t_date="date",
        t_time_known=pl.col("h").is_not_null(),
        t_method=pl.when(pl.col("year_resolved"))
        .then(pl.lit("text_no_year"))
        .otherwise(pl.lit("text")),
        t_confidence=confidence,
        t_evidence=pl.format(
            "text line {} ({}, score {}): «{}»{}",
            "file_line",
            "cue",
            "score",
            pl.col("line").str.slice(0, 120),
            pl.when(pl.col("year_resolved"))
            .then(pl.lit("; year not printed, resolved"))
            .otherwise(pl.lit("")),
        ),
        t_zone=zone,
    )


def layout(lines: pl.DataFrame) -> pl.DataFrame:
    """article_id, n_lines, first_body: where the header ends (the first kept line of 150 or
    more characters, or 40 Chinese characters) and how long the article is."""
    line = pl.col("line")
    body = pl.col("why").is_null() & (
        (line.str.len_chars() >= 150) | (line.str.count_matches(r"\p{Han}") >= 40)
    )
    return lines.group_by("article_id").agg(
        n_lines=pl.len().cast(pl.Int32),
        first_body=pl.col("line_idx").filter(body).min(),
    )


def parse_datelines(lines: list[str]) -> pl.DataFrame:
    """How the corpus reads a dateline: published_at (UTC), published_date (local), zone,
    confidence, and the rest of the line. For tests and for checking a new site's format."""
    df = pl.DataFrame(
        {
            "article_id": [str(i) for i in range(len(lines))],
            "line_idx": [0] * len(lines),
            "line": lines,
        },
        schema={"article_id": pl.String, "line_idx": pl.Int32, "line": pl.String},
    )
    found = td.date_mentions(df).with_columns(
        date=td.make_date(pl.col("y"), pl.col("mo"), pl.col("d"))
    )
    first = (
        found.filter(pl.col("date").is_not_null())
        .sort("article_id", "pos")
        .unique("article_id", keep="first")
    )
    # as in the articles table: a date without a time is midnight UTC
    zone = pl.when(pl.col("h").is_not_null()).then(
        pl.coalesce(
            "tz", pl.when(pl.col("form").is_in(["dmy", "de"])).then(pl.lit("Europe/Berlin"))
        )
    )
    local = pl.col("date").cast(pl.Datetime("us")) + pl.duration(
        hours=pl.col("h").fill_null(0),
        minutes=pl.col("mi").fill_null(0),
        seconds=pl.col("s").fill_null(0),
    )
    zones = first["tz"].drop_nulls().unique().to_list() + ["Europe/Berlin"]
    parsed = first.select(
        "article_id",
        published_at=td.to_utc(local, zone, [z for z in zones if not z.startswith(("+", "-"))]),
        published_date="date",
        time_zone=zone,
        confidence=pl.when(pl.col("ambiguous"))
        .then(pl.lit("low"))
        .when(pl.col("tz").is_not_null() & pl.col("h").is_not_null())
        .then(pl.lit("high"))
        .otherwise(pl.lit("medium")),
        rest=pl.col("line").str.slice(pl.col("end")).str.strip_chars(" -–|,"),
    )
    return df.join(parsed, on="article_id", how="left").select(
        "line", "published_at", "published_date", "time_zone", "confidence", "rest"
    )


def article_dates(
    arts: pl.DataFrame,
    lines: pl.DataFrame,
    mentions: pl.DataFrame,
    publishers: pl.DataFrame,
    as_of: dt.date | None,
) -> tuple[pl.DataFrame, dt.date | None]:
    """Metadata date, else the best-scored date in the text (see pipeline.corpus.dates)."""
    # only an article printing a time without a zone needs a zone from its script
    zoneless = mentions.filter(pl.col("h").is_not_null() & pl.col("tz").is_null())
    home = script_zones(
        home_zones(arts.select("article_id", "source"), publishers),
        lines.join(zoneless.select("article_id").unique(), on="article_id", how="semi"),
    )
    scored = score_mentions(
        mentions.join(datelines(mentions), on=["article_id", "line_idx"], how="left").rename(
            {"is_dateline": "stamp"}
        ),
        layout(lines),
    )
    years = copyright_years(lines)
    dated = best_text_dates(
        resolve_years(scored.filter(pl.col("y").is_not_null()), years, None, None), home
    )
    full = pl.concat([arts.select(d="meta_published_date"), dated.select(d="t_date")])["d"].max()
    reference = as_of or full
    resolved = resolve_years(scored, years, as_of, reference)
    best = best_text_dates(resolved, home, stamp_times(lines))
    arts = arts.join(best, on="article_id", how="left").join(
        updates(resolved, home), on="article_id", how="left"
    )
    has_meta = pl.col("meta_published_at").is_not_null()
    has_text = pl.col("t_date").is_not_null()
    # metadata with a bare date, and the text printing that day with a time: the text's time
    timed = (
        has_meta & ~pl.col("meta_time_known").fill_null(True)
        & pl.col("t_time_known").fill_null(False)
        & (pl.col("t_date") == pl.col("meta_published_date"))
    )  # fmt: skip
    return arts.with_columns(
        published_at=pl.when(timed)
        .then("t_at")
        .when(has_meta)
        .then("meta_published_at")
        .otherwise("t_at"),
        published_date=pl.when(has_meta).then("meta_published_date").otherwise("t_date"),
        # A date without a time of day is stored as midnight UTC; this says which it is.
        published_time_known=pl.when(timed)
        .then(pl.lit(True))
        .when(has_meta)
        .then("meta_time_known")
        .otherwise("t_time_known"),
        date_method=pl.when(has_meta)
        .then("origin_published_at")
        .when(has_text)
        .then("t_method")
        .otherwise(pl.lit("none")),
        date_confidence=pl.when(has_meta)
        .then(pl.lit("high"))
        .when(has_text)
        .then("t_confidence")
        .otherwise(pl.lit("none")),
        date_evidence=pl.when(timed)
        .then(
            pl.format(
                "{} published_at (a date); its time from {}", "origin_published_at", "t_evidence"
            )
        )
        .when(has_meta)
        .then(pl.format("{} published_at", "origin_published_at"))
        .otherwise("t_evidence"),
    ).with_columns(
        updated_at=pl.when(pl.col("updated_at") > pl.col("published_at")).then("updated_at")
    ), reference


CHINESE_ZONE = "Asia/Shanghai"  # UTC+8 all year, as Hong Kong, Taipei and Singapore


def script_zones(home: pl.DataFrame, lines: pl.DataFrame) -> pl.DataFrame:
    """Every article of `home` with its publisher's zone, and those of `lines` (the ones
    printing a time without a zone) with UTC+8 for an article written mostly in Chinese characters:
    a Chinese page that prints "10:15" without a zone means Hong Kong, Shanghai or Taipei
    time, never UTC (German pages fall back to Berlin in `best_text_dates`)."""
    # counted per line and summed: joining each article's text first costs its size again
    han = lines.group_by("article_id").agg(
        han=pl.col("line").str.count_matches(r"\p{Han}").sum()
        > 0.3 * pl.col("line").str.len_chars().sum()
    )
    chinese = han.filter("han").select("article_id", han_tz=pl.lit(CHINESE_ZONE))
    return home.join(chinese, on="article_id", how="full", coalesce=True).select(
        "article_id", home_tz=pl.coalesce("home_tz", "han_tz")
    )


def updates(scored: pl.DataFrame, home_tz: pl.DataFrame) -> pl.DataFrame:
    """article_id, updated_at (UTC): the time an "Updated" stamp with a time of day gives.

    The publication date stays the first-published one ("Published" beats "Updated"), but a
    page read today shows its figures as of its last update, so the claims stage may check
    a figure against that time too. A stamp without a time of day fixes no session and is
    left out; so is one not later than the publication time."""
    stamps = scored.filter(
        pl.col("cue_updated") & ~pl.col("cue_published") & pl.col("h").is_not_null()
    )
    if stamps.height == 0:
        return pl.DataFrame(
            schema={"article_id": pl.String, "updated_at": pl.Datetime("us", "UTC")}
        )
    best = best_text_dates(stamps, home_tz)
    return best.select("article_id", updated_at="t_at")


def _confidence() -> pl.Expr:
    """low: the year was resolved, a slashed date reads either way, or only a promo line
    dates it; high: a zone and a time are printed with a strong cue; else medium."""
    strong = pl.col("cue").is_in(["published", "wire dateline", "date stamp", "stand/as of"])
    return (
        pl.when(
            pl.col("year_resolved") | pl.col("ambiguous") | (pl.col("cue") == "dated promo line")
        )
        .then(pl.lit("low"))
        .when(pl.col("tz").is_not_null() & pl.col("h").is_not_null() & strong)
        .then(pl.lit("high"))
        .otherwise(pl.lit("medium"))
    )
