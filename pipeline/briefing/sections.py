"""What the report pages call: one function per block of the briefing.

The `.qmd` files stay thin: each cell calls one function here, which reads the edition's tables
and returns something `pipeline.briefing.display` can show. Tests call the same functions.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path

import polars as pl

from pipeline import reference
from pipeline.briefing import charts, narrative
from pipeline.briefing.display import (
    Chart,
    Markdown,
    chip,
    day,
    escape_md,
    is_html,
    money,
    pct,
    signed,
    stars,
    table,
    url_md,
)
from pipeline.briefing.site_paths import DOCS
from pipeline.config import PROJECT_ROOT, Settings
from pipeline.findings.summary import verdict_counts
from pipeline.tables import load_edition, load_tables


@cache
def _tables(processed_dir: Path) -> dict[str, pl.DataFrame]:
    return load_tables(processed_dir)


# What the cells of a page read, noted so the built-in renderer can tell which cells a change
# affects (`pipeline.render.freeze`): "table:NAME", "edition:KEY", "doc:NAME", "editions",
# "inputs", "chart-data:NAME".
READS: set[str] = set()


def take_reads() -> set[str]:
    """The reads noted since the last call, and forget them."""
    out = set(READS)
    READS.clear()
    return out


class _Noted(Mapping):
    """A read-only mapping that notes every key read from it (iterating notes them all)."""

    def __init__(self, data: Mapping, kind: str) -> None:
        self._data, self._kind = data, kind

    def __getitem__(self, key):
        READS.add(f"{self._kind}:{key}")
        return self._data[key]

    def __iter__(self) -> Iterator:
        READS.update(f"{self._kind}:{k}" for k in self._data)
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


def settings() -> Settings:
    return Settings.from_env()


def tables() -> Mapping[str, pl.DataFrame]:
    """The edition's tables, read once per page."""
    return _Noted(_tables(settings().processed_dir), "table")


def _chart(chart, name: str, *, data: pl.DataFrame | None = None, alt_text: str | None = None):
    """A figure whose data is also written for download, beside this edition's tables."""
    if data is not None:
        READS.add(f"chart-data:{name}")
    return Chart(chart, name, data=data, alt_text=alt_text, data_dir=settings().processed_dir)


def edition() -> Mapping[str, str]:
    return _Noted(load_edition(settings().processed_dir), "edition")


def year() -> int:
    return charts.as_of_year(edition()["as-of"])


