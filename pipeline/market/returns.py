"""Daily returns and the market model behind abnormal returns.

Returns are computed from `close` (dividend-adjusted where the file is): within one file that
equals the as-traded move on every day except an ex-date, where the adjusted return includes
the dividend (a total return), which is what an event study wants. A return is not computed
across a change of source file (the files are adjusted to different bases) nor from a
half-day placeholder row, which repeats the previous close and is not a real trade.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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


@dataclass(frozen=True)
class MarketModel:
    alpha: float
    beta: float
    resid_sd: float  # standard deviation of the residuals (n - 2 degrees of freedom)
    n: int


def market_model(y: list[float], x: list[float]) -> MarketModel:
    """OLS of stock returns y on market returns x: y = alpha + beta x + e."""
    n = len(y)
    if n != len(x) or n < 3:
        raise ValueError("market model needs at least 3 paired observations")
    mx, my = sum(x) / n, sum(y) / n
    sxx = sum((a - mx) ** 2 for a in x)
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True))
    beta = sxy / sxx if sxx else 0.0
    alpha = my - beta * mx
    sse = sum((b - alpha - beta * a) ** 2 for a, b in zip(x, y, strict=True))
    return MarketModel(alpha, beta, math.sqrt(sse / (n - 2)), n)
