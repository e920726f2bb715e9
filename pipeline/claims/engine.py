"""Find every numeric market claim in the corpus and check it against the market tables.

Three steps, each a plain function so tests can poke at it:

1. `extract_candidates` reads sentences (English or German) and returns claim candidates whose
   dates are still *relative* ("on Friday", "year-to-date", "in October 2020"), so they can be
   resolved against any publication date.
2. `resolve` turns a candidate into an instrument, a claim date (and a base date for changes)
   using the article's publication time and the exchange calendar of the instrument.
3. `verify` looks the figure up in `prices` and applies the tolerance table
   (`tolerance_table`), which depends on the qualifier ("nearly", "rund", "over", ...) and on
   the precision the writer used.

Undated articles get a publication date from their own claims (`infer_publication_dates`): the
date that makes the most date-dependent claims come true, earliest first on ties.

The rules are lexical and generic; nothing here names a seed sentence. docs/market.md lists
them.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace

import polars as pl

from pipeline.market.calendars import INSTRUMENT_EXCHANGE, Calendar, calendars
from pipeline.text.numbers import NUMBER, find_quantities

# -- lexicon ------------------------------------------------------------------------------------

UP_WORDS = (
    r"rose|rise[sn]?|rising|climb(?:ed|s|ing)?|gain(?:ed|s|ing)?|jump(?:ed|s)?|surg(?:e|ed|es|ing)|"
    r"soar(?:ed|s|ing)?|rall(?:ied|ies|y)|rebound(?:ed|s)?|advanc(?:ed|es)|added|up(?!\s+to\b)|higher|"
    r"increas(?:ed|es)|spiked?|edged up|ticked up|firmed|popped|bounced|recovered|legte|zulegen|zugelegt|gewann|gewinnt|stieg|steigt|gestiegen|"
    r"kletterte|klettert|sprang|zog an|höher|fester|im Plus|Plus|Aufschlag|zu"
)
DOWN_WORDS = (
    r"fell|fall(?:s|en|ing)?|dropp(?:ed|ing)|drops?|declin(?:ed|es|ing)|slid(?:es)?|slump(?:ed|s)?|"
    r"plummet(?:ed|s)?|plung(?:ed|es)|tumbl(?:ed|es)|sank|sink(?:s|ing)?|lost|los(?:es|ing)|"
    r"down|lower|decreas(?:ed|es)|shed|slipp(?:ed|ing)|slips?|eased|dipp(?:ed|ing)|dips?|tanked|"
    r"retreated|crashed|nosedived|verlor|verliert|fiel|fällt|gefallen|sank|rutschte|"
    r"brach ein|gab nach|büßte|tiefer|schwächer|im Minus|Minus|Abschlag|ab"
)
_UP_RE = re.compile(rf"\b(?:{UP_WORDS})\b", re.IGNORECASE)
_DOWN_RE = re.compile(rf"\b(?:{DOWN_WORDS})\b", re.IGNORECASE)

# Qualifiers just before the number -> canonical form (German forms mapped, word kept).
QUALIFIERS: tuple[tuple[str, str], ...] = (
    ("as much as", r"as much as|up to|um bis zu|bis zu"),
    ("nearly", r"nearly|almost|close to|just under|knapp|fast|beinahe|nahezu"),
    ("over", r"over|more than|above|upwards of|mehr als|über|gut"),
    ("under", r"under|less than|below|weniger als|unter"),
    ("about", r"about|around|roughly|approximately|some|circa|ca\.|rund|etwa|ungefähr|gegen"),
)
_QUAL_RES = [
    (name, re.compile(rf"\b(?:{pat})\s*(?:[$€£¥]|HK\$|US\$)?\s*$", re.IGNORECASE))
    for name, pat in QUALIFIERS
]
_INTRADAY_RE = re.compile(
    r"\bintraday\b|\bat one point\b|\bin early trade\b|\bzeitweise\b|"
    r"\bim (?:Handels|Tages)verlauf\b|\bin der Spitze\b",
    re.IGNORECASE,
)

_YTD_RE = re.compile(
    r"year[- ]to[- ]date|\bytd\b|this year|so far in 20\d\d|since the (?:start|beginning) of "
    r"(?:the|this) year|seit Jahresbeginn|seit Jahresanfang|im laufenden Jahr|in diesem Jahr|"
    r"dieses Jahr",
    re.IGNORECASE,
)
_MTD_RE = re.compile(
    r"month[- ]to[- ]date|\bmtd\b|this month|seit Monatsbeginn|seit Monatsanfang|"
    r"in diesem Monat|diesen Monat",
    re.IGNORECASE,
)
# An intraday level at the time the piece was written: only the session's range can check it.
_WRITING_RE = re.compile(
    r"\b(?:as of|at) (?:the )?time of writing\b|\bas of writing\b|\bat press time\b|"
    r"\bzum Zeitpunkt der Erstellung\b|\bbei Redaktionsschluss\b",
    re.IGNORECASE,
)
_SINCE_RE = re.compile(r"\bsince\b|\bseit\b", re.IGNORECASE)
_CLOSE_VERB_RE = re.compile(
    r"\bclos(?:ed|ing|es)\b|\bended\b|\bfinished\b|\bschloss\b|"
    r"\bbeendete\b|\bging\b.*\baus dem Handel\b",
    re.IGNORECASE,
)
_STATE_RE = re.compile(r"\b(?:is|are|ist|sind|liegt|liegen|steht|stehen)\b", re.IGNORECASE)
_PERIOD_REF_RE = re.compile(
    r"during (?:this|that|the) (?:period|time)|over (?:this|that|the) "
    r"period|in (?:diesem|dem) Zeitraum|in dieser Zeit",
    re.IGNORECASE,
)

_PRICE_BEFORE_RE = re.compile(
    r"\b(?:at|closed at|trading at|traded at|priced at|to|bei|auf|"
    r"von)\s*(?:around|about|roughly|nearly|rund|etwa|knapp)?\s*$",
    re.IGNORECASE,
)
_PRICE_AFTER_RE = re.compile(
    r"^\s*(?:apiece|a share|per share|each|je Aktie|pro Aktie)\b", re.IGNORECASE
)
_HIGH_RE = re.compile(
    r"\b(?:peak|high|record|top|Hoch|Höchststand|Rekordhoch|Hochpunkt)\b"
    r"(?:\s+\w+){0,3}\s*$",
    re.IGNORECASE,
)
_LOW_RE = re.compile(
    r"\b(?:low|trough|bottom|Tief|Tiefststand|Tiefpunkt)\b(?:\s+\w+){0,3}\s*$", re.IGNORECASE
)
_FLOW_RE = re.compile(
    r"net (?:buying|selling|purchases?|sales?|withdrawal|outflows?|inflows?|"
    r"buys?|sells?)|southbound|northbound|Stock Connect|outflows?|inflows?|"
    r"Nettoabfl\w*|Nettozufl\w*|Nettokäuf\w*|Nettoverkäuf\w*|Abflüsse|Zuflüsse",
    re.IGNORECASE,
)
_FLOW_NEG_RE = re.compile(
    r"withdraw\w*|outflow\w*|net sell\w*|net sales?|Nettoabfl\w*|"
    r"Nettoverkäuf\w*|Abflüsse|abgezogen",
    re.IGNORECASE,
)
_VOLUME_RE = re.compile(
    r"\b(?:trading volume|volume|turnover|Handelsvolumen|Umsatz|Umsätze)\b[^.]{0,40}?"
    r"\b(?:(?P<q>nearly|almost|more than|over|about|roughly|fast|knapp|mehr als|rund)\s+)?"
    r"(?P<m>doubled|tripled|quadrupled|halved|verdoppelte?|verdreifachte?|halbierte?)\b"
    r"(?:\s+sich)?",
    re.IGNORECASE,
)
_MULTIPLES = {
    "doubled": 2.0,
    "tripled": 3.0,
    "quadrupled": 4.0,
    "halved": 0.5,
    "verdoppelt": 2.0,
    "verdoppelte": 2.0,
    "verdreifacht": 3.0,
    "verdreifachte": 3.0,
    "halbiert": 0.5,
    "halbierte": 0.5,
}

# Instrument cues. Specific ones (listing or index) beat a bare company mention.
INSTRUMENT_CUES: tuple[tuple[str, str], ...] = (
    ("HSTECH", r"Hang[- ]Seng[- ]Tech(?:nology)?(?:[- ]Index)?|\bHSTECH\b"),
    ("HSI", r"Hang[- ]Seng(?:[- ]Index)?|\bHSI\b"),
    ("CSI300", r"\bCSI ?300\b"),
    ("SPX", r"S&P ?500"),
    ("MSCI_CHINA", r"MSCI China"),
    ("STOCK_CONNECT", r"Stock Connect|southbound|northbound"),
    (
        "9988.HK",
        r"\bin Hong ?Kong\b|\bHong ?Kong[- ]listed\b|\bHong ?Kong (?:shares|stock|listing)|"
        r"\bHKEX\b|\b0?9988\b|\b(?:BABA|Alibaba)-W\b|\bHongkonger (?:Börse|Aktie)|"
        r"\ban der Hongkonger\b",
    ),
    (
        "BABA",
        r"\bNYSE\b|New York Stock Exchange|\bADRs?\b|\bADS\b|\bin New York\b|"
        r"\bon Wall Street\b|\bU\.?S\.?[- ]listed\b|\bNew Yorker Börse\b|\ban der Wall Street\b",
    ),
)
_CUE_RES = [(ins, re.compile(p, re.IGNORECASE)) for ins, p in INSTRUMENT_CUES]
_INDEX_REF_RE = re.compile(
    r"\b(?:the|this|that) (?:index|benchmark)\b|\b(?:der|den|dem|des) "
    r"(?:Index|Leitindex)\b",
    re.IGNORECASE,
)
_COMPANY_RE = re.compile(
    r"\bAlibaba\b|\bshares?\b|\bstock\b|\bAktien?\b|\bTitel\b|\bPapiere?\b", re.IGNORECASE
)
INDICES = {"HSI", "HSTECH", "CSI300", "SPX", "MSCI_CHINA"}
LISTINGS = {"BABA", "9988.HK"}
CURRENCY_LISTING = {"USD": "BABA", "HKD": "9988.HK"}

MONTHS = {
    m: i + 1
    for i, m in enumerate(
        [
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ]
    )
}
MONTHS.update(
    {
        "januar": 1,
        "jänner": 1,
        "februar": 2,
        "märz": 3,
        "mai": 5,
        "juni": 6,
        "juli": 7,
        "oktober": 10,
        "dezember": 12,
        "jan": 1,
        "feb": 2,
        "mar": 3,
        "apr": 4,
        "jun": 6,
        "jul": 7,
        "aug": 8,
        "sep": 9,
        "sept": 9,
        "oct": 10,
        "okt": 10,
        "nov": 11,
        "dec": 12,
        "dez": 12,
    }
)
WEEKDAYS = {
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
    "montag": 0,
    "dienstag": 1,
    "mittwoch": 2,
    "donnerstag": 3,
    "freitag": 4,
    "samstag": 5,
    "sonnabend": 5,
    "sonntag": 6,
}
_MONTH_ALT = "|".join(sorted(MONTHS, key=len, reverse=True))
_WEEKDAY_RE = re.compile(
    rf"\b(?:on |am |last |vergangenen |letzten )?({'|'.join(WEEKDAYS)})\b", re.IGNORECASE
)
_DAY_MONTH_RE = re.compile(
    rf"\b(\d{{1,2}})(?:\.|st|nd|rd|th)?\s+(?:of\s+)?({_MONTH_ALT})\b\.?"
    rf"(?:,?\s+(\d{{4}}))?",
    re.IGNORECASE,
)
_MONTH_DAY_RE = re.compile(
    rf"\b({_MONTH_ALT})\.?\s+(\d{{1,2}})(?!\d)(?:st|nd|rd|th)?"
    rf"(?:,?\s+(\d{{4}}))?",
    re.IGNORECASE,
)
_MONTH_YEAR_RE = re.compile(rf"\b({_MONTH_ALT})\s+(\d{{4}})\b", re.IGNORECASE)
_MONTH_ONLY_RE = re.compile(rf"\b(?:in|im|since|seit)\s+({_MONTH_ALT})\b", re.IGNORECASE)
_YEAR_RE = re.compile(r"\b(?:in|im|since|seit)\s+((?:19|20)\d\d)\b", re.IGNORECASE)
_TODAY_RE = re.compile(r"\btoday\b|\bheute\b", re.IGNORECASE)
_YESTERDAY_RE = re.compile(r"\byesterday\b|\bgestern\b", re.IGNORECASE)

KINDS = (
    "close_price",
    "pct_change_day",
    "pct_change_ytd",
    "pct_change_mtd",
    "pct_change_period",
    "volume",
    "flow",
    "other",
)

# -- tolerance table ----------------------------------------------------------------------------

# Relative slack per qualifier; `half` is half a unit of the claim's last written digit.
ABOUT_PCT = 0.10  # "about 2.5%" -> +-0.25 pp plus rounding
ABOUT_PRICE = 0.05  # "around $310" -> +-5 % plus rounding
NEARLY = 0.125  # "nearly 4%" -> [3.5, 4.0]


def tolerance_table() -> pl.DataFrame:
    """The tolerance rules as a table the report can print (docs/market.md explains them)."""
    rows = [
        (
            "exact",
            "any",
            "the claim is the observed value rounded or truncated to its last written "
            "digit: |claimed| - half unit <= |observed| < |claimed| + one unit, same sign",
            "1.3% -> [1.25, 1.4); 38% -> [37.5, 39); $112.78 -> [112.775, 112.79)",
        ),
        (
            "about",
            "percent change",
            f"|observed - claimed| <= {ABOUT_PCT:.0%} of |claimed| + half unit",
            "rund 2,5% -> [2.2, 2.8]",
        ),
        (
            "about",
            "price level",
            f"|observed - claimed| <= {ABOUT_PRICE:.0%} of |claimed| + half unit",
            "around $310 -> [294, 326]",
        ),
        (
            "about",
            "volume multiple",
            f"|observed - claimed| <= {ABOUT_PCT:.0%} of claimed + half unit",
            "about doubled -> [1.8, 2.2]",
        ),
        (
            "nearly",
            "any",
            f"{1 - NEARLY:.3f} x |claimed| <= |observed| <= |claimed|, same sign",
            "nearly 4% -> [3.5, 4.0]; nearly doubled -> [1.75, 2.0]",
        ),
        ("over", "any", "|observed| > |claimed|, same sign", "over 8% -> > 8"),
        ("under", "any", "|observed| < |claimed|, same sign", "less than 2% -> < 2"),
        (
            "as much as",
            "percent change",
            "intraday extreme move (high or low vs previous close) within the 'about' band",
            "up to 5% -> intraday high move in [4.0, 6.0]",
        ),
        ("intraday", "percent change", "as 'as much as'", ""),
        (
            "at time of writing",
            "percent change",
            "the claimed move lies within the session's range (low to high vs previous close), "
            "widened by half a unit",
            "as of writing up 3.38% -> supported if the day's low and high bracket +3.38%",
        ),
        ("any", "sign", "a change in the opposite direction is contradicted whatever the size", ""),
        (
            "any",
            "adjusted-only price level",
            "outside the band -> unverifiable, not contradicted "
            "(dividend adjustment lowers old prices)",
            "low of around $64 in Oct 2022",
        ),
    ]
    return pl.DataFrame(rows, schema=["qualifier", "applies_to", "rule", "example"], orient="row")


def _decimals(span: str) -> int:
    m = re.search(NUMBER, span)
    if not m:
        return 0
    tok = m.group(0)
    last = max(tok.rfind("."), tok.rfind(","))
    if last < 0:
        return 0
    tail = tok[last + 1 :]
    return (
        0
        if len(tail) == 3 and tok.count(tok[last]) >= 1 and len(tok) - len(tail) > 4
        else len(tail)
    )


def band(
    value: float, qualifier: str, decimals: int, scale: str
) -> tuple[float | None, float | None]:
    """Interval of observed values that support a claim; None = open end. `scale` is
    `pct`, `price` or `multiple`."""
    half = 0.5 * 10 ** (-decimals)
    v, a = value, abs(value)
    sign = 1 if value >= 0 else -1
    eps = 1e-9
    if qualifier in ("about", "as much as", "intraday"):
        rel = ABOUT_PRICE if scale == "price" else ABOUT_PCT
        w = rel * a + half
        return v - w - eps, v + w + eps
    if qualifier == "nearly":
        lo, hi = a * (1 - NEARLY) - eps, a + eps
    elif qualifier == "over":
        lo, hi = a + eps, None
    elif qualifier == "under":
        lo, hi = None, a - eps
    else:
        # the written figure is the observed one rounded or truncated to its last digit
        lo, hi = a - half - eps, a + 2 * half - eps
    if sign > 0 or scale != "pct":
        return lo, hi
    return (-hi if hi is not None else None), (-lo if lo is not None else None)


def within(observed: float, lo: float | None, hi: float | None) -> bool:
    return (lo is None or observed >= lo) and (hi is None or observed <= hi)


# -- candidates ---------------------------------------------------------------------------------


@dataclass
class Candidate:
    """One claim before its dates are resolved."""

    article_id: str
    sentence_idx: int
    quote: str
    language: str
    kind: str
    value: float
    unit: str
    decimals: int
    qualifier: str
    qualifier_word: str
    instrument: str | None
    stat: str  # close | period_high | period_low | day | ytd | since | volume | flow
    date_specs: list[tuple] = field(default_factory=list)  # relative date expressions
    base_spec: tuple | None = None  # for "since ..." changes
    period_specs: list[tuple] = field(default_factory=list)  # for "during this period"


def _date_specs(text: str) -> list[tuple[int, tuple]]:
    """(position, spec) for every date expression in `text`."""
    found: list[tuple[int, int, tuple]] = []
    taken: list[tuple[int, int]] = []

    def free(a: int, b: int) -> bool:
        return all(b <= x or a >= y for x, y in taken)

    for m in _DAY_MONTH_RE.finditer(text):
        y = int(m.group(3)) if m.group(3) else None
        found.append((m.start(), m.end(), ("date", y, MONTHS[m.group(2).lower()], int(m.group(1)))))
        taken.append((m.start(), m.end()))
    for m in _MONTH_DAY_RE.finditer(text):
        if free(m.start(), m.end()) and int(m.group(2)) <= 31:
            y = int(m.group(3)) if m.group(3) else None
            found.append(
                (m.start(), m.end(), ("date", y, MONTHS[m.group(1).lower()], int(m.group(2))))
            )
            taken.append((m.start(), m.end()))
    for m in _MONTH_YEAR_RE.finditer(text):
        if free(m.start(), m.end()):
            found.append(
                (m.start(), m.end(), ("month", int(m.group(2)), MONTHS[m.group(1).lower()]))
            )
            taken.append((m.start(), m.end()))
    for m in _MONTH_ONLY_RE.finditer(text):
        if free(m.start(1), m.end(1)):
            found.append((m.start(), m.end(), ("month", None, MONTHS[m.group(1).lower()])))
            taken.append((m.start(1), m.end(1)))
    for m in _YEAR_RE.finditer(text):
        if free(m.start(1), m.end(1)):
            found.append((m.start(), m.end(), ("year", int(m.group(1)))))
    for m in _WEEKDAY_RE.finditer(text):
        if free(m.start(1), m.end(1)):
            found.append((m.start(), m.end(), ("weekday", WEEKDAYS[m.group(1).lower()])))
    for m in _TODAY_RE.finditer(text):
        found.append((m.start(), m.end(), ("today",)))
    for m in _YESTERDAY_RE.finditer(text):
        found.append((m.start(), m.end(), ("yesterday",)))
    return [(s, spec) for s, _, spec in sorted(found)]


def _nearest(items: list[tuple[int, object]], a: int, b: int) -> object | None:
    """Item whose position is closest to the span [a, b)."""
    best, dist = None, None
    for pos, item in items:
        d = a - pos if pos < a else max(0, pos - b)
        if dist is None or d < dist:
            best, dist = item, d
    return best


def _direction(window: str, a: int, b: int) -> tuple[int, int, int] | None:
    """(sign, start, end) of the direction word nearest to the number at [a, b)."""
    hits = [(m.start(), (1, m.start(), m.end())) for m in _UP_RE.finditer(window)]
    hits += [(m.start(), (-1, m.start(), m.end())) for m in _DOWN_RE.finditer(window)]
    # "zu"/"ab" only count right after the number (German separable verbs: "2,5 Prozent zu")
    hits = [
        h
        for h in hits
        if window[h[1][1] : h[1][2]].lower() not in ("zu", "ab") or 0 <= h[1][1] - b <= 2
    ]
    return _nearest(hits, a, b)  # type: ignore[return-value]


def _qualifier(before: str, window: str) -> tuple[str, str]:
    for name, rx in _QUAL_RES:
        m = rx.search(before)
        if m:
            return name, m.group(0).strip().rstrip("$€£¥").replace("HK", "").replace(
                "US", ""
            ).strip()
    m = _WRITING_RE.search(window)
    if m:
        return "at time of writing", m.group(0)
    m = _INTRADAY_RE.search(window)
    if m:
        return "intraday", m.group(0)
    return "exact", ""


def _instrument_cue(sentence: str, a: int, b: int) -> str | None:
    """Specific instrument named in the sentence: nearest cue before the number, else after."""
    before, after = [], []
    spans: list[tuple[int, int]] = []
    for ins, rx in _CUE_RES:
        for m in rx.finditer(sentence):
            if any(m.start() < y and m.end() > x for x, y in spans):
                continue  # "Hang Seng Tech" already taken, don't read it as HSI too
            spans.append((m.start(), m.end()))
            (before if m.end() <= a else after).append((m.start(), m.end(), ins))
    if before:
        start, end, ins = max(before, key=lambda t: t[1])
        # "the Hang Seng Index slipped 0.7%, while Alibaba shares rose 5%": a company mention
        # after an index name and before the number moves the subject back to the company
        if ins in INDICES and _COMPANY_RE.search(sentence[end:a]):
            return None
        return ins
    if after:
        return min(after, key=lambda t: t[0])[2]
    return None


@dataclass
class _Context:
    """What earlier sentences of the article established."""

    default_listing: str = "BABA"
    last_instrument: str | None = None
    last_listing: str | None = None
    last_index: str | None = None
    last_specs: list[tuple] = field(default_factory=list)
    last_stat: str | None = None


def _article_default_listing(texts: list[str]) -> str:
    """The first listing an article names explicitly; the ADR (BABA) when it names none.

    International and German retail coverage quotes the New York ADR unless it says otherwise.
    """
    first: tuple[int, int, str] | None = None
    for i, t in enumerate(texts):
        for ins in LISTINGS:
            rx = dict(_CUE_RES)[ins]
            m = rx.search(t)
            if m and (first is None or (i, m.start()) < first[:2]):
                first = (i, m.start(), ins)
    return first[2] if first else "BABA"


# Whatever splitter produced `sentences`, claims are read one grammatical sentence at a time:
# a full stop after a word and before a capital ends a unit (decimals like "1.3" never match).
_SUBSPLIT = re.compile(
    r'(?<=[^\W\d][.!?])\s+(?=[A-ZÄÖÜ])|(?<=[.!?]["”])\s+(?=[A-ZÄÖÜ])|'
    r"(?<=%[.!?])\s+(?=[A-ZÄÖÜ])"
)


def extract_candidates(sentences: pl.DataFrame) -> list[Candidate]:
    """Every numeric market claim in `sentences` (article_id, sentence_idx, text, language).

    Each row is re-cut into grammatical sentences first, so a splitter that hands over whole
    paragraphs gives the same claims as one that hands over sentences.
    """
    out: list[Candidate] = []
    sents = sentences.sort("article_id", "sentence_idx")
    for (article_id,), group in sents.group_by(["article_id"], maintain_order=True):
        rows = group.select("sentence_idx", "text", "language").rows()
        ctx = _Context(default_listing=_article_default_listing([r[1] or "" for r in rows]))
        units = [
            (idx, part, language)
            for idx, text, language in rows
            for part in _SUBSPLIT.split(text or "")
            if part.strip()
        ]
        for idx, text, language in units:
            lang = (language or "en")[:2]
            found = _sentence_claims(str(article_id), int(idx), text, lang, ctx)
            out.extend(found)
            if found:
                ctx.last_instrument = found[-1].instrument
                for c in found:
                    if c.instrument in LISTINGS:
                        ctx.last_listing = c.instrument
                    if c.instrument in INDICES:
                        ctx.last_index = c.instrument
                ctx.last_stat = found[-1].stat
            specs = [s for _, s in _date_specs(text)]
            if specs:
                ctx.last_specs = specs
            elif found and found[-1].date_specs:
                ctx.last_specs = found[-1].date_specs
    return out


def _sentence_claims(
    article_id: str, idx: int, text: str, lang: str, ctx: _Context
) -> list[Candidate]:
    quantities = [q for q in find_quantities(text, lang)]
    claims: list[tuple[object, str]] = []
    for q in quantities:
        if q.unit == "percent":
            claims.append((q, "pct"))
        else:
            claims.append((q, "money"))
    vol = [m for m in _VOLUME_RE.finditer(text)]
    sentence_specs = _date_specs(text)
    out: list[Candidate] = []
    for i, (q, typ) in enumerate(claims):
        prev_end = claims[i - 1][0].end if i > 0 else 0
        next_start = claims[i + 1][0].start if i + 1 < len(claims) else len(text)
        window = text[prev_end:next_start]
        a, b = q.start - prev_end, q.end - prev_end
        before = text[max(prev_end, q.start - 40) : q.start]
        c = _classify(
            article_id, idx, text, lang, ctx, q, typ, window, a, b, before, prev_end, sentence_specs
        )
        if c is not None:
            out.append(c)
    for m in vol:
        qual_word = m.group("q") or ""
        qual = {
            "nearly": "nearly",
            "almost": "nearly",
            "fast": "nearly",
            "knapp": "nearly",
            "more than": "over",
            "over": "over",
            "mehr als": "over",
            "about": "about",
            "roughly": "about",
            "rund": "about",
        }.get(qual_word.lower(), "exact")
        ins = _instrument_cue(text, m.start(), m.end()) or ctx.last_listing or ctx.default_listing
        own = [s for _, s in sentence_specs]
        period = ctx.last_specs if _PERIOD_REF_RE.search(text) and not own else []
        out.append(
            Candidate(
                article_id,
                idx,
                m.group(0),
                lang,
                "volume",
                _MULTIPLES[m.group("m").lower()],
                "x_prev20_mean",
                0 if _MULTIPLES[m.group("m").lower()] >= 1 else 1,
                qual,
                qual_word,
                ins if ins in LISTINGS else ctx.default_listing,
                "volume",
                own or ([] if period else list(ctx.last_specs)),
                None,
                period,
            )
        )
    return out


def _classify(
    article_id, idx, text, lang, ctx, q, typ, window, a, b, before, offset, sentence_specs
) -> Candidate | None:
    specs_win = [(p - offset, s) for p, s in sentence_specs if offset <= p < offset + len(window)]
    qual, qual_word = _qualifier(before, window)
    cue = _instrument_cue(text, q.start, q.end)
    if cue is None and _INDEX_REF_RE.search(window) and ctx.last_index:
        cue = ctx.last_index
    quote_a, quote_b = a, b
    if typ == "money":
        after = window[b:]
        high, low = _HIGH_RE.search(before), _LOW_RE.search(before)
        is_flow = _FLOW_RE.search(text) is not None
        if is_flow and not (high or low or _PRICE_AFTER_RE.search(after)):
            neg = _FLOW_NEG_RE.search(text) is not None
            ins = (
                "9988.HK" if q.unit == "HKD" else (cue if cue in LISTINGS else ctx.default_listing)
            )
            fm = _FLOW_RE.search(window)
            if fm:
                quote_a, quote_b = min(quote_a, fm.start()), max(quote_b, fm.end())
            specs = [s for _, s in sentence_specs] or []
            return Candidate(
                article_id,
                idx,
                window[quote_a:quote_b],
                lang,
                "flow",
                -q.value if neg else q.value,
                q.unit,
                _decimals(q.span),
                qual,
                qual_word,
                ins,
                "flow",
                specs,
            )
        if not (high or low or _PRICE_BEFORE_RE.search(before) or _PRICE_AFTER_RE.search(after)):
            return None
        stat = "period_high" if high else ("period_low" if low else "close")
        m = high or low
        if m:
            quote_a = min(quote_a, a - (len(before) - m.start()))
        ins = CURRENCY_LISTING.get(q.unit)
        if cue in LISTINGS or cue is None:
            ins = ins or cue or ctx.last_listing or ctx.default_listing
        else:
            ins = cue  # an index level
        pa_ = _PRICE_AFTER_RE.search(after)
        if pa_:
            quote_b = max(quote_b, b + pa_.end())
        spec = _nearest(specs_win, a, b) or _nearest(
            [(p - offset, s) for p, s in sentence_specs], a, b
        )
        specs = [spec] if spec else list(ctx.last_specs)
        c = Candidate(
            article_id,
            idx,
            "",
            lang,
            "close_price",
            q.value,
            q.unit,
            _decimals(q.span),
            qual,
            qual_word,
            ins,
            stat,
            specs,
        )
        return _finish_quote(c, window, quote_a, quote_b, specs_win, spec)
    # percent
    d = _direction(window, a, b)
    ytd = _YTD_RE.search(window) or _MTD_RE.search(window)
    to_date = "mtd" if ytd is not None and _MTD_RE.fullmatch(ytd.group(0)) else "ytd"
    if d is None:
        return None  # a percentage without a move is not a market claim (a stake, a rate, ...)
    sign, da, db = d
    quote_a, quote_b = min(quote_a, da), max(quote_b, db)
    company = _COMPANY_RE.search(text) is not None
    if cue is None:
        if company:
            cue = ctx.last_listing or ctx.default_listing
        else:
            cue = ctx.last_instrument or ctx.default_listing
    since = _SINCE_RE.search(window[b:]) if not ytd else None
    spec = _nearest(specs_win, a, b)
    if spec is None and not ytd:
        spec = _nearest([(p - offset, s) for p, s in sentence_specs], a, b)
    if ytd:
        kind, stat = f"pct_change_{to_date}", to_date
        ym = ytd
        quote_a, quote_b = min(quote_a, ym.start()), max(quote_b, ym.end())
    elif since:
        kind, stat = "pct_change_period", "since"
    elif (
        spec is None
        and _STATE_RE.search(window[:a])
        and not _CLOSE_VERB_RE.search(window)
        and ctx.last_stat == "ytd"
    ):
        kind, stat = "pct_change_ytd", "ytd"  # "is up 33%" right after a year-to-date figure
    elif spec is not None and spec[0] in ("month", "year"):
        kind, stat = "pct_change_period", "since"
    else:
        kind, stat = "pct_change_day", "day"
    base = None
    if stat == "since":
        after_specs = [(p, s) for p, s in specs_win if p >= b]
        base = after_specs[0][1] if after_specs else spec
        spec_use = None
    else:
        spec_use = spec
    if stat in ("ytd", "mtd") and spec_use is not None and spec_use[0] in ("month", "year"):
        spec_use = None
    specs = [spec_use] if spec_use else list(ctx.last_specs)
    c = Candidate(
        article_id,
        idx,
        "",
        lang,
        kind,
        sign * q.value,
        "percent",
        _decimals(q.span),
        qual,
        qual_word,
        cue,
        stat,
        specs,
        base,
    )
    return _finish_quote(
        c, window, quote_a, quote_b, specs_win, None if ytd else (spec_use or base)
    )


def _finish_quote(c: Candidate, window: str, qa: int, qb: int, specs_win, spec) -> Candidate:
    """Quote = exact span from the direction/qualifier word to the number and its date phrase."""
    if c.qualifier_word:
        k = window.rfind(c.qualifier_word, 0, qa + 1 if qa < len(window) else len(window))
        if k >= 0 and qa - k < 40:
            qa = min(qa, k)
    if spec is not None:
        for p, s in specs_win:
            if s == spec:
                m = (
                    _WEEKDAY_RE.match(window, p)
                    or _DAY_MONTH_RE.match(window, p)
                    or _MONTH_DAY_RE.match(window, p)
                    or _MONTH_YEAR_RE.match(window, p)
                    or _MONTH_ONLY_RE.match(window, p)
                    or _YEAR_RE.match(window, p)
                )
                end = m.end() if m else p
                if abs(p - qb) < 60 or abs(qa - end) < 60:
                    qa, qb = min(qa, p), max(qb, end)
                break
    c.quote = window[qa:qb].strip(" ,;—–-")
    return c


# -- market lookups -----------------------------------------------------------------------------


class Market:
    """Fast day lookups over `prices` for the instruments claims talk about."""

    def __init__(self, prices: pl.DataFrame) -> None:
        self.cals = calendars(prices) if prices.height else {}
        keep = prices.filter(pl.col("instrument").is_in(list(LISTINGS | INDICES)))
        self.rows: dict[str, dict[dt.date, dict]] = {}
        self.days: dict[str, list[dt.date]] = {}
        flagged = keep.filter(pl.col("placeholder")).select("instrument", "date").rows()
        self.placeholders: set[tuple[str, dt.date]] = set(flagged)
        for (ins,), g in keep.sort("date").group_by(["instrument"], maintain_order=True):
            real = g.filter(~pl.col("placeholder"))
            self.rows[ins] = {r["date"]: r for r in real.to_dicts()}
            self.days[ins] = real["date"].to_list()

    def has(self, ins: str) -> bool:
        return ins in self.rows

    def row(self, ins: str, d: dt.date) -> dict | None:
        return self.rows.get(ins, {}).get(d)

    def prev(self, ins: str, d: dt.date) -> dict | None:
        import bisect

        days = self.days.get(ins, [])
        i = bisect.bisect_left(days, d)
        return self.rows[ins][days[i - 1]] if i > 0 else None

    def on_or_before(self, ins: str, d: dt.date) -> dict | None:
        r = self.row(ins, d)
        return r if r is not None else self.prev(ins, d)

    def window(self, ins: str, a: dt.date, b: dt.date) -> list[dict]:
        import bisect

        days = self.days.get(ins, [])
        i, j = bisect.bisect_left(days, a), bisect.bisect_right(days, b)
        return [self.rows[ins][x] for x in days[i:j]]

    def before(self, ins: str, d: dt.date, n: int) -> list[dict]:
        import bisect

        days = self.days.get(ins, [])
        i = bisect.bisect_left(days, d)
        return [self.rows[ins][x] for x in days[max(0, i - n) : i]]


def _change(r0: dict, r1: dict) -> tuple[float, str, str]:
    """Percent change between two rows, as-traded when both ends have it."""
    if r0["close_traded"] is not None and r1["close_traded"] is not None:
        return (r1["close_traded"] / r0["close_traded"] - 1) * 100, "as-traded", ""
    if r0["adjusted"] != r1["adjusted"]:
        note = "an ex-dividend date lies between the two closes; change includes the dividend; "
    else:
        note = "ratio of adjusted closes (no known ex-date between them, so equal to as traded); "
    return (r1["close"] / r0["close"] - 1) * 100, "adjusted", note


# -- resolution ---------------------------------------------------------------------------------


@dataclass
class Publication:
    at: dt.datetime | None  # UTC
    date: dt.date | None
    method: str  # time | date | inferred | unknown


def _effective_time(pub: Publication) -> dt.datetime | None:
    """Date-only publications count as 12:00 UTC: Asian sessions of that day have closed, the
    New York session has not."""
    if pub.at is not None:
        return pub.at if pub.at.tzinfo else pub.at.replace(tzinfo=dt.UTC)
    if pub.date is not None:
        return dt.datetime.combine(pub.date, dt.time(12, 0), tzinfo=dt.UTC)
    return None


def _latest_closed(cal: Calendar, when: dt.datetime) -> dt.date | None:
    """Last session whose close came before `when`."""
    from zoneinfo import ZoneInfo

    local = when.astimezone(ZoneInfo(cal.exchange.tz))
    d = local.date()
    if cal.is_session(d) and local.time() >= cal.exchange.close:
        return d
    return cal.on_or_before(d - dt.timedelta(days=1))


def _resolve_spec(
    spec: tuple, cal: Calendar, when: dt.datetime
) -> tuple[dt.date | None, dt.date | None]:
    """(start, end) calendar dates a spec points at, relative to the publication `when`."""
    from zoneinfo import ZoneInfo

    local = when.astimezone(ZoneInfo(cal.exchange.tz)).date()
    kind = spec[0]
    if kind == "weekday":
        back = (local.weekday() - spec[1]) % 7
        d = local - dt.timedelta(days=back)
        return d, d
    if kind == "date":
        y = spec[1] or local.year
        try:
            d = dt.date(y, spec[2], spec[3])
        except ValueError:
            return None, None
        if spec[1] is None and d > local:
            d = dt.date(y - 1, spec[2], spec[3])
        return d, d
    if kind == "month":
        y = spec[1] or (local.year if spec[2] <= local.month else local.year - 1)
        start = dt.date(y, spec[2], 1)
        end = dt.date(y + (spec[2] == 12), spec[2] % 12 + 1, 1) - dt.timedelta(days=1)
        return start, end
    if kind == "year":
        return dt.date(spec[1], 1, 1), dt.date(spec[1], 12, 31)
    if kind == "today":
        return local, local
    if kind == "yesterday":
        d = cal.on_or_before(local - dt.timedelta(days=1))
        return d, d
    return None, None


@dataclass
class Resolved:
    instrument: str | None
    claim_date: dt.date | None
    period_start: dt.date | None
    observed: float | None
    verdict: str
    note: str
    basis: str | None
    lo: float | None = None
    hi: float | None = None


def _session(mk, ins: str, day, pub_note: str):
    """The market row of `ins` on `day`, or the `unverifiable` verdict saying why there is none."""
    if day is None:
        return None, Resolved(ins, None, None, None, "unverifiable", pub_note + "no date", None)
    row = mk.row(ins, day)
    if row is None:
        why = (
            "half-day placeholder row"
            if (ins, day) in mk.placeholders
            else "not a session in the data"
        )
        return None, Resolved(
            ins, day, None, None, "unverifiable", f"{pub_note}{ins} {day}: {why}", None
        )
    return row, None


def verify(c: Candidate, pub: Publication, mk: Market) -> Resolved:
    """Resolve the candidate's dates against `pub` and check it against the market data."""
    ins = c.instrument
    if c.kind == "flow":
        when = _effective_time(pub)
        cal = mk.cals.get("HKEX")
        d = _latest_closed(cal, when) if (cal and when) else None
        return Resolved(
            ins,
            d,
            None,
            None,
            "unverifiable",
            "no Stock Connect or fund-flow data in the market snapshot; the flow figures "
            "cited by other sources are listed beside the turnover chart",
            None,
        )
    if ins is None or not mk.has(ins):
        what = {
            "HSTECH": "Hang Seng TECH index",
            "MSCI_CHINA": "MSCI China index",
            "STOCK_CONNECT": "Stock Connect flows",
        }.get(ins or "", ins or "instrument")
        return Resolved(
            ins, None, None, None, "unverifiable", f"no {what} data in the market snapshot", None
        )
    when = _effective_time(pub)
    if when is None:
        return Resolved(
            ins,
            None,
            None,
            None,
            "unverifiable",
            "publication date unknown and could not be inferred",
            None,
        )
    cal = mk.cals[INSTRUMENT_EXCHANGE.get(ins, "NYSE")]
    latest = _latest_closed(cal, when)
    pub_note = "publication date inferred from claims; " if pub.method == "inferred" else ""
    # -- dates
    day: dt.date | None = None
    span: tuple[dt.date, dt.date] | None = None
    for spec in c.date_specs:
        s, e = _resolve_spec(spec, cal, when)
        if s is None:
            continue
        if s == e:
            day = s
        else:
            span = (s, e)
        break
    if c.stat in ("day", "close", "ytd", "mtd") and day is None and span is None:
        day = latest  # no date in the text: the last close before publication
    elif c.stat in ("ytd", "mtd") and day is not None and latest is not None and day > latest:
        day = latest
    if (
        c.stat in ("day", "close", "ytd", "mtd")
        and day is not None
        and not any(sp[0] == "weekday" or sp[0] == "date" for sp in c.date_specs[:1])
    ):
        if latest is not None and day > latest:
            day = latest  # an inherited/implicit date cannot be after the last close
    if c.kind == "volume":
        return _verify_volume(c, pub, mk, cal, when, day, pub_note)
    if c.stat in ("period_high", "period_low"):
        if span is None and day is not None:
            span = (day, day)
        if span is None:
            return Resolved(
                ins, None, None, None, "unverifiable", pub_note + "no period given", None
            )
        rows = mk.window(ins, span[0], span[1])
        if not rows:
            return Resolved(
                ins,
                None,
                span[0],
                None,
                "unverifiable",
                f"{pub_note}no {ins} data for {span[0]}..{span[1]}",
                None,
            )
        traded = all(r["close_traded"] is not None for r in rows)
        key = "close_traded" if traded else "close"
        pick = (max if c.stat == "period_high" else min)(rows, key=lambda r: r[key])
        obs = pick[key]
        lo, hi = band(c.value, c.qualifier, c.decimals, "price")
        extreme = "high" if c.stat == "period_high" else "low"
        note = (
            f"{pub_note}{'as-traded' if traded else 'dividend-adjusted'} closing {extreme} of "
            f"{span[0]:%Y-%m} .. {span[1]:%Y-%m} is {obs:.2f} on {pick['date']}"
        )
        ok = within(obs, lo, hi)
        if traded:
            k2 = "high" if c.stat == "period_high" else "low"
            intr = [r[k2] for r in rows if r[k2] is not None]
            if intr:
                ext = max(intr) if c.stat == "period_high" else min(intr)
                note += f"; intraday {extreme} {ext:.2f}"
            verdict = "supported" if ok else "contradicted"
        else:
            note += (
                "; only adjusted prices in the snapshot for this period, as-traded level unknown"
            )
            verdict = "supported" if ok else "unverifiable"
        return Resolved(
            ins,
            pick["date"],
            span[0],
            obs,
            verdict,
            note,
            "as-traded" if traded else "adjusted",
            lo,
            hi,
        )
    if c.kind == "close_price":
        r, missing = _session(mk, ins, day, pub_note)
        if missing is not None:
            return missing
        traded = r["close_traded"] is not None
        obs = r["close_traded"] if traded else r["close"]
        lo, hi = band(c.value, c.qualifier, c.decimals, "price")
        ok = within(obs, lo, hi)
        note = (
            f"{pub_note}{'as-traded' if traded else 'dividend-adjusted'} close {obs:.2f} on {day}"
        )
        verdict = "supported" if ok else ("contradicted" if traded else "unverifiable")
        if not traded:
            note += "; only adjusted prices in the snapshot for this date"
        return Resolved(
            ins, day, None, obs, verdict, note, "as-traded" if traded else "adjusted", lo, hi
        )
    # percent changes
    if c.stat in ("ytd", "mtd"):
        if day is None:
            return Resolved(ins, None, None, None, "unverifiable", pub_note + "no date", None)
        r1 = mk.on_or_before(ins, day)
        # The base is the last close of the previous year (or month).
        period_start = day.replace(month=1, day=1) if c.stat == "ytd" else day.replace(day=1)
        base_end = period_start - dt.timedelta(days=1)
        base = mk.on_or_before(ins, base_end)
        # ... and it must lie in that previous year (or month), not further back in a gap.
        same_period = base is not None and base["date"].year == base_end.year
        if c.stat == "mtd":
            same_period = same_period and base["date"].month == base_end.month
        if r1 is None or base is None or not same_period:
            what = "year-to-date" if c.stat == "ytd" else "month-to-date"
            return Resolved(
                ins,
                day,
                None,
                None,
                "unverifiable",
                f"{pub_note}no {ins} data for the {what} base",
                None,
            )
        obs, basis, note = _change(base, r1)
        start, day = base["date"], r1["date"]
    elif c.stat == "since":
        s = e = None
        if c.base_spec is not None:
            s, e = _resolve_spec(c.base_spec, cal, when)
        if s is None:
            return Resolved(
                ins, day, None, None, "unverifiable", pub_note + "start of the period unclear", None
            )
        end_day = latest if day is None else day
        rows = mk.window(ins, s, e)
        r1 = mk.on_or_before(ins, end_day) if end_day else None
        if not rows or r1 is None:
            return Resolved(
                ins,
                end_day,
                s,
                None,
                "unverifiable",
                f"{pub_note}no {ins} data for the period",
                None,
            )
        r0 = (
            min(rows, key=lambda r: r["close"])
            if c.value >= 0
            else max(rows, key=lambda r: r["close"])
        )
        obs, basis, note = _change(r0, r1)
        start, day = r0["date"], r1["date"]
    else:
        r1, missing = _session(mk, ins, day, pub_note)
        if missing is not None:
            return missing
        r0 = mk.prev(ins, day)
        if r0 is None:
            return Resolved(
                ins, day, None, None, "unverifiable", f"{pub_note}no previous close", None
            )
        if c.qualifier == "at time of writing":
            return _verify_session_range(c, ins, day, r0, r1, pub_note)
        if c.qualifier in ("as much as", "intraday"):
            k = "high" if c.value >= 0 else "low"
            if r1[k] is None:
                return Resolved(
                    ins, day, None, None, "unverifiable", f"{pub_note}no intraday {k}", None
                )
            obs = _move(r0, r1, k)
            basis = "adjusted" if r1["adjusted"] else "as-traded"
            note = f"intraday {k} vs previous close; "
        else:
            obs, basis, note = _change(r0, r1)
        start = r0["date"]
    lo, hi = band(c.value, c.qualifier, c.decimals, "pct")
    ok = within(obs, lo, hi)
    wrong_way = obs * c.value < 0 and abs(obs) >= 0.5 * 10 ** (-c.decimals)
    verdict = "supported" if ok and not wrong_way else "contradicted"
    note = f"{pub_note}{note}{ins} {obs:+.2f}% from {start} to {day}"
    if verdict == "contradicted" and c.stat == "day" and pub.method == "date" and day == pub.date:
        # Published that day at an unknown hour: the piece may describe the move before the
        # close. If some level inside the session fits the claim, the close cannot refute it.
        low, high = _move(r0, r1, "low"), _move(r0, r1, "high")
        fits = (
            low is not None
            and high is not None
            and (lo is None or lo <= high)
            and (hi is None or hi >= low)
        )
        if fits:
            verdict = "unverifiable"
            note += (
                f"; publication time unknown and the session ranged {low:+.2f}% to "
                f"{high:+.2f}%, so the piece may describe the move before the close"
            )
    return Resolved(ins, day, start, obs, verdict, note, basis, lo, hi)


