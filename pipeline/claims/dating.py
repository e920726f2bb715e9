"""A publication date from an article's own claims: the last resort for undated articles.

Only articles that neither the text nor the metadata date (`date_method` unknown) are tried,
only dates inside the edition's window (from a year before its oldest dated article to its
newest) are candidates,
and a date is kept only when

- at least `MIN_CLAIMS` date-dependent claims, from at least two sentences, hold on it, and
- it clearly beats every other reading: it makes at least `MARGIN` more claims true than the
  best date that puts the claims on *different* sessions, and at least `RATIO` times as many
  (dates that resolve every claim to the same sessions are one reading, and the earliest of
  them is taken). A reading whose holding claims all hold in the best one too is no rival:
  it explains no figure the best one leaves unexplained.

A date that would make a figure dated to the day ("on 9 September") more than a month old is
no candidate. Otherwise the article stays undated. A stated date is never overruled. The check is one frame:
dependent candidates x candidate dates, resolved and verified by the same joins as the claims
table, then counted per date.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from pipeline.claims.extract import candidates_frame, extract_candidates
from pipeline.claims.resolve import publications
from pipeline.market.calendars import sessions_table

DEPENDENT = (
    "day", "close", "intraday", "intraday_price", "ytd", "mtd", "wtd", "lookback", "volume",
    "volume_shares",
)  # fmt: skip
MIN_CLAIMS = 3
MARGIN = 1
RATIO = 4 / 3
WINDOW_DAYS = 365
MAX_AGE_DAYS = 31  # a figure dated to the day is at most a month old when published
SCHEMA = {
    "article_id": pl.String,
    "published_date_inferred": pl.Date,
    "date_evidence": pl.String,
}


def _trials(
    dependent: pl.DataFrame, start: dt.date, end: dt.date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every dependent candidate once per candidate date, as its own pseudo-article."""
    dates = pl.DataFrame({"trial_date": pl.date_range(start, end, eager=True)})
    trial = (
        dependent.join(dates, how="cross")
        .with_columns(
            source_id=pl.col("article_id"),
            article_id=pl.concat_str(
                [pl.col("article_id"), pl.lit("|"), pl.col("trial_date").cast(pl.String)]
            ),
        )
        .with_row_index("cid")
        .with_columns(pl.col("cid").cast(pl.Int64))
    )
    pubs = trial.select(
        "article_id",
        pl.lit(None, pl.Datetime("us", "UTC")).alias("pub_at"),
        pl.col("trial_date").alias("pub_date"),
        pl.lit(True).alias("date_firm"),
        pl.lit("inferred").alias("date_method"),
    ).unique("article_id")
    return trial, pubs


def _scores(checked: pl.DataFrame) -> pl.DataFrame:
    """Per article and date: supported claims, their sentences, the reading they make."""
    hit = pl.col("verdict") == "supported"
    # A reading is the set of sessions the date-anchored claims ("on Friday") land on: dates
    # that put them on the same sessions are one reading, whatever the to-date claims do.
    dated = (
        pl.col("specs").list.first().struct.field("kind").is_in(["date", "dom"])
        & pl.col("day").is_not_null()
    )
    anchored = pl.col("specs").list.first().struct.field("kind").is_in(
        ["weekday", "date", "dom"]
    ) & pl.col("stat").is_in(["day", "close", "intraday", "intraday_price"])
    evidence = pl.concat_str([
        pl.lit("'"), pl.col("quote"), pl.lit("' -> "), pl.col("instrument"), pl.lit(" "),
        pl.col("claim_date").cast(pl.String), pl.lit(" observed "),
        pl.col("observed_value").round(2).cast(pl.String),
    ])  # fmt: skip
    return (
        checked.sort("source_id", "trial_date", "sentence_idx", "src_cid")
        .group_by("source_id", "trial_date")
        .agg(
            hits=hit.sum(),
            sentences=pl.col("sentence_idx").filter(hit).n_unique(),
            reading=pl.concat_str(
                [
                    pl.col("src_cid").cast(pl.String),
                    pl.lit(":"),
                    pl.col("claim_date").cast(pl.String),
                ]
            )
            .filter(anchored.fill_null(False))
            .str.join(","),
            evidence=evidence.filter(hit).str.join("; "),
            held=pl.col("src_cid").filter(hit),
            n=pl.len(),
            stale=(pl.col("trial_date") - pl.col("day")).dt.total_days().filter(dated).max(),
        )  # fmt: skip
        # news reports recent sessions: a date that puts a figure dated "on 9 September"
        # months before publication is not a reading of the article
        .filter(pl.col("stale").fill_null(0) <= MAX_AGE_DAYS)
    )


