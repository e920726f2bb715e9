"""What the report pages call: one function per block of the briefing.

The `.qmd` files stay thin: each cell calls one function here, which reads the edition's tables
and returns something `pipeline.display` can show. Tests call the same functions.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import polars as pl

from pipeline import charts
from pipeline.config import Settings
from pipeline.display import Chart, Markdown, escape_md, table
from pipeline.tables import load_edition, load_tables


@cache
def _tables(processed_dir: Path) -> dict[str, pl.DataFrame]:
    return load_tables(processed_dir)


def tables(processed_dir: Path | None = None) -> dict[str, pl.DataFrame]:
    """The edition's tables, read once per page."""
    return _tables(processed_dir or Settings.from_env().processed_dir)


def edition(processed_dir: Path | None = None) -> dict[str, str]:
    return load_edition(processed_dir or Settings.from_env().processed_dir)


def edition_line() -> Markdown:
    """The edition stamp shown at the top of every page."""
    ed = edition()
    return Markdown(f"*Edition {escape_md(ed['edition'])} · data as of {escape_md(ed['as-of'])}*\n")


def price_paths() -> Chart:
    """Figure: BABA and 9988.HK in the edition's year, articles marked."""
    t, ed = tables(), edition()
    chart, data = charts.price_path_chart(
        t["prices"], t["articles"], charts.as_of_year(ed["as-of"])
    )
    return Chart(chart, "price-paths", data=data, alt_text=charts.price_path_alt_text(data))


def articles_list() -> Markdown:
    """Table of the articles in this edition: date, source, language, title."""
    a = tables()["articles"]
    view = a.select(
        pl.col("published_date").cast(pl.String).fill_null("undated").alias("date"),
        pl.col("source").fill_null("unknown"),
        pl.col("language"),
        pl.col("title"),
    )
    return table(view, caption=f"The {a.height} articles of this edition")
