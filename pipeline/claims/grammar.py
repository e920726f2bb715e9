"""The words of the claim grammar, in English, German and Chinese.

A market claim is a subject (a listing, an index or the company) + a verb of movement or a
price cue + an optional qualifier + a number with its unit + a time. This module holds the
word classes of that grammar as compiled patterns; `extract.py` puts them together. Instrument
names are not here: they come from `data/reference/instruments.csv` (`instrument_cues`).

Chinese has no spaces, so its patterns carry no word boundaries; Traditional and Simplified
forms are listed side by side.
"""

from __future__ import annotations

import re
from functools import cache

from pipeline.claims.when import MONTH_ALT
from pipeline.reference import instruments


def _rx(pattern: str) -> re.Pattern:
    return re.compile(pattern, re.IGNORECASE)


# -- verbs of movement ----------------------------------------------------------------------

UP_LATIN = (
    r"rose|rise[sn]?|rising|climb(?:ed|s|ing)?|gain(?:ed|s|ing)?|jump(?:ed|s|ing)?|"
    r"surg(?:e|ed|es|ing)|soar(?:ed|s|ing)?|rall(?:ied|ies|y|ying)|rebound(?:ed|s|ing)?|"
    r"advanc(?:ed|es|ing)|added|up(?!\s+to\b)|higher|increas(?:ed|es)|spiked?|edged up|"
    r"ticked up|firmed|popped|bounced|recovered|"
    # nouns of a rise: "an 8% jump", "Friday's 5% gain"
    r"gain|jump|surge|rally|rebound|advance|rise|increase|pop|doubled|tripled|"
    r"verdoppelt\w*|verdreifacht\w*|"
    # German: stems, so every person and tense counts; particle verbs by their usual sense
    # ("zog ... an", "schoss ... nach oben")
    r"legte\w*|legt|zulegen|zugelegt|gewann\w*|gewinnt|gewonnen|stieg\w*|steigt|gestiegen|"
    r"kletter\w*|geklettert|sprang\w*|springt|gesprungen|zog\w*|zieht|schoss\w*|schießt|"
    r"verteuer\w*|erholt\w*|höher|fester|im Plus|Plus|Aufschlag|Kurssprung|Anstieg|"
    r"Kursplus|Kursgewinn\w*|nach oben|in die Höhe|aufwärts|zulegte\w*|anzog\w*|zu"
)
DOWN_LATIN = (
    r"fell|fall(?:s|en|ing)?|dropp(?:ed|ing)|drops?|declin(?:ed|es|ing)|slid(?:es|ing)?|"
    r"sliding|slump(?:ed|s|ing)?|plummet(?:ed|s|ing)?|plung(?:ed|es|ing)|tumbl(?:ed|es|ing)|"
    r"sank|sink(?:s|ing)?|lost|los(?:es|ing)|down|lower|decreas(?:ed|es)|shed|"
    r"slipp(?:ed|ing)|slips?|eased|dipp(?:ed|ing)|dips?|tanked|retreated|crashed|nosedived|"
    r"collaps(?:ed|es|ing)|cratered|skidded|slumped|sagged|"
    r"below|slide|drop|decline|loss|plunge|tumble|selloff|sell-off|slump|"
    r"verlor\w*|verliert|verloren|fiel\w*|fällt|gefallen|rutsch\w*|gerutscht|brach\w*|bricht|"
    r"eingebrochen|gab\w*|gibt|nachgegeben|büßt\w*|eingebüßt|sackt\w*|abgesackt|stürzt\w*|"
    r"gestürzt|sank\w*|sinkt|gesunken|verbillig\w*|tiefer|schwächer|leichter|im Minus|Minus|Abschlag|"
    r"Kursverlust\w*|Einbruch|Rückgang|Kursrutsch|nach unten|abwärts|nachgab\w*|"
    r"einbrach\w*|abrutscht\w*|absackt\w*|unter|ab"
)
UP_ZH = (
    r"翻倍|翻番|累升|急升|大漲|大涨|飆升|飙升|飆|飙|反彈|反弹|彈|弹|上漲|上涨|漲|涨|上升|升|走高|收高|"
    r"揚|扬|抽高|造好|回升|攀升"
)
DOWN_ZH = r"急挫|暴跌|急跌|大跌|下跌|下挫|挫|插水|回落|滑落|走低|收低|回軟|回软|瀉|泻|跌"
UP_LATIN_RE = _rx(rf"\b(?:{UP_LATIN})\b")
DOWN_LATIN_RE = _rx(rf"\b(?:{DOWN_LATIN})\b")
UP_ZH_RE = re.compile(UP_ZH)
DOWN_ZH_RE = re.compile(DOWN_ZH)
# German separable verbs put their particle after the number: "2,5 Prozent zu".
PARTICLES = ("zu", "ab")
# "rose 17% this month and roughly 86% this year", "升540點或2.2%": a number joined to the
# one before shares its verb.
COORDINATED_RE = re.compile(
    r"(?:\b(?:and|und|or|oder|bzw\.|sowie)\b|[或及和，,])[\s\w.]{0,15}$", re.IGNORECASE
)

