"""Altair charts of the briefing, built from the tidy tables, with one theme for site and PDF.

Each chart function takes tables and returns `(chart, data)`: the Altair chart and the exact
frame it plots, so the site can offer that frame for download and tests can compare the two.
Alt text is written from the same frame, never typed in.
"""

from __future__ import annotations

import datetime as dt

import altair as alt
import polars as pl

# Okabe–Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
FONT = "DejaVu Sans"
LISTINGS = ("BABA", "9988.HK")
BENCHMARKS = ("HSI", "SPX")


def theme() -> dict:
    """The shared look: readable type sizes, muted grid, colour-blind-safe categories."""
    return {
        "config": {
            "font": FONT,
            "view": {"stroke": None, "continuousWidth": 640, "continuousHeight": 300},
            "axis": {"labelFontSize": 11, "titleFontSize": 12, "gridColor": "#e6e6e6"},
            "legend": {"labelFontSize": 11, "titleFontSize": 12, "orient": "bottom"},
            "title": {"fontSize": 14, "anchor": "start"},
            "range": {"category": PALETTE},
        }
    }


@alt.theme.register("briefing", enable=True)
def _briefing_theme() -> alt.theme.ThemeConfig:
    return theme()  # type: ignore[return-value]


def year_prices(prices: pl.DataFrame, instruments: tuple[str, ...], year: int) -> pl.DataFrame:
    """Closes of `instruments` in `year`, indexed to 100 at each one's first session of the year.

    Placeholder half-day rows are left out: they repeat the previous close and are not trades.
    """
    frame = prices.lazy().filter(
        pl.col("instrument").is_in(instruments) & (pl.col("date").dt.year() == year)
    )
    if "placeholder" in prices.columns:
        frame = frame.filter(~pl.col("placeholder").fill_null(False))
    return (
        frame.sort("instrument", "date")
        .with_columns(index=pl.col("close") / pl.col("close").first().over("instrument") * 100)
        .select("instrument", "date", "close", "currency", "index")
        .collect()
    )


def article_marks(articles: pl.DataFrame, path: pl.DataFrame) -> pl.DataFrame:
    """Each dated article placed on each listing's line at the close of its publication day
    (or the last session before it, when published on a weekend or holiday)."""
    dated = (
        articles.filter(pl.col("published_date").is_not_null())
        .select("article_id", "title", "source", "language", "published_date")
        .sort("published_date")
    )
    rows = []
    for instrument in path["instrument"].unique().sort().to_list():
        line = path.filter(pl.col("instrument") == instrument).sort("date")
        rows.append(
            dated.join_asof(
                line, left_on="published_date", right_on="date", strategy="backward"
            ).filter(pl.col("date").is_not_null())
        )
    if not rows:
        return pl.DataFrame()
    return pl.concat(rows).sort("instrument", "published_date")


def price_path_chart(
    prices: pl.DataFrame, articles: pl.DataFrame, year: int
) -> tuple[alt.Chart, pl.DataFrame]:
    """BABA and 9988.HK over `year`, indexed to 100, with every article's publication marked."""
    path = year_prices(prices, LISTINGS, year)
    marks = article_marks(articles, path)
    base = alt.Chart(alt.Data(values=_records(path)))
    line = base.mark_line(strokeWidth=1.6).encode(
        x=alt.X("date:T", title=None),
        y=alt.Y(
            "index:Q", title=f"Close, first session of {year} = 100", scale=alt.Scale(zero=False)
        ),
        color=alt.Color("instrument:N", title="Listing"),
        tooltip=[
            alt.Tooltip("instrument:N"),
            alt.Tooltip("date:T"),
            alt.Tooltip("close:Q", format=",.2f"),
            alt.Tooltip("currency:N"),
            alt.Tooltip("index:Q", format=".1f"),
        ],
    )
    layers: list[alt.Chart] = [line]
    if marks.height:
        layers.append(
            alt.Chart(alt.Data(values=_records(marks)))
            .mark_point(shape="diamond", size=90, filled=True, stroke="white")
            .encode(
                x="date:T",
                y="index:Q",
                color=alt.Color("instrument:N"),
                tooltip=[
                    alt.Tooltip("title:N"),
                    alt.Tooltip("source:N"),
                    alt.Tooltip("language:N"),
                    alt.Tooltip("published_date:T", title="published"),
                ],
            )
        )
    chart = alt.layer(*layers).properties(width="container", height=320)
    data = (
        path.join(
            marks.select("instrument", "date", "article_id", "title"),
            on=["instrument", "date"],
            how="left",
        )
        if marks.height
        else path
    )
    return chart, data.sort("instrument", "date")


def price_path_alt_text(path: pl.DataFrame) -> str:
    """One sentence per listing: range of dates, low and high closes with dates, and the change."""
    parts = []
    for instrument in path["instrument"].unique().sort().to_list():
        line = (
            path.filter(pl.col("instrument") == instrument)
            .sort("date")
            .unique("date", keep="first", maintain_order=True)
        )
        lo = line.row(line["close"].arg_min(), named=True)
        hi = line.row(line["close"].arg_max(), named=True)
        first, last = line.row(0, named=True), line.row(-1, named=True)
        change = (last["close"] / first["close"] - 1) * 100
        parts.append(
            f"{instrument} ({first['currency']}) from {first['date']} to {last['date']}: "
            f"low {lo['close']:,.2f} on {lo['date']}, high {hi['close']:,.2f} on {hi['date']}, "
            f"{'up' if change >= 0 else 'down'} {abs(change):.1f}% over the period."
        )
    return " ".join(parts)


def _records(df: pl.DataFrame) -> list[dict]:
    """Rows for an inline Vega-Lite dataset, with dates as ISO strings."""
    out = df.with_columns(
        pl.col(c).cast(pl.String)
        for c, t in df.schema.items()
        if t in (pl.Date, pl.Datetime) or isinstance(t, pl.Datetime)
    )
    return out.to_dicts()


def as_of_year(as_of: dt.date | str) -> int:
    return (dt.date.fromisoformat(as_of) if isinstance(as_of, str) else as_of).year
