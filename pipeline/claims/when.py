"""Time expressions of a claim, kept relative ("on Friday", "9月1日", "im Oktober 2020").

A spec is a small tuple; `resolve.py` turns it into calendar dates once the publication date
is known, so the same candidate can be resolved against any publication date (which is what
date inference needs). Kinds:

    ("weekday", 0..6)   ("date", year|None, month, day)   ("dom", day)  -- "（25日）"
    ("month", year|None, month)   ("year", year)   ("today",)   ("yesterday",)   ("last_week",)

`dateparser` reads absolute dates well but not these relative, article-anchored forms (it
resolves "Friday" against the machine's clock, not the article's), so they are hand-written.
"""

from __future__ import annotations

import re

MONTHS = {
    m: i + 1
    for i, m in enumerate(
        "january february march april may june july august september october november "
        "december".split()
    )
}
MONTHS.update(
    {
        "januar": 1, "jänner": 1, "februar": 2, "märz": 3, "mai": 5, "juni": 6, "juli": 7,
        "oktober": 10, "dezember": 12, "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6,
        "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10, "okt": 10, "nov": 11, "dec": 12,
        "dez": 12,
    }
)  # fmt: skip
WEEKDAYS = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
    "sunday": 6, "montag": 0, "dienstag": 1, "mittwoch": 2, "donnerstag": 3, "freitag": 4,
    "samstag": 5, "sonnabend": 5, "sonntag": 6,
}  # fmt: skip
ZH_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}

MONTH_ALT = "|".join(sorted(MONTHS, key=len, reverse=True))
WEEKDAY_RE = re.compile(
    rf"\b(?:on |am |last |vergangenen |letzten )?({'|'.join(WEEKDAYS)})\b", re.IGNORECASE
)
ZH_WEEKDAY_RE = re.compile(r"(?:上|本)?(?:星期|週|周|禮拜|礼拜)([一二三四五六日天])")
DAY_MONTH_RE = re.compile(
    rf"\b(\d{{1,2}})(?:\.|st|nd|rd|th)?\s+(?:of\s+)?({MONTH_ALT})\b\.?(?:,?\s+(\d{{4}}))?",
    re.IGNORECASE,
)
MONTH_DAY_RE = re.compile(
    rf"\b({MONTH_ALT})\.?\s+(\d{{1,2}})(?!\d)(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?",
    re.IGNORECASE,
)
MONTH_YEAR_RE = re.compile(rf"\b({MONTH_ALT})\s+(\d{{4}})\b", re.IGNORECASE)
MONTH_ONLY_RE = re.compile(
    rf"\b(?:in|im|since|seit|seit Anfang|Anfang|Mitte|Ende|so far in|early-?|mid-?|late-?|its|"
    rf"their|the|ihr\w*)\s+({MONTH_ALT})\b",
    re.IGNORECASE,
)
YEAR_RE = re.compile(r"\b(?:in|im|since|seit)\s+((?:19|20)\d\d)\b", re.IGNORECASE)
ZH_DATE_RE = re.compile(r"(?:(\d{4})年)?(\d{1,2})月(\d{1,2})[日號号]")
ZH_DOM_RE = re.compile(r"[（(](\d{1,2})[日號号][）)]")
ZH_MONTH_RE = re.compile(r"(?:(\d{4})年)?(\d{1,2})月(?![\d份]*[日號号])")
ZH_YEAR_RE = re.compile(r"((?:19|20)\d\d)年(?!\d{1,2}月)")
# the calendar week before the publication's ("rose 3% last week", "上週累跌6%")
LAST_WEEK_RE = re.compile(
    r"\blast week\b|\bthe (?:previous|prior) week\b|\b(?:in der )?(?:vergangene[nr]?|letzte[nr]?) "
    r"Woche\b|\bVorwoche\b|(?:上週|上周|上星期|上礼拜|上禮拜)(?![一二三四五六日天])",
    re.IGNORECASE,
)
TODAY_RE = re.compile(r"\btoday\b|\bheute\b|今日|今天|今早|今晨", re.IGNORECASE)
YESTERDAY_RE = re.compile(r"\byesterday\b|\bgestern\b|昨日|昨天", re.IGNORECASE)


