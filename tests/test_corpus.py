"""The articles table on the real seeds, the date rules, and every kind of bad input."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from pipeline.corpus.articles import (
    DEFAULT_SIGNATURES,
    articles_table,
    boilerplate_key,
    load_signatures,
    parse_datelines,
    read_corpus,
    resolve_year,
)
from pipeline.errors import InputError

SEEDS = Path(__file__).resolve().parent.parent / "data" / "articles"

# What a human reader of each seed concludes (file prefix -> expectation).
EXPECTED = {
    "000": {"language": "en", "day": dt.date(2025, 11, 18), "source": "boerse-global.de"},
    "001": {"language": "de", "day": dt.date(2025, 11, 19), "source": None},
    "002": {"language": "en", "day": dt.date(2025, 11, 16), "source": "ainvest.com"},
    "003": {"language": "en", "day": dt.date(2025, 11, 4), "source": "boerse-global.de"},
    "004": {"language": "en", "day": None, "source": "businessinsider.com"},
}
PROMO = [
    "Should investors sell immediately?",
    "Alibaba: Buy or sell? Read more here...",
    "Sollten Anleger sofort verkaufen?",
    "Ad",
    "Card image cap",
]


@pytest.fixture(scope="module")
def seeds() -> pl.DataFrame:
    return articles_table(SEEDS).with_columns(seed=pl.col("path").str.slice(0, 3))


def row(seeds: pl.DataFrame, prefix: str) -> dict:
    return seeds.filter(pl.col("seed") == prefix).row(0, named=True)


def seed_text(prefix: str) -> str:
    return next(SEEDS.glob(f"{prefix}_*.txt")).read_text(encoding="utf-8")


def copy_seeds(dst: Path) -> None:
    for p in SEEDS.glob("*.txt"):
        shutil.copyfile(p, dst / p.name)


# --- seeds ---------------------------------------------------------------------------------------
def test_one_row_per_seed_with_stable_ids(seeds):
    assert seeds.height == len(list(SEEDS.glob("*.txt")))
    again = articles_table(SEEDS)
    assert again["article_id"].to_list() == seeds["article_id"].to_list()
    assert seeds["article_id"].n_unique() == seeds.height


@pytest.mark.parametrize("prefix", sorted(EXPECTED))
def test_seed_language_date_source(seeds, prefix):
    r, want = row(seeds, prefix), EXPECTED[prefix]
    assert r["language"] == want["language"]
    assert r["published_date"] == want["day"]
    assert r["source"] == want["source"]
    if want["source"] is None:
        assert "no source" in r["issues"]


def test_berlin_stamp_converted_to_utc(seeds):
    """000's '18.11.2025 - 17:50:06' is Berlin time; recompute the UTC instant from the file."""
    m = re.search(r"(\d\d)\.(\d\d)\.(\d{4}) - (\d\d):(\d\d):(\d\d)", seed_text("000"))
    d, mo, y, h, mi, s = map(int, m.groups())
    local = dt.datetime(y, mo, d, h, mi, s, tzinfo=ZoneInfo("Europe/Berlin"))
    r = row(seeds, "000")
    assert r["published_at"] == local.astimezone(dt.UTC)
    assert (r["date_method"], r["date_confidence"]) == ("text", "medium")


def test_new_york_dateline_converted_to_utc(seeds):
    m = re.search(r"(\w{3}) (\d+), (\d{4}) (\d+):(\d\d) (am|pm) ET", seed_text("002"))
    mon, day, year, hour, minute, ampm = m.groups()
    month = dt.datetime.strptime(mon, "%b").month
    hour = int(hour) % 12 + (12 if ampm == "pm" else 0)
    local = dt.datetime(
        int(year), month, int(day), hour, int(minute), tzinfo=ZoneInfo("America/New_York")
    )
    r = row(seeds, "002")
    assert r["published_at"] == local.astimezone(dt.UTC)
    assert r["date_confidence"] == "high"


def test_yearless_date_resolved_against_corpus_and_flagged(seeds):
    r = row(seeds, "001")
    assert (r["date_method"], r["date_confidence"]) == ("text_no_year", "low")
    newest = seeds.filter(pl.col("date_method") == "text")["published_date"].max()
    assert any(str(newest) in i for i in r["issues"])  # says what it was resolved against


def test_undated_seed_kept_and_flagged(seeds):
    r = row(seeds, "004")
    assert r["published_at"] is None
    assert (r["date_method"], r["date_confidence"]) == ("none", "none")
    assert "no date" in r["issues"]


