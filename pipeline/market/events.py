"""Event study: how each listing moved around each article's publication.

For every article and listing (each listing against its benchmark in `instruments.csv`: BABA
against the S&P 500, 9988.HK against the Hang Seng Index) the event day is the first session of
that exchange that could react to the publication: the first session closing after the
publication time, or with a date only, the first session on or after that date (see
`pipeline.market.calendars`). A market model estimated by OLS on trading days [-250, -11]
before the event (at least 60 days with both returns) gives abnormal returns; t statistics
divide by the residual standard deviation (times sqrt(L) for an L-day CAR), and p-values are
two-sided from the normal approximation.

The models are rolling Polars expressions over each listing's paired return series, one pass
per listing rather than one regression per article; articles then join their event day.
"""

from __future__ import annotations

import math

import polars as pl

from pipeline.market.calendars import INSTRUMENT_EXCHANGE, sessions_table
from pipeline.reference import benchmark_of

ESTIMATION = (-250, -11)
MIN_ESTIMATION_DAYS = 60
WINDOW = range(-1, 6)  # abnormal returns kept around the event day: days -1 .. +5
CARS = {"car_m1_p1": 1, "car_m1_p5": 5}  # CAR name -> last day of its window (first is -1)

EVENTS_SCHEMA: dict[str, pl.DataType] = {
    "article_id": pl.String(),
    "instrument": pl.String(),
    "benchmark": pl.String(),
    "published_at": pl.Datetime("us", "UTC"),
    "published_date": pl.Date(),
    "event_date": pl.Date(),
    "ret": pl.Float64(),
    "benchmark_ret": pl.Float64(),
    "abnormal_ret": pl.Float64(),
    "car_m1_p1": pl.Float64(),
    "car_m1_p5": pl.Float64(),
    "t_ar": pl.Float64(),
    "t_car_m1_p1": pl.Float64(),
    "t_car_m1_p5": pl.Float64(),
    "p_ar": pl.Float64(),
    "p_car_m1_p1": pl.Float64(),
    "p_car_m1_p5": pl.Float64(),
    "alpha": pl.Float64(),
    "beta": pl.Float64(),
    "resid_sd": pl.Float64(),
    "estimation_days": pl.Int64(),
    "note": pl.String(),
}


def paired_returns(returns: pl.DataFrame, stock: str, bench: str) -> pl.DataFrame:
    """`date`, `y` (stock), `x` (benchmark): the sessions on which both have a return."""
    s = returns.filter(pl.col("instrument") == stock).select("date", pl.col("ret").alias("y"))
    b = returns.filter(pl.col("instrument") == bench).select("date", pl.col("ret").alias("x"))
    return s.join(b, on="date", how="inner").drop_nulls().sort("date")


def market_models(pair: pl.DataFrame, estimation: tuple[int, int] = ESTIMATION) -> pl.DataFrame:
    """`pair` plus, per session, the OLS fit y = alpha + beta x over the sessions
    [estimation[0], estimation[1]] relative to it (fewer at the start of the data): `alpha`,
    `beta`, `resid_sd` (n - 2 degrees of freedom) and `n`.

    Closed-form OLS from rolling sums. statsmodels' RollingOLS does the same but needs pandas
    frames and gives the window ending at each row; the sums below are four lines.
    """
    size, lag = estimation[1] - estimation[0] + 1, -estimation[1]

    def rolled(e: pl.Expr) -> pl.Expr:
        return e.rolling_sum(size, min_samples=1).shift(lag)

    x, y = pl.col("x"), pl.col("y")
    sums = pair.with_columns(
        n=rolled(x.is_not_null().cast(pl.Float64)).fill_null(0.0),
        sx=rolled(x),
        sy=rolled(y),
        sxx=rolled(x * x),
        sxy=rolled(x * y),
        syy=rolled(y * y),
    )
    n, sx, sy = pl.col("n"), pl.col("sx"), pl.col("sy")
    beta = (n * pl.col("sxy") - sx * sy) / (n * pl.col("sxx") - sx * sx)
    fitted = sums.with_columns(beta=pl.when(beta.is_finite()).then(beta).otherwise(0.0))
    fitted = fitted.with_columns(alpha=(sy - pl.col("beta") * sx) / n)
    sse = pl.col("syy") - pl.col("alpha") * sy - pl.col("beta") * pl.col("sxy")
    return fitted.with_columns(
        resid_sd=(sse.clip(lower_bound=0.0) / (n - 2)).sqrt(), n=n.cast(pl.Int64)
    ).drop("sx", "sy", "sxx", "sxy", "syy")


