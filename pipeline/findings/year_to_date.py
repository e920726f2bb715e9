"""The `year_to_date` table: each listing's change in the edition's year."""

from __future__ import annotations

import polars as pl

from pipeline import reference

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