def test_published_at_is_utc(seeds):
    assert seeds.schema["published_at"] == pl.Datetime("us", "UTC")
    assert seeds.schema["published_date"] == pl.Date


@pytest.mark.parametrize("promo", PROMO)
def test_promo_lines_removed_and_audited(seeds, promo):
    raw = "".join(seed_text(p) for p in EXPECTED)
    assert promo in raw  # the seeds really contain it
    for text in seeds["text"]:
        assert promo not in text.split("\n") and (len(promo) < 10 or promo not in text)
    audited = [line for lines in seeds["removed"] for line in lines]
    assert any(promo == line or (len(promo) >= 10 and promo in line) for line in audited)


def test_titles(seeds):
    assert row(seeds, "000")["title"] == seed_text("000").split("\n")[2].strip()
    assert row(seeds, "003")["title"] == seed_text("003").split("\n")[0].strip()
    assert row(seeds, "004")["title"].startswith("Downtrodden Alibaba Stocks")
    assert "no title" in row(seeds, "001")["issues"]


def test_date_glued_to_heading_keeps_heading(seeds):
    r = row(seeds, "003")
    assert "Substantial Withdrawals Signal Growing Investor Unease" in r["text"]
    assert "04.11.2025" not in r["text"]


def test_generator_notice_and_byline_move_to_metadata(seeds):
    r = row(seeds, "002")
    assert r["generator_notice"].startswith("Generated by AI")
    assert "Adrian Sava" in r["byline"]
    for gone in (
        "Generated by AI",
        "Speaker 1",
        "Aime Summary",
        "No comments yet",
        "Add a public comment",
    ):
        assert gone not in r["text"]
    assert "In 2025, the U.S. national security landscape" in r["text"]


def test_removed_lines_come_from_the_file(seeds):
    for r in seeds.iter_rows(named=True):
        raw = (SEEDS / r["path"]).read_text(encoding="utf-8")
        assert all(line in raw for line in r["removed"])
        assert len(r["removed"]) == len(r["removed_why"])


def test_field_sources(seeds):
    assert row(seeds, "000")["field_sources"]["source"] == "text"
    assert row(seeds, "000")["field_sources"]["published_at"] == "text"
    assert row(seeds, "004")["field_sources"]["published_at"] is None


# --- source attribution when the text names no publisher -------------------------------------------
def test_signature_attributes_ainvest_seed(seeds):
    """002 names no publisher; its AInvest chrome matches two rows of the signature table."""
    sig = pl.read_csv(DEFAULT_SIGNATURES)
    lines = [ln.strip() for ln in seed_text("002").split("\n")]
    matched = sig.filter(
        pl.col("pattern").map_elements(
            lambda p: any(re.search(p, ln, re.IGNORECASE) for ln in lines), return_dtype=pl.Boolean
        )
    )
    assert matched["publisher"].n_unique() == 1 and matched.height >= 2
    r = row(seeds, "002")
    assert r["source"] == matched["publisher"][0]
    assert (r["field_sources"]["source"], r["source_confidence"]) == ("signature", "medium")
    assert "publisher_signatures.csv" in r["source_evidence"]


def test_shared_boilerplate_attributes_seed_003(seeds):
    """003 shares the promo block of 000, which is signed '@ <domain>' at its end."""
    signed = re.search(r"^@ (\S+)$", seed_text("000"), re.MULTILINE).group(1)
    assert not re.search(r"^@ ", seed_text("003"), re.MULTILINE)  # 003 names no publisher
    r, donor = row(seeds, "003"), row(seeds, "000")
    assert r["source"] == signed == donor["source"]
    assert (r["field_sources"]["source"], r["source_confidence"]) == ("shared_boilerplate", "low")
    assert donor["path"] in r["source_evidence"] and donor["article_id"] in r["source_evidence"]
    assert "no source" not in r["issues"]


def test_german_seed_stays_without_source(seeds):
    r = row(seeds, "001")
    assert r["source"] is None and r["field_sources"]["source"] is None
    assert r["source_confidence"] == "none"
    assert "no source" in r["issues"] and r["source_evidence"].startswith("publisher unknown")


def test_known_sources_are_high_confidence(seeds):
    """000 and 004 name their publisher in a source line; the evidence quotes that line."""
    for prefix in ("000", "004"):
        r = row(seeds, prefix)
        assert r["source_confidence"] == "high" and r["field_sources"]["source"] == "text"
        quoted = re.search(r"«(.+)»", r["source_evidence"]).group(1)
        assert quoted in seed_text(prefix) and r["source_evidence"].startswith("source line")