# -- qualifiers just before the number -> canonical name -----------------------------------

QUALIFIERS: tuple[tuple[str, str], ...] = (
    ("as much as", r"as much as|up to|um bis zu|bis zu|最多"),
    ("nearly", r"nearly|almost|close to|just under|knapp|fast|beinahe|nahezu|近|接近|將近|将近"),
    ("over", r"over|more than|above|upwards of|mehr als|über|gut|逾|超過|超过|多於|多于"),
    (
        "under",
        r"under|less than|below|weniger als|unter|unter die Marke von|below the level of|"
        r"不足|不到|少於|少于",
    ),
    (
        "about",
        r"about|around|roughly|approximately|some|circa|ca\.|rund|etwa|ungefähr|gegen|"
        r"約|约|大約|大约",
    ),
)
QUALIFIER_RES = [
    (
        name,
        _rx(
            rf"(?:(?<![^\W\d_])|(?<=[\u4e00-\u9fff]))(?:{pat})\s*(?:[$€£¥]|HK\$|US\$)?\s*"
            r"(?:(?:um|auf|bei|at|to|by|了|達|达|至)\s*)?$"
        ),
    )
    for name, pat in QUALIFIERS
]

# -- intraday, premarket, time of writing ------------------------------------------------------

INTRADAY_RE = _rx(
    r"\bintraday\b|\bat one point\b|\bin early trade\b|\bin early trading\b|\bzeitweise\b|"
    r"\bim (?:Handels|Tages)?[Vv]erlauf\b|\bim (?:frühen|späten) Handel\b|\bin der Spitze\b|\bin the (?:morning|afternoon)\b|"
    r"\bduring the (?:session|day)\b|\b(?:morning|afternoon) session\b|\bTageshoch\b|"
    r"\bTagestief\b|\bintraday (?:high|low)\b|\btouched\b|\bat its (?:high|low)\b|"
    r"\bas (?:high|low) as\b|\bbis auf\b|盤中|盘中|一度|早盤|早盘|午盤|午盘|高見|低見|高见|低见|"
    # a time of the trading day: the figure is a level before the close
    r"\bin (?:early|late|morning|afternoon|midday|lunchtime|mid-?morning|mid-?afternoon) "
    r"(?:trade|trading|deals|dealings)\b|\b(?:at|by|around) (?:midday|noon|lunchtime)\b|"
    r"\bam (?:Mittag|Vormittag|Nachmittag)\b|\b(?:mittags|vormittags|nachmittags)\b|"
    r"午後|午后|早段|午段|早市|午市"
)
PREMARKET_RE = _rx(r"\bpre-?market\b|\bvorbörslich\w*|\bindicated\b|盤前|盘前")
WRITING_RE = _rx(
    r"\b(?:as of|at) (?:the )?time of writing\b|\bas of writing\b|\bat press time\b|"
    r"\bas of \d{1,2}[:.]\d\d\b|\bzum Zeitpunkt der Erstellung\b|\bbei Redaktionsschluss\b|"
    r"截至.{0,6}\d{1,2}[:：]\d\d|截稿"
)

# -- periods ------------------------------------------------------------------------------------

