"""Numbers as newsrooms write them, in English and German.

Entities (money, percentages) and market claims both need the same reading of "2,5 Prozent",
"HK$956 million" or "1,5 Mrd.", so the patterns and the parser live here once. The regexes are
plain strings so Polars can use them in `str.extract_all` on whole columns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A number: digits with optional thousands separators and decimals, in either convention.
NUMBER = r"\d{1,3}(?:[.,\u202f\u00a0 ]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?"

# Scale words -> multiplier. Keys are lower-case, without a trailing dot.
SCALES: dict[str, float] = {
    "thousand": 1e3,
    "tsd": 1e3,
    "k": 1e3,
    "million": 1e6,
    "millions": 1e6,
    "mn": 1e6,
    "m": 1e6,
    "mio": 1e6,
    "million(en)": 1e6,
    "millionen": 1e6,
    "billion": 1e9,
    "billions": 1e9,
    "bn": 1e9,
    "b": 1e9,
    "mrd": 1e9,
    "milliarde": 1e9,
    "milliarden": 1e9,
    "trillion": 1e12,
    "tn": 1e12,
    "billionen": 1e12,
    "bio": 1e12,
}
SCALE = r"(?:thousand|million(?:en|s)?|billion(?:en|s)?|trillion|milliarde(?:n)?|mio\.?|mrd\.?|bio\.?|tsd\.?|mn|bn|tn|m|b|k)\b\.?"

# Currency markers, longest first so "HK$" wins over "$".
CURRENCIES: dict[str, str] = {
    "hk$": "HKD",
    "hkd": "HKD",
    "us$": "USD",
    "usd": "USD",
    "$": "USD",
    "€": "EUR",
    "eur": "EUR",
    "euro": "EUR",
    "yuan": "CNY",
    "rmb": "CNY",
    "cny": "CNY",
    "¥": "CNY",
    "£": "GBP",
}
CURRENCY_PREFIX = r"(?:HK\$|US\$|\$|€|£|¥|HKD|USD|EUR|CNY|RMB)"
CURRENCY_SUFFIX = r"(?:US-Dollar|Dollar|Euro|Yuan|HK-Dollar|Hongkong-Dollar|HKD|USD|EUR|\$|€)"

MONEY = (
    rf"{CURRENCY_PREFIX}\s?(?:{NUMBER})(?:\s?{SCALE})?"
    rf"|(?:{NUMBER})\s?(?:{SCALE}\s?)?{CURRENCY_SUFFIX}"
)
PERCENT = rf"(?:{NUMBER})\s?(?:%|\s?(?:percent|per cent|Prozent|Prozentpunkte|percentage points)\b)"


@dataclass(frozen=True)
class Quantity:
    """A number found in text: where it was, its value in base units, and its unit."""

    span: str
    start: int
    end: int
    value: float
    unit: str  # "USD", "HKD", "EUR", "CNY", "GBP", "percent"


def parse_number(token: str, language: str = "en") -> float:
    """Read one written number, honouring the language's decimal mark.

    "2,5" is 2.5 in German and 25 in English only when it looks like a thousands group
    ("1,234"); a lone comma followed by one or two digits is a decimal in both, because
    English prose never writes "2,5" for twenty-five.
    """
    s = token.strip().replace("\u202f", "").replace("\u00a0", "").replace(" ", "")
    if not s:
        raise ValueError("empty number")
    has_dot, has_comma = "." in s, "," in s
    if has_dot and has_comma:
        # The last separator is the decimal mark; every earlier one groups thousands.
        i = max(s.rfind(","), s.rfind("."))
        s = s[:i].replace(",", "").replace(".", "") + "." + s[i + 1 :]
    elif has_comma:
        groups = s.split(",")
        thousands = all(len(g) == 3 for g in groups[1:])
        # "1,234" groups thousands in English; German writes thousands with dots, so a single
        # German comma is the decimal mark, but "1,234,567" can only be thousands in either.
        if thousands and (language != "de" or len(groups) > 2):
            s = s.replace(",", "")
        else:
            i = s.rfind(",")
            s = s[:i].replace(",", "") + "." + s[i + 1 :]
    elif has_dot:
        groups = s.split(".")
        if language == "de" and len(groups) > 1 and all(len(g) == 3 for g in groups[1:]):
            s = s.replace(".", "")  # German thousands: 1.234.567
        elif len(groups) > 2:
            s = s.replace(".", "")
    return float(s)


def scale_factor(word: str | None) -> float:
    """Multiplier for a scale word such as "million", "Mrd." or "bn"; 1 when absent."""
    if not word:
        return 1.0
    key = word.strip().lower().rstrip(".")
    return SCALES.get(key, 1.0)


def currency_code(marker: str | None) -> str | None:
    """ISO code for a currency marker such as "HK$" or "Euro"."""
    if not marker:
        return None
    key = marker.strip().lower()
    if key in CURRENCIES:
        return CURRENCIES[key]
    if "hk" in key or "hongkong" in key:
        return "HKD"
    if "dollar" in key:
        return "USD"
    return None


_NUM_RE = re.compile(NUMBER)
_SCALE_RE = re.compile(SCALE, re.IGNORECASE)
_PREFIX_RE = re.compile(rf"^{CURRENCY_PREFIX}", re.IGNORECASE)
_SUFFIX_RE = re.compile(rf"{CURRENCY_SUFFIX}$", re.IGNORECASE)
_MONEY_RE = re.compile(MONEY, re.IGNORECASE)
_PERCENT_RE = re.compile(PERCENT, re.IGNORECASE)


def parse_money(span: str, language: str = "en") -> tuple[float, str]:
    """Value in base units and ISO currency for a money span like "HK$956 million"."""
    num = _NUM_RE.search(span)
    if num is None:
        raise ValueError(f"no number in {span!r}")
    value = parse_number(num.group(0), language)
    rest = span[num.end() :]
    # the scale word follows the number ("956 million"); the "K" of "HK-Dollar" is not one
    scale = _SCALE_RE.match(rest.lstrip())
    value *= scale_factor(scale.group(0) if scale else None)
    marker = _PREFIX_RE.search(span) or _SUFFIX_RE.search(span.rstrip(". "))
    code = currency_code(marker.group(0) if marker else None) or "USD"
    return value, code


def parse_percent(span: str, language: str = "en") -> float:
    """Value in percent for a span like "2,5 Prozent" or "3.78%"."""
    num = _NUM_RE.search(span)
    if num is None:
        raise ValueError(f"no number in {span!r}")
    return parse_number(num.group(0), language)


def find_quantities(text: str, language: str = "en") -> list[Quantity]:
    """Every money amount and percentage in `text`, normalised to a value and a unit."""
    found: list[Quantity] = []
    for m in _MONEY_RE.finditer(text):
        value, code = parse_money(m.group(0), language)
        found.append(Quantity(m.group(0), m.start(), m.end(), value, code))
    for m in _PERCENT_RE.finditer(text):
        found.append(
            Quantity(m.group(0), m.start(), m.end(), parse_percent(m.group(0), language), "percent")
        )
    return sorted(found, key=lambda q: q.start)


# -- market numbers: the wider set a market claim can be made of -----------------------------
#
# `find_quantities` reads money and percentages (what the entities table needs). Market claims
# also come as index points ("540點", "19 828,30 Punkte"), share counts ("4億股", "200 Mio.
# Aktien"), multiples ("2.6 times", "siebenmal", "2.6倍") and Chinese amounts written with
# 萬/億 and a currency after the number ("137.1元", "2.9萬億港元", "港幣137億元").

# Chinese scale characters; 萬億/万亿 is a trillion (10^4 x 10^8).
CJK_SCALES: dict[str, float] = {
    "萬億": 1e12,
    "万亿": 1e12,
    "百萬": 1e6,
    "百万": 1e6,
    "千萬": 1e7,
    "千万": 1e7,
    "萬": 1e4,
    "万": 1e4,
    "億": 1e8,
    "亿": 1e8,
}
CJK_SCALE = "(?:" + "|".join(sorted(CJK_SCALES, key=len, reverse=True)) + ")"
# A Chinese currency written after the number; a bare 元 is resolved by the claim grammar
# (Hong Kong press quotes the Hong Kong share in 元, mainland fundamentals are in 元 too).
CJK_CURRENCY: dict[str, str] = {
    "港元": "HKD",
    "港幣": "HKD",
    "港币": "HKD",
    "美元": "USD",
    "人民幣": "CNY",
    "人民币": "CNY",
    "元人民幣": "CNY",
    "元人民币": "CNY",
    "元": "YUAN",
}
_CJK_CUR = "(?:" + "|".join(sorted(CJK_CURRENCY, key=len, reverse=True)) + ")"
_CJK_CUR_BEFORE = r"(?:港幣|港币|人民幣|人民币|美元)"
CJK_MONEY = (
    rf"(?P<pre>{_CJK_CUR_BEFORE})?\s?(?P<n>{NUMBER})\s?(?P<s>{CJK_SCALE})?\s?(?P<c>{_CJK_CUR})"
)
POINTS = rf"(?P<n>{NUMBER})\s?(?:點|点|Punkten?|points?|pts)(?![A-Za-zäöü])"
SHARES = (
    rf"(?P<n>{NUMBER})\s?(?:(?P<s>{CJK_SCALE})股|(?P<w>{SCALE})?\s?"
    r"(?:shares|Aktien|Anteilsscheine|Papiere)\b)"
)
# Multiples: "2.6 times", "2,6-mal", "siebenmal", "2.6倍", "double", "das Doppelte".
WORD_MULTIPLES: dict[str, float] = {
    "twice": 2.0,
    "double": 2.0,
    "doppelt": 2.0,
    "doppelte": 2.0,
    "doppelten": 2.0,
    "half": 0.5,
    "halb": 0.5,
    "two": 2.0,
    "three": 3.0,
    "four": 4.0,
    "five": 5.0,
    "six": 6.0,
    "seven": 7.0,
    "eight": 8.0,
    "nine": 9.0,
    "ten": 10.0,
    "zwei": 2.0,
    "zweieinhalb": 2.5,
    "anderthalb": 1.5,
    "eineinhalb": 1.5,
    "drei": 3.0,
    "dreieinhalb": 3.5,
    "vier": 4.0,
    "fünf": 5.0,
    "sechs": 6.0,
    "sieben": 7.0,
    "acht": 8.0,
    "neun": 9.0,
    "zehn": 10.0,
}
_WORD_NUM = "|".join(
    sorted(
        (
            k
            for k in WORD_MULTIPLES
            if WORD_MULTIPLES[k] != 0.5
            and k not in ("twice", "double", "doppelt", "doppelte", "doppelten")
        ),
        key=len,
        reverse=True,
    )
)
MULTIPLE = (
    rf"(?P<n>{NUMBER})\s?(?:倍|-?mal\b|times\b|x\b)"
    rf"|\b(?P<w>{_WORD_NUM})(?:\s?times\b|mal\b)"
    r"|\b(?P<d>twice|double|doppelt|(?:das|dem|des) Doppelten?|beim Doppelten|half|halb)\b(?!-)"
)

# 成 is a tenth: "逾六成" is over 60%, "一成半" 15%, "兩成多" a little over 20%.
CJK_DIGITS = {"一": 1, "二": 2, "兩": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9, "十": 10}  # fmt: skip
TENTHS = r"(?P<n>\d+(?:\.\d+)?|[一二兩两三四五六七八九十])成(?P<h>半)?"

_CJK_MONEY_RE = re.compile(CJK_MONEY)
_TENTHS_RE = re.compile(TENTHS)
# "ein halbes Prozent", "half a percent": a number written as words
_HALF_PERCENT_RE = re.compile(
    r"\bein(?:en)? halbe[ns]? Prozent(?:punkt)?\b|\bhalf (?:a|of one) (?:percent|per cent|"
    r"percentage point)\b",
    re.IGNORECASE,
)
_POINTS_RE = re.compile(POINTS, re.IGNORECASE)
_SHARES_RE = re.compile(SHARES, re.IGNORECASE)
_MULTIPLE_RE = re.compile(MULTIPLE, re.IGNORECASE)


@dataclass(frozen=True)
class MarketNumber(Quantity):
    """A quantity plus the size of one unit of its last written digit, in base units.

    "6830万股" has step 10^4 (one 万), "2.55%" has step 0.01: the tolerance rules allow half a
    step of rounding, so the step has to be known after scaling.
    """

    step: float = 1.0


def decimals_of(token: str, language: str = "en") -> int:
    """Digits written after the decimal mark ("1,5" in German -> 1, "1,234" in English -> 0)."""
    value = token.strip()
    mark = max(value.rfind("."), value.rfind(","))
    if mark < 0:
        return 0
    whole, tail = value[:mark], value[mark + 1 :]
    if parse_number(value, language) == parse_number(whole + tail, language):
        return 0  # the mark groups thousands ("19.828" in German, "1,234" in English)
    return len(tail)


def _number(m: re.Match, language: str, scale: float, unit: str, start: int | None = None):
    token = m.group("n")
    value = parse_number(token, language) * scale
    step = 10.0 ** (-decimals_of(token, language)) * scale
    s = m.start() if start is None else start
    return MarketNumber(m.group(0), s, m.end(), value, unit, step)


def _latin_money(text: str, language: str) -> list[MarketNumber]:
    out = []
    for q in find_quantities(text, language):
        if q.unit == "percent":
            continue
        token = _NUM_RE.search(q.span)
        scale = _SCALE_RE.match(q.span[token.end() :].lstrip()) if token else None
        factor = scale_factor(scale.group(0) if scale else None)
        step = 10.0 ** (-decimals_of(token.group(0), language)) * factor if token else 1.0
        out.append(MarketNumber(q.span, q.start, q.end, q.value, q.unit, step))
    return out


def _percents(text: str, language: str) -> list[MarketNumber]:
    out = []
    for m in _PERCENT_RE.finditer(text):
        token = _NUM_RE.search(m.group(0))
        step = 10.0 ** (-decimals_of(token.group(0), language))
        out.append(
            MarketNumber(
                m.group(0),
                m.start(),
                m.end(),
                parse_number(token.group(0), language),
                "percent",
                step,
            )
        )
    return out


def _multiples(text: str, language: str) -> list[MarketNumber]:
    out = []
    for m in _MULTIPLE_RE.finditer(text):
        if m.group("n"):
            out.append(_number(m, language, 1.0, "ratio"))
            continue
        word = (m.group("w") or m.group("d")).lower().split()[-1]
        value = WORD_MULTIPLES.get(word, WORD_MULTIPLES.get(word.rstrip("n"), 2.0))
        step = 0.5 if value == 2.5 or value == 1.5 else 1.0
        out.append(MarketNumber(m.group(0), m.start(), m.end(), value, "ratio", step))
    return out


def find_market_numbers(text: str, language: str = "en") -> list[MarketNumber]:
    """Every number a market claim can be made of, longest reading first where they overlap.

    Units: ISO currencies, `YUAN` (a bare 元, decided by the claim grammar), `percent`,
    `points`, `shares` and `ratio`.
    """
    found: list[MarketNumber] = []
    for m in _CJK_MONEY_RE.finditer(text):
        scale = CJK_SCALES.get(m.group("s") or "", 1.0)
        unit = CJK_CURRENCY.get(m.group("pre") or "", None) or CJK_CURRENCY[m.group("c")]
        found.append(_number(m, language, scale, unit))
    for m in _SHARES_RE.finditer(text):
        scale = CJK_SCALES.get(m.group("s") or "", 1.0) * scale_factor(m.group("w"))
        found.append(_number(m, language, scale, "shares"))
    found += [_number(m, language, 1.0, "points") for m in _POINTS_RE.finditer(text)]
    for m in _HALF_PERCENT_RE.finditer(text):
        found.append(MarketNumber(m.group(0), m.start(), m.end(), 0.5, "percent", 0.5))
    for m in _TENTHS_RE.finditer(text):
        n = m.group("n")
        tenths = CJK_DIGITS[n] if n in CJK_DIGITS else parse_number(n, language)
        value = tenths * 10 + (5 if m.group("h") else 0)
        found.append(MarketNumber(m.group(0), m.start(), m.end(), value, "percent", 10.0))
    found += _latin_money(text, language) + _percents(text, language)
    found += _multiples(text, language)
    kept: list[MarketNumber] = []
    for q in sorted(found, key=lambda q: (q.start, -(q.end - q.start))):
        if all(q.end <= k.start or q.start >= k.end for k in kept):
            kept.append(q)
    return sorted(kept, key=lambda q: q.start)
