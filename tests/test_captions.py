"""Figure captions are static text in report/index.qmd, so the facts they state are checked
here against the code and data that produce the charts: a caption cannot drift from them."""

from __future__ import annotations

import re

import polars as pl

from pipeline.briefing import charts
from pipeline.config import PROJECT_ROOT
from pipeline.findings.long_run import LONG_RUN_EXTREMES

NUMBER_WORDS = {2: "two", 3: "three", 4: "four", 5: "five"}


def caption(label: str) -> str:
    page = (PROJECT_ROOT / "report" / "index.qmd").read_text(encoding="utf-8")
    m = re.search(rf"#\| label: {label}\n#\| fig-cap: \"([^\"]+)\"", page)
    assert m, f"no caption for {label}"
    return m.group(1)


def test_tone_caption_states_the_rolling_window():
    words = NUMBER_WORDS[charts.ROLLING_ARTICLES]
    assert f"rolling mean of {words} articles" in caption("fig-tone-time")


def test_long_run_caption_states_the_listing_year_and_the_extremes(tables):
    baba = tables["prices"].filter(pl.col("instrument") == "BABA")
    listed = baba["date"].min().year
    (peak_year, _), (low_year, _) = LONG_RUN_EXTREMES
    text = caption("fig-long-run")
    assert f"since its {listed} listing" in text
    assert f"{peak_year} peak and {low_year} low" in text