YTD_RE = _rx(
    r"year[- ]to[- ]date|\bytd\b|this year|so far in 20\d\d|since the (?:start|beginning) of "
    r"(?:the|this) year|seit Jahresbeginn|seit Jahresanfang|im laufenden Jahr|in diesem Jahr|"
    r"dieses Jahr|seit Anfang des Jahres|今年以來|今年以来|年初至今|年內|年内|今年累計|今年累计|"
    r"年初以來|年初以来|今年"
)
MTD_RE = _rx(
    rf"so far (?:in|this) (?:{MONTH_ALT})\b|since the (?:start|beginning|end) of (?:{MONTH_ALT})\b|"
    rf"seit (?:Anfang|Beginn) (?:{MONTH_ALT})\b|seit Monatsende (?:{MONTH_ALT})\b|"
    r"month[- ]to[- ]date|\bmtd\b|this month|seit Monatsbeginn|seit Monatsanfang|"
    r"in diesem Monat|diesen Monat|本月|月內|月内|月初至今|本月以來|本月以来"
)
WTD_RE = _rx(
    r"this week|for the week|on the week|ended the week|weekly (?:gain|loss|rise|drop|decline)|"
    r"diese Woche|in dieser Woche|seit Wochenbeginn|auf Wochensicht|Wochenplus|Wochenminus|"
    r"本週|本周|今週|全週|全周|按週|按周"
)
MONTH_BACK_RE = _rx(
    r"(?:over|in|during) the (?:past|last) month|im (?:vergangenen|letzten) Monat|"
    r"binnen eines Monats|innerhalb eines Monats|過去一個月|过去一个月|近一個月|近一个月"
)
# "over the past five sessions", "in the last two weeks", "in den vergangenen zehn
# Handelstagen", "過去五個交易日", "近一週": a change over a stretch counted back from the day.
# `lookback()` turns a match into (count, unit); the count defaults to one ("past week").
_COUNT_EN = r"\d{1,3}|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
_COUNT_DE = r"\d{1,3}|eine[mnr]?|zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|elf|zwölf"
LOOKBACK_RES = (
    _rx(
        rf"\b(?:over|in|during|for|across|within)\s+the\s+(?:past|last|previous|prior)\s+"
        rf"(?:({_COUNT_EN})\s+)?(trading\s+days?|sessions?|days?|weeks?|months?|years?)\b"
    ),
    _rx(
        rf"\b(?:in|binnen|innerhalb)\s+(?:de[nr]\s+)?(?:vergangenen|letzten)\s+"
        rf"(?:({_COUNT_DE})\s+)?(Handelstag\w*|Börsentag\w*|Sitzung\w*|Tag\w*|Woche\w*|Monat\w*|"
        rf"Jahr\w*)"
    ),
    _rx(
        r"(?:過去|过去|近|最近)(\d{1,3}|[一二兩两三四五六七八九十]+)?(?:個|个)?(交易日|日|天|週|周|星期|月|年)"
    ),
)
_COUNTS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "ein": 1,
    "eine": 1, "einem": 1, "einen": 1, "einer": 1, "zwei": 2, "drei": 3, "vier": 4, "fünf": 5,
    "sechs": 6, "sieben": 7, "acht": 8, "neun": 9, "zehn": 10, "elf": 11, "zwölf": 12,
    "一": 1, "二": 2, "兩": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
    "九": 9, "十": 10,
}  # fmt: skip
_UNITS = (
    ("session", r"trading|session|handelstag|börsentag|sitzung|交易日"),
    # market copy counts "the past five days" in trading days (a week)
    ("session", r"^(?:days?|tag\w*|日|天)$"),
    ("week", r"week|woche|週|周|星期"),
    ("month", r"month|monat|月"),
    ("year", r"year|jahr|年"),
)


def lookback(m: re.Match) -> tuple[int, str] | None:
    """(count, unit) of a LOOKBACK_RES match: unit is session, week, month or year."""
    count_word, unit_word = (m.group(1) or "").lower(), m.group(2).lower()
    count = int(count_word) if count_word.isdigit() else _COUNTS.get(count_word or "one")
    if count is None and count_word:
        count = 10 + _COUNTS.get(count_word[-1], 0) if count_word.startswith("十") else None
    unit = next((u for u, rx in _UNITS if re.search(rx, unit_word)), None)
    return (count, unit) if count and unit else None


