"""One evaluation: build the tables for an articles folder in memory and score them.

The as-of date. `build_tables` uses it twice: as the cut-off (no article or price after it
enters the edition) and as the reference a year-less date ("Feb 13") is resolved against
(the nearest such date). A late date such as the market data's last day would cut nothing but
would move every year-less date towards it (a February article read as next February, then cut
off). So by default the evaluation passes no as-of, exactly as `make tables` does: the edition
ends on the newest publication date the pipeline finds, and year-less dates resolve as they do
in a real edition. Labelled articles the cut-off still removes are counted as dropped, which
they are. `--as-of` overrides this; BRIEFING_AS_OF is deliberately not read, so an edition's
setting cannot change a score.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipeline.config import Settings
from pipeline.evaluation.article_scores import article_scores, article_summary
from pipeline.evaluation.claim_scores import (
    amounts_read_as_prices,
    claim_scores,
    claim_summary,
    recall_by_kind,
    unmatched_claims,
    verdict_confusion,
)
from pipeline.evaluation.labels import Labels, check_labelled_files, read_labels


@dataclass(frozen=True)
class Evaluation:
    """Every score of one run, per item and summarised (`metrics`: lang, metric, num, den)."""

    labels_dir: Path
    articles_dir: Path
    as_of: dt.date
    articles: pl.DataFrame
    claims: pl.DataFrame
    as_prices: pl.DataFrame
    unmatched: pl.DataFrame
    metrics: pl.DataFrame
    recall_by_kind: pl.DataFrame
    confusion: pl.DataFrame

    @property
    def languages(self) -> list[str]:
        return sorted(set(self.articles["lang"]))

    def figures(self) -> dict[tuple[str, str], float | None]:
        """(lang, metric) -> the rate (num / den) or the count; None for a rate of 0/0."""
        return {
            (lang, metric): (float(num) if den is None else (num / den if den else None))
            for lang, metric, num, den in self.metrics.rows()
        }


def evaluate(
    labels_dir: Path, articles_dir: Path, as_of: dt.date | None = None, base: Settings | None = None
) -> Evaluation:
    """Score the pipeline on `articles_dir` against the labels in `labels_dir`."""
    from pipeline.tables import build_tables

    labels = read_labels(labels_dir)
    check_labelled_files(labels.articles, articles_dir)
    settings = dataclasses.replace(
        base or Settings.from_env(), articles_dir=Path(articles_dir).resolve(), as_of=as_of
    )
    tables = build_tables(settings)
    scores = score_tables(
        labels, tables["articles"], tables.rejects, tables["claims"], tables.edition.as_of
    )
    return Evaluation(labels_dir=Path(labels_dir), articles_dir=Path(articles_dir), **scores)


def score_tables(
    labels: Labels,
    articles: pl.DataFrame,
    rejects: pl.DataFrame,
    claims: pl.DataFrame,
    as_of: dt.date,
) -> dict:
    """The scores of already built tables, as `Evaluation` fields (without the folders)."""
    langs = sorted(set(labels.articles["lang"]))
    file_lang = labels.articles.select("file", "lang")
    art = article_scores(articles, rejects, labels.articles)
    scored = claim_scores(claims, articles, labels.claims)
    as_prices = amounts_read_as_prices(claims, articles, labels.claims).join(file_lang, on="file")
    unmatched = unmatched_claims(claims, articles, scored).join(file_lang, on="file")
    metrics = pl.concat([article_summary(art), claim_summary(scored, as_prices, unmatched, langs)])
    return {
        "as_of": as_of,
        "articles": art,
        "claims": scored,
        "as_prices": as_prices,
        "unmatched": unmatched,
        "metrics": metrics,
        "recall_by_kind": recall_by_kind(scored),
        "confusion": verdict_confusion(scored),
    }
