"""Building every table of an edition, in dependency order, and writing them atomically.

This is the one place that knows the order: corpus and market data first, then the tables
derived from both (claims, events, flows). Each table is produced by a function named after it
in its own module; this module only wires them together and applies the edition's cut-off.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import yaml

from pipeline.config import Settings
from pipeline.errors import InputError
from pipeline.io import sha256_file, write_json_atomic, write_parquet_atomic, write_text_atomic

TABLE_NAMES = (
    "key_numbers",
    "articles",
    "sentences",
    "entities",
    "sentence_sentiment",
    "prices",
    "returns",
    "sessions",
    "claims",
    "events",
    "flows",
    "reported_flows",
    "validation",
    "abnormal_returns",
    "risk_mentions",
    "year_to_date",
    "long_run_extremes",
    "article_reactions",
    "news_clusters",
)


@dataclass
class Tables:
    """An edition's tables, keyed by name, with the cut-off date they were built for.

    The edition id (a hash of every input and of the code) is not computed here: the CLI
    computes it once per build and passes it to `write_tables` with the other metadata.
    `market_key` says what the market tables were built from (see `Reuse`); `reused` names
    the tables read back from the last build rather than rebuilt.
    """

    as_of: dt.date
    frames: dict[str, pl.DataFrame]
    rejects: pl.DataFrame
    market_key: str | None = None
    reused: tuple[str, ...] = ()

    def __getitem__(self, name: str) -> pl.DataFrame:
        return self.frames[name]


# Built from market data alone: they change only with it, the reference tables, the code and
# the as-of date, so a week's new article leaves them as they were.
MARKET_TABLES = (
    "prices",
    "returns",
    "sessions",
    "abnormal_returns",
    "validation",
    "year_to_date",
    "long_run_extremes",
)
STAGES_FILE = "stages.json"  # beside the tables: what the market tables were built from


@dataclass(frozen=True)
class Reuse:
    """The last build's tables in `folder` may stand in for a rebuild of the market tables.

    `market_inputs` is a hash of the market files, the reference tables and the code, worked
    out by the caller (table code hashes no input); the as-of date is added here, once known.
    """

    folder: Path
    market_inputs: str


def resolve_as_of(articles: pl.DataFrame, as_of: dt.date | None) -> dt.date:
    """The edition's cut-off: the given date, or else the newest article's publication date."""
    if as_of is not None:
        return as_of
    newest = articles.select(pl.col("published_date").max()).item()
    if newest is None:
        raise InputError(
            "no article has a publication date, so the edition has no default as-of date",
            fix="set BRIEFING_AS_OF=YYYY-MM-DD",
        )
    return newest


def build_tables(settings: Settings, reuse: Reuse | None = None) -> Tables:
    """Every table of the edition described by `settings`, in memory: the DAG, in order.

    Each table is built by one function named after it, from the tables it needs. With
    `reuse`, the market tables are read back when what they are built from is unchanged.
    """
    from pipeline.claims.table import claims_table
    from pipeline.corpus.articles import read_corpus
    from pipeline.corpus.entities import entities_table
    from pipeline.corpus.sentiment import article_tone, sentence_sentiment_table
    from pipeline.findings.article_reactions import article_reactions, news_clusters
    from pipeline.findings.risk_mentions import risk_mentions
    from pipeline.findings.summary import key_numbers
    from pipeline.market.events import events_table
    from pipeline.market.flows import flows_table, reported_flows
    from pipeline.reference import risk_terms

    settings.check()
    corpus = read_corpus(settings.articles_dir, settings.as_of)
    as_of = resolve_as_of(corpus.articles, settings.as_of)
    key = f"{reuse.market_inputs}:{as_of.isoformat()}" if reuse else None
    t = reused_market_tables(reuse.folder, key) if reuse else None
    reused = tuple(MARKET_TABLES) if t is not None else ()
    if t is None:
        t = market_tables(settings.market_dirs, as_of)

    articles, inferred, t["sentences"], left_out = edition_corpus(
        corpus.articles, t["prices"], t["sessions"], as_of
    )
    t["sentence_sentiment"] = sentence_sentiment_table(t["sentences"], settings.lexicon_dir)
    t["articles"] = article_tone(articles, t["sentence_sentiment"])
    t["entities"] = entities_table(t["sentences"], settings.reference_dir / "gazetteer.csv")
    t["claims"] = claims_table(
        t["sentences"], t["articles"], t["prices"], inferred=inferred, sessions=t["sessions"]
    )
    t["events"] = events_table(t["articles"], t["prices"], t["returns"], sessions=t["sessions"])
    t["flows"] = flows_table(t["prices"], t["claims"], settings.reference_dir)
    t["reported_flows"] = reported_flows(t["flows"], t["articles"])
    t["risk_mentions"] = risk_mentions(
        t["sentences"], t["articles"], risk_terms(settings.reference_dir)
    )
    t["article_reactions"] = article_reactions(
        t["events"], t["articles"], t["sentences"], t["entities"]
    )
    t["news_clusters"] = news_clusters(
        t["articles"],
        t["sentences"],
        t["entities"],
        t["article_reactions"],
        t["abnormal_returns"],
        t["prices"],
    )
    t["key_numbers"] = key_numbers(t["articles"], t["claims"], t["year_to_date"], as_of.isoformat())
    frames = {name: sort_table(name, t[name]) for name in TABLE_NAMES}
    rejects = pl.concat([corpus.rejects, left_out])
    return Tables(as_of, frames, rejects, market_key=key, reused=reused)


def market_tables(market_dirs: tuple[Path, ...], as_of: dt.date) -> dict[str, pl.DataFrame]:
    """The MARKET_TABLES of an edition, from the market files (each read once)."""
    from pipeline.findings.long_run import long_run_extremes
    from pipeline.findings.year_to_date import year_to_date
    from pipeline.market.calendars import sessions_table
    from pipeline.market.events import abnormal_returns_table
    from pipeline.market.prices import market_files, prices
    from pipeline.market.returns import returns_table
    from pipeline.market.validation import validation

    files = market_files(market_dirs)
    all_prices = prices(files)
    check_as_of_in_market(all_prices, as_of)
    t: dict[str, pl.DataFrame] = {}
    t["prices"] = sort_table("prices", all_prices.filter(pl.col("date") <= as_of))
    t["returns"] = returns_table(t["prices"])
    t["sessions"] = sessions_table(t["prices"])
    t["abnormal_returns"] = abnormal_returns_table(t["returns"])
    t["validation"] = validation(all_prices, files)
    t["year_to_date"] = year_to_date(t["prices"], as_of.year)
    t["long_run_extremes"] = long_run_extremes(t["prices"])
    return t


def reused_market_tables(folder: Path, key: str | None) -> dict[str, pl.DataFrame] | None:
    """The market tables the last build wrote to `folder`, if they were built from `key` and
    each file is byte for byte what that build wrote; otherwise None (rebuild them)."""
    try:
        record = json.loads((folder / STAGES_FILE).read_text(encoding="utf-8"))["market"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if key is None or record.get("key") != key:
        return None
    paths = {name: folder / f"{name}.parquet" for name in MARKET_TABLES}
    hashes = record.get("tables", {})
    if any(not p.is_file() or sha256_file(p) != hashes.get(n) for n, p in paths.items()):
        return None
    return {name: pl.read_parquet(path) for name, path in paths.items()}


def edition_corpus(
    articles: pl.DataFrame, prices: pl.DataFrame, sessions: pl.DataFrame, as_of: dt.date
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The edition's articles (no duplicates, none after the cut-off), the dates inferred for
    undated ones from their claims, their sentences, and the articles left out with the reason
    (for `rejects`: nothing is dropped silently)."""
    from pipeline.claims.table import infer_publication_dates
    from pipeline.corpus.sentences import sentences_table

    in_edition = pl.col("published_date").is_null() | (pl.col("published_date") <= as_of)
    # Duplicates are recorded in `duplicate_of` and kept out of the edition's tables.
    kept = articles.filter(pl.col("duplicate_of").is_null()).filter(in_edition)
    left_out = [left_out_articles(articles, kept, as_of)]
    sentences = sentences_table(kept)
    inferred = infer_publication_dates(sentences, kept, prices, sessions=sessions)
    if inferred.height:
        dated = apply_inferred_dates(kept, inferred)
        kept = dated.filter(in_edition)
        left_out.append(left_out_articles(dated, kept, as_of))
        sentences = sentences.join(kept.select("article_id"), on="article_id", how="semi")
    return kept, inferred, sentences, pl.concat(left_out)


