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

from pipeline.briefing import charts, narrative
from pipeline.briefing.display import Chart, Markdown, code_md, escape_md, is_html, table, url_md
from pipeline.config import PROJECT_ROOT, Settings
from pipeline.findings.summary import verdict_counts
from pipeline.tables import load_edition, load_tables

DOCS = PROJECT_ROOT / "docs"


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


def edition_line() -> Markdown:
    """The edition stamp shown at the top of every page."""
    ed = edition()
    return Markdown(f"*Edition {escape_md(ed['edition'])} · data as of {escape_md(ed['as-of'])}*\n")


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
    """BABA and 9988.HK in the edition's year with benchmarks; articles and big moves marked."""
    t = tables()
    chart, data = charts.price_path_chart(
        t["prices"],
        t["articles"],
        year(),
        abnormal_returns=t["abnormal_returns"],
        events=t["events"],
    )
    listings = data.filter(pl.col("instrument").is_in(charts.LISTINGS))
    return _chart(chart, "price-paths", data=data, alt_text=charts.price_path_alt_text(listings))


def long_run() -> Chart:
    t = tables()
    chart, data = charts.long_run_chart(t["prices"], t["long_run_extremes"])
    return _chart(
        chart,
        "long-run",
        data=data,
        alt_text=charts.long_run_alt_text(data, t["long_run_extremes"]),
    )


def long_run_note() -> Markdown:
    """Says which extremes are as traded and which only adjusted, from the data."""
    ext = tables()["long_run_extremes"]
    if ext.is_empty():
        return Markdown("The market snapshot has no BABA history for 2020 or 2022.\n")
    lines = [
        f"- {escape_md(r['event'])}: US\\${r['shown']:,.2f} on {r['date']} ({escape_md(r['basis'])}, "
        f"from {code_md(r['source_file'])})"
        for r in ext.iter_rows(named=True)
    ]
    return Markdown("\n".join(lines) + "\n")


def turnover() -> Chart:
    t = tables()
    chart, data = charts.turnover_chart(t["flows"], year())
    alt_text = " ".join(
        charts.range_alt_text(
            data.filter(pl.col("instrument") == i), "turnover", f"{i} daily turnover", fmt=",.0f"
        )
        for i in charts.LISTINGS
    )
    return _chart(chart, "turnover", data=data, alt_text=alt_text)


def reported_flows() -> Chart | Markdown:
    t = tables()
    chart, data = charts.reported_flows_chart(t["flows"])
    if data.is_empty():
        return Markdown(
            "No flow figures are reported in this edition's corpus or reference table.\n"
        )
    return _chart(
        chart,
        "reported-flows",
        data=data,
        alt_text=charts.range_alt_text(data, "value", "Reported flow figures", fmt=",.0f"),
    )


def reported_flows_table() -> Markdown:
    _, data = charts.reported_flows_chart(tables()["flows"])
    if data.is_empty():
        return Markdown("No flow figures are reported.\n")
    return table(
        data.drop("label"),
        caption="Flow figures as reported, with their sources (not verified: no Stock "
        "Connect data in the snapshot)",
        formats={"value": "{:,.0f}"},
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


def sentence_tone() -> Chart:
    t = tables()
    chart, data = charts.sentence_tone_chart(t["sentence_sentiment"], t["articles"])
    lo = data.row(data["tone"].arg_min(), named=True) if data.height else None
    hi = data.row(data["tone"].arg_max(), named=True) if data.height else None
    alt_text = (
        f"{data.height} scored sentences in {data['article_id'].n_unique()} articles; most negative "
        f"sentence tone {lo['tone']:+.2f} ({lo['article']}), most positive {hi['tone']:+.2f} "
        f"({hi['article']})."
        if lo and hi
        else "No scored sentences."
    )
    return _chart(chart, "sentence-tone", data=data, alt_text=alt_text)


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
        pl.col("published_date").cast(pl.String).fill_null("undated").alias("date"),
        charts.display_source(),
        charts.display_title(),
    ]
    if "tone_label" in a.columns:
        cols.append(pl.col("tone_label").fill_null("not scored").alias("tone"))
    return table(a.select(cols), caption="The 2025 narrative in the corpus")


def articles_list() -> Markdown:
    """Table of the articles in this edition: date, source, language, title."""
    a = tables()["articles"]
    view = a.select(
        pl.col("published_date").cast(pl.String).fill_null("undated").alias("date"),
        charts.display_source(),
        pl.col("language"),
        charts.display_title(),
    )
    return table(view, caption=f"The {a.height} articles of this edition")


def events_table() -> Markdown:
    e = tables()["events"]
    if e.is_empty():
        return Markdown("No event could be placed on a trading day.\n")
    a = tables()["articles"].select("article_id", charts.display_title())
    # Reader-facing headers; the data dictionary documents the underlying columns.
    names = {
        "title": "article",
        "instrument": "listing",
        "event_date": "event day",
        "ret": "return",
        "abnormal_ret": "abnormal",
        "car_m1_p1": "CAR −1…+1",
        "car_m1_p5": "CAR −1…+5",
    }
    view = (
        e.join(a, on="article_id", how="left")
        .select([c for c in names if c in e.columns or c == "title"])
        .sort("event_date", "instrument")
        .rename(names)
    )
    pct = {names[c]: "{:+.2%}" for c in ("ret", "abnormal_ret", "car_m1_p1", "car_m1_p5")}
    return table(
        view,
        caption="Market reaction around each article "
        "(market model; CAR = cumulative abnormal return)",
        formats=pct,
    )


def claims_table_view() -> Markdown:
    c = tables()["claims"]
    if c.is_empty():
        return Markdown("No numeric market claims were found.\n")
    # Reader-facing headers; the data dictionary documents the `claims` columns.
    names = {
        "quote": "quote",
        "instrument": "listing or index",
        "claim_date": "date",
        "value": "claimed",
        "unit": "unit",
        "observed_value": "observed",
        "verdict": "verdict",
        "note": "how it was checked",
    }
    view = (
        c.select(list(names)).with_columns(pl.col("unit").str.replace_all("_", " ")).rename(names)
    )
    return table(
        view,
        caption="Every numeric market claim, checked against the market tables",
        formats={"claimed": "{:,.2f}", "observed": "{:,.2f}"},
    )


def tolerance() -> Markdown:
    from pipeline.claims.tolerance import tolerance_table

    return table(tolerance_table(), caption="Tolerance by qualifier")


def sources() -> Markdown:
    a = tables()["articles"].sort("published_date", nulls_last=True)
    rows = []
    for r in a.iter_rows(named=True):
        link = f" {url_md(r['url'])}" if r.get("url") else ""
        # The entry ends in its own full stop, so a headline's is dropped.
        title = f"*{escape_md(r['title'].rstrip('. '))}*" if r["title"] else "untitled"
        publisher = escape_md(r["source"] or "unknown publisher")
        if r["source"] and r.get("source_confidence") in ("medium", "low"):
            # Say how the publisher was inferred (signature or shared boilerplate).
            publisher += f" (inferred, {r['source_confidence']} confidence)"
        rows.append(
            f"- {publisher}, "
            f"{r['published_date'] or 'undated'} ({escape_md(r['language'])}): "
            f"{title}.{link} File {code_md(r['path'])}."
        )
    return Markdown("\n".join(rows) + "\n")


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
            "No edition has been published yet. `make publish` freezes the current one.\n"
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
