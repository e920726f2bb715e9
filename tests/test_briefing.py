"""Issue 5: charts, alt text and the data-driven narrative, on the real edition's tables."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import altair as alt
import polars as pl
import pytest
from pypdf import PdfReader

from pipeline.briefing import charts, narrative
from pipeline.findings.risk_mentions import risk_mentions
from pipeline.findings.summary import verdict_counts
from pipeline.findings.year_to_date import year_to_date
from pipeline.reference import risk_terms


def _values(chart: alt.TopLevelMixin) -> list[list[dict]]:
    """Every inline dataset of a chart spec."""
    found: list[list[dict]] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            data = node.get("data")
            if isinstance(data, dict) and isinstance(data.get("values"), list):
                found.append(data["values"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(chart.to_dict(validate=True))  # validates against Altair's Vega-Lite schema
    return found


@pytest.fixture(scope="module")
def year(tables) -> int:
    return tables.edition.as_of.year


def test_price_path_chart_plots_the_prices_table(tables, year) -> None:
    chart, data = charts.price_path_chart(
        tables["prices"],
        tables["articles"],
        year,
        abnormal_returns=tables["abnormal_returns"],
        events=tables["events"],
        reactions=tables["article_reactions"],
        clusters=tables["news_clusters"],
    )
    # One panel per listing: the listing and its own benchmark, from the last close of the
    # year before (the year-to-date base) to the last session.
    lines = [v for v in _values(chart) if v and "role" in v[0]]
    assert len(lines) == 2
    plotted = [row for line in lines for row in line]
    prices = tables["prices"].filter(~pl.col("placeholder"))
    expected = prices.filter(
        pl.col("instrument").is_in(["BABA", "9988.HK", "HSI", "SPX"])
        & (pl.col("date").dt.year() == year)
    )
    assert len(plotted) == expected.height + 4  # plus one base close per series
    assert data.height == len(plotted)
    baba_last = expected.filter(pl.col("instrument") == "BABA").sort("date").row(-1, named=True)
    row = [
        v
        for v in plotted
        if v["instrument"] == "BABA" and v["date"] == baba_last["date"].isoformat()
    ]
    assert row[0]["close"] == pytest.approx(baba_last["close"])
    ytd = tables["year_to_date"].filter(pl.col("instrument") == "BABA").row(0, named=True)
    if ytd["basis"] == "dividend-adjusted":
        assert row[0]["index"] == pytest.approx((ytd["change"] + 1) * 100)
    # Every dated article is marked on its listing's panel.
    dated = tables["articles"].filter(pl.col("published_date").dt.year() == year).height
    marks = [v for v in _values(chart) if v and "title" in v[0] and "published_date" in v[0]]
    assert [len(m) for m in marks] == [dated, dated]


def test_price_path_alt_text_names_computed_extremes(tables, year) -> None:
    _, data = charts.price_path_chart(tables["prices"], tables["articles"], year)
    baba = data.filter(pl.col("instrument") == "BABA")
    text = charts.price_path_alt_text(baba)
    low = baba.row(baba["close"].arg_min(), named=True)
    high = baba.row(baba["close"].arg_max(), named=True)
    assert f"{low['close']:,.2f} on {low['date']}" in text
    assert f"{high['close']:,.2f} on {high['date']}" in text


def test_long_run_extremes_found_in_data(tables) -> None:
    ext = tables["long_run_extremes"]
    baba = tables["prices"].filter(pl.col("instrument") == "BABA")
    peak_2020 = (
        baba.filter(pl.col("date").dt.year() == 2020)
        .select(pl.coalesce("close_traded", "close").max())
        .item()
    )
    assert ext.filter(pl.col("event") == "2020 peak")["shown"].item() == pytest.approx(peak_2020)
    chart, series = charts.long_run_chart(tables["prices"], ext)
    text = charts.long_run_alt_text(series, ext)
    assert f"${peak_2020:,.2f}" in text
    _values(chart)


@pytest.mark.parametrize("builder", ["turnover", "tone", "car", "claims"])
def test_every_chart_is_valid_vega_lite_with_its_data(tables, year, builder: str) -> None:
    t = tables
    chart, data = {
        "turnover": lambda: charts.turnover_chart(t["flows"], year),
        "tone": lambda: charts.tone_over_time_chart(t["articles"]),
        "car": lambda: charts.tone_vs_car_chart(t["articles"], t["events"]),
        "claims": lambda: charts.claim_verdicts_chart(t["claims"], t["articles"]),
    }[builder]()
    datasets = _values(chart)
    assert data.height > 0
    # A chart of one view plots `data`; a chart of panels plots it split across the panels.
    panels = [v for v in datasets if v and set(v[0]) == set(data.columns)]
    assert any(len(values) == data.height for values in datasets) or (
        sum(map(len, panels)) == data.height
    )


def test_turnover_is_close_times_volume(tables, year) -> None:
    _, data = charts.turnover_chart(tables["flows"], year)
    row = data.filter(pl.col("instrument") == "BABA").sort("date").row(-1, named=True)
    price = tables["prices"].filter(
        (pl.col("instrument") == "BABA") & (pl.col("date") == row["date"])
    )
    expected = price.select(pl.coalesce("close_traded", "close") * pl.col("volume")).item()
    assert row["turnover"] == pytest.approx(expected, rel=1e-6)


def test_key_findings_come_from_the_tables(tables, settings) -> None:
    frames = dict(tables.frames)
    as_of = tables.edition.as_of.isoformat()
    findings = narrative.key_findings(frames, as_of)
    text = " ".join(findings)
    ytd = year_to_date(frames["prices"], tables.edition.as_of.year)
    for row in ytd.iter_rows(named=True):
        assert f"{row['change'] * 100:+.1f}%" in text
    counts = verdict_counts(frames["claims"])
    assert f"{counts['supported']} are supported" in text


def test_prose_changes_when_the_data_change(tables, settings) -> None:
    frames = dict(tables.frames)
    as_of = tables.edition.as_of.isoformat()
    before = narrative.key_findings(frames, as_of)
    # Double BABA's latest close: the finding must follow the data.
    last = frames["prices"].filter(pl.col("instrument") == "BABA")["date"].max()
    bump = (pl.col("instrument") == "BABA") & (pl.col("date") == last)
    frames["prices"] = frames["prices"].with_columns(
        close=pl.when(bump).then(pl.col("close") * 2).otherwise(pl.col("close")),
        close_traded=pl.when(bump)
        .then(pl.col("close_traded") * 2)
        .otherwise(pl.col("close_traded")),
    )
    frames["year_to_date"] = year_to_date(frames["prices"], tables.edition.as_of.year)
    after = narrative.key_findings(frames, as_of)
    assert before != after
    new_ytd = year_to_date(frames["prices"], tables.edition.as_of.year).filter(
        pl.col("instrument") == "BABA"
    )
    assert f"{new_ytd['change'].item() * 100:+.1f}%" in " ".join(after)


def test_risk_mentions_count_the_corpus_terms(tables, settings) -> None:
    mentions = risk_mentions(
        tables["sentences"], tables["articles"], risk_terms(settings.reference_dir)
    )
    assert mentions.equals(tables["risk_mentions"])
    expected = (
        tables["sentences"]
        .select(pl.col("text").str.count_matches(r"(?i)\bsanction(s|ed|ing)?\b").sum())
        .item()
    )
    got = mentions.filter(pl.col("risk") == "sanctions")["mentions"].sum()
    assert got >= expected > 0


def test_pdf_contains_key_numbers(site, tables) -> None:
    pdf = site / f"alibaba-briefing-{tables.edition.id}.pdf"
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(pdf).pages))
    numbers = tables["key_numbers"]
    for row in numbers.filter(pl.col("name").str.contains("change in")).iter_rows(named=True):
        assert f"{row['value']:+.1f}%" in text, row["name"]
    n_claims = tables["claims"].height
    assert f"of {n_claims} numeric market claims" in text


def test_no_row_after_as_of_in_any_chart_data(site, tables) -> None:
    cut = tables.edition.as_of
    for csv in sorted((site / "data" / "charts").glob("*.csv")):
        df = pl.read_csv(csv, try_parse_dates=True)
        for col in ("date", "published_date", "event_date"):
            if col in df.columns and df[col].dtype == pl.Date:
                assert df[col].drop_nulls().max() <= cut, csv.name


def test_charts_have_csv_downloads_in_the_site(site) -> None:
    html = (Path(site) / "report" / "index.html").read_text()
    for href in re.findall(r'href="(\.\./data/charts/[^"]+\.csv)"', html):
        assert (site / "report" / href).resolve().is_file()
    assert html.count('class="chart"') >= 6


def test_year_to_date_uses_previous_year_close(tables) -> None:
    ytd = year_to_date(tables["prices"], tables.edition.as_of.year)
    baba = ytd.filter(pl.col("instrument") == "BABA").row(0, named=True)
    assert baba["base_date"] < dt.date(tables.edition.as_of.year, 1, 1)
    # One basis for both listings: 9988.HK has no as-traded close at the end of the previous
    # year, so both changes are on dividend-adjusted closes, from the same last session.
    assert ytd["basis"].n_unique() == 1
    hk = ytd.filter(pl.col("instrument") == "9988.HK").row(0, named=True)
    if hk["basis"] == "dividend-adjusted":
        assert baba["basis"] == "dividend-adjusted"
        assert baba["change"] == pytest.approx(baba["last"] / baba["base"] - 1)
    # The Hong Kong half-day of 31 December is a real close, not a placeholder.
    assert hk["base_date"] == dt.date(tables.edition.as_of.year - 1, 12, 31)


def test_chart_titles_state_findings_from_the_tables(tables) -> None:
    """The claim, tone and risk charts' titles give the counts the tables hold."""
    claims = tables["claims"]
    _, verdicts = charts.claim_verdicts_chart(claims, tables["articles"])
    n = {v: claims.filter(pl.col("verdict") == v).height for v in ("supported", "unverifiable")}
    title = charts.verdicts_title(verdicts)
    assert title.startswith(f"{n['supported']} of {claims.height} claims hold")
    assert f"{n['unverifiable']} cannot be checked" in title
    dated = tables["articles"].filter(pl.col("published_date").is_not_null())
    negative = dated.filter(pl.col("tone_label") == "negative").height
    _, tone = charts.tone_over_time_chart(tables["articles"])
    assert charts.tone_title(tone).startswith(f"{negative} of {dated.height} articles")
    mentions = tables["risk_mentions"].filter(pl.col("published_date").is_not_null())
    busiest = (
        mentions.group_by(pl.col("published_date").dt.strftime("%b %Y"))
        .agg(pl.col("mentions").sum() / pl.col("article_id").n_unique())
        .sort("mentions")
        .row(-1)
    )
    _, monthly = charts.risk_trend_chart(tables["risk_mentions"])
    assert f"in {busiest[0]}; {busiest[1]:.1f} per article" in charts.risk_title(monthly)


