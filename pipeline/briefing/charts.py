"""Altair charts of the briefing, built from the tidy tables, with one theme for site and PDF.

Each chart function takes tables and returns `(chart, data)`: the Altair chart and the exact
frame it plots, so the site can offer that frame for download and tests can compare the two.
Alt text is written from the same frame, never typed in.
"""

from __future__ import annotations

import datetime as dt

import altair as alt
import polars as pl

from pipeline import reference

# Okabe–Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
FONT = "DejaVu Sans"
LISTINGS = reference.listings()
# Lines are broken, never drawn across missing data: a price series gap longer than this
# (longer than any exchange holiday) or articles further apart than this.
PRICE_GAP_DAYS = 10
ROLLING_GAP_DAYS = 31
# The tone chart's rolling mean spans this many consecutive articles.
ROLLING_ARTICLES = 3
BENCHMARKS = tuple(sorted(set(reference.benchmark_of().values())))


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
        .select("article_id", "path", display_title(), "source", "language", "published_date")
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


def market_adjusted_moves(abnormal_returns: pl.DataFrame, year: int, top: int = 3) -> pl.DataFrame:
    """The `top` largest abnormal returns of each listing in `year`, from the event study's
    market model (the `abnormal_returns` table), to annotate the price chart."""
    return (
        abnormal_returns.filter(pl.col("date").dt.year() == year)
        .rename({"abnormal_ret": "abnormal", "benchmark_ret": "bench_ret"})
        .sort(pl.col("abnormal").abs(), descending=True)
        .group_by("instrument", maintain_order=True)
        .head(top)
        .sort("instrument", "date")
    )


BENCHMARK_OF = reference.benchmark_of()


