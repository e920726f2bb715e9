"""An edition's headline figures, as a small table of its own.

`key_numbers` is what the Editions page compares between two editions ("moved key numbers"),
so it is written with the other tables rather than recomputed from prose.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from pipeline import reference


def verdict_counts(claims: pl.DataFrame) -> dict[str, int]:
    counts = claims.group_by("verdict").agg(n=pl.len())
    found = dict(zip(counts["verdict"].to_list(), counts["n"].to_list(), strict=True))
    return {v: int(found.get(v, 0)) for v in ("supported", "contradicted", "unverifiable")}


LISTINGS = reference.listings()


def year_to_date(prices: pl.DataFrame, year: int) -> pl.DataFrame:
    """Each listing's change from the last close before `year` to its latest close.

    Levels are as traded where the snapshot has them. The change is as traded when both ends
    are; otherwise it is the ratio of dividend-adjusted closes, and `basis` says so.
    """
    rows = (
        prices.lazy()
        .filter(pl.col("instrument").is_in(LISTINGS) & (pl.col("date").dt.year() <= year))
        .filter(
            ~pl.col("placeholder").fill_null(False)
            if "placeholder" in prices.columns
            else pl.lit(True)
        )
        .sort("date")
        .group_by("instrument", maintain_order=True)
        .agg(
            base_row=pl.struct("date", "close", "close_traded")
            .filter(pl.col("date").dt.year() < year)
            .last(),
            last_row=pl.struct("date", "close", "close_traded").last(),
            currency=pl.col("currency").last(),
        )
        .unnest("base_row", "last_row", separator="_")
        .drop_nulls("base_row_date")
    )
    return (
        rows.with_columns(
            both_traded=pl.col("base_row_close_traded").is_not_null()
            & pl.col("last_row_close_traded").is_not_null()
        )
        .select(
            "instrument",
            "currency",
            pl.col("base_row_date").alias("base_date"),
            pl.col("last_row_date").alias("last_date"),
            pl.coalesce("base_row_close_traded", "base_row_close").alias("base"),
            pl.coalesce("last_row_close_traded", "last_row_close").alias("last"),
            pl.when("both_traded")
            .then(pl.col("last_row_close_traded") / pl.col("base_row_close_traded") - 1)
            .otherwise(pl.col("last_row_close") / pl.col("base_row_close") - 1)
            .alias("change"),
            pl.when("both_traded")
            .then(pl.lit("as traded"))
            .otherwise(pl.lit("dividend-adjusted"))
            .alias("basis"),
        )
        .sort("instrument")
        .collect()
    )


def key_numbers(tables: dict[str, pl.DataFrame], as_of: str) -> pl.DataFrame:
    """The headline figures of an edition (`name`, `value`, `unit`), compared across editions."""
    year = int(as_of[:4])
    rows: list[dict[str, Any]] = [
        {"name": "articles", "value": float(tables["articles"].height), "unit": "count"},
        {"name": "claims", "value": float(tables["claims"].height), "unit": "count"},
    ]
    rows += [
        {"name": f"claims {verdict}", "value": float(n), "unit": "count"}
        for verdict, n in verdict_counts(tables["claims"]).items()
    ]
    for r in year_to_date(tables["prices"], year).iter_rows(named=True):
        rows.append(
            {"name": f"{r['instrument']} last close", "value": r["last"], "unit": r["currency"]}
        )
        rows.append(
            {
                "name": f"{r['instrument']} change in {year}",
                "value": r["change"] * 100,
                "unit": "percent",
            }
        )
    return pl.DataFrame(rows, schema={"name": pl.String, "value": pl.Float64, "unit": pl.String})
