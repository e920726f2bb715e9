"""The email's one chart: the listings' year so far, as a PNG to embed inline (`cid:`).

Mail clients run no JavaScript and many block remote images, so the chart travels inside the
message as a picture, rendered offline by vl-convert at scale 2 (sharp on high-density screens
at its 560 px display width). Its labels come from the reader's word template and its axis
dates from vl-convert's own d3 locale, so a German reader sees "Sept." and "1,5" not "Sep"
and "1.5". It is deliberately simpler than the site's interactive chart: two lines, one axis.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import altair as alt
import polars as pl

# Colour-blind-safe pair (Okabe-Ito blue and vermillion), as on the site's charts.
COLOURS = ("#0072B2", "#D55E00")
WIDTH, HEIGHT, SCALE = 560, 260, 2
FONT = "DejaVu Sans"
D3_LOCALES = {"en": "en-US", "de": "de-DE"}


def chart_spec(series: list[dict[str, Any]], labels: dict[str, str], axis_title: str) -> dict:
    """Vega-Lite spec: one line per listing, `labels` maps instrument id -> legend text."""
    data = pl.DataFrame(series).with_columns(
        pl.col("date").cast(pl.String),
        pl.col("instrument").replace_strict(labels, default=pl.col("instrument")).alias("series"),
    )
    order = list(labels.values())
    chart = (
        alt.Chart(alt.Data(values=data.to_dicts()))
        .mark_line(strokeWidth=2.5)
        .encode(
            x=alt.X("date:T", title=None, axis=alt.Axis(format="%b", tickCount="month")),
            y=alt.Y("index:Q", title=axis_title, scale=alt.Scale(zero=False)),
            color=alt.Color(
                "series:N",
                title=None,
                sort=order,
                scale=alt.Scale(domain=order, range=list(COLOURS[: len(order)])),
                legend=alt.Legend(orient="top", direction="horizontal", labelLimit=0),
            ),
        )
        .properties(
            width=WIDTH, height=HEIGHT, autosize=alt.AutoSizeParams(type="fit", contains="padding")
        )
        .configure(font=FONT)
        .configure_view(stroke=None)
        .configure_axis(
            labelFontSize=14, titleFontSize=13, titleFontWeight="normal", gridColor="#e6e6e6"
        )
        .configure_legend(labelFontSize=15, symbolStrokeWidth=4)
    )
    return chart.to_dict()


def chart_png(spec: dict, language: str) -> bytes:
    """PNG bytes of `spec`, with number and date formats of the reader's language.

    Cached on the spec's JSON: every reader of one language gets the same picture, so a
    long recipients list renders it once.
    """
    return _png(json.dumps(spec, sort_keys=True), D3_LOCALES.get(language, "en-US"))


def png_width(png: bytes) -> int:
    """The picture's width in CSS pixels (its PNG header's width over the render scale)."""
    return int.from_bytes(png[16:20], "big") // SCALE


@lru_cache(maxsize=8)
def _png(spec_json: str, locale: str) -> bytes:
    import vl_convert as vlc

    return vlc.vegalite_to_png(
        json.loads(spec_json), scale=SCALE, format_locale=locale, time_format_locale=locale
    )