def _move(r0: dict, r1: dict, field: str) -> float | None:
    """Percent move of session `r1`'s `field` (close, high or low) from the previous close."""
    return None if r1[field] is None else (r1[field] / r0["close"] - 1) * 100


def _verify_session_range(c, ins, day, r0, r1, pub_note) -> Resolved:
    """A move "at the time of writing" happened somewhere inside the session: supported when
    the session's low and high (vs the previous close) bracket it, within half a unit."""
    low, high = _move(r0, r1, "low"), _move(r0, r1, "high")
    if low is None or high is None:
        return Resolved(ins, day, None, None, "unverifiable", f"{pub_note}no intraday range", None)
    half = 0.5 * 10 ** (-c.decimals)
    lo, hi = low - half, high + half
    verdict = "supported" if within(c.value, lo, hi) else "contradicted"
    obs = high if c.value >= 0 else low  # the session's extreme in the claimed direction
    basis = "adjusted" if r1["adjusted"] else "as-traded"
    note = (
        f"{pub_note}at the time of writing: {ins} ranged {low:+.2f}% to {high:+.2f}% "
        f"vs the previous close ({r0['date']}) on {day}"
    )
    return Resolved(ins, day, r0["date"], obs, verdict, note, basis, lo, hi)


def _verify_volume(c, pub, mk, cal, when, day, pub_note) -> Resolved:
    ins = c.instrument
    days: list[dt.date] = []
    specs = c.period_specs or c.date_specs
    for spec in specs:
        s, e = _resolve_spec(spec, cal, when)
        if s is not None:
            days.extend(r["date"] for r in mk.window(ins, s, e))
    if not days and day is not None:
        days = [day]
    if not days:
        return Resolved(
            ins, None, None, None, "unverifiable", pub_note + "no date for the volume claim", None
        )
    days = sorted(set(days))
    rows = [mk.row(ins, d) for d in days]
    rows = [r for r in rows if r is not None and r["volume"] is not None]
    prior = [r for r in mk.before(ins, days[0], 20) if r["volume"] is not None]
    if not rows or len(prior) < 20:
        return Resolved(
            ins,
            days[-1],
            days[0],
            None,
            "unverifiable",
            f"{pub_note}no {ins} volume for the period or the 20 sessions before",
            None,
        )
    mean_prev = sum(r["volume"] for r in prior) / len(prior)
    obs = sum(r["volume"] for r in rows) / len(rows) / mean_prev
    lo, hi = band(c.value, c.qualifier, c.decimals, "multiple")
    ok = within(obs, lo, hi)
    per_day = ", ".join(f"{r['date']}: {r['volume'] / mean_prev:.2f}x" for r in rows)
    note = (
        f"{pub_note}mean volume {days[0]}..{days[-1]} vs mean of the previous 20 sessions "
        f"= {obs:.2f}x ({per_day})"
    )
    return Resolved(
        ins,
        days[-1],
        days[0],
        obs,
        "supported" if ok else "contradicted",
        note,
        "as-traded",
        lo,
        hi,
    )


