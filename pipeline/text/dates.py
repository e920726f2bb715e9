"""Date mentions in English, German and Chinese text: the forms, and how a mention becomes a date.

Pure rules, no I/O: regexes (Rust syntax, run by Polars) and Polars expressions. Which mention
dates an article is decided in `pipeline.corpus.dates`; this module only reads them.

`dateparser` reads one string at a time in Python; on 100,000 articles the per-row calls cost
more than the rest of the corpus stage, so the forms are regexes run on whole columns. Each form
names its groups the same way (y, mo, mon, d, a, b, h, mi, s, ap, tz, wd, wdz) so the forms can be
stacked into one frame.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from pipeline.text.patterns import fast_regex

EN_MONTHS = (
    "january february march april may june july august september october november december"
).split()
DE_MONTHS = (
    "januar februar märz april mai juni juli august september oktober november dezember"
).split()
MONTH_NUM = {m[:3]: i for i, m in enumerate(EN_MONTHS, 1)} | {
    m: i for i, m in enumerate(DE_MONTHS, 1)
}
MONTH_NUM |= {"jän": 1, "jänner": 1, "mär": 3, "mrz": 3, "okt": 10, "dez": 12, "sept": 9}
WEEKDAY_NUM = {  # ISO numbers, Monday = 1, as Polars' dt.weekday()
    **{d: i for i, d in enumerate("mon tue wed thu fri sat sun".split(), 1)},
    **{
        d: i
        for i, d in enumerate(
            "montag dienstag mittwoch donnerstag freitag samstag sonntag".split(), 1
        )
    },
    **{c: i for i, c in enumerate("一二三四五六日", 1)},
    "天": 7,
}
# Zone abbreviations printed after a time. CST is left out: China and US Central both use it.
TZ_ABBR = {
    "et": "America/New_York",
    "est": "America/New_York",
    "edt": "America/New_York",
    "pt": "America/Los_Angeles",
    "pst": "America/Los_Angeles",
    "pdt": "America/Los_Angeles",
    "cet": "Europe/Berlin",
    "cest": "Europe/Berlin",
    "mez": "Europe/Berlin",
    "mesz": "Europe/Berlin",
    "bst": "Europe/London",
    "utc": "UTC",
    "gmt": "UTC",
    "z": "UTC",
    "hkt": "Asia/Hong_Kong",
    "sgt": "Asia/Singapore",
    "jst": "Asia/Tokyo",
    "kst": "Asia/Seoul",
    "beijing time": "Asia/Shanghai",
    "北京时间": "Asia/Shanghai",
    "北京時間": "Asia/Shanghai",
    "hong kong time": "Asia/Hong_Kong",
    "香港時間": "Asia/Hong_Kong",
    "香港时间": "Asia/Hong_Kong",
}


def _alts(words: list[str]) -> str:
    """Capitalised and upper-case spellings: a lower-case 'may' is a verb, not a month."""
    return "|".join(
        sorted({f(w) for w in words for f in (str.capitalize, str.upper)}, key=len, reverse=True)
    )


_EN_MON = _alts(EN_MONTHS + [m[:3] for m in EN_MONTHS] + ["sept"])
_DE_MON = _alts(
    DE_MONTHS
    + [
        "jänner",
        "jan",
        "feb",
        "mär",
        "mrz",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "okt",
        "nov",
        "dez",
    ]
)
_WD = (
    r"(?:(?P<wd>(?i:(?:mon|tues|wednes|thurs|fri|satur|sun)day|(?:mon|tue|wed|thu|fri|sat|sun)\.?"
    r"|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag)),?\s+)?"
)
_ABBR = "|".join(
    sorted(
        (k.upper() for k in TZ_ABBR if k.isascii() and " " not in k and k != "z"),
        key=len,
        reverse=True,
    )
)
_ZONE_WORDS = "|".join(k for k in TZ_ABBR if " " in k or not k.isascii())
# Upper-case abbreviations need no word boundary after them: pages glue "ET2 min read".
_TZ = rf"(?:\s*\(?(?P<tz>(?i:utc|gmt)[+-]\d{{1,2}}(?::\d{{2}})?|[+-]\d{{2}}:?\d{{2}}\b|(?:{_ABBR})|(?i:{_ZONE_WORDS}))\)?)?"
_TIME = (
    r"(?:\s*(?:,|\||·|@|at|um|-|–|T)?\s*(?P<h>\d{1,2})(?:[:：](?P<mi>\d{2})(?::(?P<s>\d{2}))?"
    r"|\.(?P<mi2>\d{2})\s*(?i:uhr)\b)"
    r"(?:\s*(?P<ap>(?i:[ap]))\.?\s?(?i:m)\b\.?)?(?:\s*(?i:uhr)\b)?" + _TZ + ")?"
)
_ZH_WD = r"(?:\s*[（(]?\s*(?:星期|週|周|礼拜|禮拜)(?P<wdz>[一二三四五六日天])\s*[）)]?)?"

# name -> regex. Year-less forms (en, de) are dates only with a cue; see pipeline.corpus.dates.
FORMS = {
    "iso": r"\b(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})(?:[T ](?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?(?:\.\d+)?\s*(?P<tz>Z|[+-]\d{2}:?\d{2}|(?i:utc|gmt|hkt|et)\b)?)?",
    "ymd": r"\b(?P<y>\d{4})[/.](?P<mo>\d{1,2})[/.](?P<d>\d{1,2})\b" + _TIME,
    "zh": r"(?P<y>\d{4})\s*年\s*(?P<mo>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日" + _ZH_WD + _TIME,
    "dmy": _WD + r"\b(?P<d>\d{1,2})\.(?P<mo>\d{1,2})\.(?P<y>\d{4})\b" + _TIME,
    "slash": _WD + r"\b(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<y>\d{4})\b" + _TIME,
    "en": _WD
    + rf"\b(?P<mon>{_EN_MON})\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(?P<y>(?:19|20)\d{{2}}))?"
    + _TIME,
    "en_dmy": _WD + rf"\b(?P<d>\d{{1,2}})\s+(?P<mon>{_EN_MON})\.?,?\s+(?P<y>\d{{4}})\b" + _TIME,
    "de": _WD + rf"\b(?P<d>\d{{1,2}})\.\s*(?P<mon>{_DE_MON})\.?(?:\s+(?P<y>\d{{4}})\b)?" + _TIME,
}
FORMS = {k: fast_regex(v) for k, v in FORMS.items()}
# Cheap test for "this line may hold a date": the full forms only run on lines that pass it.
MAYBE_DATE = fast_regex(
    rf"\d{{4}}|\d\.\d{{1,2}}\.|\d年|\b(?:{_EN_MON})\.?\s+\d|\d\.\s*(?:{_DE_MON})"
)
PART_SCHEMA = {
    "form": pl.String,
    "y": pl.Int32,
    "mo": pl.Int32,
    "d": pl.Int32,
    "h": pl.Int32,
    "mi": pl.Int32,
    "s": pl.Int32,
    "tz": pl.String,
    "wd": pl.Int32,
    "ambiguous": pl.Boolean,
}


def _field(groups: pl.Expr, name: str, regex: str) -> pl.Expr:
    return groups.struct.field(name) if f"?P<{name}>" in regex else pl.lit(None, pl.String)


def mention_parts(form: str, match: pl.Expr) -> dict[str, pl.Expr]:
    """Year, month, day, time, zone name, weekday and ambiguity of one matched mention.

    A slashed date is read day first unless the second number cannot be a month; when both
    could be, `ambiguous` is true. The zone is the IANA name of an abbreviation, or the
    offset as printed ("+08:00"); null when the text gives none.
    """
    rx = FORMS[form]
    g = match.str.extract_groups(rx)

    def num(name: str) -> pl.Expr:
        return _field(g, name, rx).cast(pl.Int32, strict=False)

    month = num("mo")
    if "?P<mon>" in rx:
        mon = _field(g, "mon", rx).str.to_lowercase().str.strip_chars(".")
        month = pl.coalesce(
            mon.replace_strict(MONTH_NUM, default=None, return_dtype=pl.Int32),
            mon.str.slice(0, 3).replace_strict(MONTH_NUM, default=None, return_dtype=pl.Int32),
        )
    day, ambiguous = num("d"), pl.lit(False)
    if form == "slash":
        a, b = num("a"), num("b")
        month_first = b > 12
        month = pl.when(month_first).then(a).when(b <= 12).then(b)
        day = pl.when(month_first).then(b).when(b <= 12).then(a)
        ambiguous = (a <= 12) & (b <= 12) & (a != b)
    hour, ap = num("h"), _field(g, "ap", rx).str.to_lowercase()
    hour = pl.when(ap == "p").then(hour % 12 + 12).when(ap == "a").then(hour % 12).otherwise(hour)
    wd = pl.coalesce(_field(g, "wd", rx), _field(g, "wdz", rx)).str.to_lowercase()
    wd = pl.coalesce(
        wd.replace_strict(WEEKDAY_NUM, default=None, return_dtype=pl.Int32),
        wd.str.slice(0, 3).replace_strict(WEEKDAY_NUM, default=None, return_dtype=pl.Int32),
    )
    return {
        "form": pl.lit(form),
        "y": num("y"),
        "mo": month,
        "d": day,
        "h": hour,
        "mi": pl.coalesce(num("mi"), num("mi2")),  # "09.30 Uhr": German time with a dot
        "s": num("s"),
        "tz": zone_name(_field(g, "tz", rx)),
        "wd": wd,
        "ambiguous": ambiguous,
    }


def zone_name(tz: pl.Expr) -> pl.Expr:
    """An abbreviation -> IANA name; an offset ("+0800", "UTC+8") -> "+08:00"; else null."""
    low = tz.str.to_lowercase().str.strip_chars()
    off = low.str.extract_groups(r"^(?:utc|gmt)?([+-])(\d{1,2}):?(\d{2})?$")
    offset = pl.format(
        "{}{}:{}",
        off.struct.field("1"),
        off.struct.field("2").str.zfill(2),
        off.struct.field("3").fill_null("00"),
    )
    return pl.coalesce(
        low.replace_strict(TZ_ABBR, default=None, return_dtype=pl.String),
        pl.when(off.struct.field("1").is_not_null()).then(offset),
    )


def date_mentions(lines: pl.DataFrame, line: str = "line") -> pl.DataFrame:
    """Every date mention in the `line` column: the input columns plus `mention` (the matched
    text), `pos`/`end` (character offsets) and the parts of PART_SCHEMA. Where two forms match
    overlapping text the longer match wins."""
    keys = [c for c in lines.columns]
    found = []
    for form, rx in FORMS.items():
        hits = (
            lines.with_columns(mention=pl.col(line).str.extract_all(rx))
            .explode("mention")
            .filter(pl.col("mention").is_not_null() & (pl.col("mention") != ""))
        )
        if hits.height:
            found.append(hits.with_columns(**mention_parts(form, pl.col("mention"))))
    if not found:
        empty = {c: lines.schema[c] for c in keys} | {"mention": pl.String, "pos": pl.Int64}
        return pl.DataFrame(schema=empty | {"end": pl.Int64} | PART_SCHEMA)
    out = pl.concat(found, how="vertical_relaxed").with_columns(
        pos=pl.col(line).str.find(pl.col("mention"), literal=True).cast(pl.Int64)
    )
    out = out.with_columns(end=pl.col("pos") + pl.col("mention").str.len_chars())
    return _drop_overlaps(out, keys)


def _drop_overlaps(out: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """Keep, of mentions that overlap in one line, the longest (then the earliest)."""
    out = out.with_row_index("_m")
    pairs = out.select(*keys, "_m", "pos", "end").join(
        out.select(*keys, _o="_m", _opos="pos", _oend="end"), on=keys
    )
    beaten = pairs.filter(
        (pl.col("_m") != pl.col("_o"))
        & (pl.col("_opos") < pl.col("end"))
        & (pl.col("pos") < pl.col("_oend"))
        & (
            ((pl.col("_oend") - pl.col("_opos")) > (pl.col("end") - pl.col("pos")))
            | (
                ((pl.col("_oend") - pl.col("_opos")) == (pl.col("end") - pl.col("pos")))
                & (pl.col("_o") < pl.col("_m"))
            )
        )
    ).select("_m")
    return out.join(beaten, on="_m", how="anti").drop("_m")


def make_date(y: pl.Expr, m: pl.Expr, d: pl.Expr) -> pl.Expr:
    """A Date from parts; impossible dates (31 Feb) become null rather than an error."""
    return pl.format(
        "{}-{}-{}", y, m.cast(pl.String).str.zfill(2), d.cast(pl.String).str.zfill(2)
    ).str.to_date("%Y-%m-%d", strict=False)


def resolve_year(month: pl.Expr, day: pl.Expr, reference: dt.date | pl.Expr) -> pl.Expr:
    """The date with that month and day nearest to `reference` (its year, the one before or after).

    Used when no as-of date is given: the reference is then the newest fully dated article,
    never the machine clock.
    """
    ref = pl.lit(reference) if isinstance(reference, dt.date) else reference
    cands = [make_date(ref.dt.year() + k, month, day) for k in (-1, 0, 1)]
    dist = [(c - ref).dt.total_days().abs() for c in cands]
    return (
        pl.when(dist[1] <= pl.min_horizontal(dist[0], dist[2]).fill_null(10**6))
        .then(cands[1])
        .when(dist[0].fill_null(10**6) <= dist[2].fill_null(10**6))
        .then(cands[0])
        .otherwise(cands[2])
    )


def latest_not_after(month: pl.Expr, day: pl.Expr, limit: dt.date | pl.Expr) -> pl.Expr:
    """The latest date with that month and day that is not after `limit` (an as-of date: an
    article in the edition cannot be published after it)."""
    ref = pl.lit(limit) if isinstance(limit, dt.date) else limit
    this_year = make_date(ref.dt.year(), month, day)
    return (
        pl.when(this_year <= ref)
        .then(this_year)
        .otherwise(make_date(ref.dt.year() - 1, month, day))
    )


def local_datetime(y: str = "y", mo: str = "mo", d: str = "d") -> pl.Expr:
    """The naive local date-time of parsed parts; a missing time is midnight."""
    return pl.datetime(
        pl.col(y),
        pl.col(mo),
        pl.col(d),
        pl.col("h").fill_null(0),
        pl.col("mi").fill_null(0),
        pl.col("s").fill_null(0),
    )


def to_utc(local: pl.Expr, tz: pl.Expr, zones: list[str]) -> pl.Expr:
    """Local naive datetime in zone `tz` (an IANA name or a "+08:00" offset, per row) -> UTC.

    `zones` lists the IANA names that occur (Polars converts one literal zone at a time);
    offsets are subtracted directly; a null zone is taken as UTC.
    """
    utc = local.dt.replace_time_zone("UTC")
    off = tz.str.extract_groups(r"^([+-])(\d{2}):(\d{2})$")
    minutes = (off.struct.field("2").cast(pl.Int64) * 60 + off.struct.field("3").cast(pl.Int64)) * (
        pl.when(off.struct.field("1") == "-").then(-1).otherwise(1)
    )
    out = pl.when(minutes.is_not_null()).then(utc - pl.duration(minutes=minutes))
    for zone in sorted(set(zones) - {"UTC"}):
        conv = local.dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null")
        out = out.when(tz == zone).then(conv.dt.convert_time_zone("UTC"))
    return out.otherwise(utc)


# A time of day on its own, German style ("11:20 Uhr", "11.20 Uhr"), in a line with no date.
TIME_ONLY = fast_regex(r"(?i)\b(?P<h>[01]?\d|2[0-3])[:.](?P<mi>[0-5]\d)\s*uhr\b")

# Cue words just before a mention (matched on the 40 characters before it, lower-cased).
PUBLISHED_CUE = fast_regex(
    r"(?:\bpublished|\bposted|\bfirst published|\binput|\bveröffentlicht|\berschienen|\bpubliziert"
    r"|發佈|发布|發布|發表|发表|刊登|出版)[^\d]{0,14}$"
)
UPDATED_CUE = fast_regex(
    r"(?:\bupdated?|\bmodified|\blast updated|\baktualisiert|\bzuletzt aktualisiert|\bgeändert"
    r"|更新|最後更新|最后更新|修改)[^\d]{0,14}$"
)
UPDATED_AFTER = r"^\s*[)）]?\s*更新"  # "（9/24 17:32 更新）"; English puts the cue first
STAND_CUE = fast_regex(r"\b(?:stand|as of|dated)\s*:?\s*$")
# "Analyse vom 19. November", "analysis from November 18": promo templates stamped with the day.
ANALYSIS_CUE = fast_regex(
    r"(?:analyse|analysis|report|studie|ausgabe|edition)\s+(?:vom|from|of)\s*$"
)
# A mention after these words is something scheduled or reported in the story, not its date.
SCHEDULE_CUE = fast_regex(
    r"(?:\b(?:on|due|due on|from|until|till|by|before|after|since|ahead of|through|to|and|between"
    r"|starting|beginning|expected|scheduled for|set for|closing high of|as early as|in|at|of|the"
    r"|around|about|circa|near|on or about|no later than|gegen|etwa|voraussichtlich|ca\."
    r"|am|ab|bis|seit|vom|zum|nach|vor|für|bei|im|dem|den|zwischen|und|von)"
    r"|于|於|将于|將於|至|到|起|前)\s*$"
)
WIRE_DATELINE = (  # "HONG KONG, Feb 13 (Reuters) -", "SHANGHAI, Sept 9 —"
    r"^\p{Lu}[\p{Lu}\p{L} ./'-]{1,60},\s*$"
)
WIRE_AFTER = r"^\s*(?:\([^()]{2,30}\)\s*)?(?:--|[-–—])"
COPYRIGHT_YEAR = r"(?i)(?:©|ⓒ|\(c\)|copyright)\s*(?:©|ⓒ)?\s*((?:19|20)\d{2})\b"
# A date on a line of its own once these are taken away is a dateline (site chrome).
DATELINE_CHROME = fast_regex(
    r"(?i)\b(?:published|posted|first published on|updated|modified|input|stand|as of|veröffentlicht"
    r"|aktualisiert|erschienen|uhr|am|on|at|um|\d+\s*min(?:ute)?s?\s*read|lesezeit:?)\b|發佈時間|发布时间"
    r"|最後更新|最后更新|更新|發佈|发布|時間|时间|[|·•:：,;()（）@\-–—]"
)


def any_date_regex() -> str:
    """All forms as one regex without named groups (to cut every mention out of a line)."""
    import re

    plain = [re.sub(r"\(\?P<\w+>", "(?:", rx) for rx in FORMS.values()]
    return "|".join(f"(?:{rx})" for rx in plain)
