"""Dictionary sentiment per sentence and per article, in English and German.

English uses the Loughran–McDonald master dictionary, German the BPW dictionary (a German
adaptation of LM's categories) or, failing that, the textblob-de polarity lexicon. We never call
the packages' own scorers: tokens are exploded into rows, joined against the lexicon frames and
counted with group_by, so the cost is a few column operations whatever the corpus size.

Negation: a sentiment word with "not/no/never/…" or "nicht/kein/nie/…" among the three tokens
before it counts for the opposite polarity. Uncertainty words are not flipped.

Comparability: the net tone is (positive − negative) / (positive + negative), in [−1, 1]. As a
ratio of the two polarities it does not depend on how many words a lexicon lists (BPW has about
five times LM's entries) or on how wordy a language is, which a per-token rate would; both
lexicons score the same LM categories. See docs/corpus.md.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipeline.corpus.lexicons import Lexicon, load_lexicon, negators_frame

TOKEN = r"\p{L}+(?:['’]\p{L}+)*"
# TOKEN for text whose ’ are already replaced by ': a plain ' is ~15% faster to extract.
_TOKEN_APOS = r"\p{L}+(?:'\p{L}+)*"
NEGATION_WINDOW = 3
LABEL_THRESHOLD = 0.1  # |tone| above this is positive/negative
BATCH_SENTENCES = 200_000

SCHEMA = {
    "article_id": pl.String,
    "sentence_idx": pl.Int32,
    "language": pl.String,
    "n_tokens": pl.Int64,
    "positive": pl.Int64,
    "negative": pl.Int64,
    "uncertainty": pl.Int64,
    "tone": pl.Float64,
    "label": pl.String,
    "lexicon": pl.String,
    "sentiment_note": pl.String,
}


def tone_expr(pos: pl.Expr, neg: pl.Expr) -> pl.Expr:
    """(pos − neg) / (pos + neg); 0 when no polar word; null when the counts are null."""
    total = pos + neg
    return pl.when(total > 0).then((pos - neg) / total).when(total == 0).then(pl.lit(0.0))


def label_expr(tone: pl.Expr) -> pl.Expr:
    return (
        pl.when(tone > LABEL_THRESHOLD)
        .then(pl.lit("positive"))
        .when(tone < -LABEL_THRESHOLD)
        .then(pl.lit("negative"))
        .when(tone.is_not_null())
        .then(pl.lit("neutral"))
    )


def _lexicons(languages: list[str], lexicon_dir: Path | None) -> dict[str, Lexicon]:
    found = {}
    for lang in languages:
        lex = load_lexicon(lang, lexicon_dir)
        if lex is not None:
            found[lang] = lex
    return found


LEX_SCHEMA = {
    "token": pl.String,
    "positive": pl.Int8,
    "negative": pl.Int8,
    "uncertainty": pl.Int8,
    "language": pl.String,
}
COUNT_SCHEMA = {
    "sid": pl.UInt32,
    "positive": pl.Int64,
    "negative": pl.Int64,
    "uncertainty": pl.Int64,
}


def sentence_sentiment_table(sentences: pl.DataFrame, lexicon_dir: Path | None) -> pl.DataFrame:
    """Per sentence: token count, positive/negative/uncertainty counts, tone, label, lexicon, note."""
    langs = [x for x in sentences["language"].unique().to_list() if x is not None]
    lexes = _lexicons(sorted(langs), lexicon_dir)
    sents = sentences.select("article_id", "sentence_idx", "language", "text").with_row_index("sid")
    scored = sents.filter(pl.col("language").is_in(list(lexes)))
    n_tokens, hits = _tokens_and_hits(scored, lexes, _word_table(lexes))
    counts = n_tokens.join(_polarity_counts(hits), on="sid", how="left")
    return _with_labels(sents.drop("text"), counts, _lexicon_meta(lexes))


def _word_table(lexes: dict[str, Lexicon]) -> pl.DataFrame:
    """Per language: lexicon words and negators, joined on the token alone."""
    lex_frame = pl.concat(
        [lx.frame.with_columns(language=pl.lit(lang)) for lang, lx in lexes.items()]
        or [pl.DataFrame(schema=LEX_SCHEMA)]
    )
    neg = negators_frame().with_columns(is_neg=pl.lit(True))
    return (
        lex_frame.join(neg, on=["language", "token"], how="full", coalesce=True)
        .with_columns(pl.col("is_neg").fill_null(False))
        .filter(pl.col("language").is_in(list(lexes)))
    )


def _lexicon_meta(lexes: dict[str, Lexicon]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "language": list(lexes),
            "lexicon": [lx.name for lx in lexes.values()],
            "lex_note": [lx.note for lx in lexes.values()],
            "has_unc": [lx.has_uncertainty for lx in lexes.values()],
        },
        schema={
            "language": pl.String,
            "lexicon": pl.String,
            "lex_note": pl.String,
            "has_unc": pl.Boolean,
        },
    )


def _tokens_and_hits(
    scored: pl.DataFrame, lexes: dict[str, Lexicon], table: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Token counts per sentence, and the lexicon hits and negators with their positions."""
    n_parts, hit_parts = [], []
    # Batches of sentences bound the memory of the token lists; each sentence stays whole.
    for start in range(0, scored.height, BATCH_SENTENCES):
        tokens = (
            scored.slice(start, BATCH_SENTENCES)
            .select(
                "sid",
                "language",
                token=pl.col("text")
                .str.to_lowercase()
                .str.replace_all("’", "'", literal=True)
                .str.extract_all(_TOKEN_APOS),
            )
            .with_columns(n_tokens=pl.col("token").list.len().cast(pl.Int64))
        )
        n_parts.append(tokens.select("sid", "n_tokens"))
        # Explode, keep only lexicon hits and negators (a few percent of tokens) with position.
        for lang in lexes:
            hit_parts.append(
                tokens.filter(pl.col("language") == lang)
                .lazy()
                .select("sid", "token")
                .explode("token")
                .with_row_index("pos")
                .join(table.filter(pl.col("language") == lang).drop("language").lazy(), on="token")
                .collect()
            )
        del tokens
    n_tokens = (
        pl.concat(n_parts)
        if n_parts
        else pl.DataFrame(schema={"sid": pl.UInt32, "n_tokens": pl.Int64})
    )
    hits = pl.concat(
        hit_parts
        or [pl.DataFrame(schema={"sid": pl.UInt32, "pos": pl.UInt32, "token": pl.String})],
        how="diagonal_relaxed",
    ).sort("sid", "pos")
    return n_tokens, hits


