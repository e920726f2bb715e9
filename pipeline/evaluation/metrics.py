"""The one shape every score takes: a long frame of `lang, metric, num, den`.

A rate is `num / den`; a count (dropped articles, false alarms) has `den` null. Every summary
is computed per language and once more over everything (`lang = "overall"`) by the same
expressions, so the overall figure is never an average of averages.
"""

from __future__ import annotations

import polars as pl

OVERALL = "overall"
METRICS_SCHEMA = {"lang": pl.String, "metric": pl.String, "num": pl.Int64, "den": pl.Int64}


def rate(metric: str, hit: pl.Expr, among: pl.Expr | None = None) -> tuple[str, pl.Expr, pl.Expr]:
    """`metric` = rows where `hit` holds among rows where `among` holds (default: all rows)."""
    if among is None:
        return metric, hit.fill_null(False).sum(), pl.len()
    among = among.fill_null(False)
    return metric, (hit.fill_null(False) & among).sum(), among.sum()


def count(metric: str, hit: pl.Expr) -> tuple[str, pl.Expr, None]:
    """`metric` = number of rows where `hit` holds (no denominator)."""
    return metric, hit.fill_null(False).sum(), None


def summarise(
    frame: pl.DataFrame, specs: list[tuple[str, pl.Expr, pl.Expr | None]]
) -> pl.DataFrame:
    """One row per language and metric, plus the `overall` rows, in METRICS_SCHEMA."""
    aggs = []
    for metric, num, den in specs:
        aggs.append(num.cast(pl.Int64).alias(f"{metric}\0num"))
        den_expr = pl.lit(None, pl.Int64) if den is None else den.cast(pl.Int64)
        aggs.append(den_expr.alias(f"{metric}\0den"))
    per_lang = frame.group_by("lang").agg(aggs)
    overall = frame.select(aggs).with_columns(lang=pl.lit(OVERALL))
    wide = pl.concat([per_lang, overall.select(per_lang.columns)], how="vertical_relaxed")
    long = wide.unpivot(index="lang", variable_name="key").with_columns(
        metric=pl.col("key").str.split("\0").list.first(),
        part=pl.col("key").str.split("\0").list.last(),
    )
    return (
        long.pivot(on="part", index=["lang", "metric"], values="value")
        .select(
            pl.col("lang"),
            pl.col("metric"),
            pl.col("num").cast(pl.Int64),
            pl.col("den").cast(pl.Int64),
        )
        .sort("lang", "metric")
    )


def counts_by_lang(frame: pl.DataFrame, metric: str, langs: list[str]) -> pl.DataFrame:
    """`metric` = rows of `frame` per language (zero where a language has none), plus overall."""
    per = frame.group_by("lang").agg(num=pl.len().cast(pl.Int64))
    rows = pl.DataFrame({"lang": langs}).join(per, on="lang", how="left")
    overall = pl.DataFrame({"lang": [OVERALL], "num": [frame.height]})
    both = pl.concat([rows.fill_null(0), overall], how="vertical_relaxed")
    return both.select(
        "lang", metric=pl.lit(metric), num=pl.col("num").cast(pl.Int64), den=pl.lit(None, pl.Int64)
    )