def _typst_str(text: str) -> str:
    """A Typst string literal: only backslash and double quote need escaping."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def story() -> Markdown:
    """The headline finding and the lede, written from the tables; first on the page and on
    the PDF cover."""
    t, as_of = tables(), edition()["as-of"]
    head, lede = narrative.headline(t, as_of), narrative.lede(t, as_of)
    if is_html():
        return Markdown(f"::: {{.headline}}\n{head}\n:::\n\n::: {{.lede}}\n{lede}\n:::\n")
    plain = narrative.plain(head)
    return Markdown(f"```{{=typst}}\n#headline({_typst_str(plain)})\n```\n\n{lede}\n")


def key_numbers_view() -> Markdown:
    """The three numbers a reader should take away, each with what it measures."""
    items = narrative.key_number_items(tables(), edition()["as-of"])
    if not items:
        return Markdown("")
    if is_html():
        cells = "\n".join(
            f"::: {{.key-number}}\n[{escape_md(v)}]{{.figure}}\n[{escape_md(label)}]{{.what}}\n:::"
            for v, label in items
        )
        return Markdown(f":::: {{.key-numbers}}\n{cells}\n::::\n")
    args = ", ".join(f"({_typst_str(v)}, {_typst_str(label)})" for v, label in items)
    return Markdown(f"```{{=typst}}\n#key-numbers({args})\n```\n")


def contents() -> Markdown:
    """In the PDF, the contents follow the cover story on a page of their own; the web pages
    have their own contents list."""
    if is_html():
        return Markdown("")
    return Markdown("```{=typst}\n#briefing-contents()\n```\n")


def cannot_verify() -> Markdown:
    """The "What we can't verify" box: unverifiable claims and the data that would settle each."""
    body = narrative.cannot_verify(tables(), edition()["as-of"])
    text = f"**What we can't verify**\n\n{body}\n"
    if is_html():
        return Markdown(f"::: {{.cannot-verify}}\n{text}:::\n")
    return Markdown(f"```{{=typst}}\n#aside-box[\n```\n\n{text}\n```{{=typst}}\n]\n```\n")


def key_findings() -> Markdown:
    """The key-findings box: bullets written from the tables."""
    items = narrative.key_findings(tables(), edition()["as-of"])
    body = (
        "\n".join(f"- {item}" for item in items)
        if items
        else "- No findings: the edition has no data."
    )
    text = f"**Key findings**\n\n{body}\n"
    if is_html():
        return Markdown(f"::: {{.key-findings}}\n{text}:::\n")
    # Typst has no classes: the box is the `key-findings` function of the print template partial.
    return Markdown(f"```{{=typst}}\n#key-findings[\n```\n\n{text}\n```{{=typst}}\n]\n```\n")


# Figures ---------------------------------------------------------------------------------------


def price_paths() -> Chart:
    """One panel per listing against its own benchmark; articles, significant reactions and
    the latest run of coverage marked."""
    t = tables()
    chart, data = charts.price_path_chart(
        t["prices"],
        t["articles"],
        year(),
        abnormal_returns=t["abnormal_returns"],
        events=t["events"],
        reactions=t["article_reactions"],
        clusters=t["news_clusters"],
    )
    listings = data.filter(pl.col("instrument").is_in(charts.LISTINGS))
    return _chart(chart, "price-paths", data=data, alt_text=charts.price_path_alt_text(listings))


def close_up() -> Chart | Markdown:
    """The latest run of coverage, day by day."""
    t = tables()
    chart, data = charts.close_up_chart(
        t["prices"], t["articles"], t["news_clusters"], t["article_reactions"]
    )
    if chart is None:
        return Markdown("The corpus has no dated articles to zoom in on.\n")
    alt_text = _per_listing_alt_text(data, "index", "indexed close", ".1f")
    return _chart(chart, "close-up", data=data, alt_text=alt_text)


def appendix_break() -> Markdown:
    """In the PDF the methodology is an appendix on a new page, set a size smaller than the
    briefing so it fills one page instead of spilling two lines onto another. The cell comes
    before the appendix heading, so the heading opens the new page."""
    if is_html():
        return Markdown("")
    return Markdown("```{=typst}\n#pagebreak(weak: true)\n#set text(size: 9pt)\n```\n")


def long_run() -> Chart:
    t = tables()
    chart, data = charts.long_run_chart(t["prices"], t["long_run_extremes"])
    return _chart(
        chart,
        "long-run",
        data=data,
        alt_text=charts.long_run_alt_text(data, t["long_run_extremes"]),
    )


MARKET_SOURCE = "Yahoo Finance daily prices, from public archives of them (files on the Data page)"


def long_run_note() -> Markdown:
    """Says which extremes are as traded and which only adjusted, from the data."""
    ext = tables()["long_run_extremes"]
    if ext.is_empty():
        return Markdown("The market snapshot has no BABA history for 2020 or 2022.\n")
    lines = [
        f"- {escape_md(r['event'].capitalize())}: {escape_md(money(r['shown'], 'USD'))} on "
        f"{day(r['date'], year=True)} ({escape_md(r['basis'])}; as-traded close "
        f"{'not available' if r['close_traded'] is None else escape_md(money(r['close_traded'], 'USD'))})"
        for r in ext.iter_rows(named=True)
    ]
    return Markdown("\n".join(lines) + f"\n\nSource: {escape_md(MARKET_SOURCE)}.\n")


def turnover() -> Chart:
    t = tables()
    chart, data = charts.turnover_chart(t["flows"], year())
    alt_text = _per_listing_alt_text(data, "turnover", "daily turnover", ",.0f")
    return _chart(chart, "turnover", data=data, alt_text=alt_text)


def _per_listing_alt_text(data: pl.DataFrame, column: str, what: str, fmt: str) -> str:
    """Each listing's range of `column` in words, for a chart's alt text."""
    return " ".join(
        charts.range_alt_text(
            data.filter(pl.col("instrument") == i), column, f"{i} {what}", fmt=fmt
        )
        for i in charts.LISTINGS
    )


def reported_flows_table() -> Markdown:
    """Each flow figure reported in the corpus or the cited reference table, beside that day's
    turnover of the listing (the `reported_flows` table), so its size is judged on one measure."""
    data = tables()["reported_flows"]
    if data.is_empty():
        return Markdown(
            "No flow figures are reported in this edition's corpus or reference table.\n"
        )
    view = data.select(
        pl.col("date")
        .map_elements(lambda d: day(d, year=True), return_dtype=pl.String)
        .alias("date"),
        pl.col("description").alias("reported figure"),
        pl.struct("value", "unit")
        .map_elements(
            lambda v: (
                f"{v['value']:.2f}% of shares"
                if v["unit"] == "percent"
                else money(v["value"], v["unit"])
            ),
            return_dtype=pl.String,
        )
        .alias("amount"),
        pl.struct("turnover", "turnover_unit", "instrument", "share_note")
        .map_elements(
            lambda v: (
                f"{v['instrument']} {money(v['turnover'], v['turnover_unit'])}"
                if v["turnover"] is not None
                else f"not available ({v['share_note']})"
            ),
            return_dtype=pl.String,
        )
        .alias("that day's turnover"),
        # Where there is no turnover, the turnover cell already says why.
        pl.struct("share", "share_note", "turnover")
        .map_elements(
            lambda v: (
                pct(v["share"], 0, signed=False)
                if v["share"] is not None
                else "not comparable"
                if v["turnover"] is None
                else f"not comparable ({v['share_note']})"
            ),
            return_dtype=pl.String,
        )
        .alias("as share of turnover"),
        # A web address is one long word: on paper it may break after a dot (zero-width space),
        # or it runs past the page's edge; a browser wraps it by CSS.
        charts.display_source("source not recorded").str.replace_all(
            ".", "." if is_html() else ".\u200b", literal=True
        ),
    )
    return table(
        view,
        caption="Flow figures as reported, with their sources, beside the listing's turnover "
        "that day (not verified: the market snapshot has no Stock Connect data)",
        widths={"reported figure": 40},
    )


def tone_over_time() -> Chart:
    chart, data = charts.tone_over_time_chart(tables()["articles"])
    return _chart(
        chart,
        "tone-over-time",
        data=data,
        alt_text=charts.range_alt_text(
            data, "tone", "Article net tone", date="published_date", fmt="+.3f"
        ),
    )


def tone_vs_car() -> Chart | Markdown:
    t = tables()
    chart, data = charts.tone_vs_car_chart(t["articles"], t["events"])
    if data.is_empty():
        return Markdown("No article has both a tone score and an event-study result.\n")
    return _chart(
        chart,
        "tone-vs-car",
        data=data,
        alt_text=charts.range_alt_text(
            data.rename({"tone": "x"}).with_columns(date=pl.col("event_date")),
            "car_m1_p1",
            "CAR [-1,+1] by event",
            fmt="+.4f",
        ),
    )


def claim_verdicts() -> Chart | Markdown:
    t = tables()
    chart, data = charts.claim_verdicts_chart(t["claims"], t["articles"])
    if data.is_empty():
        return Markdown("No numeric market claims were found.\n")
    counts = verdict_counts(t["claims"])
    alt_text = (
        f"{t['claims'].height} claims in {data['article_id'].n_unique()} articles: "
        + ", ".join(f"{n} {v}" for v, n in counts.items())
        + "."
    )
    return _chart(chart, "claim-verdicts", data=data, alt_text=alt_text)


def risk_trend() -> Chart | Markdown:
    t = tables()
    data = t["risk_mentions"]
    if data.filter(pl.col("published_date").is_not_null()).is_empty():
        return Markdown("No dated article mentions the tracked risks.\n")
    chart, monthly = charts.risk_trend_chart(data)
    return _chart(chart, "risk-terms", data=monthly, alt_text=charts.risk_trend_alt_text(monthly))


# Tables ----------------------------------------------------------------------------------------


def timeline() -> Markdown:
    """The corpus as a timeline: date, source, title, and tone."""
    a = tables()["articles"].sort("published_date", nulls_last=True)
    cols = [
        pl.col("published_date")
        .map_elements(lambda d: day(d, year=True), return_dtype=pl.String)
        .fill_null("undated")
        .alias("date"),
        charts.display_source(),
        charts.display_title(),
    ]
    if "tone_label" in a.columns:
        cols.append(pl.col("tone_label").fill_null("not scored").alias("tone"))
    return table(a.select(cols), caption="The 2025 narrative in the corpus")


def events_table() -> Markdown:
    """The market reaction to each article: one row per listing and trading day, the articles
    named by publisher and date, with the t-statistic and significance stars."""
    r = tables()["article_reactions"]
    if r.is_empty():
        return Markdown("No event could be placed on a trading day.\n")
    view = r.sort("event_date", "instrument").select(
        pl.col("event_date").map_elements(day, return_dtype=pl.String).alias("trading day"),
        pl.col("instrument").alias("listing"),
        pl.col("articles").str.replace_all(", ", ",\u00a0").alias("articles (publisher, date)"),
        pl.col("label").fill_null("not labelled").alias("news"),
        pl.col("abnormal_ret").map_elements(pct, return_dtype=pl.String).alias("abnormal return"),
        pl.struct("t_ar", "p_ar")
        .map_elements(lambda v: f"{signed(v['t_ar'])}{stars(v['p_ar'])}", return_dtype=pl.String)
        .alias("t"),
        pl.col("car_m1_p1")
        .map_elements(pct, return_dtype=pl.String)
        .fill_null("not available (window runs past the data)")
        .alias("abnormal, sessions −1…+1"),
    )
    return table(
        view,
        caption="Market reaction on each article's trading day: abnormal return net of the "
        "listing's benchmark (market model), its t-statistic (* p < 0.05, ** p < 0.01, "
        "*** p < 0.001), and the cumulative abnormal return from the session before to the "
        "session after",
    )


def tone_note() -> Markdown:
    """What dictionary tone can and cannot show, with the share of sentences at −1, 0 or +1."""
    s = tables()["sentence_sentiment"].filter(pl.col("tone").is_not_null())
    if s.is_empty():
        return Markdown("No sentence could be scored for tone.\n")
    coarse = s.filter(pl.col("tone").is_in([-1.0, 0.0, 1.0])).height
    return Markdown(
        "Tone here is a word count: each sentence scores the share of its words found in a "
        "financial dictionary of positive and negative terms. It shows whether coverage leans "
        "negative; it cannot tell who is speaking, a denial from an allegation, or irony. "
        f"{coarse} of the {s.height} scored sentences score exactly −1, 0 or +1, so tone is "
        "shown per article, next to the market's reaction, rather than per sentence.\n"
    )


def tone_table() -> Markdown:
    """Headline, tone, and each listing's reaction with its significance, one row per article."""
    t = tables()
    a = (
        t["articles"]
        .sort("published_date", nulls_last=True)
        .select(
            "article_id",
            pl.col("published_date").map_elements(day, return_dtype=pl.String).alias("published"),
            charts.display_title(),
            pl.col("tone"),
            pl.col("tone_label").fill_null("not scored"),
        )
    )
    reactions = (
        t["article_reactions"]
        .select(
            pl.col("article_ids").str.split("; ").alias("article_id"),
            "instrument",
            "abnormal_ret",
            "t_ar",
            "p_ar",
        )
        .explode("article_id")
        .with_columns(
            reaction=pl.struct("instrument", "abnormal_ret", "t_ar", "p_ar").map_elements(
                lambda v: f"{v['instrument']} {pct(v['abnormal_ret'])}{stars(v['p_ar'])}",
                return_dtype=pl.String,
            )
        )
        .group_by("article_id", maintain_order=True)
        .agg(pl.col("reaction").sort().str.join("; "))
    )
    view = a.join(reactions, on="article_id", how="left", maintain_order="left").select(
        "published",
        pl.col("title").alias("headline"),
        pl.col("tone")
        .map_elements(lambda v: signed(v, 2), return_dtype=pl.String)
        .fill_null("not scored"),
        pl.col("tone_label").alias("reads as"),
        pl.col("reaction")
        .fill_null("not available (no trading day in the data)")
        .alias("abnormal return"),
    )
    return table(
        view,
        caption="Tone of each article and the market's abnormal return on its trading day "
        "(* p < 0.05, ** p < 0.01, *** p < 0.001)",
    )