# -- tables -------------------------------------------------------------------------------------

CLAIMS_SCHEMA: dict[str, pl.DataType] = {
    "article_id": pl.String(),
    "sentence_idx": pl.Int64(),
    "quote": pl.String(),
    "instrument": pl.String(),
    "claim_date": pl.Date(),
    "period_start": pl.Date(),
    "kind": pl.String(),
    "stat": pl.String(),
    "value": pl.Float64(),
    "unit": pl.String(),
    "qualifier": pl.String(),
    "qualifier_word": pl.String(),
    "observed_value": pl.Float64(),
    "tolerance_lo": pl.Float64(),
    "tolerance_hi": pl.Float64(),
    "verdict": pl.String(),
    "note": pl.String(),
    "basis": pl.String(),
    "date_method": pl.String(),
}


def _publications(articles: pl.DataFrame) -> dict[str, Publication]:
    out = {}
    cols = articles.columns
    for r in articles.iter_rows(named=True):
        at = r.get("published_at") if "published_at" in cols else None
        d = r.get("published_date") if "published_date" in cols else None
        # `published_time_known` False: the corpus stored a bare date as midnight UTC.
        if at is not None and r.get("published_time_known") is False:
            at, d = None, d or at.date()
        if at is not None:
            out[r["article_id"]] = Publication(at, at.date() if d is None else d, "time")
        elif d is not None:
            out[r["article_id"]] = Publication(None, d, "date")
        else:
            out[r["article_id"]] = Publication(None, None, "unknown")
    return out


