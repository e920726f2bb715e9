"""Building every table of an edition, in dependency order, and writing them atomically.

This is the one place that knows the order: corpus and market data first, then the tables
derived from both (claims, events, flows). Each table is produced by a function named after it
in its own module; this module only wires them together and applies the edition's cut-off.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import yaml

from pipeline.config import PROJECT_ROOT, Settings
from pipeline.editions.archive import Edition, compute_edition
from pipeline.errors import InputError

TABLE_NAMES = (
    "key_numbers",
    "articles",
    "sentences",
    "entities",
    "sentence_sentiment",
    "prices",
    "returns",
    "claims",
    "events",
    "flows",
    "validation",
)


@dataclass
class Tables:
    """An edition's tables, keyed by name, with the edition they belong to."""

    edition: Edition
    frames: dict[str, pl.DataFrame]
    rejects: pl.DataFrame

    def __getitem__(self, name: str) -> pl.DataFrame:
        return self.frames[name]


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


def build_tables(settings: Settings) -> Tables:
    """Every table for the edition described by `settings`, in memory."""
    from pipeline.claims.table import claims_table, infer_publication_dates
    from pipeline.corpus.articles import read_corpus
    from pipeline.corpus.entities import entities_table
    from pipeline.corpus.sentences import sentences_table
    from pipeline.corpus.sentiment import article_tone, sentence_sentiment_table
    from pipeline.market.events import events_table
    from pipeline.market.flows import flows_table
    from pipeline.market.prices import prices_table, validation_table
    from pipeline.market.returns import returns_table

    settings.check()
    corpus = read_corpus(settings.articles_dir, settings.as_of)
    as_of = resolve_as_of(corpus.articles, settings.as_of)
    all_prices = prices_table(settings.market_dir)
    check_as_of_in_market(all_prices, as_of)

    # No row dated after the cut-off enters the edition.
    # Duplicates are recorded in `duplicate_of` and kept out of the edition's tables.
    articles = corpus.articles.filter(pl.col("duplicate_of").is_null()).filter(
        pl.col("published_date").is_null() | (pl.col("published_date") <= as_of)
    )
    prices = all_prices.filter(pl.col("date") <= as_of)
    returns = returns_table(prices)

    sentences = sentences_table(articles)
    # Undated articles get a date inferred from the market facts their claims match.
    inferred = infer_publication_dates(sentences, articles, prices)
    if inferred.height:
        articles = apply_inferred_dates(articles, inferred).filter(
            pl.col("published_date").is_null() | (pl.col("published_date") <= as_of)
        )
        sentences = sentences.join(articles.select("article_id"), on="article_id", how="semi")
    sentiment = sentence_sentiment_table(sentences, settings.lexicon_dir)
    articles = article_tone(articles, sentiment)
    entities = entities_table(sentences, settings.reference_dir / "gazetteer.csv")
    claims = claims_table(sentences, articles, prices, inferred=inferred)
    events = events_table(articles, prices, returns)
    flows = flows_table(prices, claims, settings.reference_dir)

    frames = {
        "articles": articles.sort("published_date", "article_id", nulls_last=True),
        "sentences": sentences.sort("article_id", "sentence_idx"),
        "entities": entities,
        "sentence_sentiment": sentiment.sort("article_id", "sentence_idx"),
        "prices": prices.sort("instrument", "date"),
        "returns": returns.sort("instrument", "date"),
        "claims": claims,
        "events": events,
        "flows": flows,
        "validation": validation_table(settings.market_dir),
    }
    edition = compute_edition(settings, as_of)
    return Tables(edition=edition, frames=frames, rejects=corpus.rejects)


def apply_inferred_dates(articles: pl.DataFrame, inferred: pl.DataFrame) -> pl.DataFrame:
    """Fill missing publication dates from claim evidence, marking the method `inferred`."""
    patch = inferred.select(
        "article_id", pl.col("published_date_inferred"), pl.col("date_evidence")
    )
    joined = articles.join(patch, on="article_id", how="left")
    fill = pl.col("published_date").is_null() & pl.col("published_date_inferred").is_not_null()
    return joined.with_columns(
        published_date=pl.when(fill)
        .then(pl.col("published_date_inferred"))
        .otherwise(pl.col("published_date")),
        date_method=pl.when(fill).then(pl.lit("inferred")).otherwise(pl.col("date_method")),
        date_confidence=pl.when(fill).then(pl.lit("medium")).otherwise(pl.col("date_confidence")),
    ).drop("published_date_inferred")


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


def write_atomic(df: pl.DataFrame, path: Path) -> None:
    """Write Parquet to a temporary file beside `path`, then rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        # No statistics timestamps or compression randomness: same data, same bytes.
        df.write_parquet(tmp, compression="zstd", statistics=True)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(text: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def edition_metadata(tables: Tables, settings: Settings) -> dict[str, str]:
    """Metadata Quarto and the built-in renderer read through `metadata-files`.

    The summary comes from the manifest without outputs (they do not exist yet); the full
    manifest is written by post-render once every output does.
    """
    from pipeline.editions.archive import input_files_by_kind
    from pipeline.editions.manifest import build_manifest, manifest_summary

    manifest = build_manifest(
        tables.edition,
        input_files_by_kind(settings),
        settings.site_dir,
        PROJECT_ROOT,
        include_outputs=False,
    )
    return {
        "edition": tables.edition.id,
        "as-of": tables.edition.as_of.isoformat(),
        "inputs-hash": tables.edition.inputs_hash,
        "manifest-summary": manifest_summary(manifest),
    }


def write_tables(tables: Tables, out_dir: Path, settings: Settings) -> list[Path]:
    """Write every table as Parquet plus the edition metadata files; returns the paths written."""
    written = []
    for name, df in tables.frames.items():
        path = out_dir / f"{name}.parquet"
        write_atomic(df, path)
        written.append(path)
    from pipeline.findings.summary import key_numbers

    numbers = out_dir / "key_numbers.parquet"
    write_atomic(key_numbers(tables.frames, tables.edition.as_of.isoformat()), numbers)
    written.append(numbers)
    rejects = out_dir / "rejects.parquet"
    write_atomic(tables.rejects, rejects)
    written.append(rejects)
    meta = edition_metadata(tables, settings)
    write_text_atomic(
        yaml.safe_dump(meta, allow_unicode=True, sort_keys=True), out_dir / "edition.yml"
    )
    write_text_atomic(json.dumps(meta, indent=2, sort_keys=True) + "\n", out_dir / "edition.json")
    written += [out_dir / "edition.yml", out_dir / "edition.json"]
    return written


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