# "20% below its March high": a change from the period's high
BELOW_HIGH_RE = _rx(
    r"\s*(?:below|under|off|from|unter|unterhalb|von)\s+(?:its|the|their|ihrem|dem|seinem)?\s*"
    r"[\w. -]{0,25}?(?:high|peak|top|Hoch|Höchststand|Rekordhoch)"
)
SUPERLATIVE_RE = _rx(
    r"\b(?:biggest|largest|worst|best|steepest|strongest|sharpest|highest|lowest|most|"
    r"größte\w*|stärkste\w*|höchste\w*|tiefste\w*|schlechteste\w*|beste\w*)\b|"
    r"最大|最多|最高|最低|最差|最佳|最強|最强|最傷|最伤|最勁|最劲|新高|新低"
)
# "its biggest one-day gain since March 2022", "the worst session since 2019", "der stärkste
# Tagesgewinn seit 2022": a day's move set against every session since a named time
RECORD_RE = _rx(
    r"\b(?:biggest|largest|worst|best|steepest|strongest|sharpest|größte\w*|stärkste\w*|"
    r"schlechteste\w*|beste\w*|heftigste\w*)\s+(?:[\w-]+\s+){0,2}?"
    r"(?:gain|rise|jump|rally|advance|increase|surge|day|session|drop|fall|decline|loss|slide|"
    r"slump|sell-?off|plunge|Tag\w*|Kurssprung|Anstieg|Gewinn\w*|Verlust\w*|Rückgang|Einbruch|"
    r"Kurseinbruch|Tagesverlust|Tagesgewinn|Handelstag)\w*\s+(?:since|seit)\s+"
)
# "the shares there", "die Papiere dort", "當地": back to the venue the text just named
VENUE_BACKREF_RE = _rx(r"\b(?:there|dort|dortige\w*|ebenda)\b|當地|当地|該地|该地")
# a running total: "bringing its gain since the results to 23%", "das Plus damit auf rund 23
# Prozent": the change over a longer stretch, not the day's move
CUMULATIVE_RE = _rx(
    r"\b(?:bringing|taking|lifting|pushing|extending|brings|takes|damit|insgesamt|summiert)\b"
    r"[^.;]{0,60}\b(?:to|auf)\s+(?:rund\s+|etwa\s+|about\s+|around\s+|nearly\s+|knapp\s+)?$"
)
# a clause about another event: its time words are not the figure's
SUBORDINATE_RE = _rx(
    r"\b(?:after|following|before|ahead of|when|once|until|nachdem|bevor|als|seitdem)\b|"
    r"之後|之后|以後|以后|之前"
)
# "the third straight decline, totaling 8%", "連跌三日，累計跌8%": a sum over sessions the
# text does not date
TOTAL_RE = _rx(
    r"\b(?:totall?ing|in total|combined|cumulative(?:ly)?|insgesamt|zusammengenommen)\b|"
    r"累計|累计|合共|合計|合计"
)
SINCE_AT_END_RE = _rx(r"\b(?:since|seit)\s*$")
# "創1997年以來最大跌幅", "跌幅為1997年亞洲金融風暴以來最大": a year, then 以來, then a superlative
ZH_RECORD_AFTER_RE = _rx(
    r"(?:\d{4}年)?[^，。；,;]{0,12}?(?:以來|以来)[^，。；,;]{0,4}(?:最|新高|新低|罕見|罕见)"
)
# words that put a date in the future: a schedule, not a session that has been traded
SCHEDULED_RE = _rx(
    r"\b(?:will|due|scheduled|set to|expected to|resumes?|reopens?|opens|reports|ahead of|"
    r"next|upcoming|could|would|might|may|könnte\w*|dürfte\w*|wird|werden|soll|sollen|"
    r"kommende\w*|nächste\w*|voraussichtlich|"
    r"ansteh\w*)\b|將|将|預計|预计|下週|下周|下星期|即將|即将|擬於|拟于|定於|定于"
)
SINCE_RE = _rx(r"\bsince\b|\bseit\b|自.{0,8}以來|自.{0,8}以来|以來|以来")
PERIOD_REF_RE = _rx(
    r"during (?:this|that|the) (?:period|time)|over (?:this|that|the) "
    r"period|in (?:diesem|dem) Zeitraum|in dieser Zeit|期內|期内"
)
CLOSE_VERB_RE = _rx(
    r"\bclos(?:ed|ing|es)\b|\bended\b|\bfinished\b|\bschloss\w*|"
    r"\bbeendete\b|\bging\b.*\baus dem Handel\b|\bending the (?:day|session)\b|"
    r"\bat the close\b|\bSchlusskurs\b|\bzum (?:Handels)?[Ss]chluss\b|"
    r"收市|收盤|收盘|收報|收报|收漲|收涨|收跌|收升|收高|收低|收在|收於|收于"
)
STATE_RE = _rx(r"\b(?:is|are|ist|sind|liegt|liegen|steht|stehen)\b")

