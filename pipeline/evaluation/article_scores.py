"""Scoring article metadata: was each labelled article read, and its language, date,
publisher and title right?

Pipeline articles are joined to labels on `path`, which the corpus reader stores relative to
the articles folder (a sidecar article is its `.txt`), so a label's `file` is that path.
Every rate counts all labelled articles in its denominator: an article the pipeline lost
cannot have its date right, so losing it shows up twice, as it should.
"""

from __future__ import annotations

import polars as pl

from pipeline.evaluation.metrics import count, rate, summarise

OFF_DAYS = 30  # a date wrong by more than this is a wrong month or year, not a time-zone slip


def domain(column: str) -> pl.Expr:
    """A publisher as a bare domain: lower case, no scheme, no `www.`, no path."""
    return (
        pl.col(column)
        .str.strip_chars()
        .str.to_lowercase()
        .str.replace(r"^[a-z]+://", "")
        .str.replace(r"^www\.", "")
        .str.replace(r"[/:].*$", "")
    )


def plain_title(column: str) -> pl.Expr:
    """A title with typography removed: NFKC, straight quotes, one kind of dash, single
    spaces, lower case. Two titles are the same when these forms are equal."""
    return (
        pl.col(column)
        .str.normalize("NFKC")
        .str.replace_all(r"[‘’‚‛′`´]", "'")
        .str.replace_all(r"[“”„‟″«»]", '"')
        .str.replace_all(r"[‐‑‒–—―−]", "-")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
        .str.to_lowercase()
    )


def article_scores(
    articles: pl.DataFrame, rejects: pl.DataFrame, article_labels: pl.DataFrame
) -> pl.DataFrame:
    """One row per labelled article: `status` (read, rejected, dropped) and one boolean per
    field checked (null where the label has nothing to check against)."""
    found = articles.select(
        file="path",
        p_language="language",
        p_date="published_date",
        p_source="source",
        p_title="title",
        p_date_method="date_method",
        p_found=pl.lit(True),
    )
    rejected = rejects.select(file="path", reject_reason="reason").unique("file")
    joined = article_labels.join(found, on="file", how="left").join(rejected, on="file", how="left")
    status = (
        pl.when(pl.col("p_found").fill_null(False))
        .then(pl.lit("read"))
        .when(pl.col("reject_reason").is_not_null())
        .then(pl.lit("rejected"))
        .otherwise(pl.lit("dropped"))
    )
    joined = joined.with_columns(status=status).with_columns(
        read=pl.col("status") == "read",
        date_off_days=(pl.col("p_date") - pl.col("published_date")).dt.total_days(),
    )
    has_date = pl.col("published_date").is_not_null()
    has_source = pl.col("source").is_not_null()
    return joined.with_columns(
        language_right=pl.col("p_language").eq_missing(pl.col("language")),
        date_right=pl.when(has_date).then(pl.col("date_off_days").eq_missing(0)),
        date_off=pl.when(has_date).then(pl.col("date_off_days").abs() > OFF_DAYS),
        publisher_right=pl.when(has_source).then(domain("p_source").eq_missing(domain("source"))),
        title_right=pl.when(pl.col("title").is_not_null()).then(
            plain_title("p_title").eq_missing(plain_title("title"))
        ),
    )


def article_summary(scores: pl.DataFrame) -> pl.DataFrame:
    """The article figures per language and overall (see `metrics.summarise`)."""
    has_date = pl.col("published_date").is_not_null()
    in_text = pl.col("date_in_text") == "yes"
    specs = [
        rate("articles read", pl.col("read")),
        count("articles rejected", pl.col("status") == "rejected"),
        count("articles dropped silently", pl.col("status") == "dropped"),
        rate("language right", pl.col("language_right")),
        rate("date right", pl.col("date_right"), has_date),
        rate("date right (date in text)", pl.col("date_right"), has_date & in_text),
        rate("date right (metadata only)", pl.col("date_right"), has_date & ~in_text),
        count("dates wrong by > 30 days", pl.col("date_off")),
        count("dates not found", has_date & pl.col("read") & pl.col("p_date").is_null()),
        rate("publisher right", pl.col("publisher_right"), pl.col("source").is_not_null()),
        rate("title right", pl.col("title_right"), pl.col("title").is_not_null()),
    ]
    return summarise(scores, specs)
