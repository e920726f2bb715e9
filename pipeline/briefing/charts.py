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
# A month axis: one tick a month (Vega's default puts two "Mar" labels in one month on a wide
# chart), thinned where the labels would touch on a narrow one.
MONTH_AXIS = alt.Axis(
    format="%b", tickCount={"interval": "month", "step": 1}, labelOverlap=True, labelSeparation=4
)


def theme() -> dict:
    """The shared look: readable type sizes, muted grid, colour-blind-safe categories."""
    return {
        "config": {
            "font": FONT,
            "view": {"stroke": None, "continuousWidth": 640, "continuousHeight": 300},
            "axis": {"labelFontSize": 11, "titleFontSize": 12, "gridColor": "#e6e6e6"},
            # Three entries a row: a legend never runs past a phone-width chart.
            "legend": {"labelFontSize": 11, "titleFontSize": 12, "orient": "bottom", "columns": 3},
            "title": {"fontSize": 14, "anchor": "start"},
            "range": {"category": PALETTE},
        }
    }


@alt.theme.register("briefing", enable=True)
def _briefing_theme() -> alt.theme.ThemeConfig:
    return theme()  # type: ignore[return-value]


TITLE_LINE_CHARS = 40  # about the width of a 360 px chart at the title's size


def title_lines(text: str) -> list[str]:
    """A chart title broken after each "; " so it wraps on a phone instead of running off."""
    if len(text) <= TITLE_LINE_CHARS:
        return [text]
    parts = text.split("; ")
    return [p + (";" if i < len(parts) - 1 else "") for i, p in enumerate(parts)]