def _latin_specs(text: str, found: list, taken: list) -> None:
    def free(a: int, b: int) -> bool:
        return all(b <= x or a >= y for x, y in taken)

    for m in DAY_MONTH_RE.finditer(text):
        y = int(m.group(3)) if m.group(3) else None
        found.append((m.start(), m.end(), ("date", y, MONTHS[m.group(2).lower()], int(m.group(1)))))
        taken.append((m.start(), m.end()))
    for m in MONTH_DAY_RE.finditer(text):
        if free(m.start(), m.end()) and int(m.group(2)) <= 31:
            y = int(m.group(3)) if m.group(3) else None
            spec = ("date", y, MONTHS[m.group(1).lower()], int(m.group(2)))
            found.append((m.start(), m.end(), spec))
            taken.append((m.start(), m.end()))
    for m in MONTH_YEAR_RE.finditer(text):
        if free(m.start(), m.end()):
            spec = ("month", int(m.group(2)), MONTHS[m.group(1).lower()])
            found.append((m.start(), m.end(), spec))
            taken.append((m.start(), m.end()))
    for m in MONTH_ONLY_RE.finditer(text):
        if free(m.start(1), m.end(1)):
            found.append((m.start(), m.end(), ("month", None, MONTHS[m.group(1).lower()])))
            taken.append((m.start(1), m.end(1)))
    for m in YEAR_RE.finditer(text):
        if free(m.start(1), m.end(1)):
            found.append((m.start(), m.end(), ("year", int(m.group(1)))))
    for m in WEEKDAY_RE.finditer(text):
        if free(m.start(1), m.end(1)):
            found.append((m.start(), m.end(), ("weekday", WEEKDAYS[m.group(1).lower()])))


def _chinese_specs(text: str, found: list, taken: list) -> None:
    def free(a: int, b: int) -> bool:
        return all(b <= x or a >= y for x, y in taken)

    for m in ZH_DATE_RE.finditer(text):
        y = int(m.group(1)) if m.group(1) else None
        found.append((m.start(), m.end(), ("date", y, int(m.group(2)), int(m.group(3)))))
        taken.append((m.start(), m.end()))
    for m in ZH_DOM_RE.finditer(text):
        if free(m.start(), m.end()):
            found.append((m.start(), m.end(), ("dom", int(m.group(1)))))
            taken.append((m.start(), m.end()))
    for m in ZH_MONTH_RE.finditer(text):
        if free(m.start(), m.end()) and 1 <= int(m.group(2)) <= 12:
            y = int(m.group(1)) if m.group(1) else None
            found.append((m.start(), m.end(), ("month", y, int(m.group(2)))))
            taken.append((m.start(), m.end()))
    for m in ZH_YEAR_RE.finditer(text):
        if free(m.start(), m.end()):
            found.append((m.start(), m.end(), ("year", int(m.group(1)))))
    for m in ZH_WEEKDAY_RE.finditer(text):
        found.append((m.start(), m.end(), ("weekday", ZH_WEEKDAYS[m.group(1)])))


# Every time expression above holds a digit, a month or weekday name, a day word or one of
# these characters: a sentence with none of them has none (most sentences), so it is skipped.
_ANY_TIME_RE = re.compile(
    rf"\d|\b(?:{MONTH_ALT}|{'|'.join(WEEKDAYS)}|today|heute|yesterday|gestern|last|previous|"
    rf"prior|vergangene\w*|letzte\w*|Vorwoche)\b|[今昨上週周星期月年日號号]",
    re.IGNORECASE,
)


def date_specs(text: str) -> list[tuple[int, tuple]]:
    """(position, spec) for every time expression in `text`, in reading order."""
    if not _ANY_TIME_RE.search(text):
        return []
    found: list[tuple[int, int, tuple]] = []
    taken: list[tuple[int, int]] = []
    _latin_specs(text, found, taken)
    _chinese_specs(text, found, taken)
    found += [(m.start(), m.end(), ("today",)) for m in TODAY_RE.finditer(text)]
    found += [(m.start(), m.end(), ("yesterday",)) for m in YESTERDAY_RE.finditer(text)]
    found += [(m.start(), m.end(), ("last_week",)) for m in LAST_WEEK_RE.finditer(text)]
    return [(s, spec) for s, _, spec in sorted(found)]


def spec_end(text: str, pos: int) -> int:
    """End of the time expression starting at `pos` (for quoting it with the claim)."""
    for rx in (
        WEEKDAY_RE, DAY_MONTH_RE, MONTH_DAY_RE, MONTH_YEAR_RE, MONTH_ONLY_RE, YEAR_RE,
        ZH_DATE_RE, ZH_DOM_RE, ZH_MONTH_RE, ZH_WEEKDAY_RE, LAST_WEEK_RE,
    ):  # fmt: skip
        m = rx.match(text, pos)
        if m:
            return m.end()
    return pos
