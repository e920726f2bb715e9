"""Dictionary sentiment: lexicon choice, negation, fallbacks, languages without a lexicon."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from pipeline.config import Settings
from pipeline.corpus.articles import articles_table
from pipeline.corpus.lexicons import BPW_REL, load_lexicon, read_lm
from pipeline.corpus.sentences import sentences_table
from pipeline.corpus.sentiment import article_tone, sentence_sentiment_table

SEEDS = Path(__file__).resolve().parent.parent / "data" / "articles"
SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "lexicons"
LEXICONS = Settings.from_env().lexicon_dir


def one(text: str, lang: str, lexicon_dir: Path | None = None) -> dict:
    s = pl.DataFrame(
        {"article_id": ["a"], "sentence_idx": [0], "language": [lang], "text": [text]},
        schema={
            "article_id": pl.String,
            "sentence_idx": pl.Int32,
            "language": pl.String,
            "text": pl.String,
        },
    )
    return sentence_sentiment_table(s, lexicon_dir).row(0, named=True)


def lm_category(word: str) -> dict:
    lex = load_lexicon("en", LEXICONS)
    return lex.frame.filter(pl.col("token") == word).row(0, named=True)


@pytest.fixture(scope="module")
def seeds():
    arts = articles_table(SEEDS)
    sents = sentences_table(arts)
    ss = sentence_sentiment_table(sents, LEXICONS)
    return arts, sents, ss, article_tone(arts, ss)


def test_german_seed_scored_with_german_lexicon(seeds):
    *_, tone = seeds
    r = tone.filter(pl.col("language") == "de").row(0, named=True)
    expected = "BPW" if (SHARED / BPW_REL).is_file() else "textblob-de"
    assert r["lexicon"] == expected
    assert r["positive"] is not None and r["tone"] is not None


def test_english_seeds_use_lm(seeds):
    *_, tone = seeds
    assert set(tone.filter(pl.col("language") == "en")["lexicon"]) == {"LM-2018"}


def test_article_counts_are_sentence_sums(seeds):
    _, _, ss, tone = seeds
    sums = ss.group_by("article_id").agg(pl.col("positive").sum(), pl.col("negative").sum())
    chk = tone.join(sums, on="article_id", suffix="_s")
    assert (chk["positive"] == chk["positive_s"]).all() and (
        chk["negative"] == chk["negative_s"]
    ).all()
    expected = (chk["positive"] - chk["negative"]) / (chk["positive"] + chk["negative"])
    assert (chk["tone"] - expected).abs().max() < 1e-12
    assert tone["tone"].is_between(-1, 1).all()


def test_counts_match_the_lm_file():
    """Count LM hits in a sentence by reading LM.csv directly."""
    text = "Losses widened and the outlook is uncertain, but demand remained strong."
    lm = read_lm(load_lexicon("en", LEXICONS).path)
    words = [w.strip(",.").lower() for w in text.split()]
    hits = lm.filter(pl.col("token").is_in(words))
    r = one(text, "en")
    assert r["positive"] == hits["positive"].sum()
    assert r["negative"] == hits["negative"].sum()
    assert r["uncertainty"] == hits["uncertainty"].sum()
    assert r["n_tokens"] == len(words)


def test_english_negation_flips_within_three_tokens():
    assert lm_category("good")["positive"] == 1
    plain, negated = one("The results were good.", "en"), one("The results were not good.", "en")
    assert (plain["positive"], plain["negative"]) == (1, 0)
    assert (negated["positive"], negated["negative"]) == (0, 1)
    far = one("Not that the results, in the end, were good.", "en")  # 'not' is 7 tokens before
    assert (far["positive"], far["negative"]) == (1, 0)


def test_german_negation_flips():
    lex = load_lexicon("de", LEXICONS)
    assert lex.frame.filter(pl.col("token") == "erfolgreich")["positive"].to_list() == [1]
    plain, negated = (
        one("Das Quartal war erfolgreich.", "de"),
        one("Das Quartal war nicht erfolgreich.", "de"),
    )
    assert (plain["positive"], plain["negative"]) == (1, 0)
    assert (negated["positive"], negated["negative"]) == (0, 1)
    kein = one("Es gab keinen Verlust.", "de")
    assert lex.frame.filter(pl.col("token") == "verlust")["negative"].to_list() == [1]
    assert (kein["positive"], kein["negative"]) == (1, 0)


def test_language_without_lexicon_is_null_with_reason():
    r = one("阿里巴巴股价今天大幅上涨。", "zh")
    assert r["positive"] is None and r["tone"] is None and r["label"] is None
    assert "zh" in r["sentiment_note"]


def test_missing_lexicon_dir_falls_back_to_package_files(tmp_path):
    en, de = (
        one("The results were good.", "en", tmp_path),
        one("Das Ergebnis war gut.", "de", tmp_path),
    )
    assert en["lexicon"] == "LM-2018" and "fallback" in en["sentiment_note"]
    assert de["lexicon"] == "textblob-de" and "fallback" in de["sentiment_note"]
    assert de["uncertainty"] is None and "no uncertainty list" in de["sentiment_note"]


def test_unreadable_lexicon_falls_back_with_note(tmp_path):
    bpw = tmp_path / BPW_REL
    bpw.parent.mkdir(parents=True)
    bpw.write_bytes(b"this is not an xlsx file")
    r = one("Das Ergebnis war gut.", "de", tmp_path)
    assert r["lexicon"] == "textblob-de" and "unreadable" in r["sentiment_note"]


def test_labels_follow_tone():
    pos, neg, neu = (
        one("Profits were strong and improved.", "en"),
        one("Losses and fraud hurt.", "en"),
        one("The board met on Tuesday.", "en"),
    )
    assert (pos["label"], neg["label"], neu["label"]) == ("positive", "negative", "neutral")
    assert neu["tone"] == 0.0