def test_boilerplate_key_masks_dates_digits_and_spacing():
    a = "New Example Analysis from November 18 delivers the answer:"
    b = "new example  analysis from Nov 4 delivers the answer:"
    c = "Neue Example-Analyse vom 19. November liefert die Antwort:"
    got = pl.select(k=boilerplate_key(pl.Series([a, b, c]))).to_series().to_list()
    assert got[0] == got[1] and got[0] != got[2]


PROMO_BLOCK = [
    "Example Stock: Buy or sell? Our analysis from {date} delivers the answer:",
    "Sign up for the Example Markets newsletter and get {n} ideas every morning.",
    "Click here for the full Example Markets report of {n} pages.",
]


def write_article(path: Path, heading: str, story: str, promo: list[str], signed: str | None):
    tail = [f"@ {signed}"] if signed else []
    path.write_text(
        "\n\n".join([heading, "18.11.2025 - 10:00:00", f"{story} {BODY}", *promo, *tail]) + "\n",
        encoding="utf-8",
    )


def write_signed_donor(folder: Path) -> None:
    """`a.txt`: an article signed by example-markets.com, with the whole promo block."""
    write_article(
        folder / "a.txt",
        "Shares Climb On Results",
        "Shares climbed after the quarterly report beat estimates.",
        [p.format(date="March 3", n=5) for p in PROMO_BLOCK],
        "example-markets.com",
    )


def test_unsourced_article_inherits_from_shared_boilerplate(tmp_path):
    write_signed_donor(tmp_path)
    write_article(
        tmp_path / "b.txt",
        "Regulators Open New Probe",
        "Regulators opened a probe into the cloud unit's data handling.",
        [p.format(date="April 21", n=12) for p in PROMO_BLOCK[:2]],
        None,
    )
    arts = articles_table(tmp_path)
    a = arts.filter(pl.col("path") == "a.txt").row(0, named=True)
    b = arts.filter(pl.col("path") == "b.txt").row(0, named=True)
    assert a["source"] == "example-markets.com" and a["field_sources"]["source"] == "text"
    assert b["source"] == a["source"]
    assert b["field_sources"]["source"] == "shared_boilerplate"
    assert b["source_confidence"] == "low"
    assert "a.txt" in b["source_evidence"] and a["article_id"] in b["source_evidence"]
    assert b["source_evidence"].startswith("shared boilerplate: 2 ")


def test_one_shared_line_is_not_enough(tmp_path):
    write_signed_donor(tmp_path)
    write_article(
        tmp_path / "b.txt",
        "Regulators Open New Probe",
        "Regulators opened a probe into the cloud unit's data handling.",
        [PROMO_BLOCK[0].format(date="April 21", n=12)],
        None,
    )
    b = articles_table(tmp_path).filter(pl.col("path") == "b.txt").row(0, named=True)
    assert PROMO_BLOCK[0].format(date="April 21", n=12) in b["removed"]  # it was boilerplate
    assert b["source"] is None and "no source" in b["issues"]
    assert b["source_confidence"] == "none"


def test_boilerplate_printed_by_two_sources_names_neither(tmp_path):
    for name, site in (("a.txt", "one-site.com"), ("c.txt", "other-site.com")):
        write_article(
            tmp_path / name,
            f"Shares Climb On Results At {site}",
            f"Shares climbed after the report, {site} wrote.",
            [p.format(date="March 3", n=5) for p in PROMO_BLOCK],
            site,
        )
    write_article(
        tmp_path / "b.txt",
        "Regulators Open New Probe",
        "Regulators opened a probe into the cloud unit's data handling.",
        [p.format(date="April 21", n=12) for p in PROMO_BLOCK],
        None,
    )
    b = articles_table(tmp_path).filter(pl.col("path") == "b.txt").row(0, named=True)
    assert b["source"] is None and "no source" in b["issues"]