def with_abnormal_returns(models: pl.DataFrame) -> pl.DataFrame:
    """Per session: its abnormal return and CARs under that session's own model, with t
    statistics. Days past either end of the data leave a CAR null."""
    ar = {
        k: pl.col("y").shift(-k) - pl.col("alpha") - pl.col("beta") * pl.col("x").shift(-k)
        for k in WINDOW
    }
    sd = pl.when(pl.col("resid_sd") > 0).then(pl.col("resid_sd"))
    cars = {
        name: pl.sum_horizontal([ar[k] for k in range(-1, last + 1)], ignore_nulls=False)
        for name, last in CARS.items()
    }
    t_cars = {f"t_{name}": pl.col(name) / (sd * math.sqrt(last + 2)) for name, last in CARS.items()}
    return models.with_columns(abnormal_ret=ar[0], **cars).with_columns(
        t_ar=pl.col("abnormal_ret") / sd, **t_cars
    )


def event_days(articles: pl.DataFrame, sessions: pl.DataFrame) -> pl.DataFrame:
    """`article_id`, `published_at`, `published_date`, `event_date` for one exchange, from its
    rows of the `sessions` table."""
    base = articles.select(
        "article_id",
        pl.col("published_at").cast(pl.Datetime("us", "UTC")),
        pl.col("published_date")
        if "published_date" in articles.columns
        else pl.lit(None, pl.Date).alias("published_date"),
    ).with_row_index("_row")
    timed = base.filter(pl.col("published_at").is_not_null()).sort("published_at")
    by_time = timed.join_asof(
        sessions.select(pl.col("close_utc"), by_time="date"),
        left_on="published_at",
        right_on="close_utc",
        strategy="forward",
        allow_exact_matches=False,  # published at the close: the next session reacts
    ).select("_row", "by_time")
    dated = base.filter(pl.col("published_date").is_not_null()).sort("published_date")
    by_date = dated.join_asof(
        sessions.select(by_date="date"),
        left_on="published_date",
        right_on="by_date",
        strategy="forward",
    ).select("_row", "by_date")
    return (
        base.join(by_time, on="_row", how="left")
        .join(by_date, on="_row", how="left")
        .with_columns(
            event_date=pl.when(pl.col("published_at").is_not_null())
            .then(pl.col("by_time"))
            .otherwise(pl.col("by_date"))
        )
        .sort("_row")
        .drop("_row", "by_time", "by_date")
    )


def _note(stock: str, bench: str, min_days: int) -> pl.Expr:
    """Why a row has no (or an incomplete) result, in words; null when complete."""
    incomplete = [
        pl.when(pl.col(name).is_null()).then(
            pl.lit(f"{name} incomplete: window runs past the data")
        )
        for name in CARS
    ]
    return (
        pl.when(pl.col("published_at").is_null() & pl.col("published_date").is_null())
        .then(pl.lit("no publication date: no event"))
        .when(pl.col("y").is_null())
        .then(
            pl.format(
                "no {}/{} return pair on {} (outside the data or as-of)",
                pl.lit(stock),
                pl.lit(bench),
                pl.col("event_date").cast(pl.String).fill_null("None"),
            )
        )
        .when(pl.col("n") < min_days)
        .then(pl.format("only {} estimation days (< {})", pl.col("n"), pl.lit(min_days)))
        .otherwise(pl.concat_str(incomplete, separator="; ", ignore_nulls=True).replace("", None))
    )


