"""Articles as one row per line, and window helpers for frames sorted by article."""

from __future__ import annotations

import polars as pl


def split_lines(raw: pl.DataFrame) -> pl.DataFrame:
    """One row per non-empty line, in article order: article_id, line_idx (0-based among
    non-empty lines), file_line (1-based line of the text), line (stripped).

    Split and explode first, then strip and filter the flat column: a list.eval over 100,000
    lists costs more and holds a second copy of every line.
    """
    return (
        raw.lazy()
        .select("article_id", line=pl.col("raw_text").str.split("\n"))
        .explode("line")
        .with_columns(
            pl.col("line").str.strip_chars(" \t\u00a0\u200b\ufeff\u3000"),
            file_line=(idx_within() + 1).cast(pl.Int32),  # for evidence an editor can look up
        )
        .filter(pl.col("line") != "")
        .with_columns(line_idx=idx_within().cast(pl.Int32))
        .select("article_id", "line_idx", "file_line", "line")
        .collect()
    )


# Window helpers for frames sorted by article: plain column operations instead of
# `.over("article_id")`, which gets slow with 100,000 groups.
def first_row() -> pl.Expr:
    return (pl.col("article_id") != pl.col("article_id").shift(1)).fill_null(True)


def cum_within(x: pl.Expr) -> pl.Expr:
    """Cumulative sum of `x` restarting at each article."""
    x = x.cast(pl.Int64)
    g = x.cum_sum()
    return g - pl.when(first_row()).then(g - x).forward_fill()


def idx_within() -> pl.Expr:
    """0-based row number within each article."""
    row = pl.int_range(pl.len(), dtype=pl.Int64)
    return row - pl.when(first_row()).then(row).forward_fill()


def prev_within(x: pl.Expr) -> pl.Expr:
    """The previous row's value within the same article (null on an article's first row)."""
    return pl.when(~first_row()).then(x.shift(1))


def next_within(x: pl.Expr, k: int = 1) -> pl.Expr:
    """The value `k` rows further down within the same article (null past an article's end)."""
    same = pl.col("article_id") == pl.col("article_id").shift(-k)
    return pl.when(same).then(x.shift(-k))