def test_signature_needs_two_rows_of_one_publisher(tmp_path):
    (tmp_path / "sig.csv").write_text(
        "pattern,publisher,evidence\n"
        "^brand robot\\s*brand summary$,brand.example,test row: the assistant's header\n"
        "^generated by ai agent,brand.example,test row: the AI byline\n",
        encoding="utf-8",
    )
    sig = load_signatures(tmp_path / "sig.csv")
    from pipeline.corpus.articles import build_articles, raw_frame

    both = "Heading Of The Story\n\nGenerated by AI AgentAnn LeeReviewed byBo Chen\n\nBrand RobotBrand Summary\n\n"
    one = "Heading Of The Story\n\nBrand RobotBrand Summary\n\n"
    raw = raw_frame([both + BODY, one + BODY.replace("Monday", "Tuesday")], ["x.txt", "y.txt"])
    arts = build_articles(raw, signatures=sig).articles.sort("path")
    assert arts["source"].to_list() == ["brand.example", None]
    assert arts["field_sources"].struct.field("source").to_list() == ["signature", None]


@pytest.mark.parametrize(
    ("content", "needle", "line"),
    [
        ("pattern,publisher\nx,y\n", "lacks columns", 1),
        ("pattern,publisher,evidence\n^a$,s.example,why\n(unclosed,s.example,why\n", "regex", 3),
        ("pattern,publisher,evidence\n^x$,site.example,\n", "evidence", 2),
    ],
)
def test_bad_signature_table_names_file_and_line(tmp_path, content, needle, line):
    path = tmp_path / "sig.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_signatures(path)
    assert needle in str(err.value) and f"sig.csv:{line}:" in str(err.value)


# --- date parsing, both languages -----------------------------------------------------------------
def test_parse_datelines_both_languages():
    got = parse_datelines(
        [
            "18.07.2025 - 17:50:06",
            "19. November 2025, 10:30 Uhr",
            "Tuesday, Jul 1, 2025 3:05 pm ET",
            "kein Datum",
        ]
    )
    berlin, ny = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")
    assert got["published_at"].to_list()[:3] == [
        dt.datetime(2025, 7, 18, 17, 50, 6, tzinfo=berlin).astimezone(dt.UTC),  # summer time
        dt.datetime(2025, 11, 19, 10, 30, tzinfo=berlin).astimezone(dt.UTC),
        dt.datetime(2025, 7, 1, 15, 5, tzinfo=ny).astimezone(dt.UTC),
    ]
    assert got["published_at"][3] is None
    assert parse_datelines(["31.02.2025 - 10:00:00"])["published_date"][0] is None


@pytest.mark.parametrize(
    ("line", "date", "confidence"),
    [
        ("15/09/2025", dt.date(2025, 9, 15), "medium"),  # day first: 15 cannot be a month
        ("09/15/2025 10:30", dt.date(2025, 9, 15), "medium"),  # month first: 15 cannot be
        ("03/04/2025", dt.date(2025, 4, 3), "low"),  # either way round: day first, low
        ("04/04/2025", dt.date(2025, 4, 4), "medium"),  # the same either way
        ("13/13/2025", None, None),
    ],
)
def test_slashed_dates(line, date, confidence):
    got = parse_datelines([line]).row(0, named=True)
    assert (got["published_date"], got["confidence"]) == (date, confidence)


def test_headline_with_full_stop_and_labelled_slashed_date(tmp_path):
    """A page layout seen on a real Hong Kong market-news site: a one-sentence headline ending
    in a full stop, a "date" label, then the date as dd/mm/yyyy on its own line."""
    headline = "Market Move | Alibaba-W rises 3%, with the stock up sharply this month."
    (tmp_path / "hk.txt").write_text(
        f"{headline}\n\ndate\n15/09/2025\n\n"
        "Alibaba-W rose by over 3% on Monday, its highest close in years. Turnover rose too.\n",
        encoding="utf-8",
    )
    art = read_corpus(tmp_path).articles.row(0, named=True)
    assert art["title"] == headline
    assert art["published_date"] == dt.date(2025, 9, 15)
    assert art["date_method"] == "text" and art["date_confidence"] == "medium"
    assert "no date" not in art["issues"] and "no title" not in art["issues"]


def test_multi_sentence_teaser_is_not_a_title(seeds):
    first = seed_text("001").split("\n")[0]
    assert len(re.findall(r"[.?!]\s", first)) >= 2  # the German seed opens with a teaser
    assert row(seeds, "001")["title"] is None


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        (dt.date(2025, 11, 18), dt.date(2025, 11, 19)),
        (dt.date(2026, 3, 1), dt.date(2025, 11, 19)),
        (dt.date(2025, 1, 10), dt.date(2024, 11, 19)),
    ],
)
def test_resolve_year_takes_nearest_occurrence(reference, expected):
    out = pl.select(resolve_year(pl.lit(11), pl.lit(19), reference)).item()
    assert out == expected