def infer_publication_dates(
    sentences: pl.DataFrame, articles: pl.DataFrame, prices: pl.DataFrame
) -> pl.DataFrame:
    """`article_id`, `published_date_inferred`, `date_evidence` for articles with no date.

    Candidate dates are the week after each session on which a weekday-anchored claim of the
    article holds; each candidate is scored by how many date-dependent claims it makes true;
    the best score wins, the earliest date on a tie (an article cannot predate the sessions it
    reports). At least two supported claims are required.
    """
    mk = Market(prices)
    pubs = _publications(articles)
    cands = extract_candidates(sentences)
    rows = []
    for aid, pub in pubs.items():
        if pub.method != "unknown":
            continue
        mine = [
            c
            for c in cands
            if c.article_id == aid and mk.has(c.instrument or "") and c.kind != "flow"
        ]
        dependent = [c for c in mine if c.stat in ("day", "close", "ytd", "mtd", "volume")]
        anchors = [c for c in dependent if any(s[0] == "weekday" for s in c.date_specs)]
        dates: set[dt.date] = set()
        for c in anchors:
            wd = next(s[1] for s in c.date_specs if s[0] == "weekday")
            for d in mk.days.get(c.instrument, []):
                if d.weekday() != wd:
                    continue
                res = verify(c, Publication(None, d, "inferred"), mk)
                if res.verdict == "supported":
                    dates.update(d + dt.timedelta(days=k) for k in range(7))
        best: tuple[int, dt.date] | None = None
        best_hits: list[str] = []
        for d in sorted(dates):
            pub_d = Publication(None, d, "inferred")
            hits = []
            for c in dependent:
                r = verify(c, pub_d, mk)
                if r.verdict == "supported":
                    hits.append(
                        f"{c.quote!r} -> {r.instrument} {r.claim_date} observed {r.observed:.2f}"
                    )
            if best is None or len(hits) > best[0]:
                best, best_hits = (len(hits), d), hits
        if best is not None and best[0] >= 2:
            rows.append(
                (
                    aid,
                    best[1],
                    f"{best[0]} of {len(dependent)} date-dependent claims hold "
                    f"if published on {best[1]} (earliest best date): " + "; ".join(best_hits),
                )
            )
    return pl.DataFrame(
        rows,
        schema={
            "article_id": pl.String,
            "published_date_inferred": pl.Date,
            "date_evidence": pl.String,
        },
        orient="row",
    )


