"""The headline of an article whose metadata gives none.

A saved page opens with site chrome (menus, breadcrumbs, section names, log-in buttons,
taglines), then maybe a kicker (a short line above the headline: "China-Tech", "KI fürs iPhone
in China"), then the headline, then a dek, a byline or the body. Cleaning has already removed
what rules recognise as chrome. Of the lines left, the headline is the first line of headline
shape before the first body paragraph that is neither a kicker nor part of a menu block (a line
directly followed by a menu item or a navigation line belongs to the menu).
"""

from __future__ import annotations

import polars as pl

from pipeline.corpus.lines import next_within

HAN = r"\p{Han}"
MAX_TITLE_LINES = 25  # a headline sits near the top; lower lines are never taken


def _units(line: pl.Expr) -> pl.Expr:
    """Words, counting two Chinese characters as one word (Chinese has no spaces). Only the
    first 400 characters are measured: a longer line is a paragraph whatever its count."""
    head = line.str.slice(0, 400)
    han = head.str.count_matches(HAN)
    spaced = head.str.count_matches(" ", literal=True) + 1
    # a line of Chinese only: its spaces separate phrases, not words
    return pl.when(head.str.contains(r"[A-Za-z0-9]")).then(spaced).otherwise(0) + han / 2


def text_titles(lines: pl.DataFrame) -> pl.DataFrame:
    """article_id, text_title from the classified lines (article_id, line_idx, why, text_line).

    Headline shape: 3-30 words (6-60 Chinese characters), at most two sentences, not ending in
    a comma, colon or semicolon, not a bullet. A body paragraph is a line of more than 30 words,
    or of 15 or more that ends like a sentence.
    """
    f = _line_shapes(lines)
    menu = pl.col("_menu")
    f = f.with_columns(
        # two menu items in a row after it: the line is part of a menu block (a tagline)
        _in_menu=(next_within(menu) & next_within(menu, 2)).fill_null(False),
    )
    # A kicker: a short line whose next line, menus and buttons skipped, is a headline too.
    skip = pl.col("why").is_in(["site navigation", "link or button text"]).fill_null(False)
    nxt = f.filter(~skip).with_columns(
        _next_shape=next_within(pl.col("_shape") & ~pl.col("_body")).fill_null(False)
    )
    f = f.join(
        nxt.select("article_id", "line_idx", "_next_shape"),
        on=["article_id", "line_idx"],
        how="left",
    )
    first_body = f.filter(pl.col("_body")).group_by("article_id").agg(_fb=pl.col("line_idx").min())
    # A question or exclamation is a headline ("What comes after the rally?"), never a kicker.
    kicker = (
        (pl.col("_units") <= 5)
        & pl.col("_next_shape").fill_null(False)
        & ~pl.col("text_line").str.slice(-1).str.contains(r"[?!？！]")
    )
    cand = f.join(first_body, on="article_id", how="left").filter(
        pl.col("_shape")
        & ~kicker
        & ~pl.col("_in_menu")
        & (pl.col("line_idx") <= pl.col("_fb").fill_null(MAX_TITLE_LINES))
        & (pl.col("line_idx") < MAX_TITLE_LINES)
    )
    return (
        cand.sort("article_id", "line_idx")
        .group_by("article_id", maintain_order=True)
        .agg(text_title=pl.col("text_line").first())
    )


def _line_shapes(lines: pl.DataFrame) -> pl.DataFrame:
    """The top lines with _kept, _units, _shape (headline shape), _body, _menu flags."""
    t = pl.col("text_line").str.slice(0, 400)
    kept = pl.col("why").is_null() & (t != "")
    units = _units(t)
    # Lazy, so that the optimiser computes `units` once for the four columns that use it.
    return (
        lines.lazy()
        .filter(pl.col("line_idx") < MAX_TITLE_LINES + 10)
        .with_columns(
            _kept=kept,
            _units=units,
            _shape=kept
            & units.is_between(3, 30)
            & ~t.str.contains(r"[,:;，：；]$")
            & ~t.str.contains(r"^(?:[-–•*·]|\d+[.)])\s")
            & (t.str.count_matches(r"[.!?。！？][\"”»]?\s+\S") <= 1),
            _body=kept & ((units > 30) | ((units >= 15) & t.str.contains(r"[.!?。！？\"”»…]$"))),
            _menu=(pl.col("why") == "site navigation") | (kept & (units <= 2)),
        )
        .collect()
    )
