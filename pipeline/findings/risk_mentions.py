"""The `risk_mentions` table: how often each tracked risk is named, per article.

The vocabulary is the reviewed `risk_terms.csv` reference table (`pipeline.reference.risk_terms`).
"""

from __future__ import annotations

import polars as pl


def risk_mentions(
    sentences: pl.DataFrame, articles: pl.DataFrame, risk_terms: pl.DataFrame
) -> pl.DataFrame:
    """Mentions of each risk per article, by publication date: `article_id`, `published_date`,
    `risk`, `mentions`."""
    per_risk = []
    for risk, group in risk_terms.group_by("risk", maintain_order=True):
        pattern = "(?i)" + "|".join(f"(?:{p})" for p in group["pattern"].to_list())
        per_risk.append(
            sentences.lazy()
            .group_by("article_id")
            .agg(mentions=pl.col("text").str.count_matches(pattern).sum())
            .with_columns(risk=pl.lit(risk[0]))
        )
    counts = pl.concat(per_risk).collect()
    return (
        counts.join(articles.select("article_id", "published_date", "title"), on="article_id")
        .select("article_id", "published_date", "title", "risk", "mentions")
        .sort("published_date", "risk", nulls_last=True)
    )
