"""Claim candidates from sentences: the grammar.

A market claim is read as subject + verb (or price cue) + qualifier + number with unit + time.
Each number found by `pipeline.text.numbers.find_market_numbers` is taken with the stretch of
its sentence up to the neighbouring numbers (its *clause*), and the clause decides:

- the **kind**: a percentage or index points with a verb of movement is a change; a money
  amount is a price only with a price cue ("at", "closed at", "bei", "收報") and no scale word;
  revenue, profit, market value, capex, buybacks, dividends, price targets, tariffs and
  year-on-year growth are not market claims at all; flows, turnover and volume multiples have
  their own kinds; a period word ("this year", "seit Jahresbeginn", "今年以來", "this month",
  "over the past month") makes the change a period change; intraday words make it an intraday
  move or level, checked against the session's range later;
- the **instrument**: the nearest name from the reference table before the number, else
  after it, else what the article last talked about; euro quotes and German venues, and other
  markets, are `OTHER`;
- the **time**: the nearest time expression (`when.py`), else the one the previous sentence
  gave.

Dates stay relative here; `resolve.py` anchors them to the publication date.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

import polars as pl

from pipeline.claims import grammar as g
from pipeline.claims.when import LAST_WEEK_RE, date_specs, spec_end
from pipeline.text.numbers import MarketNumber, find_market_numbers


@dataclass(frozen=True, kw_only=True)
class Candidate:
    """One claim before its dates are resolved."""

    article_id: str
    sentence_idx: int
    quote: str
    language: str
    kind: str
    stat: str  # how it is checked: close | day | intraday | writing | ytd | volume | ...
    value: float
    unit: str
    step: float  # one unit of the last written digit, in the claim's unit
    qualifier: str
    qualifier_word: str
    instrument: str | None
    specs: tuple[tuple, ...] = ()  # relative time expressions, first one that resolves wins
    base_spec: tuple | None = None  # start of a "since ..." change
    inherited: bool = False  # the time words came from an earlier sentence
    closing: bool = False  # a closing verb ("closed", "schloss", "收報") introduces the figure
    lookback: str | None = None  # a "lookback" period's reach: "5s" sessions, "2w", "1mo", "1y"


@dataclass
class Context:
    """What earlier sentences of the article established."""

    default_listing: str = "BABA"
    sentence_listing: str | None = None  # the one listing the sentence's prices are quoted in
    last_instrument: str | None = None
    last_listing: str | None = None
    last_index: str | None = None
    last_specs: tuple[tuple, ...] = ()
    specs_exchange: str | None = None  # exchange of the claims the last time words were about
    last_stat: str | None = None
    last_move: Candidate | None = None  # the last day's move, for a record phrase after it
    idx: int = 0  # the sentence being read

    def inherited(self, instrument: str | None) -> tuple[tuple, ...]:
        """The previous sentence's time words, unless they were about another exchange's
        session ("周三" of the New York close does not date the next Hong Kong figure)."""
        mine = g.exchange_of().get(instrument or "")
        if self.specs_exchange and mine and mine != self.specs_exchange:
            return ()
        return self.last_specs


@dataclass(frozen=True)
class Clause:
    """One number in its sentence, with the stretch up to the neighbouring numbers."""

    article_id: str
    idx: int
    text: str
    lang: str
    q: MarketNumber
    lo: int
    hi: int
    specs: tuple[tuple[int, tuple], ...]

    @property
    def reach(self) -> int:
        return 16 if self.lang == "zh" else 40

    @property
    def window(self) -> str:
        return self.text[self.lo : self.hi]

    @property
    def before(self) -> str:
        return self.text[max(self.lo, self.q.start - self.reach) : self.q.start]

    @property
    def lead(self) -> str:
        """The clause before the number (from the previous number on, at most 80 chars)."""
        return self.text[max(self.lo, self.q.start - 2 * self.reach - 40) : self.q.start]

    @property
    def after(self) -> str:
        return self.text[self.q.end : self.hi]

    def specs_in_window(self) -> list[tuple[int, tuple]]:
        """Time words of the number's stretch, without those of a subordinate clause after
        it ("gained 3% after the congress opened on Wednesday", "nachdem ... am Montag",
        "在...之後", "building on Monday's gain"): they date the other event."""
        after = [(p, s) for p, s in self.specs if self.lo <= p < self.hi and p >= self.q.end]
        other = {
            (p, s)
            for p, s in after
            if g.SUBORDINATE_RE.search(self.text[self.q.end : p])
            # "rose 2%, building on Monday's gain": a possessive day names another move
            or _POSSESSIVE.match(self.text, spec_end(self.text, p))
        }
        return [(p, s) for p, s in self.specs if self.lo <= p < self.hi and (p, s) not in other]


def _nearest(items, a: int, b: int):
    """Item whose position is closest to the span [a, b)."""
    best, dist = None, None
    for pos, item in items:
        d = a - pos if pos < a else max(0, pos - b)
        if dist is None or d < dist:
            best, dist = item, d
    return best


# -- grammar pieces -----------------------------------------------------------------------------


def direction(c: Clause) -> tuple[int, int, int] | None:
    """(sign, start, end) of the verb of movement nearest to the number, in sentence offsets."""
    w, a, b = c.window, c.q.start - c.lo, c.q.end - c.lo
    hits = []
    for sign, rx in (
        (1, g.UP_LATIN_RE),
        (-1, g.DOWN_LATIN_RE),
        (1, g.UP_ZH_RE),
        (-1, g.DOWN_ZH_RE),
    ):
        for m in rx.finditer(w):
            particle = m.group(0).lower() in g.PARTICLES
            if particle and not 0 <= m.start() - b <= 2:
                continue  # "zu"/"ab" only count right after the number
            hits.append((m.start(), (sign, m.start() + c.lo, m.end() + c.lo)))
    found = _nearest(hits, a, b)
    between = c.text[c.lo : c.q.start]
    if found is None and c.lo > 0 and g.COORDINATED_RE.search(between):
        # "up 17% so far in September and roughly 86% year to date": the verb of the first
        # figure moves the second one too
        earlier = Clause(c.article_id, c.idx, c.text, c.lang, c.q, 0, c.hi, c.specs)
        found = direction(earlier)
    signed = c.q.start > 0 and c.text[c.q.start - 1] in "+-−"
    named = any(rx.search(c.text) for _, _, rx in g.instrument_cues())
    if found is None and signed and named:
        # "ADR 135,97 $ +8,09 %" in a quote line: the sign is the direction (a bare "+8.09%"
        # names nothing, so it is no claim)
        sign = 1 if c.text[c.q.start - 1] == "+" else -1
        found = (sign, c.q.start - 1, c.q.start)
    return found


def qualifier(c: Clause) -> tuple[str, str]:
    """Canonical qualifier and the word used ("knapp" -> nearly)."""
    for name, rx in g.QUALIFIER_RES:
        m = rx.search(c.before)
        if m:
            word = re.sub(
                r"\s*(?:[$€£¥]|HK\$|US\$)?\s*(?:(?:um|auf|bei|at|to|by|了|達|达|至)\s*)?$",
                "",
                m.group(0),
            )
            return name, word.strip()
    m = g.WRITING_RE.search(c.window)
    if m:
        return "at time of writing", m.group(0)
    m = intraday_word(c)
    if m and c.q.unit == "percent":
        return "intraday", m.group(0)
    return "exact", ""


_LAST_NAMES: list = ["", ()]  # one sentence's names: its numbers ask for them in turn


def instrument_names(text: str) -> tuple[tuple[int, int, str], ...]:
    """(start, end, instrument) of every instrument name in a sentence; a longer name wins
    its span ("Hang Seng Tech" is not also HSI). Kept for the sentence whose numbers are
    being read, since each of them asks."""
    if _LAST_NAMES[0] == text:
        return _LAST_NAMES[1]
    spans: list[tuple[int, int, str]] = []
    if not g.any_name_pattern().search(text):
        _LAST_NAMES[:] = [text, ()]
        return ()
    cues = list(g.instrument_cues()) + [("OTHER", "other", g.OTHER_MARKET_RE)]
    for ins, _, rx in cues:
        for m in rx.finditer(text):
            if not any(m.start() < y and m.end() > x for x, y, _ in spans):
                spans.append((m.start(), m.end(), ins))
    _LAST_NAMES[:] = [text, tuple(spans)]
    return _LAST_NAMES[1]


def instrument_cue(c: Clause) -> str | None:
    """Instrument named in the sentence: the nearest name before the number, else after it."""
    text, a = c.text, c.q.start
    names = instrument_names(text)
    before = [n for n in names if n[1] <= a]
    after = [n for n in names if n[1] > a]
    if before:
        start, end, ins = max(before, key=lambda t: t[1])
        # "the Hang Seng Index slipped 0.7%, while Alibaba shares rose 5%": a company mention
        # after an index name and before the number moves the subject back to the company
        between = text[end:a]
        if (
            (g.is_index(ins) or ins == "OTHER")
            and g.COMPANY_RE.search(between)
            and (end < c.lo or _CLAUSE_BREAK.search(between))
        ):
            return None  # ("Der Hang Seng gewann dank Alibaba 1,4 Prozent" stays the index)
        return ins
    if after:
        ins = min(after, key=lambda t: t[0])[2]
        # "阿里績後飆18.5% 恒指彈540點": the company before the number is the subject; an index
        # named after it starts the next clause (a listing after it, "in Hong Kong", does not)
        if not g.is_listing(ins) and g.COMPANY_RE.search(text[c.lo : a]):
            return None
        return ins
    return None


_CLAUSE_BREAK = re.compile(
    r"[,;，；、]|\b(?:and|und|while|während)\b|(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])"
)  # a space between Chinese characters separates headline clauses


def _own(c: Clause, m: re.Match) -> bool:
    """Whether a phrase in the clause belongs to this number rather than to a neighbour:
    it is nearer to this number than to the previous or the next one."""
    start, end = m.start() + c.lo, m.end() + c.lo
    if start >= c.q.end:
        # after the number: close to it, in the same clause, and nearer than the next number
        gap = c.text[c.q.end : start]
        if len(gap) > 30 or _CLAUSE_BREAK.search(gap):
            return False
        return c.hi == len(c.text) or start - c.q.end <= c.hi - end
    if end <= c.q.start and c.lo > 0:
        # "漲8.39%，年内累计涨幅约七成": after a clause break the phrase opens this number's clause
        return bool(_CLAUSE_BREAK.search(c.text[c.lo : start])) or c.q.start - end <= start - c.lo
    return True


def intraday_word(c: Clause) -> re.Match | None:
    """An intraday word before the number or just after it, unless a closing verb right
    before the number says the figure is the close ("closed 2.3% higher")."""
    if g.CLOSE_VERB_RE.search(c.before[-25:]):
        return None
    for m in g.INTRADAY_RE.finditer(c.window):
        if m.start() + c.lo < c.q.end + 30 and _own(c, m):
            return m
    return None


def non_price_kind(c: Clause) -> str | None:
    """The fundamentals kind (revenue, capex, price target, ...) the clause names, if its
    subject is one: the cue must come after the last market subject before the number."""
    lead = c.lead
    fund = [(m.end(), kind) for kind, rx in g.NON_PRICE_RES for m in rx.finditer(lead)]
    after = c.after[:30]
    growth = dict(g.NON_PRICE_RES)["growth"].search(after)
    if growth and c.q.unit == "percent":
        return "growth"
    for kind, rx in g.NON_PRICE_RES:
        m = rx.match(after.lstrip(" -"))
        if m:
            return kind  # "a 100% tariff", "HK$5 billion buyback"
    if not fund:
        return None
    end, kind = max(fund)
    market = [m.end() for m in g.COMPANY_RE.finditer(lead)]
    market += [m.end() for _, _, rx in g.instrument_cues() for m in rx.finditer(lead)]
    market += [m.end() for m in g.CLOSE_VERB_RE.finditer(lead)]
    if market and max(market) > end and kind != "growth":
        return None
    return kind


def _price_cue(c: Clause) -> bool:
    return bool(g.PRICE_BEFORE_RE.search(c.before) or g.PRICE_AFTER_RE.search(c.after))


def _listing(c: Clause, ctx: Context, cue: str | None) -> str:
    if g.is_listing(cue):
        return cue  # type: ignore[return-value]
    return ctx.last_listing or ctx.default_listing


def _day_spec(c: Clause) -> tuple | None:
    """The time expression nearest to the number: in its clause first, else in the sentence."""
    a, b = c.q.start, c.q.end
    # "the highest close since 2021" gives a base, not the day of the figure
    own = [(p, s) for p, s in c.specs if not _SINCE_AT.match(c.text, p)]
    in_window = [(p, s) for p, s in c.specs_in_window() if (p, s) in own]
    # outside its own stretch, a number takes the time words that open the sentence, not
    # those that belong to a later figure
    earlier = [(p, s) for p, s in own if p < c.lo]
    # "rose 5.1% to $160.73 on Monday": a move and the level it reached share the time words
    # after them when nothing (a comma, "and", "while") starts another clause in between
    later = [
        (p, s)
        for p, s in own
        if p >= c.hi
        and not _CLAUSE_BREAK.search(c.text[b:p])
        and not g.SUBORDINATE_RE.search(c.text[b:p])
    ]
    return _nearest(in_window, a, b) or _nearest(earlier, a, b) or _nearest(later, a, b)


_POSSESSIVE = re.compile(r"['’]s\b")
_SINCE_AT = re.compile(r"since\b|seit\b", re.IGNORECASE)


def _quote(c: Clause, qa: int, qb: int, qual_word: str, spec: tuple | None) -> str:
    """Exact span from the verb or qualifier to the number and its time phrase."""
    w0 = c.lo
    window = c.window
    qa, qb = qa - w0, qb - w0
    if qual_word:
        k = window.rfind(qual_word, 0, qa + 1 if qa < len(window) else len(window))
        if k >= 0 and qa - k < 40:
            qa = min(qa, k)
    if spec is not None:
        for p, s in c.specs_in_window():
            if s == spec:
                end = spec_end(c.text, p) - w0
                p -= w0
                if abs(p - qb) < 60 or abs(qa - end) < 60:
                    qa, qb = min(qa, p), max(qb, end)
                break
    return window[qa:qb].strip(" ,;—–-，。")


# -- one builder per kind of number ---------------------------------------------------------


def _candidate(c: Clause, **fields) -> Candidate:
    return Candidate(
        article_id=c.article_id, sentence_idx=c.idx, language=c.lang, step=c.q.step, **fields
    )


def _period(c: Clause) -> tuple[str, re.Match] | None:
    """A period named in the clause: ytd, mtd, wtd, or a stretch counted back ("lookback":
    the past month, the last five sessions)."""
    for stat, rx in (
        ("mtd", g.MTD_RE), ("ytd", g.YTD_RE), ("wtd", g.WTD_RE), ("lookback", g.MONTH_BACK_RE),
        *(("lookback", rx) for rx in g.LOOKBACK_RES),
    ):  # fmt: skip
        for m in rx.finditer(c.window):
            if _own(c, m) and (rx is g.MONTH_BACK_RE or stat != "lookback" or g.lookback(m)):
                if stat == "lookback" and LAST_WEEK_RE.search(m.group(0)):
                    continue  # "in der vergangenen Woche": the calendar week before, below
                return stat, m
    return None


LOOKBACK_UNITS = {"session": "s", "week": "w", "month": "mo", "year": "y"}


def _lookback(period: tuple[str, re.Match] | None) -> str | None:
    """How far back a lookback period reaches, as a count and unit ("5s", "2w", "1mo")."""
    if period is None or period[0] != "lookback":
        return None
    if period[1].re is g.MONTH_BACK_RE:
        return "1mo"
    count, unit = g.lookback(period[1])
    return f"{count}{LOOKBACK_UNITS[unit]}"


PERIOD_KIND = {
    "ytd": "pct_change_ytd",
    "mtd": "pct_change_mtd",
    "wtd": "pct_change_period",
    "lookback": "pct_change_period",
    "since": "pct_change_period",
    "span": "pct_change_period",
}


def _change_stat(c: Clause, ctx: Context, qual: str, spec) -> tuple[str, str]:
    """(kind, stat) of a percentage move: the period words decide, then intraday words."""
    if g.BELOW_HIGH_RE.match(c.after):
        return "pct_change_period", "since"
    period = _period(c)
    if period:
        return PERIOD_KIND[period[0]], period[0]
    spans = spec is not None and spec[0] in ("month", "year", "last_week")
    if g.CUMULATIVE_RE.search(c.lead) or (g.TOTAL_RE.search(c.lead[-12:]) and not spans):
        return "pct_change_period", "since"
    if any(
        _own(c, m) and not g.SUPERLATIVE_RE.search(c.text[c.q.end : m.end() + c.lo + 4])
        for m in g.SINCE_RE.finditer(c.window)
        if m.start() + c.lo >= c.q.end
    ):  # "the biggest drop since 1997", "創1997年以來最大跌幅": a record, not a change since then
        return "pct_change_period", "since"
    if g.PREMARKET_RE.search(c.window):
        return "intraday_move", "premarket"
    if qual == "at time of writing":
        return "intraday_move", "writing"
    if qual in ("as much as", "intraday") or intraday_word(c):
        return "intraday_move", "intraday"
    a = c.q.start - c.lo
    if (
        spec is None
        and g.STATE_RE.search(c.window[:a])
        and not g.CLOSE_VERB_RE.search(c.window)
        and ctx.last_stat == "ytd"
    ):
        return "pct_change_ytd", "ytd"  # "is up 33%" right after a year-to-date figure
    if spans and g.SINCE_RE.search(c.window[:a]):
        return "pct_change_period", "since"  # "seit dem Rekordhoch im Oktober ... 20 Prozent"
    if spans:
        # "gained 15% in October", "im Oktober 15 Prozent", "10月份累計上漲15%", "last week":
        # the change over that month or week (a year: to date), not since its low
        return "pct_change_period", "span"
    return "pct_change_day", "day"


def change_claim(c: Clause, ctx: Context) -> Candidate | None:
    """A percentage or index-point move: needs a verb of movement and a market subject."""
    d = direction(c)
    if d is None or non_price_kind(c):
        return None  # a number without a move (a stake, a rate) or a company's fundamentals
    sign, da, db = d
    if g.FORECAST_RE.search(c.text[max(0, da - 40) : da]):
        return None  # "expect the stock to rise 20%": a forecast, not a move
    qual, qual_word = qualifier(c)
    cue = instrument_cue(c)
    company_lead = g.COMPANY_RE.search(c.lead) is not None
    if cue is None and not company_lead and g.INDEX_REF_RE.search(c.window) and ctx.last_index:
        cue = ctx.last_index
    if cue is None and ctx.sentence_listing:
        cue = ctx.sentence_listing  # "ended 0.2% lower at HK$154.60": the quote's listing
    if cue is None:
        company = g.COMPANY_RE.search(c.text) is not None
        cue = (ctx.last_listing if company else ctx.last_instrument) or ctx.default_listing
        there = g.VENUE_BACKREF_RE.search(c.lead) is not None
        if company_lead and not there and cue != ctx.default_listing and g.is_listing(cue):
            # "Alibaba stock is up 86%" names the company, not the listing the sentence
            # before was about: the article's own listing (the first it names); "the shares
            # there" ("dort") stay at the venue just named
            cue = ctx.default_listing
    if c.q.unit == "points" and not g.is_index(cue):
        cue = ctx.last_index or "OTHER"
    if g.is_listing(cue) and g.EURO_VENUE_RE.search(c.window):
        cue = "OTHER"  # "auf Tradegate 2 Prozent": a move in euros on a German venue
    kind, stat = _change_stat(c, ctx, qual, _nearest(c.specs_in_window(), c.q.start, c.q.end))
    period = _period(c) if stat in PERIOD_KIND and stat != "since" else None
    spec = _nearest(c.specs_in_window(), c.q.start, c.q.end)
    if spec is None and not period:
        spec = _day_spec(c)
    qa, qb = max(c.lo, min(c.q.start, da)), max(c.q.end, db)  # a shared verb stays outside
    if period:
        qa, qb = min(qa, period[1].start() + c.lo), max(qb, period[1].end() + c.lo)
    base = None
    if stat == "since":
        later = [s for p, s in c.specs_in_window() if p >= c.q.end]
        base, spec = (later[0] if later else spec), None
    if stat == "span":
        base, spec = spec, None
        if base[0] == "year":
            stat = "since"  # "in 2025": to date, below
    if (
        stat == "since"
        and base is not None
        and base[0] == "year"
        and not g.SINCE_RE.search(c.window)
    ):
        # "up 86% in 2025": the change over that calendar year, to date
        kind, stat, base, spec = "pct_change_ytd", "ytd", None, ("date", base[1], 12, 31)
    if stat in ("ytd", "mtd") and spec is not None and spec[0] in ("month", "year"):
        spec = None
    quote = _quote(c, qa, qb, qual_word, None if stat == "ytd" else (spec or base))
    # A to-date figure ("up 60% this year") is about now: it does not take the day of the
    # sentence before.
    inherited = () if period else ctx.inherited(cue)
    return _candidate(
        c, quote=quote, kind=kind, stat=stat, value=sign * c.q.value,
        unit="percent" if c.q.unit == "percent" else "points", qualifier=qual,
        qualifier_word=qual_word, instrument=cue, specs=(spec,) if spec else inherited,
        base_spec=base, inherited=not spec and bool(inherited), lookback=_lookback(period),
        closing=g.CLOSE_VERB_RE.search(c.before) is not None,
    )  # fmt: skip


def flow_claim(c: Clause, ctx: Context, cue: str | None) -> Candidate:
    """Fund flows (Stock Connect, net buying): reported figures the snapshot cannot check."""
    neg = g.FLOW_NEG_RE.search(c.text) is not None
    # "a net withdrawal of HK$956 million from Alibaba shares" is about the listing;
    # southbound buying of Hong Kong stocks at large is not
    about_company = g.COMPANY_RE.search(c.window) is not None
    listing = "9988.HK" if c.q.unit == "HKD" else _listing(c, ctx, cue)
    ins = listing if about_company else "OTHER"
    qa, qb = c.q.start, c.q.end
    fm = g.FLOW_RE.search(c.window)
    if fm:
        qa, qb = min(qa, fm.start() + c.lo), max(qb, fm.end() + c.lo)
    qual, qual_word = qualifier(c)
    return _candidate(
        c, quote=c.text[qa:qb], kind="flow", stat="flow",
        value=-c.q.value if neg else c.q.value, unit=c.q.unit, qualifier=qual,
        qualifier_word=qual_word, instrument=ins, specs=tuple(s for _, s in c.specs),
    )  # fmt: skip


def spec_is_span(spec: tuple | None) -> bool:
    return spec is not None and spec[0] in ("month", "year")


def _price_unit(c: Clause) -> str:
    """A bare 元 quotes the Hong Kong share when a price cue precedes it, else it is yuan."""
    if c.q.unit != "YUAN":
        return c.q.unit
    return "HKD" if _price_cue(c) else "CNY"


def price_claim(c: Clause, ctx: Context) -> Candidate | None:
    """A price level: a money amount or index points with a price cue, no scale word."""
    unit = _price_unit(c)
    high, low = g.HIGH_RE.search(c.before), g.LOW_RE.search(c.before)
    intraday = g.INTRADAY_RE.search(c.lead) is not None or intraday_word(c) is not None
    if high or low:
        intraday = intraday or g.INTRADAY_RE.search(c.text) is not None
    # "kostete ein ADR auf Tradegate am Abend 115,60 Euro": a euro amount at a venue is a quote
    venue_quote = unit == "EUR" and g.EURO_VENUE_RE.search(c.text) is not None
    if not (high or low or intraday or venue_quote or _price_cue(c)):
        return None
    cue = instrument_cue(c)
    if c.q.unit == "points":
        ins = cue if g.is_index(cue) else (ctx.last_index or "OTHER")
    elif unit not in g.listing_currency() or g.EURO_VENUE_RE.search(c.text):
        ins = "OTHER"  # a euro quote on a German venue is neither listing
    elif g.is_listing(cue) or cue is None:
        ins = g.listing_currency().get(unit) or cue or ctx.last_listing or ctx.default_listing
    else:
        ins = cue
    stat = "period_high" if high else ("period_low" if low else "close")
    if stat == "close" and spec_is_span(_day_spec(c)):
        stat = "period_close"  # "closed at $317.14 in October 2020": one of that month's closes
    kind = "close_price"
    if intraday and not (high or low) or (ins == "OTHER" and unit == "EUR"):
        kind, stat = "intraday_price", "intraday_price"
    qa, qb = c.q.start, c.q.end
    m = high or low
    if m:
        qa = min(qa, c.q.start - (len(c.before) - m.start()))
    pa = g.PRICE_AFTER_RE.search(c.after)
    if pa:
        qb = max(qb, c.q.end + pa.end())
    spec = _day_spec(c)
    qual, qual_word = qualifier(c)
    if intraday and qual == "exact":
        qual = "intraday"  # "im Handelsverlauf erreicht": the session's high, not the close
    return _candidate(
        c, quote=_quote(c, qa, qb, qual_word, spec), kind=kind, stat=stat, value=c.q.value,
        unit=unit, qualifier=qual, qualifier_word=qual_word, instrument=ins,
        specs=(spec,) if spec else ctx.inherited(ins),
        inherited=spec is None and bool(ctx.inherited(ins)),
    )  # fmt: skip


def money_claim(c: Clause, ctx: Context) -> Candidate | None:
    """Money: a flow, a turnover, a price; never a price when it names fundamentals."""
    cue = instrument_cue(c)
    high_low = g.HIGH_RE.search(c.before) or g.LOW_RE.search(c.before)
    if g.FLOW_RE.search(c.text) and not (high_low or g.PRICE_AFTER_RE.search(c.after)):
        return flow_claim(c, ctx, cue)
    if non_price_kind(c):
        return None  # revenue, capex, market value, target, ...: not a market claim
    if g.TURNOVER_RE.search(c.lead + c.after[:30]) and c.q.step >= 1e3:
        return volume_claim(c, ctx, stat="turnover")
    if c.q.step >= 1e3:
        return None  # a scaled amount ("HK$2 billion") is never a share price
    return price_claim(c, ctx)


def volume_claim(c: Clause, ctx: Context, stat: str) -> Candidate | None:
    """Share counts, turnover and multiples of the average volume."""
    if non_price_kind(c):
        return None
    cue = instrument_cue(c)
    market_wide = g.MARKET_WIDE_RE.search(c.lead) is not None
    ins = "OTHER" if market_wide else _listing(c, ctx, cue)
    qual, qual_word = qualifier(c)
    spec = _day_spec(c)
    own = [spec] if spec else []
    # "during this period" takes the days of the sentence before, and so does a volume
    # figure right after a dated move of the same listing ("closed 2.3% higher on Tuesday.
    # Volume was nearly double the average."); otherwise it is about the last session
    after_move = ctx.last_move is not None and ctx.last_move.instrument == ins
    period = (
        ctx.inherited(ins) if (g.PERIOD_REF_RE.search(c.text) or after_move) and not own else ()
    )
    specs = tuple(own) or period
    qa = c.q.start
    vm = list(g.VOLUME_RE.finditer(c.lead))
    if vm and stat != "volume":
        qa = c.q.start - len(c.lead) + vm[-1].start()
    return _candidate(
        c, quote=_quote(c, qa, c.q.end, qual_word, None), kind="volume", stat=stat,
        value=c.q.value, unit={"volume": "x_prev20_mean"}.get(stat, c.q.unit), qualifier=qual,
        qualifier_word=qual_word, instrument=ins, specs=specs, inherited=bool(period),
    )  # fmt: skip


def ratio_claim(c: Clause, ctx: Context) -> Candidate | None:
    """ "2.6 times the 20-day average", "siebenmal so viele Papiere", "20日均量的2.6倍"."""
    near = c.text[max(0, c.q.start - 80) : c.q.end + 60]
    if g.VOLUME_RE.search(near) and g.TIMES_AVERAGE_RE.search(near):
        return volume_claim(c, ctx, stat="volume")
    if "倍" not in c.q.span or direction(c) is None:
        return None  # "double-digit gains", "twice the target": not a move by a multiple
    # "上漲逾1倍", "rose more than twofold": a price that moved by a multiple of itself
    q = c.q
    pct = MarketNumber(q.span, q.start, q.end, q.value * 100, "percent", q.step * 100)
    return change_claim(Clause(c.article_id, c.idx, c.text, c.lang, pct, c.lo, c.hi, c.specs), ctx)


VERB_QUALIFIERS = {
    "nearly": "nearly", "almost": "nearly", "fast": "nearly", "knapp": "nearly",
    "more than": "over", "over": "over", "mehr als": "over", "about": "about",
    "roughly": "about", "rund": "about",
}  # fmt: skip


def verb_volume_claims(article_id, idx, text, lang, ctx, specs) -> list[Candidate]:
    """ "Trading volume nearly doubled": the multiple is in the verb. Without a volume word
    ("the ADRs have more than doubled this year") the price moved: +100%."""
    out = []
    for m in g.VOLUME_VERB_RE.finditer(text):
        vol = list(g.VOLUME_RE.finditer(text[: m.start()]))
        value = g.MULTIPLE_VERBS[m.group("m").lower()]
        if not vol or m.start() - vol[-1].end() > 40:
            start = m.start("m")
            q = MarketNumber(m.group("m"), start, m.end(), abs(value - 1) * 100, "percent", 100.0)
            move = change_claim(
                Clause(article_id, idx, text, lang, q, 0, len(text), tuple(specs)), ctx
            )
            out += [move] if move is not None and move.stat != "day" else []
            continue
        q = MarketNumber(m.group(0), m.start(), m.end(), value, "ratio", 1.0 if value >= 1 else 0.1)
        c = Clause(article_id, idx, text, lang, q, 0, len(text), tuple(specs))
        word = m.group("q") or ""
        qual = VERB_QUALIFIERS.get(word.lower(), "exact")
        cand = volume_claim(c, ctx, stat="volume")
        if cand is not None:
            quote = text[vol[-1].start() : m.end()]
            out.append(_replace(cand, quote=quote, qualifier=qual, qualifier_word=word))
    return out


def record_claims(text: str, found: list[Candidate], ctx: Context) -> list[Candidate]:
    """A record phrase ("its biggest one-day gain since March 2022") about the day's move
    before it in the sentence, else the last day's move of the sentence before ("It was the
    strongest daily gain since March 2023"): the same move, checked against every session
    after the named time. A record whose time the grammar cannot read has no base and stays
    unverifiable."""
    out = []
    for m in g.RECORD_RE.finditer(text):
        mine = [c for c in found if c.stat == "day" and text.find(c.quote) < m.start()]
        move = mine[-1] if mine else (None if found else ctx.last_move)
        if move is None or move.unit != "percent":
            continue
        at = [(p, s) for p, s in date_specs(text) if m.end() - 8 <= p <= m.end() + 6]
        spec = at[0][1] if at else None
        end = max(spec_end(text, at[0][0]), m.end()) if at else m.end()
        out.append(_replace(
            move, sentence_idx=move.sentence_idx if mine else ctx.idx, kind="record",
            stat="record", base_spec=spec, quote=text[m.start() : end].strip(),
        ))  # fmt: skip
    return out


def _replace(c: Candidate, **changes) -> Candidate:
    from dataclasses import replace

    return replace(c, **changes)


BUILDERS = {
    "percent": change_claim,
    "points": lambda c, ctx: (
        price_claim(c, ctx) if _price_cue(c) or direction(c) is None else change_claim(c, ctx)
    ),
    "shares": lambda c, ctx: volume_claim(c, ctx, stat="volume_shares"),
    "ratio": ratio_claim,
}


# -- sentences -> candidates -----------------------------------------------------------------

# Whatever splitter produced `sentences`, claims are read one grammatical sentence at a time:
# a full stop after a word or a number and before a space and a capital ends a unit (decimals
# like "1.3" have no space),
# and so does a Chinese full stop.
_SUBSPLIT = re.compile(
    r'(?<=[^\W\d][.!?])\s+(?=[A-ZÄÖÜ])|(?<=[.!?]["”])\s+(?=[A-ZÄÖÜ])|'
    r"(?<=[%\d][.!?])\s+(?=[A-ZÄÖÜ])|(?<=[。！？；])"
)


# A full stop after one of these ends an abbreviation, not a sentence ("200 Mio. Aktien").
_ABBREVIATION_END = re.compile(
    r"\b(?:Mio|Mrd|Bio|Tsd|ca|Nr|bzw|vs|Inc|Corp|Co|Ltd|St|Dr|Prof|U\.S|U\.K|Jan|Feb|Mar|Apr|"
    r"Jun|Jul|Aug|Sep|Sept|Oct|Okt|Nov|Dec|Dez)\.$"
)


def grammatical_sentences(text: str) -> list[str]:
    """`text` cut at sentence ends, abbreviations mended."""
    parts: list[str] = []
    for part in _SUBSPLIT.split(text):
        if parts and _ABBREVIATION_END.search(parts[-1]):
            parts[-1] = f"{parts[-1]} {part}"
        else:
            parts.append(part)
    return parts


def _article_default_listing(texts: list[str]) -> str:
    """The first listing an article names explicitly; the ADR (BABA) when it names none.

    International and German retail coverage quotes the New York ADR unless it says otherwise.
    """
    # one search per listing over the whole article (sentences kept apart by a character no
    # cue matches): the earliest match is the first listing named
    whole = "\x00".join(texts)
    found = [(m.start(), ins) for ins, rx in g.listing_name_patterns() if (m := rx.search(whole))]
    return min(found)[1] if found else "BABA"


def _in_record(text: str, pos: int) -> bool:
    """Whether the time expression at `pos` is the year of a record, not a date of the figure:
    "its biggest drop since 1997", "der stärkste Anstieg seit 2022", "創1997年以來最大跌幅"."""
    head = text[max(0, pos - 50) : pos]
    head = _CLAUSE_BREAK.split(head)[-1] if _CLAUSE_BREAK.search(head) else head
    since = g.SINCE_AT_END_RE.search(head) or _SINCE_AT.match(text, pos)
    if since and g.SUPERLATIVE_RE.search(head):
        return True
    return g.ZH_RECORD_AFTER_RE.match(text, pos) is not None


def _scheduled(text: str, pos: int) -> bool:
    """Whether the time expression at `pos` names a coming event ("results are due on
    November 25", "Hong Kong trading resumes on Friday", "將於週五公布"): it dates no figure
    and no later sentence. A modal verb ("could cut rates again in December") marks one too."""
    head = text[max(0, pos - 40) : pos]
    parts = _CLAUSE_BREAK.split(head)
    return g.SCHEDULED_RE.search(parts[-1]) is not None


def figure_specs(text: str) -> tuple[tuple[int, tuple], ...]:
    """(position, spec) of the time expressions in `text` that can date a market figure."""
    return tuple(
        (p, s) for p, s in date_specs(text) if not (_in_record(text, p) or _scheduled(text, p))
    )


def sentence_claims(
    article_id: str, idx: int, text: str, lang: str, ctx: Context, specs: tuple | None = None
):
    """Every candidate in one grammatical sentence, in reading order; `specs` are the
    sentence's `figure_specs` when the caller has them already."""
    numbers = find_market_numbers(text, lang)
    specs = figure_specs(text) if specs is None else specs
    # a share price (not a scaled amount: revenue, turnover) names the listing it trades on
    quoted_in = {g.listing_currency().get(q.unit) for q in numbers if q.step < 1e3} - {None}
    venue = g.EURO_VENUE_RE.search(text) is not None
    ctx.sentence_listing = quoted_in.pop() if len(quoted_in) == 1 and not venue else None
    out: list[Candidate] = []
    for i, q in enumerate(numbers):
        lo = numbers[i - 1].end if i > 0 else 0
        hi = numbers[i + 1].start if i + 1 < len(numbers) else len(text)
        clause = Clause(article_id, idx, text, lang, q, lo, hi, specs)
        build = BUILDERS.get(q.unit, money_claim)
        c = build(clause, ctx)
        if c is not None:
            out.append(c)
    ctx.idx = idx
    out += record_claims(text, out, ctx)
    return out + verb_volume_claims(article_id, idx, text, lang, ctx, specs)


def _remember(ctx: Context, found: list[Candidate], sentence_specs: tuple) -> None:
    if found:
        ctx.last_instrument = found[-1].instrument
        for c in found:
            if g.is_listing(c.instrument):
                ctx.last_listing = c.instrument
            if g.is_index(c.instrument):
                ctx.last_index = c.instrument
        ctx.last_stat = found[-1].stat
        moves = [c for c in found if c.stat == "day"]
        ctx.last_move = moves[-1] if moves else None
    specs = tuple(s for _, s in sentence_specs)
    exchange = g.exchange_of().get(found[-1].instrument or "") if found else None
    # a sentence with figures passes on the time words its first dated figure took first (a
    # clause about another event does not lead); one without figures passes on its own
    dated = [c for c in found if c.specs and not c.inherited]
    if dated:
        # the first dated figure's day leads; the sentence's other days follow for a later
        # figure "during this period" that spans them
        first = dated[0].specs
        ctx.last_specs = first + tuple(s for s in specs if s not in first)
        ctx.specs_exchange = exchange
    elif specs and not found:
        ctx.last_specs, ctx.specs_exchange = specs, exchange
    elif found and found[-1].specs:
        ctx.last_specs, ctx.specs_exchange = found[-1].specs, exchange


def extract_candidates(sentences: pl.DataFrame) -> list[Candidate]:
    """Every numeric market claim in `sentences` (article_id, sentence_idx, text, language).

    Each row is re-cut into grammatical sentences first, so a splitter that hands over whole
    paragraphs gives the same claims as one that hands over sentences.
    """
    out: list[Candidate] = []
    sents = sentences.sort("article_id", "sentence_idx")
    for (article_id,), group in sents.group_by(["article_id"], maintain_order=True):
        rows = group.select("sentence_idx", "text", "language").rows()
        ctx = Context(default_listing=_article_default_listing([r[1] or "" for r in rows]))
        mine: list[Candidate] = []
        for idx, text, language in rows:
            for part in grammatical_sentences(text or ""):
                if not part.strip():
                    continue
                specs = figure_specs(part)  # scanned once, used by both steps
                found = sentence_claims(
                    str(article_id), int(idx), part, (language or "en")[:2], ctx, specs
                )
                mine.extend(found)
                _remember(ctx, found, specs)
        out.extend(headline_days(mine))
    return out


def headline_days(cands: list[Candidate]) -> list[Candidate]:
    """Session figures before an article's first dated figure ("阿里績後飆18.5%" over a lede
    that says "昨日") take that figure's day when it is on the same exchange: a headline and
    its lede report the same session. They count as inherited, so a miss stays a date
    question, never a refutation."""
    ex = g.exchange_of()
    first: dict[str, Candidate] = {}
    for c in cands:
        if c.specs and not c.inherited and c.stat in ("day", "close"):
            first.setdefault(ex.get(c.instrument or "", ""), c)
    if not first:
        return cands
    out = []
    for c in cands:
        lead = first.get(ex.get(c.instrument or "", ""))
        early = lead is not None and c.sentence_idx < lead.sentence_idx
        if early and not c.specs and c.stat in ("day", "close"):
            c = dataclasses.replace(c, specs=lead.specs, inherited=True)
        out.append(c)
    return out


SPEC_STRUCT = pl.Struct(
    {"kind": pl.String, "y": pl.Int32, "m": pl.Int32, "d": pl.Int32, "wd": pl.Int32}
)


def spec_record(spec: tuple | None) -> dict | None:
    """A relative time expression as a struct row (see `when.py` for the kinds)."""
    if spec is None:
        return None
    kind, rest = spec[0], spec[1:]
    fields = {
        "weekday": ("wd",), "date": ("y", "m", "d"), "dom": ("d",), "month": ("y", "m"),
        "year": ("y",), "today": (), "yesterday": (), "last_week": (),
    }[kind]  # fmt: skip
    row = {"kind": kind, "y": None, "m": None, "d": None, "wd": None}
    row.update(dict(zip(fields, rest, strict=False)))
    return row


def candidates_frame(cands: list[Candidate]) -> pl.DataFrame:
    """The candidates as one frame, `cid` in reading order, time expressions as structs."""
    rows = [
        {
            "cid": i, "article_id": c.article_id, "sentence_idx": c.sentence_idx,
            "quote": c.quote, "language": c.language, "kind": c.kind, "stat": c.stat,
            "value": float(c.value), "unit": c.unit, "step": float(c.step),
            "qualifier": c.qualifier, "qualifier_word": c.qualifier_word or None,
            "instrument": c.instrument,
            "specs": [spec_record(s) for s in c.specs],
            "base_spec": spec_record(c.base_spec),
            "inherited": c.inherited, "closing": c.closing, "lookback": c.lookback,
        }
        for i, c in enumerate(cands)
    ]  # fmt: skip
    schema = {
        "cid": pl.Int64, "article_id": pl.String, "sentence_idx": pl.Int64, "quote": pl.String,
        "language": pl.String, "kind": pl.String, "stat": pl.String, "value": pl.Float64,
        "unit": pl.String, "step": pl.Float64, "qualifier": pl.String,
        "qualifier_word": pl.String, "instrument": pl.String, "specs": pl.List(SPEC_STRUCT),
        "base_spec": SPEC_STRUCT, "inherited": pl.Boolean, "closing": pl.Boolean,
        "lookback": pl.String,
    }  # fmt: skip
    return pl.DataFrame(rows, schema=schema)


__all__ = ["Candidate", "candidates_frame", "extract_candidates", "field"]
