"""Sentences and entities on the seeds, plus number parsing in both languages."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from pipeline.corpus.articles import articles_table
from pipeline.corpus.entities import entities_table, load_gazetteer
from pipeline.corpus.sentences import sentences_table
from pipeline.errors import InputError
from pipeline.text import numbers

SEEDS = Path(__file__).resolve().parent.parent / "data" / "articles"


@pytest.fixture(scope="module")
def corpus():
    arts = articles_table(SEEDS)
    sents = sentences_table(arts)
    return arts, sents, entities_table(sents)


def test_sentence_index_is_contiguous_per_article(corpus):
    arts, sents, _ = corpus
    per = sents.group_by("article_id").agg(
        n=pl.len(), mx=pl.col("sentence_idx").max(), mn=pl.col("sentence_idx").min()
    )
    assert per.height == arts.height
    assert (per["mn"] == 0).all() and (per["mx"] == per["n"] - 1).all()
    assert not sents["text"].str.contains("\ue000|\ue001").any()


def test_abbreviations_and_german_ordinals_do_not_split(corpus):
    _, sents, _ = corpus
    texts = sents["text"].to_list()
    assert any(
        t.startswith("In May, a U.S. Congressional committee recommended delisting") for t in texts
    )
    assert any("am Freitag, den 14. November erstmals" in t for t in texts)


def test_sentences_keep_article_language(corpus):
    arts, sents, _ = corpus
    joined = sents.join(arts.select("article_id", art_lang="language"), on="article_id")
    assert (joined["language"] == joined["art_lang"]).all()


def test_mixed_language_sentence_detected():
    arts = pl.DataFrame(
        {
            "article_id": ["x"],
            "language": ["de"],
            "text": [
                "Die Aktie ist am Montag deutlich gestiegen und die Anleger sind zufrieden. "
                "The company said that this was the best quarter in the history of the group."
            ],
        }
    )
    s = sentences_table(arts)
    assert s["language"].to_list() == ["de", "en"]


def test_entities_offsets_match_spans(corpus):
    _, sents, ents = corpus
    chk = ents.join(sents, on=["article_id", "sentence_idx"]).with_columns(
        sub=pl.col("text").str.slice(pl.col("start"), pl.col("end") - pl.col("start"))
    )
    assert (chk["sub"] == chk["span"]).all()


def test_isin_and_company_from_gazetteer(corpus):
    arts, _, ents = corpus
    a000 = arts.filter(pl.col("path").str.starts_with("000"))["article_id"][0]
    isin = ents.filter((pl.col("article_id") == a000) & (pl.col("type") == "isin"))
    g = load_gazetteer()
    want = g.filter(pl.col("type") == "isin").filter(pl.col("alias") == isin["span"][0])
    assert isin["entity"][0] == want["entity"][0]
    people = set(ents.filter(pl.col("type") == "person")["entity"])
    assert {"Jack Ma", "Xi Jinping"} <= people


def test_money_and_percent_normalised_with_numbers_module(corpus):
    arts, sents, ents = corpus
    q = ents.filter(pl.col("type").is_in(["money", "percent"])).join(
        sents.select("article_id", "sentence_idx", "language"), on=["article_id", "sentence_idx"]
    )
    assert q.height > 0
    for r in q.iter_rows(named=True):
        if r["type"] == "percent":
            assert (r["value"], r["unit"]) == (
                numbers.parse_percent(r["span"], r["language"]),
                "percent",
            )
        else:
            assert (r["value"], r["unit"]) == numbers.parse_money(r["span"], r["language"])
    spans = set(q["span"])
    assert {
        "HK$956 million",
        "$281 million",
        "2,5 Prozent",
    } <= spans  # as written in seeds 003 and 001


@pytest.mark.parametrize(
    ("span", "lang", "value", "unit"),
    [
        ("HK$956 million", "en", 956e6, "HKD"),
        ("$281 million", "en", 281e6, "USD"),
        ("1,5 Mrd. Euro", "de", 1.5e9, "EUR"),
        ("$1,234.5 million", "en", 1234.5e6, "USD"),
        ("2.500 Euro", "de", 2500.0, "EUR"),
    ],
)
def test_money_parsing_both_languages(span, lang, value, unit):
    got_value, got_unit = numbers.parse_money(span, lang)
    assert got_value == pytest.approx(value) and got_unit == unit


@pytest.mark.parametrize(
    ("span", "lang", "value"),
    [("2,5 Prozent", "de", 2.5), ("3.78%", "en", 3.78), ("12 percent", "en", 12.0)],
)
def test_percent_parsing_both_languages(span, lang, value):
    assert numbers.parse_percent(span, lang) == pytest.approx(value)


def test_german_money_found_in_sentence():
    s = pl.DataFrame(
        {
            "article_id": ["x"],
            "sentence_idx": [0],
            "language": ["de"],
            "text": ["Der Konzern investiert 1,5 Mrd. Euro, die Aktie stieg um 2,5 Prozent."],
        }
    )
    e = entities_table(s).filter(pl.col("type").is_in(["money", "percent"]))
    assert e.select("type", "value", "unit").rows() == [
        ("money", 1.5e9, "EUR"),
        ("percent", 2.5, "percent"),
    ]


def test_bad_gazetteer_row_names_line(tmp_path):
    bad = tmp_path / "g.csv"
    bad.write_text(
        "entity,type,alias,case_sensitive,note\nAlibaba Group,company,Alibaba,false,\nX,planet,X,false,\n"
    )
    with pytest.raises(InputError) as err:
        load_gazetteer(bad)
    assert err.value.line == 3 and "g.csv" in str(err.value)