def claim_value(value: float | None, unit: str | None) -> str:
    """A claimed or observed figure in its unit, as a desk writes it."""
    if value is None:
        return "not available"
    if unit == "percent":
        return f"{value:+.2f}%".replace("-", "−")
    if unit in ("USD", "HKD", "CNY"):
        return money(value, unit)
    if unit and unit.startswith("x_"):
        return f"{value:.2f}× the 20-session mean"
    return f"{value:,.2f}"


def claims_table_view() -> Markdown:
    """Every claim with its verdict as a chip; claimed and observed figures in their units."""
    c = tables()["claims"]
    if c.is_empty():
        return Markdown("No numeric market claims were found.\n")
    # On paper the listing's short code keeps the table inside the column.
    names = {i: ins.name if is_html() else i for i, ins in reference.instruments().items()}
    names |= narrative.UNLISTED_NAMES
    fmt = lambda col: pl.struct(col, "unit").map_elements(  # noqa: E731
        lambda v: claim_value(v[col], v["unit"]), return_dtype=pl.String
    )
    view = c.sort("claim_date", nulls_last=True).select(
        pl.col("quote"),
        pl.col("instrument")
        .replace_strict(names, default=pl.col("instrument").str.replace_all("_", " "))
        .fill_null("not identified")
        .alias("listing or index"),
        pl.col("claim_date")
        .map_elements(lambda d: day(d, year=True), return_dtype=pl.String)
        .fill_null("no date")
        .alias("date"),
        fmt("value").alias("claimed"),
        fmt("observed_value").alias("observed"),
        pl.col("verdict").map_elements(chip, return_dtype=pl.String),
        pl.col("note").fill_null("").alias("how it was checked"),
    )
    return table(
        view,
        caption="Every numeric market claim, checked against the market tables",
        markdown=("verdict",),
        # The check is the longest text: on paper it gets the room the figures do not need.
        widths={"how it was checked": 48, "date": 24, "verdict": 24},
    )