# -- prices versus other amounts -------------------------------------------------------------

PRICE_BEFORE_RE = _rx(
    r"(?:\b(?:at|closed at|trading at|traded at|ended at|finished at|settled at|to|bei|auf|"
    r"von|notierte bei|schloss bei|kostete\w*|kostet|notiert\w*)|收報|收报|收市報|收市报|收於|"
    r"收于|收在|報|报|見|见|跌至|升至|"
    r"漲至|涨至|造)\s*(?:around|about|roughly|nearly|rund|etwa|knapp|約|约)?\s*$"
)
PRICE_AFTER_RE = _rx(r"^\s*(?:apiece|a share|per share|each|je Aktie|pro Aktie)\b")
HIGH_RE = _rx(
    r"(?:\b(?:peak|high|record|top|Höchststand|Rekordniveau|Hochpunkt)|\w*[Hh]och)\b"
    r"(?:\s+\w+){0,3}\s*$|(?:高位|高點|高点|新高)\D{0,4}$"
)
LOW_RE = _rx(
    r"(?:\b(?:low|trough|bottom|Tiefststand|Tiefpunkt)|\w*[Tt]ief)\b(?:\s+\w+){0,3}\s*$|"
    r"(?:低位|低點|低点|新低)\D{0,4}$"
)
# Amounts that are never a share price: each has its own kind.
NON_PRICE: tuple[tuple[str, str], ...] = (
    (
        "price_target",
        r"price target|target price|Kursziel|Kurs-?Ziel|Stopp|stop[- ]loss|目標價|目标价",
    ),
    (
        "market_value",
        r"market (?:value|cap\w*)|valuation|valued at|Börsenwert|Marktwert|Marktkapitalisierung|"
        r"市值|估值",
    ),
    (
        "buyback",
        r"buy-?back|repurchase|Rückkauf\w*|Aktienrückkauf\w*|zurückgekauft|zurückzukaufen|"
        r"zurückkaufen|回購|回购",
    ),
    ("dividend", r"dividend|Dividende|Ausschüttung|股息|派息"),
    (
        "capex",
        r"capex|capital expenditure|capital spending|invest\w*|spend\w*|budget|"
        r"Investition\w*|investier\w*|Ausgaben|資本開支|资本开支|投資|投资|投入",
    ),
    (
        "profit",
        r"profit|net income|earnings|EBITA|EBITDA|margin|Gewinn\w*|Überschuss|Ergebnis|"
        r"Nettoergebnis|Marge|盈利|利潤|利润|純利|纯利|淨利|净利|經調整|经调整",
    ),
    (
        "revenue",
        r"revenue|sales|turnover of the (?:group|company)|Umsatz\w*|Erlös\w*|Einnahmen|"
        r"收入|營收|营收|收益|銷售|销售",
    ),
    ("deal", r"\bdeal\b|acquisition|disposal|stake|Übernahme|Verkauf|收購|收购|出售"),
    (
        "offering",
        r"\bIPO\b|offer price|priced at|issue price|listing price|Ausgabepreis|招股價|招股价",
    ),
    ("tariff", r"tariff|\bZoll\b|Zölle|Zöllen|關稅|关税"),
    ("parameters", r"parameter\w*|Parameter\w*|參數|参数|tokens|Sprachen|languages|語言|语言"),
    (
        "growth",
        r"year[- ]on[- ]year|from a year (?:earlier|ago)|year over year|\by/y\b|"
        r"im Jahresvergleich|gegenüber dem Vorjahr|zum Vorjahr|Vorjahresquartal|按年|同比|按季|環比|环比|增長|增长|增幅|"
        r"in the (?:quarter|period)|quarter[- ]on[- ]quarter|im Quartal|季度|本季",
    ),
    (
        "business",
        r"(?:orders|users|customers|merchants|shipments|GMV|gross merchandise|subscribers|"
        r"Bestellungen|Nutzer\w*|Kunden)\b|訂單|订单|用戶|用户|商家",
    ),
)
# a move that is forecast, not traded: "analysts expect the stock to rise 20%"
FORECAST_RE = _rx(
    r"\b(?:expect\w*|forecast\w*|predict\w*|project\w*|could|would|might|will|likely|poised|"
    r"set to|seen|target\w*|estimat\w*)\b[^.;,:]{0,25}$|预计|預計|料將|料将|有望"
)
NON_PRICE_RES = [(kind, _rx(p)) for kind, p in NON_PRICE]

