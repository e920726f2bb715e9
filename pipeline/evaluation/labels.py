"""Reading a labels folder: `articles_{lang}.csv` and `claims_{lang}.csv`, any language.

The format is the dev corpus's (`../shared/corpus/dev/README.md` lists the columns), so a
newsroom can label a handful of its own articles and score the engine on them. Every language
file present is read. A bad row is an `InputError` naming the file and its line: a typo in a
label must not turn silently into a "miss" of the engine.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipeline.config import printable
from pipeline.errors import InputError

# The label vocabularies of the dev corpus README.
LABEL_KINDS = (
    "close_price",
    "pct_change_day",
    "pct_change_ytd",
    "pct_change_mtd",
    "pct_change_period",
    "intraday_move",
    "intraday_price",
    "volume",
    "flow",
    "non_price_amount",
    "other",
)
VERDICTS = ("supported", "contradicted", "unverifiable", "not_a_market_claim")
ARTICLE_COLUMNS = ("file", "language", "published_date", "source", "title", "date_in_text")
CLAIM_COLUMNS = (
    "file",
    "quote",
    "instrument",
    "date",
    "kind",
    "value",
    "unit",
    "qualifier",
    "expected_verdict",
)


@dataclass(frozen=True)
class Labels:
    """One row per labelled article and one per labelled number; `lang` is the file's tag."""

    articles: pl.DataFrame
    claims: pl.DataFrame