def tolerance() -> Markdown:
    from pipeline.claims.tolerance import tolerance_table

    rules = tolerance_table()
    # Column names as a reader reads them ("applies to"), not as the code spells them.
    readable = rules.rename({c: c.replace("_", " ") for c in rules.columns})
    return table(readable, caption="Tolerance by qualifier")


def sources() -> Markdown:
    """The articles as a reader cites them: publisher, date, language, title, link."""
    a = tables()["articles"].sort("published_date", nulls_last=True)
    rows = []
    for r in a.with_columns(charts.display_title().alias("shown_title")).iter_rows(named=True):
        link = f" {url_md(r['url'])}" if r.get("url") else ""
        # The entry ends in its own full stop, so a headline's is dropped.
        title = f"*{escape_md(r['shown_title'].rstrip('. '))}*"
        publisher = escape_md(r["source"] or "publisher not known")
        if r["source"] and r.get("source_confidence") in ("medium", "low"):
            # Say how the publisher was inferred (signature or shared boilerplate).
            publisher += f" (inferred, {r['source_confidence']} confidence)"
        rows.append(
            f"- {publisher}, {day(r['published_date'], year=True)} "
            f"({escape_md(r['language'])}): {title}.{link}"
        )
    rows.append(f"- Market data: {escape_md(MARKET_SOURCE)}.")
    return Markdown("\n".join(rows) + "\n")


