"""The scorer (`python -m pipeline eval`): label reading, the matching rule, the kind mapping,
the figures on the real dev corpus (held to FLOORS) and the command line.

Unit fixtures are written here in our own words; the dev corpus is read in place.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from pipeline.config import PROJECT_ROOT
from pipeline.errors import InputError
from pipeline.evaluation.article_scores import article_scores
from pipeline.evaluation.claim_scores import (
    KIND_MAP,
    amounts_read_as_prices,
    claim_scores,
    label_kind,
)
from pipeline.evaluation.labels import LABEL_KINDS, read_labels
from pipeline.evaluation.report import format_report
from pipeline.evaluation.run import evaluate
from pipeline.evaluation.targets import FLOORS, floor_failures

DEV = PROJECT_ROOT.parent / "shared" / "corpus" / "dev"
ARTICLE_HEADER = "file,language,published_date,source,title,date_in_text,notes\n"
CLAIM_HEADER = "file,quote,instrument,date,kind,value,unit,qualifier,expected_verdict\n"
TEXT = (
    "Alpha shares rose 2.5% on Monday. The benchmark index also rose 2.5%, its best day in "
    "weeks. Alpha closed at $141.90 and then fell 3% on Tuesday. The board approved a "
    "buyback of $25 billion."
)


def write_labels(folder: Path, articles: str, claims: str = "", lang: str = "xx") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"articles_{lang}.csv").write_text(ARTICLE_HEADER + articles, encoding="utf-8")
    if claims:
        (folder / f"claims_{lang}.csv").write_text(CLAIM_HEADER + claims, encoding="utf-8")
    return folder


ONE_ARTICLE = "note.txt,xx,2025-03-03,example.com,A note,yes,\n"
CLAIMS = (
    "note.txt,Alpha shares rose 2.5%,ALPHA,2025-03-03,pct_change_day,2.5,pct,exact,supported\n"
    "note.txt,index also rose 2.5%,HSI,2025-03-03,pct_change_day,2.5,pct,exact,supported\n"
    "note.txt,$141.90,ALPHA,2025-03-03,close_price,141.90,USD,exact,supported\n"
    "note.txt,fell 3%,ALPHA,2025-03-04,pct_change_day,-3,pct,exact,supported\n"
    "note.txt,its best day in weeks,ALPHA,2025-03-03,other,,,exact,supported\n"
    "note.txt,buyback of $25 billion,OTHER,,non_price_amount,25000000000,USD,exact,"
    "not_a_market_claim\n"
)


def test_a_labels_folder_of_any_language_is_read(tmp_path: Path) -> None:
    labels = read_labels(write_labels(tmp_path, ONE_ARTICLE, CLAIMS, lang="fr"))
    assert labels.articles["lang"].to_list() == ["fr"]
    assert labels.articles["published_date"].to_list() == [dt.date(2025, 3, 3)]
    price = labels.claims.filter(pl.col("kind") == "close_price").row(0, named=True)
    assert (price["value"], price["decimals"]) == (141.9, 2)
    assert labels.claims.filter(pl.col("kind") == "other")["value"].to_list() == [None]


@pytest.mark.parametrize(
    ("articles", "claims", "bad_file", "line", "words"),
    [
        # A quoted note spanning two lines: the bad row after it is on physical line 4.
        ('a.txt,xx,,,T,no,"two\nlines"\nb.txt,xx,2025-13-01,,T,yes,\n', "", "articles", 4, "YYYY"),
        ("a.txt,xx,,,T,maybe,\n", "", "articles", 2, "date_in_text"),
        ("a.txt,xx,,,T,no,\na.txt,xx,,,T,no,\n", "", "articles", 3, "labelled twice"),
        ("a.txt,,,,T,no,\n", "", "articles", 2, "language"),
        ("a.txt,xx,,,T,no,\n", "a.txt,q,X,,price,1,USD,exact,supported\n", "claims", 2, "kind"),
        ("a.txt,xx,,,T,no,\n", "a.txt,q,X,,other,1,,exact,fine\n", "claims", 2, "verdict"),
        ("a.txt,xx,,,T,no,\n", "a.txt,q,X,,other,1.2.3,,exact,supported\n", "claims", 2, "number"),
        ("a.txt,xx,,,T,no,\n", "b.txt,q,X,,other,1,,exact,supported\n", "claims", 2, "b.txt"),
        ("a.txt,xx,,,T,no,\n", "a.txt,q,X,,other,1\n", "claims", 2, "fields"),
    ],
)
def test_a_bad_label_row_is_an_error_naming_file_and_line(
    tmp_path: Path, articles: str, claims: str, bad_file: str, line: int, words: str
) -> None:
    with pytest.raises(InputError) as caught:
        read_labels(write_labels(tmp_path, articles, claims))
    assert caught.value.path == tmp_path / f"{bad_file}_xx.csv"
    assert caught.value.line == line
    assert words in str(caught.value)


def test_a_label_file_without_a_scored_column_is_refused(tmp_path: Path) -> None:
    (tmp_path / "articles_xx.csv").write_text("file,language\na.txt,xx\n", encoding="utf-8")
    with pytest.raises(InputError, match="missing columns published_date"):
        read_labels(tmp_path)


def pipeline_claims(*rows: tuple) -> pl.DataFrame:
    """Claims-table rows: (quote, instrument, date, kind, stat, value, qualifier, verdict)."""
    cols = ["quote", "instrument", "claim_date", "kind", "stat", "value", "qualifier", "verdict"]
    frame = pl.DataFrame([dict(zip(cols, r, strict=True)) for r in rows])
    return frame.with_columns(article_id=pl.lit("a1"))


ARTICLES = pl.DataFrame({"article_id": ["a1"], "path": ["note.txt"], "text": [TEXT]})
MONDAY, TUESDAY = dt.date(2025, 3, 3), dt.date(2025, 3, 4)


def test_kinds_map_onto_the_label_vocabulary() -> None:
    claims = pl.DataFrame(
        {
            "kind": ["pct_change_day", "pct_change_day", "close_price", "intraday_price", "x"],
            "stat": ["day", "day", "period_high", None, "y"],
            "qualifier": ["exact", "as much as", "exact", None, None],
        }
    )
    assert label_kind(claims)["label_kind"].to_list() == [
        "pct_change_day",
        "intraday_move",
        "intraday_price",
        "intraday_price",  # a new engine already speaking the labels' language
        "unmapped:x/y",
    ]
    assert set(KIND_MAP.values()) <= set(LABEL_KINDS)  # no typo in the mapping


def test_a_label_is_matched_by_value_and_by_where_its_quote_lies(tmp_path: Path) -> None:
    labels = read_labels(write_labels(tmp_path, ONE_ARTICLE, CLAIMS))
    claims = pipeline_claims(
        ("also rose 2.5%", "HSI", MONDAY, "pct_change_day", "day", 2.5, "exact", "supported"),
        ("rose 2.5% on Monday", "BABA", MONDAY, "pct_change_day", "day", 2.5, "exact", "supported"),
        ("$141.90", "BABA", MONDAY, "close_price", "close", 141.9, "exact", "contradicted"),
        ("fell 3%", "BABA", MONDAY, "pct_change_day", "day", 3.0, "exact", "supported"),
    )
    scores = claim_scores(claims, ARTICLES, labels.claims)
    by_quote = {r["quote"]: r for r in scores.iter_rows(named=True)}
    # Two equal 2.5% figures: each label takes the claim lying at its own place in the text.
    assert by_quote["Alpha shares rose 2.5%"]["p_quote"] == "rose 2.5% on Monday"
    assert by_quote["index also rose 2.5%"]["p_quote"] == "also rose 2.5%"
    assert by_quote["$141.90"]["false_contradicted"]
    # A wrong sign is still the same number found; it is scored as a wrong sign.
    assert by_quote["fell 3%"]["matched"] and not by_quote["fell 3%"]["sign_right"]
    assert not by_quote["fell 3%"]["date_right"]
    assert not by_quote["its best day in weeks"]["has_value"]


def test_a_value_outside_the_labels_rounding_is_no_match(tmp_path: Path) -> None:
    labels = read_labels(write_labels(tmp_path, ONE_ARTICLE, CLAIMS))
    claims = pipeline_claims(
        ("$141.90", "BABA", MONDAY, "close_price", "close", 141.8, "exact", "supported"),
    )
    assert not claim_scores(claims, ARTICLES, labels.claims)["matched"].any()


def test_two_labels_on_one_claim_give_it_to_the_larger_overlap(tmp_path: Path) -> None:
    claims_csv = (
        "note.txt,Alpha shares rose 2.5%,X,,pct_change_day,2.5,pct,exact,supported\n"
        "note.txt,rose 2.5%,X,,pct_change_day,2.5,pct,exact,supported\n"
    )
    labels = read_labels(write_labels(tmp_path, ONE_ARTICLE, claims_csv))
    claims = pipeline_claims(
        ("Alpha shares rose 2.5%", "BABA", MONDAY, "pct_change_day", "day", 2.5, "", "supported"),
    )
    scores = claim_scores(claims, ARTICLES, labels.claims)
    assert scores.filter("matched")["quote"].to_list() == ["Alpha shares rose 2.5%"]


def test_amounts_read_as_prices_are_caught_at_any_scale(tmp_path: Path) -> None:
    labels = read_labels(write_labels(tmp_path, ONE_ARTICLE, CLAIMS))
    claims = pipeline_claims(
        ("$25 billion", "BABA", MONDAY, "close_price", "close", 25.0, "exact", "contradicted"),
        ("$141.90", "BABA", MONDAY, "close_price", "close", 141.9, "exact", "supported"),
        ("Alpha closed", "BABA", MONDAY, "close_price", "close", 3e9, "exact", "contradicted"),
        ("fell 3%", "BABA", TUESDAY, "pct_change_day", "day", -3.0, "exact", "supported"),
    )
    flagged = amounts_read_as_prices(claims, ARTICLES, labels.claims)
    assert sorted(flagged["p_quote"].to_list()) == ["$25 billion", "Alpha closed"]


def test_article_fields_are_compared_after_normalising(tmp_path: Path) -> None:
    rows = (
        "one.txt,en,2025-03-03,example-news.com,Alpha’s shares – up,yes,\n"
        "two.txt,en,2025-03-01,,Two,no,\n"
        "three.txt,en,,,Three,no,\n"
    )
    labels = read_labels(write_labels(tmp_path, rows))
    articles = pl.DataFrame(
        {
            "path": ["one.txt"],
            "language": ["en"],
            "published_date": [dt.date(2025, 4, 4)],
            "source": ["WWW.Example-News.com"],
            "title": ["  ALPHA'S shares - up "],
            "date_method": ["text"],
        }
    )
    rejects = pl.DataFrame({"path": ["two.txt"], "reason": ["two.txt: empty file"]})
    scores = {r["file"]: r for r in article_scores(articles, rejects, labels.articles).to_dicts()}
    one = scores["one.txt"]
    assert (one["status"], one["publisher_right"], one["title_right"]) == ("read", True, True)
    assert (one["date_right"], one["date_off"]) == (False, True)  # 32 days late
    assert scores["two.txt"]["status"] == "rejected"
    assert scores["three.txt"]["status"] == "dropped"
    assert scores["three.txt"]["date_right"] is None  # nothing to check against


@pytest.fixture(scope="module")
def dev_eval():
    return evaluate(DEV / "labels", DEV / "articles")


def test_the_dev_corpus_stays_above_the_floors(dev_eval) -> None:
    assert FLOORS, "FLOORS ratchet the engine towards TARGETS"
    assert floor_failures(dev_eval.figures()) == []


def test_every_labelled_dev_article_and_claim_is_accounted_for(dev_eval) -> None:
    labels = read_labels(DEV / "labels")
    assert dev_eval.articles.height == labels.articles.height
    counted = dev_eval.articles["status"].value_counts()
    assert counted["count"].sum() == labels.articles.height
    assert dev_eval.claims.height == labels.claims.height
    text = format_report(dev_eval)
    for lang in [*dev_eval.languages, "overall"]:
        assert f"== {lang} (" in text


def run_eval(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "eval", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_eval_command_prints_the_tables_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "eval.json"
    result = run_eval(
        "--labels", str(DEV / "labels"), "--articles", str(DEV / "articles"), "--json", str(out)
    )
    assert result.returncode == 0, result.stderr
    for lang in ("en", "de", "zh", "overall"):
        assert f"== {lang} (" in result.stdout
    assert "claim recall" in result.stdout and ">= 90%" in result.stdout
    figures = json.loads(out.read_text(encoding="utf-8"))["figures"]
    claims = pl.concat(
        pl.read_csv(p, infer_schema=False) for p in sorted((DEV / "labels").glob("claims_*.csv"))
    )
    scored = claims.filter(
        (pl.col("expected_verdict") != "not_a_market_claim") & pl.col("value").is_not_null()
    )
    assert figures["overall"]["claim recall"]["den"] == scored.height
    recall = figures["overall"]["claim recall"]
    assert f"{recall['num']}/{recall['den']}" in result.stdout


def test_the_eval_command_names_a_bad_label_line(tmp_path: Path) -> None:
    labels = write_labels(tmp_path / "labels", ONE_ARTICLE, "note.txt,q,X,,price,1,USD,exact,ok\n")
    result = run_eval("--labels", str(labels), "--articles", str(DEV / "articles"))
    assert result.returncode == 2
    assert f"{labels / 'claims_xx.csv'}:2" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_labelled_article_missing_from_the_folder_is_an_error(tmp_path: Path) -> None:
    labels = write_labels(tmp_path / "labels", ONE_ARTICLE)
    with pytest.raises(InputError, match="note.txt is not in the articles folder") as caught:
        evaluate(labels, DEV / "articles")
    assert (caught.value.path, caught.value.line) == (labels / "articles_xx.csv", 2)
