"""Property-based tests: the number parser and the Markdown escaper on generated input.

Article text is hostile or merely odd: numbers in either convention, separators mixed, HTML
and Markdown in titles. `hypothesis` generates such input; these properties must hold for all
of it. Inputs that once broke the parser are pinned with `@example`.
"""

from __future__ import annotations

import html
import json
import math

import pypandoc
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pipeline.briefing.display import escape_md
from pipeline.text.numbers import MONEY, NUMBER, PERCENT, find_quantities, parse_number

LANGUAGES = st.sampled_from(["en", "de"])
NUMBERS = st.from_regex(NUMBER, fullmatch=True)
# Amounts as a newsroom writes them: up to a trillion, two decimals.
AMOUNTS = st.decimals(min_value=0, max_value=10**12, places=2, allow_nan=False)
FAST = settings(max_examples=200, deadline=None)
PANDOC = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def english(amount: object) -> str:
    return f"{amount:,.2f}"


def german(amount: object) -> str:
    return english(amount).translate(str.maketrans({",": ".", ".": ","}))


# ---- pipeline.text.numbers ---------------------------------------------------------------------


@FAST
@given(token=NUMBERS, language=LANGUAGES)
def test_parse_number_fails_only_with_value_error(token: str, language: str) -> None:
    """Whatever it makes of a number, the parser never fails with an unexpected error type."""
    try:
        value = parse_number(token, language)
    except ValueError:
        return
    assert math.isfinite(value) and value >= 0


@FAST
@given(token=NUMBERS, language=LANGUAGES)
@example(token="1,234.567,8", language="en")
@example(token="1,234,567", language="de")
def test_parse_number_reads_every_match_of_the_number_regex(token: str, language: str) -> None:
    value = parse_number(token, language)
    assert math.isfinite(value) and value >= 0


@FAST
@given(amount=AMOUNTS)
def test_english_numbers_round_trip(amount: object) -> None:
    written = english(amount)  # 1,234,567.89
    assert parse_number(written, "en") == float(f"{amount:.2f}"), written


@FAST
@given(amount=AMOUNTS)
def test_german_numbers_round_trip(amount: object) -> None:
    written = german(amount)  # 1.234.567,89
    assert parse_number(written, "de") == float(f"{amount:.2f}"), written


@FAST
@given(whole=st.integers(min_value=0, max_value=10**15))
def test_whole_numbers_with_thousands_round_trip(whole: int) -> None:
    assert parse_number(f"{whole:,}", "en") == whole
    assert parse_number(f"{whole:,}".replace(",", "."), "de") == whole


@FAST
@given(amount=AMOUNTS, language=LANGUAGES)
def test_money_in_a_sentence_is_found_with_its_scale(amount: object, language: str) -> None:
    written = english(amount) if language == "en" else german(amount)
    text = f"Revenue reached US${written} million last year."
    (found,) = find_quantities(text, language)
    assert found.unit == "USD"
    assert found.value == pytest.approx(float(f"{amount:.2f}") * 1e6, rel=1e-12)
    assert text[found.start : found.end] == found.span


TEXT_WITH_QUANTITIES = st.lists(
    st.one_of(
        st.text(max_size=12),
        st.from_regex(MONEY, fullmatch=True),
        st.from_regex(PERCENT, fullmatch=True),
        NUMBERS,
        st.sampled_from([" ", "$", "HK$", "%", "Mrd.", " Prozent", ",", "."]),
    ),
    max_size=8,
).map("".join)


@FAST
@given(text=TEXT_WITH_QUANTITIES, language=LANGUAGES)
@example(text="Der Umsatz stieg auf 1,234,567 Euro", language="de")
@example(text="HK$1,234.567,8 million", language="en")
def test_find_quantities_never_raises(text: str, language: str) -> None:
    for q in find_quantities(text, language):
        assert text[q.start : q.end] == q.span
        assert math.isfinite(q.value)


# ---- pipeline.briefing.display.escape_md -----------------------------------------------------------

# Article text after cleaning: any printable character, HTML and Markdown included.
UNTRUSTED = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40),
    st.lists(
        st.sampled_from(
            [
                "<script>alert(1)</script>",
                "<img src=x onerror=alert(2)>",
                "[click](javascript:alert(3))",
                "<https://evil.example>",
                "*bold* _em_ `code`",
                "#set page(width: 1cm)",
                "\\textbf{x} $x^2$",
                "&amp; &#60;",
                "1. item",
                "- item",
                "> quote",
                "[^1]",
                "{.class}",
                "@cite",
                "~~del~~ ^sup^",
                "| a | b |",
                "word",
                " ",
            ]
        ),
        max_size=6,
    ).map(" ".join),
)


def _collapsed(text: str) -> str:
    return " ".join(text.split())


@PANDOC
@given(text=UNTRUSTED)
def test_escaped_text_is_plain_text_in_html(text: str) -> None:
    out = pypandoc.convert_text(escape_md(text), "html5", format="markdown").strip()
    if not _collapsed(text):
        assert out == ""
        return
    assert out.startswith("<p>") and out.endswith("</p>"), out
    inner = out[3:-4]
    assert "<" not in inner, f"markup in the HTML: {out!r}"
    assert _collapsed(html.unescape(inner)) == _collapsed(text)


@PANDOC
@given(text=UNTRUSTED)
def test_escaped_text_parses_as_words_and_spaces_only(text: str) -> None:
    """In pandoc's own reading, the escaped text is plain words: no link, code, raw HTML or
    Typst/TeX, whatever the output format (so the PDF shows it literally too)."""
    doc = json.loads(pypandoc.convert_text(escape_md(text), "json", format="markdown"))
    blocks = doc["blocks"]
    if not _collapsed(text):
        assert blocks == []
        return
    assert [b["t"] for b in blocks] == ["Para"], blocks
    kinds = {inline["t"] for inline in blocks[0]["c"]}
    assert kinds <= {"Str", "Space", "SoftBreak"}, kinds
    words = "".join(i["c"] if i["t"] == "Str" else " " for i in blocks[0]["c"])
    assert _collapsed(words) == _collapsed(text)