def test_yearless_date_uses_as_of_not_clock():
    res = read_corpus(SEEDS, as_of=dt.date(2025, 1, 10)).articles
    r = res.filter(pl.col("path").str.starts_with("001")).row(0, named=True)
    assert r["published_date"] == dt.date(2024, 11, 19)


# --- metadata sources ----------------------------------------------------------------------------
BODY = "Alibaba shares rose on Monday after the company reported strong quarterly results.\n\nAnalysts said the outlook was stable."


def test_sidecar_wins_over_text(tmp_path):
    (tmp_path / "a.txt").write_text(
        "Some Heading For The Story\n\n18.11.2025 - 17:50:06\n\n" + BODY, encoding="utf-8"
    )
    (tmp_path / "a.meta.yml").write_text(
        "source: Example Wire\nurl: https://example.org/a\npublished_at: 2025-11-17T08:00:00+01:00\n",
        encoding="utf-8",
    )
    arts = articles_table(tmp_path)
    assert arts.height == 1  # the sidecar is not an article
    r = arts.row(0, named=True)
    assert r["source"] == "Example Wire" and r["url"] == "https://example.org/a"
    assert r["published_at"] == dt.datetime(2025, 11, 17, 7, 0, tzinfo=dt.UTC)
    assert r["published_date"] == dt.date(2025, 11, 17)
    assert r["field_sources"] == {
        "source": "sidecar",
        "url": "sidecar",
        "published_at": "sidecar",
        "title": "text",
    }
    assert r["date_method"] == "sidecar"


def test_markdown_front_matter_and_unknown_key(tmp_path):
    (tmp_path / "b.md").write_text(
        f"---\ntitle: Front Matter Title\nsource: FM News\npublished_at: 2025-10-01\nmood: sunny\n---\n{BODY}\n",
        encoding="utf-8",
    )
    r = articles_table(tmp_path).row(0, named=True)
    assert r["title"] == "Front Matter Title" and r["source"] == "FM News"
    assert r["published_date"] == dt.date(2025, 10, 1) and r["date_method"] == "front_matter"
    assert "unknown front matter key 'mood'" in r["issues"]


def test_html_page_through_trafilatura(tmp_path):
    paras = "".join(
        f"<p>{BODY} Paragraph {i} adds more detail about the market.</p>" for i in range(6)
    )
    html = (
        "<html><head><title>Alibaba rallies</title>"
        '<meta property="og:site_name" content="Example Markets"/>'
        '<meta property="article:published_time" content="2025-11-12T09:00:00+00:00"/></head>'
        f"<body><nav>Home | Markets</nav><article><h1>Alibaba rallies</h1>{paras}</article></body></html>"
    )
    (tmp_path / "c.html").write_text(html, encoding="utf-8")
    r = articles_table(tmp_path).row(0, named=True)
    assert r["source"] == "Example Markets" and r["field_sources"]["source"] == "html_meta"
    assert r["published_date"] == dt.date(2025, 11, 12)
    assert "Paragraph 5" in r["text"] and "Home | Markets" not in r["text"]


def test_latin1_file_is_decoded(tmp_path):
    text = "Die Aktie legte für Anleger überraschend zu.\n\nDas Unternehmen äußerte sich nicht zu den Vorwürfen gegen die Führung."
    (tmp_path / "d.txt").write_bytes(text.encode("latin-1"))
    r = articles_table(tmp_path).row(0, named=True)
    assert "für Anleger überraschend" in r["text"]
    assert r["language"] == "de"


# --- duplicates and repeated lines ---------------------------------------------------------------
def test_exact_and_near_duplicates(tmp_path):
    copy_seeds(tmp_path)
    original = seed_text("000")
    (tmp_path / "900_exact.txt").write_text(original + "\n", encoding="utf-8")
    (tmp_path / "901_syndicated.txt").write_text(
        "Reprinted with permission\n\n" + original, encoding="utf-8"
    )
    arts = articles_table(tmp_path)
    kept = arts.filter(pl.col("path").str.starts_with("000"))["article_id"][0]
    dup = arts.filter(pl.col("path").str.starts_with("90"))
    assert dup["duplicate_of"].to_list() == [kept, kept]
    assert arts.filter(pl.col("duplicate_of").is_not_null()).height == 2


