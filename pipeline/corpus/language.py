"""The language of each article: metadata, else function words, else lingua."""

from __future__ import annotations

from functools import lru_cache

import polars as pl

from pipeline.text.patterns import fast_regex

LANGUAGES = ("en", "de", "zh", "fr", "es", "it", "nl", "ja")


@lru_cache(maxsize=1)
def language_detector():
    """lingua detector for the languages we expect; built once, lazily (building is slow)."""
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    codes = [getattr(IsoCode639_1, c.upper()) for c in LANGUAGES]
    det = (
        LanguageDetectorBuilder.from_iso_codes_639_1(*codes)
        .with_preloaded_language_models()
        .build()
    )
    det.detect_languages_in_parallel_of(["warm up the thread pool", "und die Modelle"])
    return det


def detect_languages(texts: list[str], prefix: int = 400) -> list[str | None]:
    """ISO 639-1 code per text, from its first `prefix` characters, detected in parallel."""
    if not texts:
        return []  # building the detector loads every model: not for nothing to detect
    det = language_detector()
    found = det.detect_languages_in_parallel_of([t[:prefix] for t in texts])
    return [lang.iso_code_639_1.name.lower() if lang is not None else None for lang in found]


# Function words that only English / only German use this often: a confident shortcut before
# lingua, which costs ~0.2 ms per article and would dominate the stage on a large corpus.
EN_WORDS = fast_regex(r"(?i)\b(?:the|and|of|to|is|are|was|with|that|for|this|which)\b")
DE_WORDS = fast_regex(r"(?i)\b(?:der|das|und|ist|sind|nicht|mit|für|dass|eine|auch|wird|sich)\b")
OTHER_SCRIPT = r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}\p{Cyrillic}\p{Arabic}]"


def article_languages(df: pl.DataFrame) -> pl.DataFrame:
    """article_id, det_language, language_method for a frame of article_id + text.

    A text whose first 2,000 characters hold at least 4 English (or German) function words and
    more than three times as many as of the other language is taken as that language ("function words");
    all others go to lingua on their first 300 characters ("lingua").
    """
    head = pl.col("text").str.slice(0, 2000)
    en, de = head.str.count_matches(EN_WORDS), head.str.count_matches(DE_WORDS)
    other = head.str.contains(OTHER_SCRIPT)
    quick = (
        pl.when(~other & (en >= 4) & (en > 3 * de))
        .then(pl.lit("en"))
        .when(~other & (de >= 4) & (de > 3 * en))
        .then(pl.lit("de"))
    )
    # Lazy: the optimiser computes each count once; an eager select would run every regex
    # twice, once per branch that uses it.
    out = df.lazy().select("article_id", "text", det_language=quick).collect()
    slow = out.filter(pl.col("det_language").is_null())
    found = pl.DataFrame(
        {
            "article_id": slow["article_id"],
            "_lingua": detect_languages(slow["text"].to_list(), prefix=300),
        },
        schema={"article_id": pl.String, "_lingua": pl.String},
    )
    return (
        out.join(found, on="article_id", how="left")
        .with_columns(
            language_method=pl.when(pl.col("det_language").is_not_null())
            .then(pl.lit("function words"))
            .otherwise(pl.lit("lingua")),
            det_language=pl.coalesce("det_language", "_lingua"),
        )
        .select("article_id", "det_language", "language_method")
    )


def with_language(arts: pl.DataFrame) -> pl.DataFrame:
    """Language: sidecar/front matter first, else detected on the start of the cleaned text."""
    need = arts.filter(pl.col("meta_language").is_null()).select("article_id", "text")
    detected = article_languages(need)
    return arts.join(detected, on="article_id", how="left").with_columns(
        language=pl.coalesce("meta_language", "det_language"),
        language_method=pl.when(pl.col("meta_language").is_not_null())
        .then(pl.lit("metadata"))
        .otherwise("language_method"),
    )