def test_tone_car_title_gives_the_correlation_of_its_points(tables) -> None:
    _, data = charts.tone_vs_car_chart(tables["articles"], tables["events"])
    pairs = (
        tables["events"].join(tables["articles"], on="article_id").drop_nulls(["tone", "car_m1_p1"])
    )
    tone, car = pairs["tone"].to_list(), pairs["car_m1_p1"].to_list()
    n, mt, mc = len(tone), sum(tone) / len(tone), sum(car) / len(car)
    cov = sum((a - mt) * (b - mc) for a, b in zip(tone, car, strict=True))
    r = cov / (sum((a - mt) ** 2 for a in tone) * sum((b - mc) ** 2 for b in car)) ** 0.5
    assert f"r = {r:+.2f} over {n} points".replace("-", "−") in charts.tone_car_title(data)


def test_what_we_cant_verify_names_the_data_that_would_settle_each_claim(tables) -> None:
    rows = {r["quote"]: r["need"] for r in narrative.unverifiable_claims(tables["claims"])}
    unverifiable = tables["claims"].filter(pl.col("verdict") == "unverifiable")
    assert set(rows) == set(unverifiable["quote"])
    # a move whose session the article does not fix: the data exists, the time does not
    timing = unverifiable.filter(
        pl.col("observed_value").is_not_null(), pl.col("unit") == "percent"
    )
    assert timing.height and all("publication time" in rows[q] for q in timing["quote"])
    # a price level known only on the adjusted basis needs as-traded closes
    level = unverifiable.filter(pl.col("basis") == "adjusted", pl.col("unit") != "percent")
    assert level.height and all(rows[q].startswith("as-traded") for q in level["quote"])


def test_docs_shown_on_the_site_keep_headings_without_code_paths() -> None:
    from pipeline.briefing import sections

    text = sections.doc("market.md", sections=("Methods",)).text
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert "### Tolerance table" in headings
    assert not any("pipeline." in h for h in headings)


def test_every_chart_the_pages_show_is_valid_vega_lite(tables, settings, monkeypatch) -> None:
    """The renderer writes chart specs without Altair's schema check; this is that check, on
    every chart a report page calls for, built from the real edition's tables."""
    from pipeline.briefing import sections
    from pipeline.briefing.display import Chart

    monkeypatch.setenv("BRIEFING_PROCESSED_DIR", str(settings.processed_dir))
    pages = "".join(p.read_text(encoding="utf-8") for p in Path("report").glob("*.qmd"))
    views = dict.fromkeys(re.findall(r"^briefing\.(\w+)\(\)$", pages, re.M))
    shown = [getattr(sections, name)() for name in views]
    figures = [view for view in shown if isinstance(view, Chart)]
    assert len(figures) >= 6, views
    for figure in figures:
        figure.chart.to_dict(validate=True)  # raises on a spec Vega-Lite would not accept