def test_line_repeated_within_a_source_is_boilerplate(tmp_path):
    for i, story in enumerate(
        ["Shares rose after strong results.", "Regulators opened a new probe into the group."]
    ):
        (tmp_path / f"s{i}.txt").write_text(
            f"Story Number {i} Heading\n\n{story} {BODY}\n\nFollow our live market blog today\n",
            encoding="utf-8",
        )
        (tmp_path / f"s{i}.meta.yml").write_text(
            f"source: Same Site\npublished_at: 2025-11-0{i + 1}\n", encoding="utf-8"
        )
    arts = articles_table(tmp_path)
    for r in arts.iter_rows(named=True):
        assert "Follow our live market blog today" not in r["text"]
        assert "repeated in source" in r["removed_why"]


# --- bad input -------------------------------------------------------------------------------------
def reject_reason(tmp_path: Path, name: str) -> str:
    res = read_corpus(tmp_path)
    hit = res.rejects.filter(pl.col("path") == name)
    assert hit.height == 1, res.rejects
    assert name not in res.articles["path"].to_list()
    return hit["reason"][0]


def test_empty_file_rejected(tmp_path):
    copy_seeds(tmp_path)
    (tmp_path / "empty.txt").write_bytes(b"")
    reason = reject_reason(tmp_path, "empty.txt")
    assert "empty.txt" in reason and "empty" in reason


def test_binary_file_rejected(tmp_path):
    copy_seeds(tmp_path)
    (tmp_path / "blob.txt").write_bytes(bytes(range(256)) * 40)
    reason = reject_reason(tmp_path, "blob.txt")
    assert "blob.txt" in reason and "binary" in reason


def test_fifty_megabyte_file_rejected(tmp_path):
    copy_seeds(tmp_path)
    with (tmp_path / "huge.txt").open("wb") as fh:
        fh.truncate(50 * 1024 * 1024)  # sparse: 50 MB without writing them
    reason = reject_reason(tmp_path, "huge.txt")
    assert "huge.txt" in reason and "MB" in reason


def test_only_boilerplate_rejected(tmp_path):
    copy_seeds(tmp_path)
    (tmp_path / "promo.txt").write_text(
        "Ad\n\nAlibaba: Buy or sell? Read more here...\n\nCard image cap\n\nSign up for our newsletter\n",
        encoding="utf-8",
    )
    reason = reject_reason(tmp_path, "promo.txt")
    assert "promo.txt" in reason and "only boilerplate" in reason


def test_wrong_front_matter_type_rejected(tmp_path):
    copy_seeds(tmp_path)
    (tmp_path / "bad.md").write_text(f"---\npublished_at: [1, 2]\n---\n{BODY}\n", encoding="utf-8")
    reason = reject_reason(tmp_path, "bad.md")
    assert "bad.md" in reason and "published_at" in reason


def test_future_article_flagged_and_reported(tmp_path, capsys):
    copy_seeds(tmp_path)
    (tmp_path / "future.txt").write_text(
        "A Story From The Future\n\n18.11.2030 - 10:00:00\n\n" + BODY, encoding="utf-8"
    )
    arts = articles_table(tmp_path, as_of=dt.date(2025, 11, 20))
    r = arts.filter(pl.col("path") == "future.txt").row(0, named=True)
    assert "dated after as-of 2025-11-20" in r["issues"]
    assert arts.height == 6  # the rest still builds
    assert "future.txt" in capsys.readouterr().err


def test_empty_corpus_stops_with_folder_named(tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    with pytest.raises(InputError) as err:
        read_corpus(tmp_path)
    assert str(tmp_path) in str(err.value)
    with pytest.raises(InputError):
        read_corpus(tmp_path / "missing")


def test_time_known_only_when_the_source_gives_one(seeds, tmp_path):
    assert row(seeds, "000")["published_time_known"] is True  # "18.11.2025 - 17:50:06"
    assert row(seeds, "001")["published_time_known"] is False  # "vom 19. November"
    (tmp_path / "a.txt").write_text("Shares Rise Again\n\nAlibaba shares rose again today.\n")
    (tmp_path / "a.meta.yml").write_text("published_at: 2025-09-15\n")
    (tmp_path / "b.txt").write_text("Shares Fall Again\n\nAlibaba shares fell again today.\n")
    (tmp_path / "b.meta.yml").write_text('published_at: "2025-09-15T09:30:00+08:00"\n')
    got = dict(read_corpus(tmp_path).articles.select("path", "published_time_known").iter_rows())
    assert got == {"a.txt": False, "b.txt": True}
