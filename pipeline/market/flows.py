"""Money moving in Alibaba's listings: daily turnover from the prices, plus flow figures that
articles report (claims of kind `flow`) and curated figures from `reported_flows.csv`.

One tidy table with an `origin` column (market / corpus / reference) so charts can filter,
and curated figures never leak into code or prose: they are read from the cited CSV only.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipeline import reference
from pipeline.errors import InputError

LISTINGS = reference.listings()
SPIKE_RATIO = 2.0  # volume at least twice the mean of the previous 20 sessions
REFERENCE_FILE = "reported_flows.csv"
REFERENCE_COLUMNS = ("date", "figure", "unit", "description", "source_url")

FLOWS_SCHEMA: dict[str, pl.DataType] = {
    "origin": pl.String(),
    "kind": pl.String(),
    "instrument": pl.String(),
    "date": pl.Date(),
    "value": pl.Float64(),
    "unit": pl.String(),
    "volume": pl.Float64(),
    "volume_20d_mean": pl.Float64(),
    "volume_ratio": pl.Float64(),
    "spike": pl.Boolean(),
    "price_basis": pl.String(),
    "description": pl.String(),
    "source": pl.String(),
    "url": pl.String(),
    "article_id": pl.String(),
}


def read_reference(reference_dir: Path) -> pl.DataFrame:
    """The curated, cited flow figures; every row must carry a source URL."""
    path = Path(reference_dir) / REFERENCE_FILE
    if not path.is_file():
        raise InputError("reference flows file not found", path)
    df = pl.read_csv(path, infer_schema=False)
    missing = [c for c in REFERENCE_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(f"missing column(s) {missing}", path, line=1)
    df = df.with_row_index("line", offset=2).with_columns(
        pl.col("date").str.to_date("%Y-%m-%d", strict=False).alias("_date"),
        pl.col("figure").cast(pl.Float64, strict=False).alias("_figure"),
    )
    for col, what in (("_date", "unparsable date"), ("_figure", "unparsable figure")):
        bad = df.filter(pl.col(col).is_null())
        if bad.height:
            raise InputError(what, path, line=int(bad["line"][0]))
    bad = df.filter(~pl.col("source_url").fill_null("").str.starts_with("http"))
    if bad.height:
        raise InputError(
            "row without a source URL",
            path,
            line=int(bad["line"][0]),
            fix="every curated figure needs the address it was read from",
        )
    return df


def turnover(prices: pl.DataFrame) -> pl.DataFrame:
    """Daily turnover (close x volume, listing currency) and volume spikes per listing.

    Uses the as-traded close where known, else the adjusted close (`price_basis` says which).
    The 20-session mean excludes the day itself and half-day placeholder rows.
    """
    return (
        prices.lazy()
        .filter(
            pl.col("instrument").is_in(LISTINGS)
            & ~pl.col("placeholder")
            & pl.col("volume").is_not_null()
        )
        .sort("instrument", "date")
        .with_columns(
            pl.col("volume").shift(1).rolling_mean(20).over("instrument").alias("volume_20d_mean"),
            pl.coalesce("close_traded", "close").alias("_px"),
            pl.when(pl.col("close_traded").is_not_null())
            .then(pl.lit("as-traded"))
            .otherwise(pl.lit("adjusted"))
            .alias("price_basis"),
        )
        .with_columns((pl.col("volume") / pl.col("volume_20d_mean")).alias("volume_ratio"))
        .select(
            pl.lit("market").alias("origin"),
            pl.lit("turnover").alias("kind"),
            "instrument",
            "date",
            (pl.col("_px") * pl.col("volume")).alias("value"),
            "currency",
            "volume",
            "volume_20d_mean",
            "volume_ratio",
            (pl.col("volume_ratio") >= SPIKE_RATIO).alias("spike"),
            "price_basis",
            pl.lit("close x volume").alias("description"),
            "source_file",
        )
        .rename({"currency": "unit", "source_file": "source"})
        .with_columns(
            pl.lit(None, pl.String).alias("url"), pl.lit(None, pl.String).alias("article_id")
        )
        .collect()
    )


def flows_table(prices: pl.DataFrame, claims: pl.DataFrame, reference_dir: Path) -> pl.DataFrame:
    """Turnover rows (origin `market`), reported flows from articles (`corpus`) and cited
    curated figures (`reference`), in one tidy table (FLOWS_SCHEMA)."""
    market = turnover(prices).select(list(FLOWS_SCHEMA)).cast(FLOWS_SCHEMA)
    corpus = claims.filter(pl.col("kind") == "flow").select(
        pl.lit("corpus").alias("origin"),
        pl.lit("reported_flow").alias("kind"),
        "instrument",
        pl.col("claim_date").alias("date"),
        "value",
        "unit",
        pl.col("quote").alias("description"),
        pl.lit("article").alias("source"),
        "article_id",
    )
    ref = read_reference(reference_dir).select(
        pl.lit("reference").alias("origin"),
        pl.lit("reported_flow").alias("kind"),
        # "Alibaba-W" is the Hong Kong counter; market-wide totals have no instrument
        pl.when(pl.col("description").str.contains("Alibaba"))
        .then(pl.lit("9988.HK"))
        .otherwise(None)
        .alias("instrument"),
        pl.col("_date").alias("date"),
        pl.col("_figure").alias("value"),
        "unit",
        "description",
        pl.lit(REFERENCE_FILE).alias("source"),
        pl.col("source_url").alias("url"),
    )
    parts = [market]
    for df in (corpus, ref):
        for c, t in FLOWS_SCHEMA.items():
            if c not in df.columns:
                df = df.with_columns(pl.lit(None, t).alias(c))
        parts.append(df.select(list(FLOWS_SCHEMA)).cast(FLOWS_SCHEMA))
    return pl.concat(parts).sort("origin", "date", "instrument", nulls_last=True)


# A reported figure whose description names a period longer than a day is not one session's flow.
PERIOD_WORDS = r"(?i)\b(week|month|year|half|quarter|annual|full[- ]year|to date)\b"


def reported_flows(flows: pl.DataFrame, articles: pl.DataFrame) -> pl.DataFrame:
    """Every reported flow figure (corpus or curated) beside the same listing's turnover that
    day, so a reader weighs it against one measure. A share of turnover is given only for one
    day's flow, in money, in the listing's own currency; `share_note` says why any other row
    has none (a market-wide figure, no session that day, not a sum in the listing's currency,
    a longer period).
    """
    market = flows.filter(pl.col("origin") == "market").select(
        "instrument", "date", turnover="value", turnover_unit="unit"
    )
    publishers = articles.select(
        "article_id", publisher="source", source_confidence="source_confidence"
    )
    note = (
        pl.when(pl.col("instrument").is_null())
        .then(pl.lit("market-wide figure"))
        .when(pl.col("turnover").is_null())
        .then(pl.lit("no session that day"))
        .when(pl.col("unit") != pl.col("turnover_unit"))
        .then(pl.format("not a sum in {}", "turnover_unit"))
        .when(pl.col("description").str.contains(PERIOD_WORDS))
        .then(pl.lit("covers more than one day"))
    )
    return (
        flows.filter(pl.col("origin") != "market")
        .join(publishers, on="article_id", how="left")
        .join(market, on=["instrument", "date"], how="left")
        .with_columns(share_note=note)
        .select(
            "date",
            "instrument",
            "origin",
            "description",
            "value",
            "unit",
            "turnover",
            "turnover_unit",
            pl.when(pl.col("share_note").is_null())
            .then(pl.col("value").abs() / pl.col("turnover"))
            .alias("share"),
            "share_note",
            pl.coalesce(
                "publisher", pl.col("url").str.extract(r"^https?://(?:www\.)?([^/]+)", 1)
            ).alias("source"),
            "source_confidence",
            "url",
            "article_id",
        )
        .sort("date", "instrument", "description", nulls_last=True)
    )