def year_prices(prices: pl.DataFrame, instruments: tuple[str, ...], year: int) -> pl.DataFrame:
    """Closes of `instruments` in `year`, indexed to 100 at each one's last close of the year
    before (as the year-to-date figures are), or at its first session when it has none.

    Placeholder rows (a zero-volume row repeating the previous close) are left out.
    """
    frame = prices.lazy().filter(
        pl.col("instrument").is_in(instruments) & (pl.col("date").dt.year() <= year)
    )
    if "placeholder" in prices.columns:
        frame = frame.filter(~pl.col("placeholder").fill_null(False))
    before = pl.col("date").filter(pl.col("date").dt.year() < year).max().over("instrument")
    return (
        frame.sort("instrument", "date")
        .filter((pl.col("date").dt.year() == year) | (pl.col("date") == before))
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


LISTING_COLOUR = {listing: PALETTE[i] for i, listing in enumerate(LISTINGS)}
BENCHMARK_COLOUR = "#8a8a8a"


def price_path_chart(
    prices: pl.DataFrame,
    articles: pl.DataFrame,
    year: int,
    abnormal_returns: pl.DataFrame | None = None,
    events: pl.DataFrame | None = None,
    reactions: pl.DataFrame | None = None,
    clusters: pl.DataFrame | None = None,
) -> tuple[alt.VConcatChart, pl.DataFrame]:
    """One panel per listing against its own benchmark, both indexed to 100 at the first session
    of `year`. The listing is the strong solid line, the benchmark thin and grey; diamonds mark
    article days; significant reactions are named (listing, measure, t) and the latest run of
    coverage is a shaded band. The x-axis runs to the last session, so every article is inside.
    """
    path = year_prices(prices, LISTINGS + BENCHMARKS, year)
    listings = path.filter(pl.col("instrument").is_in(LISTINGS))
    marks = article_marks(articles, listings)
    if marks.height and events is not None and events.height:
        car = events.select("article_id", "instrument", pl.col("car_m1_p1").alias("car"))
        marks = marks.join(car, on=["article_id", "instrument"], how="left")
    if marks.height and "tone" in articles.columns:
        marks = marks.join(articles.select("article_id", "tone"), on="article_id", how="left")
    domain = (
        [path["date"].min().isoformat(), path["date"].max().isoformat()] if path.height else None
    )
    panels = [
        _price_panel(listing, path, marks, reactions, clusters, year, domain)
        for listing in LISTINGS
        if listings.filter(pl.col("instrument") == listing).height
    ]
    chart = alt.vconcat(*panels, spacing=18).resolve_scale(color="independent")
    plotted = path.with_columns(
        role=pl.when(pl.col("instrument").is_in(LISTINGS))
        .then(pl.lit("listing"))
        .otherwise(pl.lit("benchmark"))
    )
    return chart, plotted.sort("instrument", "date")


def _price_panel(
    listing: str,
    path: pl.DataFrame,
    marks: pl.DataFrame,
    reactions: pl.DataFrame | None,
    clusters: pl.DataFrame | None,
    year: int,
    domain: list[str] | None,
) -> alt.LayerChart:
    benchmark = BENCHMARK_OF[listing]
    pair = path.filter(pl.col("instrument").is_in([listing, benchmark])).with_columns(
        role=pl.when(pl.col("instrument") == listing)
        .then(pl.lit("listing"))
        .otherwise(pl.lit("benchmark"))
    )
    x = alt.X(
        "date:T",
        title=None,
        scale=alt.Scale(domain=domain) if domain else alt.Undefined,
        axis=MONTH_AXIS,
    )
    named = _significant_labels(reactions, path, listing, year)
    y = alt.Y("index:Q", title="Index", scale=_headroom_scale(pair["index"], named))
    colour = alt.Color(
        "instrument:N",
        title=None,
        scale=alt.Scale(
            domain=[listing, benchmark], range=[LISTING_COLOUR[listing], BENCHMARK_COLOUR]
        ),
        legend=alt.Legend(orient="bottom", direction="horizontal"),
    )
    lines = (
        alt.Chart(alt.Data(values=_records(pair)))
        .mark_line()
        .encode(
            x=x,
            y=y,
            color=colour,
            strokeWidth=alt.StrokeWidth(
                "role:N",
                scale=alt.Scale(domain=["listing", "benchmark"], range=[2.4, 1.2]),
                legend=None,
            ),
            tooltip=_close_tooltip("series"),
        )
    )
    layers: list[alt.Chart] = []
    latest = _latest_band(clusters, listing, year)
    if latest is not None:
        layers.append(latest)
    layers.append(lines)
    own = marks.filter(pl.col("instrument") == listing) if marks.height else marks
    if own.height:
        tips = [
            alt.Tooltip("title:N", title="article"),
            alt.Tooltip("source:N", title="publisher"),
            alt.Tooltip("published_date:T", title="published", format="%-d %b %Y"),
        ]
        if "tone" in own.columns:
            tips.append(alt.Tooltip("tone:Q", title="tone", format="+.2f"))
        if "car" in own.columns:
            tips.append(
                alt.Tooltip("car:Q", title="abnormal return, sessions −1…+1", format="+.1%")
            )
        own = own.with_columns(pl.col("source").fill_null("publisher not known"))
        layers.append(
            alt.Chart(alt.Data(values=_records(own)))
            .mark_point(
                shape="diamond",
                size=90,
                filled=True,
                stroke="white",
                strokeWidth=1,
                color=LISTING_COLOUR[listing],
            )
            .encode(x=x, y="index:Q", tooltip=tips)
        )
    if named is not None:
        layers += named
    title = _panel_title(path, listing, benchmark)
    return alt.layer(*layers).properties(
        width="container", height=PANEL_HEIGHT, title=title_lines(title)
    )


PANEL_HEIGHT = 190  # px of one price panel's plot


def _headroom_scale(index: pl.Series, labels: list[alt.Chart] | None) -> alt.Scale:
    """A y scale whose top leaves the rows of the significant-day labels clear of the lines:
    the labels sit in fixed pixel rows at the top (`_significant_labels`), so the domain is
    raised by that share of the panel's height."""
    if not labels or index.is_empty():
        return alt.Scale(zero=False)
    rows = (len(labels) - 1) // 2  # a dot layer, then a rule and a text per label
    share = (LABEL_TOP + LABEL_ROW * rows) / PANEL_HEIGHT
    lo, hi = float(index.min()), float(index.max())
    return alt.Scale(zero=False, domain=[lo, hi + (hi - lo) * share / (1 - share)])


def _panel_title(path: pl.DataFrame, listing: str, benchmark: str) -> str:
    """ "BABA +87.4% this year, S&P 500 +14.1%": the panel's finding, from its own data."""

    def change(ins: str) -> float | None:
        line = path.filter(pl.col("instrument") == ins).sort("date")
        return line["index"][-1] / 100 - 1 if line.height else None

    names = reference.instruments()
    own, bench = change(listing), change(benchmark)
    start = path.filter(pl.col("instrument") == listing)["date"].min()
    text = f"{listing} {_pct(own)} since {start:%-d %b %Y}"
    if bench is not None:
        text += f"; {names[benchmark].name} {_pct(bench)}"
    return text


def _pct(v: float | None) -> str:
    return "not available" if v is None else f"{v * 100:+.1f}%".replace("-", "−")


def _latest_band(clusters: pl.DataFrame | None, listing: str, year: int) -> alt.Chart | None:
    """The latest run of coverage as a shaded band, labelled with its dates and verdict."""
    if clusters is None or clusters.is_empty():
        return None
    run = clusters.filter(
        (pl.col("instrument") == listing) & (pl.col("cluster") == clusters["cluster"].max())
    )
    if run.is_empty() or run["start"][0].year != year or run["start"][0] == run["end"][0]:
        return None
    r = run.row(0, named=True)
    verdict = "none significant" if not r["n_significant"] else f"{r['n_significant']} significant"
    band = pl.DataFrame(
        {
            "start": [r["start"].isoformat()],
            "end": [r["end"].isoformat()],
            "label": [f"{r['n_articles']} articles, {verdict}"],
        }
    )
    base = alt.Chart(alt.Data(values=band.to_dicts()))
    rect = base.mark_rect(color="#f2e5c9", opacity=0.7).encode(x="start:T", x2="end:T")
    # At the foot of the band, clear of the labels of significant days at the top.
    text = base.mark_text(
        align="right", baseline="bottom", dy=-4, dx=-4, fontSize=10, color="#6b5a2e"
    ).encode(x="start:T", y=alt.value("height"), text="label:N")
    return alt.layer(rect, text)


LABEL_TOP, LABEL_ROW = 14, 13  # px: the first label's baseline (plus a margin), each next row


def _significant_labels(
    reactions: pl.DataFrame | None, path: pl.DataFrame, listing: str, year: int
) -> list[alt.Chart] | None:
    """Names the significant reactions of `listing`, each label on its own row so none collides:
    date, what the news was, and the abnormal return net of the benchmark with its t."""
    if reactions is None or reactions.is_empty():
        return None
    sig = reactions.filter(
        (pl.col("instrument") == listing)
        & pl.col("significant")
        & (pl.col("event_date").dt.year() == year)
    ).sort("event_date")
    if sig.is_empty():
        return None
    names = reference.instruments()
    rows = sig.join(
        path.select("instrument", pl.col("date").alias("event_date"), "index"),
        on=["instrument", "event_date"],
        how="left",
    ).with_columns(
        label=pl.col("event_date").dt.strftime("%-d %b")
        + pl.lit(": ")
        + pl.col("label").fill_null("article")
        + pl.lit(", ")
        + pl.col("abnormal_ret").map_elements(_pct, return_dtype=pl.String)
        + pl.lit(f" net of the {names[BENCHMARK_OF[listing]].name} (t = ")
        + pl.col("t_ar").round(1).cast(pl.String).str.replace("-", "−")
        + pl.lit(")"),
        row=pl.int_range(pl.len()),
    )
    base = alt.Chart(alt.Data(values=_records(rows)))
    dot = base.mark_point(
        shape="circle", size=70, filled=False, strokeWidth=1.5, color="#222"
    ).encode(x="event_date:T", y="index:Q")
    # Each label on its own row at the top of the panel, joined to its day by a thin rule, so
    # labels never sit on the line or on each other.
    layers: list[alt.Chart] = [dot]
    for i in range(rows.height):
        one = base.transform_filter(f"datum.row == {i}")
        top = LABEL_TOP - 2 + LABEL_ROW * i
        layers += [
            one.mark_rule(color="#222", strokeWidth=0.6).encode(
                x="event_date:T", y="index:Q", y2=alt.value(top)
            ),
            one.mark_text(align="left", dx=4, baseline="bottom", fontSize=10, color="#222").encode(
                x="event_date:T", y=alt.value(top), text="label:N"
            ),
        ]
    return layers


def close_up_chart(
    prices: pl.DataFrame, articles: pl.DataFrame, clusters: pl.DataFrame, reactions: pl.DataFrame
) -> tuple[alt.LayerChart | None, pl.DataFrame]:
    """The latest run of coverage, from the session before its first article to its end: both
    listings indexed to 100 at that session, each article's day a rule with its name on its own
    row (labels never collide)."""
    if clusters.is_empty():
        return None, pl.DataFrame()
    run = clusters.filter(pl.col("cluster") == clusters["cluster"].max()).row(0, named=True)
    listings = prices.filter(
        pl.col("instrument").is_in(LISTINGS) & ~pl.col("placeholder").fill_null(False)
    )
    before = (
        listings.filter(pl.col("date") < run["start"])
        .group_by("instrument")
        .agg(pl.col("date").max())
    )
    start = before["date"].min() if before.height else run["start"]
    window = (
        listings.filter(pl.col("date").is_between(start, run["end"]))
        .sort("instrument", "date")
        .with_columns(index=pl.col("close") / pl.col("close").first().over("instrument") * 100)
        .select("instrument", "date", "close", "currency", "index")
    )
    dated = (
        articles.filter(pl.col("published_date").is_between(run["start"], run["end"]))
        .sort("published_date")
        .select(
            "article_id", display_title(), display_source("publisher not known"), "published_date"
        )
    )
    topic = reactions.select(pl.col("article_ids").str.split("; "), "topic").explode("article_ids")
    topic = topic.rename({"article_ids": "article_id"}).unique("article_id", keep="first")
    notes = dated.join(topic, on="article_id", how="left").with_columns(
        label=pl.col("published_date").dt.strftime("%-d %b")
        + pl.lit(" · ")
        + pl.coalesce("topic", pl.col("title").str.slice(0, 40)),
        row=pl.int_range(pl.len()),
        right=pl.col("published_date") > (pl.lit(start) + (pl.lit(run["end"]) - pl.lit(start)) / 2),
    )
    x = alt.X(
        "date:T",
        title=None,
        scale=alt.Scale(domain=[start.isoformat(), run["end"].isoformat()]),
        axis=alt.Axis(format="%-d %b", labelOverlap=True),
    )
    lines = (
        alt.Chart(alt.Data(values=_records(window)))
        .mark_line(strokeWidth=2.2, point=True)
        .encode(
            x=x,
            y=alt.Y(
                "index:Q",
                title=f"Index (close on {start:%-d %b} = 100)",
                scale=alt.Scale(zero=False),
            ),
            color=alt.Color(
                "instrument:N",
                title=None,
                scale=alt.Scale(domain=list(LISTINGS), range=[LISTING_COLOUR[i] for i in LISTINGS]),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=_close_tooltip("listing"),
        )
    )
    base = alt.Chart(
        alt.Data(values=_records(notes.with_columns(pl.col("published_date").alias("date"))))
    )
    rules = base.mark_rule(color="#999", strokeDash=[3, 3]).encode(
        x="date:T",
        tooltip=[
            alt.Tooltip("title:N", title="article"),
            alt.Tooltip("source:N", title="publisher"),
        ],
    )
    labels = [
        base.transform_filter(f"datum.row == {i}")
        .mark_text(
            align="right" if r else "left",
            dx=-4 if r else 4,
            baseline="top",
            fontSize=10,
            color="#333",
        )
        .encode(x="date:T", y=alt.value(4 + 14 * i), text="label:N")
        for i, r in enumerate(notes["right"].to_list())
    ]
    first = {
        r["instrument"]: r
        for r in window.group_by("instrument").agg(pl.col("index").last()).iter_rows(named=True)
    }
    title = ", ".join(f"{i} {_pct(first[i]['index'] / 100 - 1)}" for i in LISTINGS if i in first)
    chart = alt.layer(rules, lines, *labels).properties(
        width="container",
        height=240 + 14 * notes.height,
        title=title_lines(f"{run['start']:%-d %b}–{run['end']:%-d %b}: {title}"),
    )
    return chart, window


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


DERIVED_TITLE_CHARS = 72


def display_title() -> pl.Expr:
    """An article's title for labels, tables and tooltips, from the `articles` columns `title`
    and `text`: an untitled article gets its first sentence (cut at a word near 72 characters),
    marked "(derived title)", so no label is blank, "null" or a file name. The table itself keeps
    the title null."""
    first = pl.col("text").str.strip_chars().str.extract(r"^([^\n]*?[.!?。！？])(?:\s|$)", 1)
    first = pl.coalesce(first, pl.col("text").str.strip_chars().str.slice(0, 200))
    short = (
        pl.when(first.str.len_chars() > DERIVED_TITLE_CHARS)
        .then(first.str.slice(0, DERIVED_TITLE_CHARS).str.replace(r"\s+\S*$", "") + pl.lit("…"))
        .otherwise(first)
    )
    derived = short + pl.lit(" (derived title)")
    return pl.coalesce(pl.col("title"), derived, pl.lit("untitled article")).alias("title")


def display_source(unknown: str = "publisher not known") -> pl.Expr:
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
    """BABA since listing on one price basis, as traded: where the snapshot has no as-traded
    close the line stops and a grey band says so, so dividend-adjusted and as-traded prices are
    never joined into one line (joining them drew a false step in December 2020). The 2020 peak
    and 2022 low are labelled with the basis their value is on."""
    series = (
        prices.lazy()
        .filter((pl.col("instrument") == "BABA") & pl.col("close_traded").is_not_null())
        .select("date", pl.col("close_traded").alias("price"), pl.lit("as traded").alias("basis"))
        .sort("date")
        .with_columns(line_segments("date", PRICE_GAP_DAYS))
        .collect()
    )
    gaps = (
        series.with_columns(prev=pl.col("date").shift())
        .filter((pl.col("date") - pl.col("prev")).dt.total_days() > PRICE_GAP_DAYS)
        .select(pl.col("prev").alias("start"), pl.col("date").alias("end"))
    )
    x = alt.X("date:T", title=None, axis=alt.Axis(format="%Y", labelOverlap=True))
    layers: list[alt.Chart] = []
    if gaps.height:
        band = alt.Chart(alt.Data(values=_records(gaps)))
        layers.append(
            band.mark_rect(color="#ececec").encode(
                x="start:T",
                x2="end:T",
                tooltip=[
                    alt.Tooltip(
                        "start:T", title="as-traded closes missing from", format="%-d %b %Y"
                    ),
                    alt.Tooltip("end:T", title="to", format="%-d %b %Y"),
                ],
            )
        )
    layers.append(
        alt.Chart(alt.Data(values=_records(series)))
        .mark_line(strokeWidth=1.4, color=PALETTE[0])
        .encode(
            x=x,
            y=alt.Y("price:Q", title="BABA close as traded", axis=axis_in_units(1, "USD")[0]),
            detail="segment:N",
            tooltip=[
                alt.Tooltip("date:T", title="date", format="%-d %b %Y"),
                alt.Tooltip("price:Q", title="close as traded (US$)", format=",.2f"),
            ],
        )
    )
    if long_run_extremes.height:
        ext = long_run_extremes.select(
            "date",
            "shown",
            label=pl.col("event")
            + pl.lit(": US$")
            + pl.col("shown").round(2).cast(pl.String)
            + pl.lit(" (")
            + pl.col("basis")
            + pl.lit(")"),
        )
        pts = alt.Chart(alt.Data(values=_records(ext)))
        layers += [
            pts.mark_point(size=60, filled=True, color="#000").encode(x="date:T", y="shown:Q"),
            # Right-aligned: both extremes lie in the right half of the listing's history.
            pts.mark_text(dx=-8, fontSize=11, align="right").encode(
                x="date:T", y="shown:Q", text="label:N"
            ),
        ]
    peak = series.row(series["price"].arg_max(), named=True) if series.height else None
    title = (
        f"BABA peaked at US${peak['price']:,.2f}; on {peak['date']:%-d %b %Y} (as traded)"
        if peak
        else "BABA: no as-traded history in the snapshot"
    )
    chart = alt.layer(*layers).properties(width="container", height=240, title=title_lines(title))
    return chart, series


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
    gaps = series.filter(pl.col("segment") != pl.col("segment").shift()).height - 1
    if gaps > 0:
        text += f" The line has {gaps} gap(s) where the snapshot has no as-traded close."
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
    data = data.with_columns(pl.col("spike").fill_null(False), pl.col("volume_ratio").round(2))
    panels = [
        _turnover_panel(data.filter(pl.col("instrument") == listing), listing)
        for listing in LISTINGS
        if data.filter(pl.col("instrument") == listing).height
    ]
    chart = alt.vconcat(*panels, spacing=16) if panels else alt.Chart().mark_bar()
    return chart, data


def axis_in_units(max_value: float, currency: str) -> tuple[alt.Axis, str]:
    """An axis whose labels read "US$2bn" or "HK$500m", never SI "G" or "T"."""
    from pipeline.briefing.display import CURRENCY_SIGNS

    sign = CURRENCY_SIGNS.get(currency, f"{currency} ")
    scale, suffix = (1e9, "bn") if max_value >= 1e9 else (1e6, "m") if max_value >= 1e6 else (1, "")
    expr = (
        f"datum.value == 0 ? '0' : '{sign}' + format(datum.value / {scale:g}, ',~r') + '{suffix}'"
    )
    return alt.Axis(labelExpr=expr, tickCount=4), f"{sign}{suffix}"


def _turnover_panel(rows: pl.DataFrame, listing: str) -> alt.Chart:
    """One listing's daily turnover in its own currency, volume spikes in orange; the title
    names the busiest day and counts the spikes."""
    currency = rows["currency"][0]
    busiest = rows.row(rows["turnover"].arg_max(), named=True)
    from pipeline.briefing.display import day, money

    spikes = int(rows["spike"].fill_null(False).sum())
    axis, _ = axis_in_units(busiest["turnover"], currency)
    title = (
        f"{listing}: busiest day {day(busiest['date'])} ({money(busiest['turnover'], currency)}); "
        f"{spikes} volume spike{'s' if spikes != 1 else ''}"
    )
    tidy = rows
    return (
        alt.Chart(alt.Data(values=_records(tidy)))
        .mark_bar(width=2)
        .encode(
            x=alt.X("date:T", title=None, axis=MONTH_AXIS),
            y=alt.Y("turnover:Q", title=f"Turnover ({currency})", axis=axis),
            color=alt.condition("datum.spike", alt.value(PALETTE[5]), alt.value("#9bb7d4")),
            tooltip=[
                alt.Tooltip("date:T", title="date", format="%-d %b %Y"),
                alt.Tooltip("turnover:Q", title=f"turnover ({currency})", format=",.0f"),
                alt.Tooltip(
                    "volume_ratio:Q", title="volume ÷ mean of previous 20 sessions", format=".2f"
                ),
            ],
        )
        .properties(width="container", height=120, title=title_lines(title))
    )


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
            display_source(),
            "tone",
            "tone_label",
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
        x=alt.X("published_date:T", title=None, axis=MONTH_AXIS),
        y=alt.Y("tone:Q", title="Net tone"),
        color=alt.Color("language:N", title="Language"),
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
    title = title_lines(tone_title(data))
    return (zero + roll + pts).properties(width="container", height=240, title=title), data


def tone_title(data: pl.DataFrame) -> str:
    """ "4 of 5 articles read negative; mean tone −0.55": the tone chart's finding, from its
    data, counted by the same labels the tables show (a slightly negative score is neutral)."""
    if data.is_empty():
        return "No dated article has a tone score"
    negative, n = int((data["tone_label"] == "negative").sum()), data.height
    mean = f"{data['tone'].mean():+.2f}".replace("-", "−")
    return f"{negative} of {n} articles read negative; mean tone {mean}"


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
    title = title_lines(tone_car_title(data))
    return chart.properties(width="container", height=240, title=title), data


# Below this many article-listing pairs a correlation is reported but read as no pattern.
PATTERN_MIN_POINTS = 20


def tone_car_title(data: pl.DataFrame) -> str:
    """ "Tone vs reaction: r = −0.21 over 8 points; too few articles to show a pattern"."""
    if data.height < 3:
        return "Too few articles with a tone and a market reaction to compare"
    r = data.select(pl.corr("tone", "car_m1_p1")).item()
    text = f"Tone vs reaction: r = {r:+.2f} over {data.height} points".replace("-", "−")
    return text + (
        "; too few articles to show a pattern" if data.height < PATTERN_MIN_POINTS else ""
    )


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
            y=alt.Y("title:N", title=None, axis=alt.Axis(labelLimit=150)),
            x=alt.X("claims:Q", title="Claims", axis=alt.Axis(tickMinStep=1)),
            color=alt.Color(
                "verdict:N",
                title="Verdict",
                scale=alt.Scale(domain=list(VERDICT_COLOURS), range=list(VERDICT_COLOURS.values())),
                legend=alt.Legend(orient="bottom", direction="vertical", columns=1),
            ),
            tooltip=["title:N", "verdict:N", "claims:Q"],
        )
    )
    return chart.properties(width="container", title=title_lines(verdicts_title(data))), data