FLOW_RE = _rx(
    r"net (?:buying|selling|purchases?|sales?|withdrawal|outflows?|inflows?|"
    r"buys?|sells?)|southbound|northbound|Stock Connect|outflows?|inflows?|"
    r"Nettoabfl\w*|Nettozufl\w*|Nettokäuf\w*|Nettoverkäuf\w*|Abflüsse|Zuflüsse|"
    r"南向|北向|港股通|淨買入|净买入|淨賣出|净卖出|淨流入|净流入|淨流出|净流出"
)
FLOW_NEG_RE = _rx(
    r"withdraw\w*|outflow\w*|net sell\w*|net sales?|Nettoabfl\w*|"
    r"Nettoverkäuf\w*|Abflüsse|abgezogen|淨賣出|净卖出|淨流出|净流出"
)
VOLUME_RE = _rx(
    r"\b(?:trading volume|volumes?|Volumen|turnover|shares changing hands|changed hands|"
    r"Handelsvolumen|gehandelt\w*|Papiere|Aktien|Stück)\b|成交|換手|换手|均量"
)
# Money that changed hands in trading ("Turnover reached HK$22.6 billion", "成交額"); a bare
# "Aktien für 11,9 Mrd. Dollar" is not one.
TURNOVER_RE = _rx(
    r"\bturnover\b|\btraded\b|\bchang\w* hands\b|\bworth of shares\b|\bHandelsvolumen\b|"
    r"\bgehandelt\w*|\bBörsenumsatz\b|成交"
)
MARKET_WIDE_RE = _rx(r"大市|主板|全市場|全市场|market[- ]wide|the whole market|Gesamtmarkt")
TIMES_AVERAGE_RE = _rx(r"average|Schnitt|Durchschnitt\w*|均量|平均|than usual|als üblich|normal")
VOLUME_VERB_RE = _rx(
    r"\b(?:(?P<q>nearly|almost|more than|over|about|roughly|fast|knapp|mehr als|rund)\s+)?"
    r"(?P<m>doubled|tripled|quadrupled|halved|verdoppelte?|verdreifachte?|halbierte?)\b"
)
MULTIPLE_VERBS = {
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

# -- subjects -------------------------------------------------------------------------------

COMPANY_RE = _rx(
    r"\bAlibaba\b|\bshares?\b|\bstock\b|\bAktien?\b|\bTitel\b|\bPapiere?\b|阿里|股價|股价|股份"
)
INDEX_REF_RE = _rx(
    r"\b(?:the|this|that) (?:index|benchmark|gauge)\b|\b(?:der|den|dem|des) "
    r"(?:Index|Leitindex)\b|大市|指數|指数"
)
# A quote on a German venue, or in euros, is neither the New York nor the Hong Kong listing.
EURO_VENUE_RE = _rx(
    r"\bTradegate\b|\bXetra\b|\bin Frankfurt\b|\bFrankfurter\b|\bLang ?& ?Schwarz\b|"
    r"\bL&S\b|\bgettex\b|\bStuttgart\b|\bauf Euro-Basis\b|\bin Euro\b"
)
# Other markets that the snapshot does not hold (so their claims are OTHER, unverifiable).
OTHER_MARKET_RE = _rx(
    r"\bNasdaq\b|\bDow\b|\bNikkei\b|\bDAX\b|\bStoxx\b|\bKospi\b|\bMSCI\b|\bFTSE\b|"
    r"\bShanghai Composite\b|\bSSE Composite\b|\bTencent\b|\bJD\.com\b|\bBaidu\b|\bPDD\b|"
    r"\bMeituan\b|\bXiaomi\b|\bApple\b|\bNvidia\b|騰訊|腾讯|美團|美团|小米|京東|京东|百度|"
    r"日經|日经|上證|上证|深成指|創業板|创业板|納指|纳指|道指"
)


def _phrase_pattern(phrase: str) -> str:
    """A name from the reference table as a pattern: word-bounded when it is Latin script."""
    body = re.escape(phrase).replace(r"\ ", r"[\s-]").replace(r"\-", r"[\s-]")
    if re.search(r"[A-Za-z0-9]", phrase[:1]) and re.search(r"[A-Za-z0-9]", phrase[-1:]):
        return rf"(?<![A-Za-z0-9]){body}(?![A-Za-z0-9])"
    return body


@cache
def instrument_cues() -> tuple[tuple[str, str, re.Pattern], ...]:
    """(instrument, kind, pattern) for every instrument named in the reference table.

    Longer names come first so "Hang Seng Tech" is read before "Hang Seng".
    """
    phrases: list[tuple[int, str, str, str]] = []
    for ins in instruments().values():
        for lang_phrases in ins.names.values():
            for p in lang_phrases:
                phrases.append((len(p), ins.instrument, ins.kind, p))
    ordered = sorted(set(phrases), key=lambda t: -t[0])
    return tuple((i, k, re.compile(_phrase_pattern(p), re.IGNORECASE)) for _, i, k, p in ordered)


_EDGE = "(?<![A-Za-z0-9])", "(?![A-Za-z0-9])"


def _one_pattern(patterns: list[str]) -> re.Pattern:
    """Name patterns as one alternation. The word edges stand once around the Latin names:
    re then skips ahead on their first letters instead of trying a look-behind for every name
    at every position (about 5x faster on articles)."""
    a, b = _EDGE
    latin = [p[len(a) : -len(b)] for p in patterns if p.startswith(a) and p.endswith(b)]
    other = [p for p in patterns if not (p.startswith(a) and p.endswith(b))]
    parts = [f"{a}(?:{'|'.join(latin)}){b}"] if latin else []
    return re.compile("|".join(parts + other), re.IGNORECASE)


@cache
def listing_name_patterns() -> tuple[tuple[str, re.Pattern], ...]:
    """(listing, one pattern of all its names): the article-wide search for the first listing
    an article names runs once per listing, not once per name."""
    names: dict[str, list[str]] = {}
    for ins, kind, rx in instrument_cues():
        if kind == "listing":
            names.setdefault(ins, []).append(rx.pattern)
    return tuple((ins, _one_pattern(p)) for ins, p in names.items())


@cache
def any_name_pattern() -> re.Pattern:
    """Every instrument name and other-market word as one pattern: a sentence it misses
    names no instrument, and the name-by-name scan is skipped."""
    return _one_pattern([rx.pattern for _, _, rx in instrument_cues()] + [OTHER_MARKET_RE.pattern])


@cache
def listing_currency() -> dict[str, str]:
    """Currency -> the listing quoted in it (USD -> BABA, HKD -> 9988.HK)."""
    return {ins.currency: i for i, ins in instruments().items() if ins.kind == "listing"}


@cache
def kinds_of() -> dict[str, str]:
    return {i: ins.kind for i, ins in instruments().items()}


@cache
def exchange_of() -> dict[str, str]:
    return {i: ins.exchange for i, ins in instruments().items()}


def is_listing(instrument: str | None) -> bool:
    return kinds_of().get(instrument or "") == "listing"


def is_index(instrument: str | None) -> bool:
    return kinds_of().get(instrument or "") == "index"
