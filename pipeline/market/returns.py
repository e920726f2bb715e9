"""Daily returns (the market model behind abnormal returns is in `pipeline.market.events`).

Returns are computed from `close` (dividend-adjusted where the file is): within one file that
equals the as-traded move on every day except an ex-date, where the adjusted return includes
the dividend (a total return), which is what an event study wants. A return is not computed
across a change of source file (the files are adjusted to different bases) nor from a
half-day placeholder row, which repeats the previous close and is not a real trade.
"""

from __future__ import annotations

import polars as pl


def returns_table(prices: pl.DataFrame) -> pl.DataFrame:
    """`instrument`, `date`, `close`, `ret` (simple), `log_ret`, `source_file`."""
    return (
        prices.lazy()
        .filter(~pl.col("placeholder"))
        .sort("instrument", "date")
        .with_columns(
            pl.when(pl.col("source_file") == pl.col("source_file").shift(1).over("instrument"))
            .then(pl.col("close") / pl.col("close").shift(1).over("instrument") - 1)
            .otherwise(None)
            .alias("ret")
        )
        .with_columns(pl.col("ret").log1p().alias("log_ret"))
        .select("instrument", "date", "close", "ret", "log_ret", "source_file")
        .collect()
    )