RESULT_COLUMNS = [
    c
    for c in EVENTS_SCHEMA
    if c
    not in (
        "article_id",
        "instrument",
        "benchmark",
        "published_at",
        "published_date",
        "event_date",
        "note",
    )
]


def listing_events(
    articles: pl.DataFrame,
    prices: pl.DataFrame,
    returns: pl.DataFrame,
    stock: str,
    bench: str,
    estimation: tuple[int, int] = ESTIMATION,
    min_days: int = MIN_ESTIMATION_DAYS,
    sessions: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One listing's rows of `events`: each article's event day joined to that day's study."""
    if sessions is None:
        sessions = sessions_table(prices)
    exchange_days = sessions.filter(pl.col("exchange") == INSTRUMENT_EXCHANGE[stock])
    study = with_abnormal_returns(market_models(paired_returns(returns, stock, bench), estimation))
    joined = event_days(articles, exchange_days).join(
        study, left_on="event_date", right_on="date", how="left"
    )
    usable = pl.col("y").is_not_null() & (pl.col("n") >= min_days)
    p_values = {f"p_{s}": _two_sided_p(pl.col(f"t_{s}")) for s in ("ar", *CARS)}
    return (
        joined.with_columns(
            instrument=pl.lit(stock),
            benchmark=pl.lit(bench),
            ret="y",
            benchmark_ret="x",
            estimation_days="n",
            note=_note(stock, bench, min_days),
            **p_values,
        )
        .with_columns(pl.when(usable).then(pl.col(c)).alias(c) for c in RESULT_COLUMNS)
        .select([pl.col(c).cast(t) for c, t in EVENTS_SCHEMA.items()])
    )


def events_table(
    articles: pl.DataFrame,
    prices: pl.DataFrame,
    returns: pl.DataFrame,
    estimation: tuple[int, int] = ESTIMATION,
    min_days: int = MIN_ESTIMATION_DAYS,
    sessions: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per article per listing; see EVENTS_SCHEMA and docs/market.md. `sessions` is
    the market's `sessions` table (built from `prices` unless passed in)."""
    if sessions is None:
        sessions = sessions_table(prices)
    parts = [
        listing_events(articles, prices, returns, stock, bench, estimation, min_days, sessions)
        for stock, bench in benchmark_of().items()
    ]
    return pl.concat(parts).sort("article_id", "instrument")


def _two_sided_p(t: pl.Expr) -> pl.Expr:
    """erfc(|t| / sqrt 2), the two-sided normal p-value (the stdlib has erfc; no scipy here)."""
    return t.map_elements(lambda v: math.erfc(abs(v) / math.sqrt(2)), return_dtype=pl.Float64)


def abnormal_returns_table(
    returns: pl.DataFrame,
    estimation: tuple[int, int] = ESTIMATION,
    min_days: int = MIN_ESTIMATION_DAYS,
) -> pl.DataFrame:
    """Every session's abnormal return of each listing under the same market model as the
    event study: `instrument`, `benchmark`, `date`, `ret`, `benchmark_ret`, `abnormal_ret`,
    `t_ar`, `estimation_days`. The chart's "largest moves" are picked from here, so the
    briefing has one definition of an abnormal return, not two."""
    parts = [
        with_abnormal_returns(market_models(paired_returns(returns, stock, bench), estimation))
        .filter(pl.col("n") >= min_days)
        .select(
            instrument=pl.lit(stock),
            benchmark=pl.lit(bench),
            date="date",
            ret="y",
            benchmark_ret="x",
            abnormal_ret="abnormal_ret",
            t_ar="t_ar",
            estimation_days="n",
        )
        for stock, bench in benchmark_of().items()
    ]
    return pl.concat(parts).sort("instrument", "date")
