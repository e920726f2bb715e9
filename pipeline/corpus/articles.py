"""The articles table: read every article file, clean it, date it, attribute it.

The steps live in sibling modules, one job each: `files` (reading, decoding, sidecars, front
matter), `html` (saved pages), `lines` (one row per line), `clean` (site chrome), `dates`
(publication date), `sources` (publisher), `titles` (headline), `duplicates`, `language`.
This module only assembles them. `build_articles` takes a frame of raw texts, so the benchmark
can run it on a synthetic corpus without writing files.
"""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipeline.config import printable
from pipeline.corpus import dates, sources
from pipeline.corpus.clean import (  # noqa: F401  (re-exported: bench and tests read the rules)
    BYLINE,
    CTA,
    GENERATOR,
    GENERATOR_BYLINE,
    SOURCE_DOMAIN,
    SOURCE_NAMED,
    SPEAKER,
    SUMMARY_HEADER,
    UI_TEXT,
    assemble,
    classify,
    drop_repeated_lines,
    with_removed,
)
from pipeline.corpus.dates import parse_datelines  # noqa: F401
from pipeline.corpus.duplicates import NEAR_DUP_THRESHOLD, find_duplicates  # noqa: F401
from pipeline.corpus.files import (  # noqa: F401
    MAX_BYTES,
    MAX_META_BYTES,
    RAW_SCHEMA,
    SIDECAR_SUFFIX,
    article_files,
    raw_frame,
    read_one,
)
from pipeline.corpus.language import (  # noqa: F401
    DE_WORDS,
    EN_WORDS,
    OTHER_SCRIPT,
    article_languages,
    detect_languages,
    language_detector,
    with_language,
)
from pipeline.corpus.lines import split_lines
from pipeline.corpus.sources import (  # noqa: F401
    DEFAULT_PUBLISHERS,
    DEFAULT_SIGNATURES,
    boilerplate_key,
    load_publishers,
    load_signatures,
    shared_boilerplate_sources,
    signature_sources,
)
from pipeline.corpus.titles import text_titles
from pipeline.errors import InputError
from pipeline.text.dates import resolve_year  # noqa: F401
from pipeline.text.patterns import fast_regex  # noqa: F401

REJECT_SCHEMA = {"path": pl.String, "reason": pl.String}
COLUMNS = [
    "article_id",
    "path",
    "format",
    "source",
    "source_confidence",
    "source_evidence",
    "language",
    "language_method",
    "published_at",
    "published_date",
    "published_time_known",
    "updated_at",
    "date_method",
    "date_confidence",
    "date_evidence",
    "title",
    "text",
    "n_words",
    "field_sources",
    "url",
    "byline",
    "generator_notice",
    "removed",
    "removed_why",
    "duplicate_of",
    "issues",
]


@dataclass(frozen=True)
class CorpusResult:
    """Articles that were read, and files that were not, each with the reason."""

    articles: pl.DataFrame
    rejects: pl.DataFrame


def build_articles(
    raw: pl.DataFrame,
    as_of: dt.date | None = None,
    signatures: pl.DataFrame | None = None,
    publishers: pl.DataFrame | None = None,
) -> CorpusResult:
    """The articles table from a raw-document frame (see RAW_SCHEMA / raw_frame).

    `signatures` is the publisher-signature table and `publishers` the name->domain table
    (defaults: data/reference/publisher_signatures.csv and publishers.csv).
    """
    signatures = load_signatures() if signatures is None else signatures
    publishers = load_publishers() if publishers is None else publishers
    raw = raw.cast({k: v for k, v in RAW_SCHEMA.items() if k in raw.columns})
    lines = split_lines(raw)
    mentions = dates.date_mentions(lines)
    lines = classify(lines, dates.datelines(mentions))
    # The texts live on in `lines`; when the caller passed its only reference, this frees them.
    raw = raw.drop("raw_text")
    kept = lines.filter(pl.col("why").is_null() & (pl.col("text_line") != ""))
    arts = (
        raw.join(_line_metadata(lines), on="article_id", how="left")
        .join(text_titles(lines), on="article_id", how="left")
        .join(assemble(kept), on="article_id", how="left")
        .with_columns(pl.col("text").fill_null(""))
    )
    arts = sources.named_sources(arts, lines, publishers)
    arts, reference = dates.article_dates(arts, lines, mentions, publishers, as_of)
    arts = _with_fields(arts)
    dups = find_duplicates(
        arts.filter(pl.col("text") != "").select("article_id", "text", "rank"),
        paragraphs=kept.select("article_id", h=pl.col("text_line").str.to_lowercase().hash(3)),
    )
    arts, lines = drop_repeated_lines(arts.join(dups, on="article_id", how="left"), lines, kept)
    arts = with_removed(sources.inferred_sources(arts, lines, signatures), lines)
    empty = arts.filter(pl.col("n_words") == 0)
    rejects = empty.select(
        "path",
        reason=pl.format(
            "only boilerplate: all {} non-empty lines were removed by cleaning",
            pl.col("removed").list.len(),
        ),
    )
    arts = with_language(arts.filter(pl.col("n_words") > 0))
    arts = arts.with_columns(issues=_issues(as_of, reference)).sort("path")
    return CorpusResult(arts.select(COLUMNS), rejects.cast(REJECT_SCHEMA))


def _line_metadata(lines: pl.DataFrame) -> pl.DataFrame:
    """Generator notice and bylines found in the lines."""
    return lines.group_by("article_id").agg(
        generator_notice=pl.col("line").filter(pl.col("gen_hit")).first(),
        gen_byline=pl.col("line")
        .filter(pl.col("gen_hit"))
        .first()
        .str.extract_groups(GENERATOR_BYLINE),
        plain_byline=pl.col("byline_hit").filter(pl.col("why") == "byline").first(),
    )