SORT_KEYS = {
    "articles": ("published_date", "article_id"),
    "sentences": ("article_id", "sentence_idx"),
    "sentence_sentiment": ("article_id", "sentence_idx"),
    "prices": ("instrument", "date"),
    "returns": ("instrument", "date"),
    "sessions": ("exchange", "date"),
}


def sort_table(name: str, df: pl.DataFrame) -> pl.DataFrame:
    """Tables are written in a stable order, so the same inputs give the same bytes."""
    keys = SORT_KEYS.get(name)
    return df.sort(*keys, nulls_last=True) if keys else df


def left_out_articles(before: pl.DataFrame, after: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """path, reason for every article in `before` that the edition's rules left out of `after`:
    nothing is dropped silently."""
    gone = before.join(after.select("article_id"), on="article_id", how="anti")
    kept_path = before.select(duplicate_of="article_id", _kept="path")
    return gone.join(kept_path, on="duplicate_of", how="left").select(
        "path",
        reason=pl.when(pl.col("duplicate_of").is_not_null())
        .then(pl.format("{}: duplicate of {}, which the edition keeps", "path", "_kept"))
        .otherwise(
            pl.format(
                "{}: published {} ({}), after the edition's as-of {}: left out of the edition",
                "path",
                "published_date",
                "date_method",
                pl.lit(str(as_of)),
            )
        ),
    )


def apply_inferred_dates(articles: pl.DataFrame, inferred: pl.DataFrame) -> pl.DataFrame:
    """Fill missing publication dates from claim evidence, marking the method `inferred`."""
    patch = inferred.select(
        "article_id", pl.col("published_date_inferred"), _inferred_evidence="date_evidence"
    )
    joined = articles.join(patch, on="article_id", how="left")
    fill = pl.col("published_date").is_null() & pl.col("published_date_inferred").is_not_null()
    evidence = pl.col("date_evidence") if "date_evidence" in articles.columns else pl.lit(None)
    return joined.with_columns(
        published_date=pl.when(fill)
        .then(pl.col("published_date_inferred"))
        .otherwise(pl.col("published_date")),
        date_method=pl.when(fill).then(pl.lit("inferred")).otherwise(pl.col("date_method")),
        date_confidence=pl.when(fill).then(pl.lit("medium")).otherwise(pl.col("date_confidence")),
        date_evidence=pl.when(fill).then("_inferred_evidence").otherwise(evidence),
    ).drop("published_date_inferred", "_inferred_evidence")


def check_as_of_in_market(prices: pl.DataFrame, as_of: dt.date) -> None:
    """An as-of date outside the market snapshot cannot make an edition; say so with the fix."""
    first, last = prices.select(
        pl.col("date").min().alias("first"), pl.col("date").max().alias("last")
    ).row(0)
    if first is None or not (first <= as_of <= last + dt.timedelta(days=7)):
        raise InputError(
            f"as-of date {as_of} is outside the market data, which runs {first} to {last}",
            fix=f"choose BRIEFING_AS_OF between {first} and {last}, "
            "or point BRIEFING_MARKET_DIR at newer data",
        )


def write_tables(tables: Tables, out_dir: Path, metadata: dict[str, str]) -> list[Path]:
    """Write every table as Parquet, the rejects, and the edition `metadata` as YAML and JSON.

    The metadata (edition id, as-of, manifest summary) is what Quarto and the built-in renderer
    read through `metadata-files`; the caller builds it from the edition it computed.
    """
    written = []
    for name, df in [*tables.frames.items(), ("rejects", tables.rejects)]:
        path = out_dir / f"{name}.parquet"
        write_parquet_atomic(df, path)
        written.append(path)
    write_stages(tables, out_dir)
    yml, jsn = out_dir / "edition.yml", out_dir / "edition.json"
    write_text_atomic(yaml.safe_dump(metadata, allow_unicode=True, sort_keys=True), yml)
    write_text_atomic(json.dumps(metadata, indent=2, sort_keys=True) + "\n", jsn)
    return [*written, yml, jsn]


def write_stages(tables: Tables, out_dir: Path) -> None:
    """Record what the market tables were built from and each file's hash, after the tables
    themselves: an interrupted write leaves a record that no longer matches, so it rebuilds."""
    stages = {}
    if tables.market_key:
        hashes = {n: sha256_file(out_dir / f"{n}.parquet") for n in MARKET_TABLES}
        stages["market"] = {"key": tables.market_key, "tables": hashes}
    write_json_atomic(stages, out_dir / STAGES_FILE)


def load_tables(processed_dir: Path) -> dict[str, pl.DataFrame]:
    """Read an edition's tables back for the report; a missing table is a clear error."""
    frames = {}
    for name in TABLE_NAMES:
        path = processed_dir / f"{name}.parquet"
        if not path.is_file():
            raise InputError("table not built yet", path, fix="run `make tables` first")
        frames[name] = pl.read_parquet(path)
    return frames


def load_edition(processed_dir: Path) -> dict[str, str]:
    path = processed_dir / "edition.json"
    if not path.is_file():
        raise InputError("edition metadata not built yet", path, fix="run `make tables` first")
    return json.loads(path.read_text(encoding="utf-8"))