def verdicts_title(data: pl.DataFrame) -> str:
    """ "13 of 19 claims hold; 0 contradicted, 6 cannot be checked", from the chart's data."""
    count = dict(data.group_by("verdict").agg(pl.col("claims").sum()).iter_rows())
    total = sum(count.values())
    return (
        f"{count.get('supported', 0)} of {total} claims hold; {count.get('contradicted', 0)} "
        f"contradicted, {count.get('unverifiable', 0)} cannot be checked"
    )


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
        # Per article: most of the corpus dates from one month, so raw counts would rise there
        # for that reason alone.
        .with_columns(per_article=pl.col("mentions") / pl.col("articles"))
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
                axis=MONTH_AXIS,
            ),
            y=alt.Y("per_article:Q", title="Mentions per dated article", stack=True),
            color=alt.Color("risk:N", title="Risk", scale=alt.Scale(range=PALETTE)),
            tooltip=[
                alt.Tooltip("yearmonth(month):T", title="month", format="%B %Y"),
                alt.Tooltip("risk:N", title="risk"),
                alt.Tooltip("mentions:Q", title="mentions"),
                alt.Tooltip("articles:Q", title="dated articles that month"),
                alt.Tooltip("per_article:Q", title="per article", format=".1f"),
            ],
        )
        .properties(width="container", height=220, title=title_lines(risk_title(data)))
    )
    return chart, data


def risk_title(data: pl.DataFrame) -> str:
    """ "Risk terms peak in Nov 2025; 4.0 per article, military ties lead", from the data (two
    short lines on a phone)."""
    if data.is_empty():
        return "No dated article mentions the tracked risks"
    months = data.group_by("month").agg(pl.col("per_article").sum()).sort("per_article")
    month, per_article = months.row(-1)
    lead = data.filter(pl.col("month") == month).sort("per_article").row(-1, named=True)
    return f"Risk terms peak in {month:%b %Y}; {per_article:.1f} per article, {lead['risk']} lead"


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


def _close_tooltip(series_title: str) -> list:
    """The tooltip of an indexed close: which series, the day, the close, currency and index."""
    return [
        alt.Tooltip("instrument:N", title=series_title),
        alt.Tooltip("date:T", title="date", format="%-d %b %Y"),
        alt.Tooltip("close:Q", title="close", format=",.2f"),
        alt.Tooltip("currency:N", title="currency"),
        alt.Tooltip("index:Q", title="index", format=".1f"),
    ]
