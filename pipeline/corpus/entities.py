"""The entities table: companies, people, tickers, ISINs, money and percentages per sentence.

Names come from a small documented gazetteer (`data/reference/gazetteer.csv`), so every entity
traces to a reviewed row rather than a statistical model's guess. Money and percentages use the
shared patterns and parser in `pipeline.text.numbers`, so "2,5 Prozent", "HK$956 million" and
"1,5 Mrd. Euro" are read the same way everywhere.

Matching is vectorised: each pattern is applied to the whole sentence column by wrapping every
match in a marker, splitting on the marker and exploding; odd pieces are the matches and the
running length of the pieces before them gives each match's character offset.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from pipeline.config import PROJECT_ROOT
from pipeline.errors import InputError
from pipeline.text import numbers
from pipeline.text.patterns import fast_regex

DEFAULT_GAZETTEER = PROJECT_ROOT / "data" / "reference" / "gazetteer.csv"
TYPES = {"company", "person", "ticker", "isin", "organisation", "product", "index"}
_MARK = "\ue002"
ISIN = fast_regex(r"\b[A-Z]{2}[A-Z0-9]{9}[0-9]\b")
EXCHANGE_TICKER = fast_regex(
    r"\b(?:NYSE|NASDAQ|Nasdaq|HKEX|HKG|SEHK|Xetra|XETRA)\s*:\s*[A-Z0-9]{1,6}(?:\.[A-Z]{1,2})?\b"
)
QUANTITY = fast_regex(rf"(?i)(?:{numbers.MONEY})|(?:{numbers.PERCENT})")

SCHEMA = {
    "article_id": pl.String,
    "sentence_idx": pl.Int32,
    "entity": pl.String,
    "type": pl.String,
    "span": pl.String,
    "start": pl.Int32,
    "end": pl.Int32,
    "value": pl.Float64,
    "unit": pl.String,
}


def load_gazetteer(path: Path | None = None) -> pl.DataFrame:
    """The gazetteer, validated: entity, type, alias, case_sensitive (bool)."""
    path = Path(path) if path else DEFAULT_GAZETTEER
    if not path.is_file():
        raise InputError("gazetteer not found", path, fix="restore data/reference/gazetteer.csv")
    try:
        g = pl.read_csv(path, schema_overrides={"case_sensitive": pl.String}, comment_prefix="#")
    except Exception as exc:
        raise InputError(f"gazetteer is not a readable CSV: {exc}", path) from None
    missing = {"entity", "type", "alias", "case_sensitive"} - set(g.columns)
    if missing:
        raise InputError(f"gazetteer lacks columns {sorted(missing)}", path, line=1)
    g = g.with_row_index("line", offset=2)
    bad = g.filter(
        ~pl.col("type").is_in(sorted(TYPES))
        | pl.col("alias").is_null()
        | pl.col("entity").is_null()
        | ~pl.col("case_sensitive").str.to_lowercase().is_in(["true", "false"])
    )
    if bad.height:
        row = bad.row(0, named=True)
        raise InputError(
            f"bad gazetteer row: type must be one of {sorted(TYPES)}, alias and entity set, "
            f"case_sensitive true/false (got {row})",
            path,
            line=int(row["line"]),
        )
    g = g.with_columns(
        case_sensitive=pl.col("case_sensitive").str.to_lowercase() == "true",
        key=pl.col("alias").str.to_lowercase(),
    )
    clash = (
        g.group_by("key")
        .agg(pl.col("entity").n_unique().alias("n"), pl.col("line").min())
        .filter(pl.col("n") > 1)
    )
    if clash.height:
        raise InputError(
            f"alias '{clash['key'][0]}' names two different entities",
            path,
            line=int(clash["line"][0]),
        )
    return g


def _alias_pattern(g: pl.DataFrame) -> str:
    parts = []
    for alias, cs in sorted(
        zip(g["alias"], g["case_sensitive"], strict=True), key=lambda r: -len(r[0])
    ):
        body = re.escape(alias)
        body = body if cs else f"(?i:{body})"
        # Word boundaries only make sense for scripts that separate words with spaces.
        parts.append(rf"\b{body}\b" if alias.isascii() else body)
    return fast_regex("|".join(parts))


def find_spans(sentences: pl.DataFrame, pattern: str) -> pl.DataFrame:
    """Every non-overlapping match of `pattern`: article_id, sentence_idx, language, span, start, end."""
    hit = sentences.filter(pl.col("text").str.contains(pattern))
    if hit.height == 0:
        return pl.DataFrame(
            schema={
                "article_id": pl.String,
                "sentence_idx": pl.Int32,
                "language": pl.String,
                "span": pl.String,
                "start": pl.Int32,
                "end": pl.Int32,
            }
        )
    return (
        hit.lazy()
        .with_row_index("_sid")
        .select(
            "_sid",
            "article_id",
            "sentence_idx",
            "language",
            piece=pl.col("text").str.replace_all(pattern, f"{_MARK}${{0}}{_MARK}").str.split(_MARK),
        )
        # piece number and running length computed inside each list: no window over 10^6 groups
        .with_columns(_len=pl.col("piece").list.eval(pl.element().str.len_chars().cast(pl.Int32)))
        .with_columns(
            _end=pl.col("_len").list.eval(pl.element().cum_sum()),
            _k=pl.int_ranges(0, pl.col("piece").list.len()),
        )
        .explode(["piece", "_len", "_end", "_k"])
        .with_columns(start=(pl.col("_end") - pl.col("_len")).cast(pl.Int32))
        .filter((pl.col("_k") % 2 == 1) & (pl.col("_len") > 0))
        .select(
            "article_id",
            "sentence_idx",
            "language",
            span="piece",
            start="start",
            end=(pl.col("start") + pl.col("_len")).cast(pl.Int32),
        )
        .collect()
    )


def _isin_valid(code: str) -> bool:
    """ISO 6166 check digit (Luhn over the letters-as-numbers expansion)."""
    digits = "".join(str(int(c, 36)) for c in code[:-1])
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return (10 - total % 10) % 10 == int(code[-1])


def _quantities(sentences: pl.DataFrame) -> pl.DataFrame:
    spans = find_spans(sentences, QUANTITY)
    if spans.height == 0:
        return spans
    # Parse each distinct (span, language) once; a corpus repeats the same figures a lot.
    uniq = spans.select("span", "language").unique()
    rows = []
    for span, lang in uniq.iter_rows():
        lang = lang if lang in ("en", "de") else "en"
        try:
            if re.fullmatch(numbers.PERCENT, span, re.IGNORECASE):
                rows.append((span, lang, numbers.parse_percent(span, lang), "percent", "percent"))
            else:
                value, unit = numbers.parse_money(span, lang)
                rows.append((span, lang, value, unit, "money"))
        except ValueError:
            continue
    parsed = pl.DataFrame(
        rows,
        schema={
            "span": pl.String,
            "_lang": pl.String,
            "value": pl.Float64,
            "unit": pl.String,
            "type": pl.String,
        },
        orient="row",
    )
    return (
        spans.with_columns(
            _lang=pl.when(pl.col("language").is_in(["en", "de"]))
            .then("language")
            .otherwise(pl.lit("en"))
        )
        .join(parsed, on=["span", "_lang"])
        .with_columns(entity=pl.col("span"))
    )


def entities_table(sentences: pl.DataFrame, gazetteer_path: Path | None = None) -> pl.DataFrame:
    """One row per entity mention: article_id, sentence_idx, entity, type, span, start, end, value, unit."""
    g = load_gazetteer(gazetteer_path)
    names_g = g.filter(pl.col("type") != "isin")
    frames = []
    names = find_spans(sentences, _alias_pattern(names_g))
    frames.append(
        names.with_columns(key=pl.col("span").str.to_lowercase()).join(
            names_g.select("key", "entity", "type"), on="key", how="inner"
        )
    )
    isins = find_spans(sentences, ISIN)
    if isins.height:
        valid = {c for c in isins["span"].unique().to_list() if _isin_valid(c)}
        known = g.filter(pl.col("type") == "isin").select(span="alias", entity="entity")
        frames.append(
            isins.filter(pl.col("span").is_in(sorted(valid)))
            .join(known, on="span", how="left")
            .with_columns(entity=pl.coalesce("entity", "span"), type=pl.lit("isin"))
        )
    tick = find_spans(sentences, EXCHANGE_TICKER)
    if tick.height:
        frames.append(
            tick.with_columns(
                entity=pl.col("span").str.replace(r"^.*:\s*", ""), type=pl.lit("ticker")
            )
        )
    frames.append(_quantities(sentences))
    out = pl.concat(
        [f.select([c for c in SCHEMA if c in f.columns]) for f in frames if f.height],
        how="diagonal",
    )
    if out.height == 0:
        return pl.DataFrame(schema=SCHEMA)
    for col, dtype in SCHEMA.items():
        if col not in out.columns:
            out = out.with_columns(pl.lit(None, dtype).alias(col))
    return out.select(list(SCHEMA)).cast(SCHEMA).sort("article_id", "sentence_idx", "start")