def claims_table(
    sentences: pl.DataFrame,
    articles: pl.DataFrame,
    prices: pl.DataFrame,
    inferred: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per numeric market claim, resolved and verified (columns: `CLAIMS_SCHEMA`).

    Undated articles are resolved against `infer_publication_dates` (computed here unless
    passed in) and their notes say so.
    """
    mk = Market(prices)
    pubs = _publications(articles)
    if inferred is None:
        inferred = infer_publication_dates(sentences, articles, prices)
    for aid, d in inferred.select("article_id", "published_date_inferred").rows():
        if aid in pubs and pubs[aid].method == "unknown" and d is not None:
            pubs[aid] = Publication(None, d, "inferred")
    out = []
    for c in extract_candidates(sentences):
        pub = pubs.get(c.article_id, Publication(None, None, "unknown"))
        r = verify(c, pub, mk)
        out.append(
            {
                "article_id": c.article_id,
                "sentence_idx": c.sentence_idx,
                "quote": c.quote,
                "instrument": r.instrument,
                "claim_date": r.claim_date,
                "period_start": r.period_start,
                "kind": c.kind,
                "stat": c.stat,
                "value": c.value,
                "unit": c.unit,
                "qualifier": c.qualifier,
                "qualifier_word": c.qualifier_word or None,
                "observed_value": r.observed,
                "tolerance_lo": r.lo,
                "tolerance_hi": r.hi,
                "verdict": r.verdict,
                "note": r.note,
                "basis": r.basis,
                "date_method": pub.method,
            }
        )
    return pl.DataFrame(out, schema=CLAIMS_SCHEMA)


__all__ = [
    "claims_table",
    "infer_publication_dates",
    "tolerance_table",
    "extract_candidates",
    "verify",
    "band",
    "Candidate",
    "Publication",
    "Market",
    "replace",
]
