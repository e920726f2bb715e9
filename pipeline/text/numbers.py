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
    scale = _SCALE_RE.search(rest)
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