def _with_fields(arts: pl.DataFrame) -> pl.DataFrame:
    """Title, URL, byline, where each field came from, and the rank that picks a kept copy."""
    gb = pl.col("gen_byline")
    return arts.with_columns(
        url=pl.col("meta_url"),
        title=pl.coalesce("meta_title", "text_title"),
        byline=pl.coalesce(
            "meta_byline",
            pl.when(gb.struct.field("1").is_not_null()).then(
                pl.format("{} (reviewed by {})", gb.struct.field("1"), gb.struct.field("2"))
            ),
            "plain_byline",
        ),
        field_sources=pl.struct(
            source=pl.col("source_origin"),
            url=pl.when(pl.col("meta_url").is_not_null()).then("origin_url"),
            published_at=pl.when(pl.col("meta_published_at").is_not_null())
            .then("origin_published_at")
            .when(pl.col("published_date").is_not_null())
            .then(pl.lit("text")),
            title=pl.when(pl.col("meta_title").is_not_null())
            .then("origin_title")
            .when(pl.col("text_title").is_not_null())
            .then(pl.lit("text")),
        ),
        rank=pl.struct(
            pl.col("published_at").is_null().alias("undated"), "published_at", "path"
        ).rank("ordinal"),
    )


def _issues(as_of: dt.date | None, reference: dt.date | None) -> pl.Expr:
    none = pl.lit([], pl.List(pl.String))

    def flag(cond: pl.Expr, text: str | pl.Expr) -> pl.Expr:
        value = pl.concat_list(text) if isinstance(text, pl.Expr) else pl.lit([text])
        return pl.when(cond).then(value).otherwise(none)

    against = f"{'as-of' if as_of else 'newest dated article'} {reference}"
    return pl.concat_list(
        pl.col("pre_issues"),
        flag(pl.col("published_date").is_null(), "no date"),
        flag(
            pl.col("date_method") == "text_no_year", f"year not in text: resolved against {against}"
        ),
        flag(pl.col("published_date") > pl.lit(as_of), f"dated after as-of {as_of}")
        if as_of
        else none,
        flag(pl.col("source").is_null(), "no source"),
        flag(pl.col("title").is_null(), "no title"),
        flag(pl.col("language").is_null(), "language unknown"),
        flag(pl.col("duplicate_of").is_not_null(), pl.format("duplicate of {}", "duplicate_of")),
    )


# =============================================================================================
# Public entry points
# =============================================================================================
def read_corpus(
    articles_dir: Path, as_of: dt.date | None = None, max_bytes: int = MAX_BYTES
) -> CorpusResult:
    """Every readable article in the folder, plus a rejects table naming each unusable file."""
    articles_dir = Path(articles_dir)
    if not articles_dir.is_dir():
        raise InputError(
            "articles folder not found",
            articles_dir,
            fix="set BRIEFING_ARTICLES_DIR to the folder holding the articles",
        )
    rows: list[dict] = []
    rejects: list[tuple[str, str]] = []
    for path in article_files(articles_dir):
        rel = printable(path.relative_to(articles_dir).as_posix())
        try:
            rows.append(read_one(path, articles_dir, max_bytes))
        except InputError as exc:
            rejects.append((rel, str(exc)))
        except OSError as exc:
            rejects.append((rel, f"{printable(path)}: cannot read: {printable(exc)}"))
    if not rows:
        raise InputError(
            "no readable article in the folder"
            + (f" ({len(rejects)} rejected)" if rejects else ""),
            articles_dir,
            fix="add .txt, .md or .html articles; see the rejects above",
        )
    raw, copies = _read_once(pl.DataFrame(rows, schema=RAW_SCHEMA), articles_dir)
    result = build_articles(raw, as_of)
    rej = pl.concat(
        [
            pl.DataFrame(rejects + copies, schema=REJECT_SCHEMA, orient="row"),
            result.rejects.with_columns(reason=pl.format("{}: {}", "path", "reason")),
        ]
    )
    if result.articles.height == 0:
        raise InputError("no article left after cleaning (every file was rejected)", articles_dir)
    return CorpusResult(result.articles, rej)


def _read_once(raw: pl.DataFrame, articles_dir: Path) -> tuple[pl.DataFrame, list[tuple[str, str]]]:
    """Byte-identical files (a copy, a link inside the folder) share an article id; every join
    on the id would multiply their rows. Keep the first by path, report the others."""
    first = raw.unique("article_id", keep="first", maintain_order=True)
    if first.height == raw.height:
        return raw, []
    copies = raw.join(first.select("path"), on="path", how="anti").join(
        first.select("article_id", first_path="path"), on="article_id"
    )
    return first, [
        (path, f"{printable(articles_dir / path)}: same bytes as {first_path}, read once")
        for path, first_path in copies.select("path", "first_path").iter_rows()
    ]


def articles_table(articles_dir: Path, as_of: dt.date | None = None) -> pl.DataFrame:
    """The articles table; rejected files and articles dated after as-of are reported on stderr."""
    result = read_corpus(articles_dir, as_of)
    for path, reason in result.rejects.iter_rows():
        print(f"corpus: skipped {path}: {reason}", file=sys.stderr)
    for path, issues in result.articles.select("path", "issues").iter_rows():
        for issue in issues:
            if issue.startswith("dated after as-of"):
                print(
                    f"corpus: {articles_dir / path}: {issue}; it is left out of the edition",
                    file=sys.stderr,
                )
    return result.articles