def source_files() -> Markdown:
    """The input files behind this edition, for the Data page: article and market files."""
    a = tables()["articles"].sort("published_date", nulls_last=True)
    articles = a.select(
        pl.col("path").alias("file"),
        pl.col("published_date").cast(pl.String).fill_null("undated").alias("published"),
        charts.display_title(),
    )
    market = (
        tables()["prices"]
        .group_by("source_file", "instrument")
        .agg(pl.col("date").min().alias("from"), pl.col("date").max().alias("to"))
        .sort("instrument", "from")
        .select(
            pl.col("source_file").alias("file"),
            "instrument",
            pl.col("from").cast(pl.String),
            pl.col("to").cast(pl.String),
        )
    )
    return Markdown(
        str(table(articles, caption="Article files of this edition"))
        + "\n"
        + str(table(market, caption="Market files of this edition, by the dates each one supplies"))
    )


def doc(name: str, sections: tuple[str, ...] = ()) -> Markdown:
    """A Markdown file from docs/ shown as part of a page; with `sections`, only the sections
    whose heading text starts with one of them (each with its subsections)."""
    READS.add(f"doc:{name}")
    lines = (DOCS / name).read_text(encoding="utf-8").splitlines()
    if lines and lines[0].startswith("# "):
        lines = lines[1:]  # the page has its own title
    if sections:
        kept, level = [], 0
        for line in lines:
            depth = len(line) - len(line.lstrip("#")) if line.startswith("#") else 0
            if depth and level and depth <= level:
                level = 0
            if depth and not level and line.lstrip("# ").startswith(sections):
                level = depth
            if level:
                kept.append(line)
        lines = kept
    # A heading names the code that builds a thing for developers ("Tolerance table
    # (`pipeline.claims.tolerance.tolerance_table()`)"); the reader gets the name alone.
    lines = [re.sub(r"^(#+ .*?)\s*\(`[^`]*`\)\s*$", r"\1", line) for line in lines]
    # Links between docs/ files do not exist on the site: keep their text.
    text = re.sub(r"\[([^\]]+)\]\((?!https?:)[^)]*\.md(?:#[^)]*)?\)", r"\1", "\n".join(lines))
    # Docs write money as "HK$956"; outside code spans a "$" would open TeX math.
    text = "".join(
        part if part.startswith("`") else part.replace("$", "\\$")
        for part in re.split(r"(`[^`]*`)", text)
    )
    return Markdown(text + "\n")


