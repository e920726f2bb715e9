"""The `year_to_date` table: each listing's change in the edition's year, on one price basis."""

from __future__ import annotations

import polars as pl

from pipeline import reference

LISTINGS = reference.listings()


def year_to_date(prices: pl.DataFrame, year: int) -> pl.DataFrame:
    """Each listing's change from its last close before `year` to its latest close.

    Both listings are measured on the same basis, so their changes compare: as traded when every
    listing has as-traded closes at both ends, otherwise dividend-adjusted closes for all of them
    (`basis` says which). `last_traded` is the latest close as traded where known, the level a
    reader quotes; `base` and `last` are on the basis of `change`.
    """
    ends = (
        prices.lazy()
        .filter(pl.col("instrument").is_in(LISTINGS) & (pl.col("date").dt.year() <= year))
        .filter(~pl.col("placeholder").fill_null(False))
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
        .with_columns(
            all_traded=(
                pl.col("base_row_close_traded").is_not_null()
                & pl.col("last_row_close_traded").is_not_null()
            ).all()
        )
    )
    base = pl.when("all_traded").then("base_row_close_traded").otherwise("base_row_close")
    last = pl.when("all_traded").then("last_row_close_traded").otherwise("last_row_close")
    return (
        ends.select(
            "instrument",
            "currency",
            pl.col("base_row_date").alias("base_date"),
            pl.col("last_row_date").alias("last_date"),
            base.alias("base"),
            last.alias("last"),
            (last / base - 1).alias("change"),
            pl.when("all_traded")
            .then(pl.lit("as traded"))
            .otherwise(pl.lit("dividend-adjusted"))
            .alias("basis"),
            pl.coalesce("last_row_close_traded", "last_row_close").alias("last_traded"),
        )
        .sort("instrument")
        .collect()
    )
