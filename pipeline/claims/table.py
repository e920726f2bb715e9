"""The claims table: candidates from the grammar, anchored, checked, as one frame.

`claims_table` and `infer_publication_dates` are the two names the rest of the pipeline uses
(`pipeline/tables.py`); everything else in `pipeline/claims/` is a step they chain:
`extract` (grammar) -> `resolve` (instrument calendar, publication time, dates) -> `verify`
(join to prices, tolerance table, verdict). `dating` infers publication dates, last.
"""

from __future__ import annotations

import polars as pl

from pipeline.claims.dating import infer_publication_dates
from pipeline.claims.extract import candidates_frame, extract_candidates
from pipeline.claims.resolve import anchor, publications, resolve_dates, sessions
from pipeline.claims.tolerance import tolerance_table
from pipeline.claims.verify import verdicts
from pipeline.market.calendars import sessions_table

CLAIMS_SCHEMA: dict[str, pl.DataType] = {
    "article_id": pl.String(),
    "sentence_idx": pl.Int64(),
    "quote": pl.String(),
    "instrument": pl.String(),
    "claim_date": pl.Date(),
    "period_start": pl.Date(),
    "kind": pl.String(),
    "stat": pl.String(),
    "value": pl.Float64(),
    "unit": pl.String(),
    "qualifier": pl.String(),
    "qualifier_word": pl.String(),
    "observed_value": pl.Float64(),
    "tolerance_lo": pl.Float64(),
    "tolerance_hi": pl.Float64(),
    "verdict": pl.String(),
    "note": pl.String(),
    "basis": pl.String(),
    "date_method": pl.String(),
}


def check_candidates(
    cands: pl.DataFrame, pubs: pl.DataFrame, prices: pl.DataFrame, sessions_table: pl.DataFrame
) -> pl.DataFrame:
    """Anchor, resolve and verify a candidates frame against `pubs` (one row per article)."""
    sess = sessions(sessions_table, pubs["pub_date"].max() if pubs.height else None)
    return verdicts(resolve_dates(anchor(cands, pubs, sess), sess), prices)


def with_inferred(pubs: pl.DataFrame, inferred: pl.DataFrame) -> pl.DataFrame:
    """Undated articles take the inferred date, marked `inferred`; stated dates are kept."""
    patch = inferred.select("article_id", pl.col("published_date_inferred").alias("_inf"))
    fill = (pl.col("date_method") == "unknown") & pl.col("_inf").is_not_null()
    return (
        pubs.join(patch, on="article_id", how="left")
        .with_columns(
            pub_date=pl.when(fill).then(pl.col("_inf")).otherwise("pub_date"),
            date_method=pl.when(fill).then(pl.lit("inferred")).otherwise("date_method"),
        )
        .drop("_inf")
    )


def claims_table(
    sentences: pl.DataFrame,
    articles: pl.DataFrame,
    prices: pl.DataFrame,
    inferred: pl.DataFrame | None = None,
    *,
    sessions: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per numeric market claim, resolved and verified (columns: `CLAIMS_SCHEMA`).

    Undated articles are resolved against `infer_publication_dates` (computed here unless
    passed in) and their notes say so. `sessions` is the market's `sessions` table (built
    from `prices` unless passed in).
    """
    if sessions is None:
        sessions = sessions_table(prices)
    if inferred is None:
        inferred = infer_publication_dates(sentences, articles, prices, sessions=sessions)
    pubs = with_inferred(publications(articles), inferred)
    cands = candidates_frame(extract_candidates(sentences))
    if cands.height == 0:
        return pl.DataFrame(schema=CLAIMS_SCHEMA)
    checked = check_candidates(cands, pubs, prices, sessions)
    checked = as_of_update(checked, cands, pubs, articles, prices, sessions).sort("cid")
    return checked.select(pl.col(c).cast(t) for c, t in CLAIMS_SCHEMA.items())


def as_of_update(
    checked: pl.DataFrame,
    cands: pl.DataFrame,
    pubs: pl.DataFrame,
    articles: pl.DataFrame,
    prices: pl.DataFrame,
    sessions: pl.DataFrame,
) -> pl.DataFrame:
    """A page with a later "Updated" stamp shows its figures as of that update: a claim that
    does not hold at publication but holds at the update is supported, and its note says so.
    A claim that holds at publication keeps that reading; a miss at both keeps the first."""
    if "updated_at" not in articles.columns:
        return checked
    updated = articles.filter(pl.col("updated_at").is_not_null()).select("article_id", "updated_at")
    missed = checked.filter(pl.col("verdict") != "supported").select("cid", "article_id")
    todo = cands.join(
        missed.join(updated, on="article_id", how="semi"), on=["cid", "article_id"], how="semi"
    )
    if todo.height == 0:
        return checked
    later = pubs.join(updated, on="article_id").with_columns(
        pub_at=pl.col("updated_at"), pub_date=pl.col("updated_at").dt.date(),
        date_method=pl.lit("time"),
    ).drop("updated_at")  # fmt: skip
    again = check_candidates(todo, later, prices, sessions).filter(pl.col("verdict") == "supported")
    again = again.join(updated, on="article_id").with_columns(
        note=pl.concat_str([
            pl.lit("as of the page's update ("),
            pl.col("updated_at").dt.strftime("%-d\u00a0%b\u00a0%Y %H:%M UTC"), pl.lit("): "), pl.col("note"),
        ])
    ).drop("updated_at")  # fmt: skip
    return pl.concat(
        [checked.join(again.select("cid"), on="cid", how="anti"), again.select(checked.columns)],
        how="vertical_relaxed",
    )


__all__ = ["CLAIMS_SCHEMA", "claims_table", "infer_publication_dates", "tolerance_table"]
