"""The sentences table: each article's cleaned text cut into sentences, with a language each.

Segmentation is regex work on whole columns: abbreviations ("U.S.", "Nov.", "z.B.") and German
ordinals ("19. November") are protected, sentence ends followed by a capital get a marker, and
the texts are split and exploded. Paragraph breaks always end a sentence, so headings stand alone.

A sentence keeps its article's language unless function words point to another language (an
English quote in a German article) or it is written in another script; only those few candidates
go through the language detector, which keeps this step fast.
"""

from __future__ import annotations

import polars as pl

from pipeline.corpus.language import DE_WORDS, EN_WORDS, OTHER_SCRIPT, detect_languages
from pipeline.text.patterns import fast_regex

_PROTECT = "\ue000"
_BREAK = "\ue001"
ABBREVIATIONS = fast_regex(
    r"\b(U\.S|U\.K|E\.U|U\.N|Mr|Mrs|Ms|Dr|Prof|Inc|Corp|Co|Ltd|Jr|Sr|St|No|Nr|bzw|vgl|ca|Mio|Mrd|Bio|Tsd"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|Okt|Dez|z\.B|u\.a|d\.h|z\.T|etc|vs|evtl|inkl|zzgl)\."
)
INITIAL = fast_regex(r"\b(\p{Lu})\.(\s+\p{Lu})")
ORDINAL = (
    r"(\d)\.(\s+(?:Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November"
    r"|Dezember|Jahrhundert|Quartal|\p{Ll}))"
)
BOUNDARY = r"([.!?…]+[\"”“»’)]*)\s+([\"“„«(]?[\p{Lu}\d])"

SCHEMA = {
    "article_id": pl.String,
    "sentence_idx": pl.Int32,
    "text": pl.String,
    "language": pl.String,
}


def split_expr(text: pl.Expr) -> pl.Expr:
    """A list of sentences per text (Polars expression; no Python per row)."""
    marked = (
        text.str.replace_all(ABBREVIATIONS, f"${{1}}{_PROTECT}")
        .str.replace_all(INITIAL, f"${{1}}{_PROTECT}${{2}}")
        .str.replace_all(ORDINAL, f"${{1}}{_PROTECT}${{2}}")
        .str.replace_all(BOUNDARY, f"${{1}}{_BREAK}${{2}}")
        .str.replace_all(r"\n+", _BREAK)
    )
    return marked.str.split(_BREAK)


def sentences_table(articles: pl.DataFrame, detect_mixed: bool = True) -> pl.DataFrame:
    """One row per sentence: article_id, sentence_idx (0-based), text, language."""
    s = (
        articles.lazy()
        .select(
            "article_id",
            "language",
            text=split_expr(pl.col("text")).list.eval(
                pl.element()
                .str.replace_all(_PROTECT, ".", literal=True)
                .str.strip_chars()
                .filter(pl.element() != "")
            ),
        )
        .with_columns(sentence_idx=pl.int_ranges(0, pl.col("text").list.len(), dtype=pl.Int32))
        .explode(["text", "sentence_idx"])
        .drop_nulls("text")
        .collect()
    )
    if detect_mixed and s.height:
        s = _sentence_languages(s)
    return s.select(list(SCHEMA)).cast(SCHEMA)


def _sentence_languages(s: pl.DataFrame) -> pl.DataFrame:
    """Re-detect the language of sentences whose words or script disagree with their article.

    Suspect: an English sentence with >= 2 German function words and more than twice as many
    German as English ones (and the reverse), a sentence in another script, or one without a
    language. Each sentence is first searched only for the *other* language's words, which most
    have none of; the own language's words are counted on the few that pass. That is one regex
    pass per sentence instead of two.
    """
    text, lang = pl.col("text"), pl.col("language")
    s = s.with_row_index("_row")

    def other_words(own: str, other_rx: str, own_rx: str) -> pl.DataFrame:
        first = s.filter(lang == own).select("_row", "text", _o=text.str.count_matches(other_rx))
        few = first.filter(pl.col("_o") >= 2)  # eager: the costly count runs on these only
        return few.filter(pl.col("_o") > 2 * text.str.count_matches(own_rx)).select("_row")

    script = s.filter(~lang.is_in(["zh", "ja", "ko"]).fill_null(False))
    suspects = pl.concat(
        [
            other_words("de", EN_WORDS, DE_WORDS),
            other_words("en", DE_WORDS, EN_WORDS),
            script.filter(text.str.contains(OTHER_SCRIPT)).select("_row"),
            s.filter(lang.is_null()).select("_row"),
        ]
    ).unique()
    cand = s.join(suspects, on="_row", how="semi").filter(text.str.len_chars() >= 20)
    if cand.height:
        found = detect_languages(cand["text"].to_list(), prefix=1000)
        fix = pl.DataFrame(
            {"_row": cand["_row"], "_lang": found}, schema={"_row": pl.UInt32, "_lang": pl.String}
        )
        s = s.join(fix, on="_row", how="left", maintain_order="left").with_columns(
            language=pl.coalesce("_lang", "language")
        )
    return s.drop("_row", "_lang", strict=False)