def price_path_chart(
    prices: pl.DataFrame,
    articles: pl.DataFrame,
    year: int,
    abnormal_returns: pl.DataFrame | None = None,
    events: pl.DataFrame | None = None,
) -> tuple[alt.Chart, pl.DataFrame]:
    """BABA and 9988.HK over `year`, indexed to 100 with HSI and SPX as benchmarks.

    Articles are marked on each listing's line (tooltip: title, source, language, tone, CAR);
    the largest market-adjusted moves are labelled with their dates. In HTML a radio button
    switches to raw prices and a brush on the lower strip zooms the main chart.
    """
    path = year_prices(prices, LISTINGS + BENCHMARKS, year)
    listings = path.filter(pl.col("instrument").is_in(LISTINGS))
    marks = article_marks(articles, listings)
    if marks.height and events is not None and events.height:
        car = events.select("article_id", "instrument", pl.col("car_m1_p1").alias("car"))
        marks = marks.join(car, on=["article_id", "instrument"], how="left")
    if marks.height and "tone" in articles.columns:
        marks = marks.join(articles.select("article_id", "tone"), on="article_id", how="left")
    moves = (
        market_adjusted_moves(abnormal_returns, year)
        if abnormal_returns is not None
        else pl.DataFrame()
    )
    if moves.height:
        moves = moves.join(
            path.select("instrument", "date", "index", "close"), on=["instrument", "date"]
        )
        moves = moves.with_columns(
            label=pl.col("date").dt.strftime("%b %-d")
            + " "
            + (pl.col("ret") * 100).round(1).cast(pl.String)
            + "%"
        )

    mode = alt.param(
        name="scale_mode",
        value="Indexed",
        bind=alt.binding_radio(options=["Indexed", "Raw price"], name="Show: "),
    )
    brush = alt.selection_interval(encodings=["x"], name="zoom")
    y_value = "scale_mode == 'Indexed' ? datum.index : datum.close"
    colour = alt.Color("instrument:N", title=None, sort=list(LISTINGS + BENCHMARKS))
    dash = alt.StrokeDash("kind:N", title=None, legend=None)
    path = path.with_columns(
        kind=pl.when(pl.col("instrument").is_in(LISTINGS))
        .then(pl.lit("listing"))
        .otherwise(pl.lit("benchmark"))
    )
    base = alt.Chart(alt.Data(values=_records(path))).transform_calculate(value=y_value)
    x_zoom = alt.X("date:T", title=None, scale=alt.Scale(domain={"param": "zoom"}))
    line = base.mark_line(strokeWidth=1.6).encode(
        x=x_zoom,
        y=alt.Y(
            "value:Q",
            title="Indexed (first session = 100) or raw close",
            scale=alt.Scale(zero=False),
        ),
        color=colour,
        strokeDash=dash,
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
        tips = [
            alt.Tooltip("title:N"),
            alt.Tooltip("source:N"),
            alt.Tooltip("language:N"),
            alt.Tooltip("published_date:T", title="published"),
        ]
        if "tone" in marks.columns:
            tips.append(alt.Tooltip("tone:Q", format="+.2f"))
        if "car" in marks.columns:
            tips.append(alt.Tooltip("car:Q", title="CAR [-1,+1]", format="+.2%"))
        layers.append(
            alt.Chart(alt.Data(values=_records(marks)))
            .transform_calculate(value=y_value)
            .mark_point(shape="diamond", size=110, filled=True, stroke="white", strokeWidth=1)
            .encode(x=x_zoom, y="value:Q", color=colour, tooltip=tips)
        )
    if moves.height:
        move_data = alt.Chart(alt.Data(values=_records(moves))).transform_calculate(value=y_value)
        layers.append(
            move_data.mark_text(dy=-12, fontSize=10, color="#333").encode(
                x=x_zoom, y="value:Q", text="label:N"
            )
        )
        layers.append(
            move_data.mark_point(shape="circle", size=40, color="#333").encode(
                x=x_zoom, y="value:Q"
            )
        )
    main = alt.layer(*layers).properties(width="container", height=320).add_params(mode)
    overview = (
        base.mark_line(strokeWidth=1)
        .encode(
            x=alt.X("date:T", title=None),
            y=alt.Y("index:Q", title=None, axis=None),
            color=colour,
        )
        .transform_filter(alt.FieldOneOfPredicate(field="instrument", oneOf=list(LISTINGS)))
        .add_params(brush)
        .properties(width="container", height=50)
    )
    chart = alt.vconcat(main, overview, spacing=8)
    # The download is the plotted price table; article marks are listed in the Sources.
    return chart, path.sort("instrument", "date")


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


def display_title() -> pl.Expr:
    """An article's title for labels and tooltips, from the `articles` columns `title` and
    `path`: an untitled article is named by its file, so no label is ever blank or "null"
    (the table itself keeps the title null)."""
    return pl.coalesce(pl.col("title"), pl.lit("untitled: ") + pl.col("path")).alias("title")


def display_source(unknown: str = "unknown") -> pl.Expr:
    """The publisher as the report shows it, from `source` and `source_confidence`: a publisher
    inferred from a signature or shared boilerplate says so, and a missing one is "unknown"."""
    inferred = pl.col("source_confidence").is_in(["medium", "low"])
    return (
        pl.when(pl.col("source").is_null())
        .then(pl.lit(unknown))
        .when(inferred)
        .then(pl.col("source") + pl.lit(" (inferred)"))
        .otherwise(pl.col("source"))
        .alias("source")
    )


def line_segments(date: str, max_gap_days: int, by: str | None = None) -> pl.Expr:
    """A run number that changes wherever consecutive dates are more than `max_gap_days` apart
    (or `by` changes), so a line is broken at the gap instead of drawn across missing data."""
    gap = pl.col(date).diff().dt.total_days().fill_null(0) > max_gap_days
    if by is not None:
        gap = gap | (pl.col(by) != pl.col(by).shift()).fill_null(False)
    return gap.cum_sum().alias("segment")


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


def long_run_chart(
    prices: pl.DataFrame, long_run_extremes: pl.DataFrame
) -> tuple[alt.Chart, pl.DataFrame]:
    """BABA since listing, as-traded where known, with the 2020 peak and 2022 low labelled."""
    series = (
        prices.lazy()
        .filter(pl.col("instrument") == "BABA")
        .with_columns(
            price=pl.col("close_traded").fill_null(pl.col("close")),
            basis=pl.when(pl.col("close_traded").is_not_null())
            .then(pl.lit("as traded"))
            .otherwise(pl.lit("adjusted")),
        )
        .select("date", "price", "basis", "source_file")
        .sort("date")
        .with_columns(line_segments("date", PRICE_GAP_DAYS, by="basis"))
        .collect()
    )
    extremes = long_run_extremes
    line = (
        alt.Chart(alt.Data(values=_records(series)))
        .mark_line(strokeWidth=1.2)
        .encode(
            x=alt.X("date:T", title=None),
            y=alt.Y("price:Q", title="BABA close, US$"),
            color=alt.Color(
                "basis:N", title="Price basis", scale=alt.Scale(range=[PALETTE[0], PALETTE[1]])
            ),
            detail="segment:N",
            tooltip=[
                alt.Tooltip("date:T"),
                alt.Tooltip("price:Q", format=",.2f"),
                alt.Tooltip("basis:N"),
            ],
        )
    )
    layers: list[alt.Chart] = [line]
    if extremes.height:
        ext = extremes.with_columns(
            label=pl.col("event")
            + ": $"
            + pl.col("shown").round(2).cast(pl.String)
            + " ("
            + pl.col("basis")
            + ")"
        )
        pts = alt.Chart(alt.Data(values=_records(ext)))
        layers += [
            pts.mark_point(size=60, filled=True, color="#000").encode(x="date:T", y="shown:Q"),
            pts.mark_text(dy=-12, fontSize=11, align="right").encode(
                x="date:T", y="shown:Q", text="label:N"
            ),
        ]
    return alt.layer(*layers).properties(width="container", height=260), series


def long_run_alt_text(series: pl.DataFrame, extremes: pl.DataFrame) -> str:
    if series.is_empty():
        return "No BABA price history in this edition."
    first, last = series.row(0, named=True), series.row(-1, named=True)
    text = (
        f"BABA closes from {first['date']} to {last['date']}, "
        f"from ${first['price']:,.2f} to ${last['price']:,.2f}."
    )
    for row in extremes.iter_rows(named=True):
        text += (
            f" {row['event'].capitalize()}: ${row['shown']:,.2f} on {row['date']} ({row['basis']})."
        )
    adjusted = series.filter(pl.col("basis") == "adjusted")
    if adjusted.height:
        text += (
            f" Prices from {adjusted['date'].min()} to {adjusted['date'].max()} are dividend-adjusted only;"
            " as-traded values were not available for them."
        )
    return text


def turnover_chart(flows: pl.DataFrame, year: int) -> tuple[alt.Chart, pl.DataFrame]:
    """Daily turnover of both listings in `year`, volume spikes highlighted."""
    data = (
        flows.lazy()
        .filter((pl.col("origin") == "market") & (pl.col("date").dt.year() == year))
        .select(
            "instrument",
            "date",
            pl.col("unit").alias("currency"),
            pl.col("value").alias("turnover"),
            "volume",
            "volume_ratio",
            "spike",
        )
        .sort("instrument", "date")
        .collect()
    )
    base = alt.Chart(alt.Data(values=_records(data)))
    bars = base.mark_bar(width=2).encode(
        x=alt.X("date:T", title=None),
        y=alt.Y(
            "turnover:Q",
            title="Turnover",
            axis=alt.Axis(format="~s"),
        ),
        color=alt.condition("datum.spike", alt.value(PALETTE[5]), alt.value("#9bb7d4")),
        tooltip=[
            alt.Tooltip("date:T"),
            alt.Tooltip("turnover:Q", format=",.0f"),
            alt.Tooltip("currency:N"),
            alt.Tooltip("volume_ratio:Q", title="volume / 20-day mean", format=".2f"),
        ],
    )
    chart = (
        bars.properties(width="container", height=130)
        .facet(row=alt.Row("instrument:N", title=None))
        .resolve_scale(y="independent")
    )
    return chart, data


def reported_flows_chart(flows: pl.DataFrame) -> tuple[alt.Chart, pl.DataFrame]:
    """Flow figures reported in the corpus or the cited reference table, with their sources."""
    data = (
        flows.filter((pl.col("origin") != "market") & (pl.col("unit") != "percent"))
        .select(
            "date",
            "origin",
            "description",
            "value",
            "unit",
            pl.coalesce(pl.col("url"), pl.col("source")).alias("source"),
        )
        .sort("date")
    )
    data = data.with_columns(
        label=(pl.col("value") / 1e9).round(2).cast(pl.String) + " bn " + pl.col("unit")
    )
    base = alt.Chart(alt.Data(values=_records(data)))
    points = base.mark_point(size=90, filled=True).encode(
        x=alt.X("date:T", title=None),
        y=alt.Y("value:Q", title="Reported figure", axis=alt.Axis(format="~s")),
        color=alt.Color("origin:N", title="Where the figure comes from"),
        shape=alt.Shape("origin:N", legend=None),
        tooltip=[
            alt.Tooltip("date:T"),
            alt.Tooltip("description:N"),
            alt.Tooltip("value:Q", format=",.0f"),
            alt.Tooltip("unit:N"),
            alt.Tooltip("source:N"),
        ],
    )
    labels = base.mark_text(dx=8, align="left", fontSize=10).encode(
        x="date:T", y="value:Q", text="label:N"
    )
    # A stem from zero shows each figure's size and sign (an outflow hangs below the axis).
    stems = base.mark_rule(strokeWidth=2).encode(
        x="date:T", y="value:Q", y2=alt.datum(0), color=alt.Color("origin:N")
    )
    # One panel per unit, each with its own axis: HK dollars and share counts never share a scale.
    chart = (
        alt.layer(stems, points, labels)
        .properties(width="container", height=170)
        .facet(row=alt.Row("unit:N", title=None))
        .resolve_scale(y="independent")
    )
    return chart, data


def tone_over_time_chart(articles: pl.DataFrame) -> tuple[alt.Chart, pl.DataFrame]:
    """Article tone by publication date, coloured by language and shaped by source, with a
    rolling mean over the three nearest articles."""
    data = (
        articles.lazy()
        .filter(pl.col("published_date").is_not_null() & pl.col("tone").is_not_null())
        .select(
            "article_id",
            display_title(),
            "published_date",
            "language",
            pl.col("source").fill_null("unknown"),
            "tone",
        )
        .sort("published_date")
        .with_columns(
            rolling_tone=pl.col("tone").rolling_mean(window_size=ROLLING_ARTICLES, min_samples=1),
            segment=line_segments("published_date", ROLLING_GAP_DAYS),
        )
        .collect()
    )
    base = alt.Chart(alt.Data(values=_records(data)))
    pts = base.mark_point(size=100, filled=True).encode(
        x=alt.X("published_date:T", title=None),
        y=alt.Y("tone:Q", title="Net tone"),
        color=alt.Color("language:N", title="Language"),
        shape=alt.Shape("source:N", title="Source"),
        tooltip=[
            alt.Tooltip("title:N"),
            alt.Tooltip("source:N"),
            alt.Tooltip("published_date:T"),
            alt.Tooltip("tone:Q", format="+.3f"),
        ],
    )
    roll = base.mark_line(color="#555", strokeDash=[4, 3]).encode(
        x="published_date:T", y="rolling_tone:Q", detail="segment:N"
    )
    zero = alt.Chart(alt.Data(values=[{"y": 0}])).mark_rule(color="#bbb").encode(y="y:Q")
    return (zero + roll + pts).properties(width="container", height=240), data


def sentence_tone_chart(
    sentence_sentiment: pl.DataFrame, articles: pl.DataFrame
) -> tuple[alt.Chart, pl.DataFrame]:
    """The spread of sentence-level tone within each article."""
    data = (
        sentence_sentiment.lazy()
        .filter(pl.col("tone").is_not_null())
        .join(
            articles.lazy().select("article_id", "path", display_title(), "published_date"),
            on="article_id",
        )
        .with_columns(
            article=pl.col("published_date").cast(pl.String).fill_null("undated")
            + " · "
            + pl.col("title").str.slice(0, 40)
        )
        .select("article_id", "article", "sentence_idx", "tone")
        .sort("article", "sentence_idx")
        .collect()
    )
    chart = (
        alt.Chart(alt.Data(values=_records(data)))
        .mark_tick(thickness=2, size=14, opacity=0.7)
        .encode(
            x=alt.X("tone:Q", title="Sentence tone"),
            y=alt.Y("article:N", title=None),
            color=alt.condition("datum.tone < 0", alt.value(PALETTE[5]), alt.value(PALETTE[0])),
            tooltip=[
                alt.Tooltip("article:N"),
                alt.Tooltip("sentence_idx:Q"),
                alt.Tooltip("tone:Q", format="+.2f"),
            ],
        )
    )
    return chart.properties(width="container"), data


def tone_vs_car_chart(
    articles: pl.DataFrame, events: pl.DataFrame
) -> tuple[alt.Chart, pl.DataFrame]:
    """Article tone against the cumulative abnormal return [-1,+1], one point per article and listing."""
    data = (
        events.lazy()
        .select("article_id", "instrument", "event_date", "car_m1_p1")
        .join(
            articles.lazy().select("article_id", "path", display_title(), "tone"), on="article_id"
        )
        .drop_nulls(["tone", "car_m1_p1"])
        .sort("instrument", "event_date")
        .collect()
    )
    chart = (
        alt.Chart(alt.Data(values=_records(data)))
        .mark_point(size=100, filled=True)
        .encode(
            x=alt.X("tone:Q", title="Article tone"),
            y=alt.Y("car_m1_p1:Q", title="CAR [-1,+1]", axis=alt.Axis(format="%")),
            color=alt.Color("instrument:N", title="Listing"),
            tooltip=[
                alt.Tooltip("title:N"),
                alt.Tooltip("instrument:N"),
                alt.Tooltip("event_date:T"),
                alt.Tooltip("tone:Q", format="+.3f"),
                alt.Tooltip("car_m1_p1:Q", format="+.2%"),
            ],
        )
    )
    return chart.properties(width="container", height=240), data


VERDICT_COLOURS = {"supported": PALETTE[2], "contradicted": PALETTE[5], "unverifiable": "#999999"}


def claim_verdicts_chart(
    claims: pl.DataFrame, articles: pl.DataFrame
) -> tuple[alt.Chart, pl.DataFrame]:
    """How many claims each article makes, by verdict."""
    data = (
        claims.lazy()
        .join(
            articles.lazy().select("article_id", "path", display_title()),
            on="article_id",
            how="left",
        )
        .with_columns(pl.col("title").fill_null(pl.lit("unknown article ") + pl.col("article_id")))
        .group_by("article_id", "title", "verdict")
        .agg(claims=pl.len())
        .sort("article_id", "verdict")
        .collect()
    )
    chart = (
        alt.Chart(alt.Data(values=_records(data)))
        .mark_bar()
        .encode(
            y=alt.Y("title:N", title=None, axis=alt.Axis(labelLimit=260)),
            x=alt.X("claims:Q", title="Claims", axis=alt.Axis(tickMinStep=1)),
            color=alt.Color(
                "verdict:N",
                title="Verdict",
                scale=alt.Scale(domain=list(VERDICT_COLOURS), range=list(VERDICT_COLOURS.values())),
            ),
            tooltip=["title:N", "verdict:N", "claims:Q"],
        )
    )
    return chart.properties(width="container"), data


def range_alt_text(
    data: pl.DataFrame, value: str, label: str, date: str = "date", fmt: str = ",.2f"
) -> str:
    """Alt text naming the date range, the lowest and highest `value` with dates, and the trend."""
    rows = data.drop_nulls(value).sort(date)
    if rows.is_empty():
        return f"No data for {label} in this edition."
    lo = rows.row(rows[value].arg_min(), named=True)
    hi = rows.row(rows[value].arg_max(), named=True)
    first, last = rows.row(0, named=True), rows.row(-1, named=True)
    trend = (
        "rises"
        if last[value] > first[value]
        else "falls"
        if last[value] < first[value]
        else "is flat"
    )
    return (
        f"{label} from {first[date]} to {last[date]} ({rows.height} points): lowest {lo[value]:{fmt}} on "
        f"{lo[date]}, highest {hi[value]:{fmt}} on {hi[date]}; it {trend} from first to last."
    )


def risk_trend_chart(mentions: pl.DataFrame) -> tuple[alt.Chart, pl.DataFrame]:
    """Risk-term mentions per month of publication, stacked by risk.

    Months are bars, not a line: with few articles, a line would draw values for months in
    which nothing was published. `articles` says how many dated articles each month has.
    """
    data = (
        mentions.lazy()
        .filter(pl.col("published_date").is_not_null())
        .with_columns(month=pl.col("published_date").dt.truncate("1mo"))
        .with_columns(articles=pl.col("article_id").n_unique().over("month"))
        .group_by("month", "risk")
        .agg(pl.col("mentions").sum(), pl.col("articles").first())
        .sort("month", "risk")
        .collect()
    )
    # The whole year of the latest article, so months without articles show as gaps.
    year = data["month"].max().year if data.height else None
    domain = [f"{year}-01-01", f"{year}-12-31"] if year else alt.Undefined
    chart = (
        alt.Chart(alt.Data(values=_records(data)))
        .mark_bar()
        .encode(
            x=alt.X(
                "yearmonth(month):T",
                title=None,
                scale=alt.Scale(domain=domain),
                axis=alt.Axis(format="%b", tickCount=12),
            ),
            y=alt.Y("sum(mentions):Q", title="Mentions", axis=alt.Axis(tickMinStep=1)),
            color=alt.Color("risk:N", title="Risk", scale=alt.Scale(range=PALETTE)),
            tooltip=[
                alt.Tooltip("yearmonth(month):T", title="month", format="%B %Y"),
                alt.Tooltip("risk:N"),
                alt.Tooltip("mentions:Q"),
                alt.Tooltip("articles:Q", title="dated articles that month"),
            ],
        )
        .properties(width="container", height=220)
    )
    return chart, data


def risk_trend_alt_text(monthly: pl.DataFrame) -> str:
    """Totals per risk and the busiest month, from the chart's data."""
    if monthly.is_empty():
        return "No dated article mentions the tracked risks."
    totals = (
        monthly.group_by("risk")
        .agg(pl.col("mentions").sum())
        .sort(["mentions", "risk"], descending=[True, False])
    )
    per_month = monthly.group_by("month").agg(pl.col("mentions").sum()).sort("month")
    busiest = per_month.row(per_month["mentions"].arg_max(), named=True)
    months = per_month.height
    return (
        "Risk-term mentions in dated articles, by month of publication: "
        + ", ".join(f"{r['risk']} {r['mentions']}" for r in totals.iter_rows(named=True))
        + f". The busiest month is {busiest['month']:%B %Y} with {busiest['mentions']} mentions;"
        + f" {months} month{'s' if months != 1 else ''} in the year have dated articles."
    )