def _pick(scores: pl.DataFrame) -> pl.DataFrame:
    """The best reading's earliest date with the most claims holding, when the reading
    clearly beats the next one."""
    readings = (
        scores.filter(pl.col("hits") > 0)
        .sort("source_id", "hits", "trial_date", descending=[False, True, False])
        .group_by("source_id", "reading")
        .agg(pl.all().first())
        .sort("source_id", "hits", "trial_date", descending=[False, True, False])
    )
    ranked = readings.with_columns(rank=pl.int_range(pl.len()).over("source_id"))
    best = ranked.filter(pl.col("rank") == 0)
    # A reading whose holding claims all hold in the best reading too explains nothing the
    # best one does not: it is no rival, only the same story with fewer figures fitting.
    rivals = (
        ranked.filter(pl.col("rank") > 0)
        .join(best.select("source_id", best_held="held"), on="source_id")
        .filter(pl.col("held").list.set_difference("best_held").list.len() > 0)
        .group_by("source_id")
        .agg(runner_up=pl.col("hits").max())
    )
    ranked = best.join(rivals, on="source_id", how="left").with_columns(
        pl.col("runner_up").fill_null(0)
    )
    keep = (
        (pl.col("hits") >= MIN_CLAIMS)
        & (pl.col("sentences") >= 2)
        & (pl.col("hits") - pl.col("runner_up") >= MARGIN)
        & (pl.col("hits") >= RATIO * pl.col("runner_up"))
    )
    return ranked.filter(keep).select(
        pl.col("source_id").alias("article_id"),
        pl.col("trial_date").alias("published_date_inferred"),
        pl.format(
            "{} of {} date-dependent claims hold if published on {} (earliest best date; "
            "the next reading makes {} hold): {}",
            "hits", "n", "trial_date", "runner_up", "evidence",
        ).alias("date_evidence"),
    )  # fmt: skip


def edition_window(pubs: pl.DataFrame, prices: pl.DataFrame) -> tuple[dt.date, dt.date]:
    """From a year before the oldest dated article to the newest one (the edition's default
    as-of date), within the market data; the last year of data when no article is dated."""
    last = prices["date"].max()
    newest, oldest = pubs["pub_date"].max(), pubs["pub_date"].min()
    if newest is None:
        return last - dt.timedelta(days=WINDOW_DAYS), last
    return oldest - dt.timedelta(days=WINDOW_DAYS), min(newest, last)


def infer_publication_dates(
    sentences: pl.DataFrame,
    articles: pl.DataFrame,
    prices: pl.DataFrame,
    window: tuple[dt.date, dt.date] | None = None,
    *,
    sessions: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """`article_id`, `published_date_inferred`, `date_evidence` for articles with no date.

    `window` (first, last candidate date) defaults to `edition_window`; `sessions` (the
    market's `sessions` table) is built from `prices` unless passed in.
    """
    from pipeline.claims.table import check_candidates

    pubs = publications(articles)
    undated = pubs.filter(pl.col("date_method") == "unknown")
    if undated.height == 0 or prices.height == 0:
        return pl.DataFrame(schema=SCHEMA)
    start, end = window or edition_window(pubs, prices)
    mine = sentences.join(undated.select("article_id"), on="article_id", how="semi")
    cands = candidates_frame(extract_candidates(mine))
    priced = prices.filter(~pl.col("placeholder"))["instrument"].unique().implode()
    dependent = cands.filter(
        pl.col("stat").is_in(DEPENDENT) & pl.col("instrument").is_in(priced)
    ).rename({"cid": "src_cid"})
    if dependent.height == 0:
        return pl.DataFrame(schema=SCHEMA)
    trial, pubs = _trials(dependent, start, end)
    if sessions is None:
        sessions = sessions_table(prices)
    checked = check_candidates(trial, pubs, prices, sessions)
    return _pick(_scores(checked)).cast(SCHEMA)