def downloads() -> Markdown:
    """Links to every table as CSV and Parquet (the site copies them into data/)."""
    from pipeline.tables import TABLE_NAMES

    t = tables()
    rows = [
        f"| `{name}` | {t[name].height:,} | [CSV](../data/{name}.csv) · [Parquet](../data/{name}.parquet) |"
        for name in TABLE_NAMES
        if name in t
    ]
    return Markdown("| table | rows | download |\n|:---|---:|:---|\n" + "\n".join(rows) + "\n")


def editions_list() -> Markdown:
    """Every published edition, newest first, with permalink and PDF."""
    from pipeline.editions.archive import list_editions

    READS.add("editions")
    eds = list_editions(settings().editions_dir)
    if eds.is_empty():
        return Markdown(
            "This edition has not been frozen into the archive yet, so it is the only one. "
            "Archived editions are listed here, each with its permalink and PDF.\n"
        )
    rows = []
    for r in eds.iter_rows(named=True):
        pdf = f" · [PDF](../{r['pdf']})" if r.get("pdf") else ""
        corr = f" · corrects {escape_md(r['corrects'])}" if r.get("corrects") else ""
        rows.append(
            f"- [{escape_md(r['edition_id'])}](../{r['permalink']}) (as of {r['as_of']}){pdf}{corr}"
        )
    return Markdown("\n".join(rows) + "\n\n[Atom feed of editions](../editions.xml)\n")


def changes_since_last() -> Markdown:
    """What this edition changes against the newest published one, from manifests and tables."""
    import datetime as dt

    from pipeline.editions.changes import changes_since_previous
    from pipeline.editions.identity import Edition, input_files_by_kind
    from pipeline.editions.manifest import build_manifest

    READS.update(("editions", "inputs"))
    ed = edition()
    current = Edition(as_of=dt.date.fromisoformat(ed["as-of"]), inputs_hash=ed["inputs-hash"])
    manifest = build_manifest(
        current,
        input_files_by_kind(settings()),
        settings().site_dir,
        PROJECT_ROOT,
        include_outputs=False,
    )
    try:
        changes = changes_since_previous(
            settings().editions_dir, manifest, settings().processed_dir
        )
    except Exception as exc:  # an unreadable archive must not stop the briefing
        return Markdown(f"Changes could not be computed: {escape_md(exc)}\n")
    lines = changes.summary_lines()
    return Markdown(
        "\n".join(f"- {escape_md(line)}" for line in lines) + "\n"
        if lines
        else "No previous edition to compare with.\n"
    )


def corrections() -> Markdown:
    from pipeline.editions.archive import corrections_log

    READS.add("editions")
    log = corrections_log(settings().editions_dir)
    if log.is_empty():
        return Markdown("No corrections have been published.\n")
    return table(log.select("edition_id", "as_of", "corrects", "note"), caption="Corrections log")