def _polarity_counts(hits: pl.DataFrame) -> pl.DataFrame:
    """Positive, negative and uncertainty counts per sentence; a negator among the 3 tokens
    before a word swaps its polarity."""
    if not hits.height:
        return pl.DataFrame(schema=COUNT_SCHEMA)
    flag, same, pos_ = pl.col("is_neg"), pl.col("sid"), pl.col("pos").cast(pl.Int64)
    negated = pl.lit(False)
    for k in range(1, NEGATION_WINDOW + 1):
        negated = negated | (
            flag.shift(k) & (same.shift(k) == same) & (pos_ - pos_.shift(k) <= NEGATION_WINDOW)
        ).fill_null(False)
    p_ = pl.col("positive").fill_null(0).cast(pl.Int64)
    n_ = pl.col("negative").fill_null(0).cast(pl.Int64)
    return (
        hits.with_columns(negated=negated)
        .group_by("sid")
        .agg(
            positive=pl.when(pl.col("negated")).then(n_).otherwise(p_).sum(),
            negative=pl.when(pl.col("negated")).then(p_).otherwise(n_).sum(),
            uncertainty=pl.col("uncertainty").cast(pl.Int64).sum(),
        )
    )


def _with_labels(sents: pl.DataFrame, counts: pl.DataFrame, meta: pl.DataFrame) -> pl.DataFrame:
    """Counts, tone, label and the note saying what could not be scored, in SCHEMA."""
    has_lexicon = pl.col("lexicon").is_not_null()
    out = (
        sents.join(counts, on="sid", how="left")
        .join(meta, on="language", how="left")
        .with_columns(
            n_tokens=pl.when(has_lexicon).then(pl.col("n_tokens").fill_null(0)),
            positive=pl.when(has_lexicon).then(pl.col("positive").fill_null(0)),
            negative=pl.when(has_lexicon).then(pl.col("negative").fill_null(0)),
            uncertainty=pl.when(pl.col("has_unc")).then(pl.col("uncertainty").fill_null(0)),
        )
        .with_columns(tone=tone_expr(pl.col("positive"), pl.col("negative")))
        .with_columns(
            label=label_expr(pl.col("tone")),
            sentiment_note=pl.when(pl.col("language").is_null())
            .then(pl.lit("language unknown"))
            .when(pl.col("lexicon").is_null())
            .then(pl.format("no sentiment lexicon for language '{}'", "language"))
            .when(~pl.col("has_unc"))
            .then(
                pl.concat_str(
                    pl.lit("lexicon has no uncertainty list"),
                    pl.col("lex_note"),
                    separator="; ",
                    ignore_nulls=True,
                )
            )
            .otherwise("lex_note"),
        )
        .sort("sid")
    )
    return out.select(list(SCHEMA)).cast(SCHEMA)


def article_tone(articles: pl.DataFrame, sentence_sentiment: pl.DataFrame) -> pl.DataFrame:
    """The articles frame plus summed positive/negative/uncertainty, tone, tone_label, sentiment_note."""
    agg = sentence_sentiment.group_by("article_id").agg(
        positive=pl.col("positive").sum().cast(pl.Int64),
        negative=pl.col("negative").sum().cast(pl.Int64),
        uncertainty=pl.col("uncertainty").sum().cast(pl.Int64),
        scored=pl.col("positive").is_not_null().any(),
        has_unc=pl.col("uncertainty").is_not_null().any(),
        lexicon=pl.col("lexicon").drop_nulls().mode().first(),
        sentiment_note=pl.col("sentiment_note").drop_nulls().unique().sort().str.join("; "),
    )
    drop = [
        c
        for c in (
            "positive",
            "negative",
            "uncertainty",
            "tone",
            "tone_label",
            "sentiment_note",
            "lexicon",
        )
        if c in articles.columns
    ]
    out = (
        articles.drop(drop)
        .join(agg, on="article_id", how="left")
        .with_columns(
            positive=pl.when(pl.col("scored")).then("positive"),
            negative=pl.when(pl.col("scored")).then("negative"),
            uncertainty=pl.when(pl.col("scored") & pl.col("has_unc")).then("uncertainty"),
        )
        .with_columns(tone=tone_expr(pl.col("positive"), pl.col("negative")))
    )
    out = out.with_columns(
        tone_label=label_expr(pl.col("tone")),
        sentiment_note=pl.when(pl.col("scored").is_null())
        .then(pl.lit("no sentences"))
        .when(pl.col("sentiment_note") == "")
        .then(pl.lit(None, pl.String))
        .otherwise("sentiment_note"),
    )
    return out.drop("scored", "has_unc")