def read_labels(folder: Path) -> Labels:
    """Every `articles_*.csv` and `claims_*.csv` in `folder`, checked row by row."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("labels folder not found", folder, fix="pass --labels DIR")
    article_files = sorted(folder.glob("articles_*.csv"))
    if not article_files:
        raise InputError(
            "no articles_{lang}.csv in the labels folder",
            folder,
            fix="name the label files articles_en.csv, claims_en.csv, ...",
        )
    articles = pl.concat([_rows(p, ARTICLE_COLUMNS) for p in article_files], how="diagonal")
    articles = article_labels(articles)
    claim_files = sorted(folder.glob("claims_*.csv"))
    frames = [_rows(p, CLAIM_COLUMNS) for p in claim_files]
    claims = pl.concat(frames, how="diagonal") if frames else _empty(CLAIM_COLUMNS)
    return Labels(articles=articles, claims=claim_labels(claims, articles))


def _rows(path: Path, required: tuple[str, ...]) -> pl.DataFrame:
    """The CSV's rows as strings (empty cells null) with `lang`, `label_file` and `line`.

    The csv module reads it, not `pl.read_csv`, because only it tells which line a record
    started on (a quoted note may span lines), and that is what an error must name.
    """
    lang = path.stem.split("_", 1)[1]
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            missing = [c for c in required if c not in header]
            if missing:
                raise InputError(f"missing columns {', '.join(missing)}", path, 1)
            records, start = [], reader.line_num + 1
            for row in reader:
                if None in row or None in row.values():
                    raise InputError("the row has not as many fields as the header", path, start)
                records.append({"line": start, **row})
                start = reader.line_num + 1
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason})", path) from None
    except csv.Error as exc:
        raise InputError(f"not a readable CSV ({exc})", path) from None
    schema = {"line": pl.Int64, **{c: pl.String for c in header}}
    frame = pl.DataFrame(records, schema=schema, orient="row")
    return frame.with_columns(
        pl.col(c).str.strip_chars().replace("", None) for c in header
    ).with_columns(lang=pl.lit(lang), label_file=pl.lit(printable(path)))


def _empty(columns: tuple[str, ...]) -> pl.DataFrame:
    schema = {"line": pl.Int64, **{c: pl.String for c in columns}}
    return pl.DataFrame(schema={**schema, "lang": pl.String, "label_file": pl.String})


def _fail_first(frame: pl.DataFrame, bad: pl.Expr, message: pl.Expr) -> None:
    """Raise an InputError for the first row where `bad` holds, with `message` for it."""
    hit = frame.filter(bad.fill_null(True)).select("label_file", "line", message.alias("message"))
    if hit.height:
        path, line, text = hit.row(0)
        raise InputError(text, path, line)


def _date(column: str) -> pl.Expr:
    return pl.col(column).str.to_date("%Y-%m-%d", strict=False)


def _one_of(column: str, allowed: tuple[str, ...]) -> tuple[pl.Expr, pl.Expr]:
    bad = pl.col(column).is_null() | ~pl.col(column).is_in(allowed)
    return bad, pl.format(f"{column} {{}} is not one of {', '.join(allowed)}", pl.col(column))


def article_labels(rows: pl.DataFrame) -> pl.DataFrame:
    """Checked article labels: dates parsed, one row per file across all languages."""
    for column in ("file", "language"):
        _fail_first(rows, pl.col(column).is_null(), pl.lit(f"empty `{column}`"))
    has_date = pl.col("published_date").is_not_null()
    _fail_first(
        rows,
        has_date & _date("published_date").is_null(),
        pl.format("published_date {} is not YYYY-MM-DD", pl.col("published_date")),
    )
    _fail_first(
        rows,
        pl.col("date_in_text").is_not_null() & ~pl.col("date_in_text").is_in(["yes", "no"]),
        pl.format("date_in_text {} is neither yes nor no", pl.col("date_in_text")),
    )
    first = pl.col("line").first().over("file")
    _fail_first(
        rows,
        pl.col("file").is_duplicated() & (pl.col("line") != first),
        pl.format("{} is labelled twice", pl.col("file")),
    )
    return rows.with_columns(published_date=_date("published_date"))


def claim_labels(rows: pl.DataFrame, articles: pl.DataFrame) -> pl.DataFrame:
    """Checked claim labels with a `label_id`, a float `value` and its written `decimals`.

    `value` is null for the few claims that state no number; they cannot be matched by value.
    """
    for column in ("file", "quote", "instrument"):
        _fail_first(rows, pl.col(column).is_null(), pl.lit(f"empty `{column}`"))
    _fail_first(rows, *_one_of("kind", LABEL_KINDS))
    _fail_first(rows, *_one_of("expected_verdict", VERDICTS))
    value = pl.col("value").str.replace_all(r"[_\s]", "").cast(pl.Float64, strict=False)
    # An empty value is allowed: some claims carry no number ("its highest close since 2021").
    _fail_first(
        rows,
        pl.col("value").is_not_null() & value.is_null(),
        pl.format("value {} is not a number", pl.col("value")),
    )
    _fail_first(
        rows,
        pl.col("date").is_not_null() & _date("date").is_null(),
        pl.format("date {} is not YYYY-MM-DD", pl.col("date")),
    )
    _fail_first(
        rows,
        ~pl.col("file").is_in(articles["file"].implode()),
        pl.format("{} has no row in any articles_*.csv", pl.col("file")),
    )
    decimals = pl.col("value").str.extract(r"\.(\d+)$").str.len_chars().fill_null(0)
    return rows.with_columns(
        label_id=pl.format("{}:{}", "label_file", "line"),
        value_text=pl.col("value"),
        value=value,
        decimals=decimals.cast(pl.Int32),
        date=_date("date"),
    )


def check_labelled_files(articles: pl.DataFrame, articles_dir: Path) -> None:
    """Every labelled article must be in the folder: otherwise a typo in a label, or the wrong
    folder, would be scored as an article the engine dropped."""
    folder = Path(articles_dir)
    absent = articles.filter(
        pl.col("file").map_elements(lambda f: not (folder / f).is_file(), return_dtype=pl.Boolean)
    )
    if absent.height:
        path, line, file = absent.select("label_file", "line", "file").row(0)
        more = f" (and {absent.height - 1} more)" if absent.height > 1 else ""
        raise InputError(
            f"{file} is not in the articles folder {printable(folder)}{more}",
            path,
            line,
            fix="pass the folder the labels describe with --articles, or fix the file name",
        )
