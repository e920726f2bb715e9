"""The `long_run_extremes` table: BABA's 2020 peak and 2022 low, found in the data."""

from __future__ import annotations

import polars as pl

# The long-run chart's story: the 2020 peak before the regulatory crackdown, the 2022 low.
LONG_RUN_EXTREMES = ((2020, "max"), (2022, "min"))


def long_run_extremes(prices: pl.DataFrame) -> pl.DataFrame:
    """BABA's 2020 peak and 2022 low closes, found in the data, with as-traded values where the
    snapshot has them (`close_traded`) and a note where only adjusted data exists."""
    baba = prices.lazy().filter(pl.col("instrument") == "BABA")
    rows = []
    for year, pick in LONG_RUN_EXTREMES:
        in_year = baba.filter(pl.col("date").dt.year() == year)
        ranked = in_year.sort(
            pl.col("close_traded").fill_null(pl.col("close")), descending=pick == "max"
        )
        row = ranked.head(1).collect()
        if row.height:
            rows.append(
                row.with_columns(
                    event=pl.lit(f"{year} {'peak' if pick == 'max' else 'low'}"),
                    shown=pl.col("close_traded").fill_null(pl.col("close")),
                    basis=pl.when(pl.col("close_traded").is_not_null())
                    .then(pl.lit("as traded"))
                    .otherwise(pl.lit("adjusted only")),
                ).select("event", "date", "close", "close_traded", "shown", "basis", "source_file")
            )
    return pl.concat(rows) if rows else pl.DataFrame()
