"""Who published an article: metadata, then what the text says, then page-chrome evidence.

Tiers, the first that applies:
1. metadata (sidecar, front matter, HTML tags);
2. the text names the publisher: a source line ("Source:", "Quelle:", "來源：", "Read the
   original article on ..."), a copyright line, a wire tag ("(Reuters) -", "(Bloomberg) --",
   "【明報專訊】"), a byline naming an agency, the site's name in the header chrome, or a
   removed chrome line naming it ("Redaktion finanzen.net");
3. publisher signatures (`data/reference/publisher_signatures.csv`);
4. boilerplate shared with an article whose source is known.
Names are mapped to the publisher's domain through `data/reference/publishers.csv`.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipeline.corpus.clean import BOILERPLATE_WHY
from pipeline.errors import InputError
from pipeline.text.patterns import fast_regex

REFERENCE = Path(__file__).resolve().parents[2] / "data" / "reference"
DEFAULT_SIGNATURES = REFERENCE / "publisher_signatures.csv"
DEFAULT_PUBLISHERS = REFERENCE / "publishers.csv"
SIGNATURE_MIN_ROWS = 2  # distinct signature rows of one publisher an article must match
SHARED_MIN_LINES = 2  # distinct boilerplate lines an article must share with a signed one
SHARED_MIN_WORDS = 4  # shorter boilerplate ("Ad", "Comments") is too generic to name a publisher


SIGNATURE_SCHEMA = {
    "row": pl.Int64,
    "pattern": pl.String,
    "publisher": pl.String,
    "evidence": pl.String,
}


def load_signatures(path: Path | None = None) -> pl.DataFrame:
    """The publisher-signature table, validated: row (its line in the file), pattern, publisher,
    evidence. Every row must say why its pattern identifies the publisher."""
    path = Path(path) if path else DEFAULT_SIGNATURES
    if not path.is_file():
        raise InputError(
            "publisher signature table not found",
            path,
            fix="restore data/reference/publisher_signatures.csv",
        )
    try:
        sig = pl.read_csv(path, infer_schema=False, comment_prefix="#")
    except Exception as exc:
        raise InputError(f"publisher signature table is not a readable CSV: {exc}", path) from None
    missing = {"pattern", "publisher", "evidence"} - set(sig.columns)
    if missing:
        raise InputError(f"publisher signature table lacks columns {sorted(missing)}", path, line=1)
    sig = sig.with_row_index("row", offset=2).with_columns(
        pl.col("row").cast(pl.Int64), pl.col("pattern", "publisher", "evidence").str.strip_chars()
    )
    for row in sig.iter_rows(named=True):
        if not (row["pattern"] and row["publisher"] and row["evidence"]):
            raise InputError(
                "publisher signature row needs a pattern, a publisher and the evidence for it",
                path,
                line=row["row"],
            )
        try:
            pl.Series([""]).str.contains(fast_regex(f"(?i){row['pattern']}"))
        except pl.exceptions.PolarsError as exc:
            raise InputError(
                f"publisher signature pattern {row['pattern']!r} is not a valid regex: {exc}",
                path,
                line=row["row"],
            ) from None
    return sig.select(list(SIGNATURE_SCHEMA))


def signature_sources(lines: pl.DataFrame, signatures: pl.DataFrame) -> pl.DataFrame:
    """article_id, sig_source, sig_evidence for articles whose lines match at least
    SIGNATURE_MIN_ROWS distinct signature rows of one publisher (and of no other publisher).

    One combined regex pass finds the few candidate lines; each row's pattern then runs on those.
    """
    empty = pl.DataFrame(
        schema={"article_id": pl.String, "sig_source": pl.String, "sig_evidence": pl.String}
    )
    if signatures.height == 0:
        return empty
    patterns = [fast_regex(f"(?i){p}") for p in signatures["pattern"]]
    combined = "|".join(f"(?:{p})" for p in patterns)
    cand = lines.select("article_id", "line").filter(pl.col("line").str.contains(combined))
    if cand.height == 0:
        return empty
    hits = pl.concat(
        [
            cand.filter(pl.col("line").str.contains(pat)).select(
                "article_id", row=pl.lit(row, pl.Int64), publisher=pl.lit(pub, pl.String)
            )
            for pat, row, pub in zip(
                patterns, signatures["row"], signatures["publisher"], strict=True
            )
        ]
    ).unique()
    found = (
        hits.group_by("article_id", "publisher")
        .agg(rows=pl.col("row").unique().sort())
        .filter(pl.col("rows").list.len() >= SIGNATURE_MIN_ROWS)
    )
    found = found.filter(pl.len().over("article_id") == 1)  # two publishers' chrome: ambiguous
    return found.select(
        "article_id",
        sig_source="publisher",
        sig_evidence=pl.format(
            "publisher signature: lines match rows {} of publisher_signatures.csv",
            pl.col("rows").cast(pl.List(pl.String)).list.join(", "),
        ),
    )


_MONTH_DAY = fast_regex(
    r"\b(?:january|february|march|april|may|june|july|august|september|october|november|december"
    r"|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec|januar|jänner|februar|märz|mai|juni|juli"
    r"|oktober|dezember|monday|tuesday|wednesday|thursday|friday|saturday|sunday|montag|dienstag"
    r"|mittwoch|donnerstag|freitag|samstag|sonntag)\b"
)


def boilerplate_key(line: pl.Expr) -> pl.Expr:
    """A boilerplate line reduced to its template: lower case, month and day names masked,
    digit runs masked, whitespace collapsed ("... from November 18 ..." = "... from November 4 ...")."""
    return (
        line.str.to_lowercase()
        .str.replace_all(_MONTH_DAY, "<m>")
        .str.replace_all(r"\d+", "0")
        .str.replace_all(r"\s{2,}|[^\S ]", " ")  # = \s+ -> " ", but single spaces are no match
        .str.strip_chars()
    )


def shared_boilerplate_sources(lines: pl.DataFrame, arts: pl.DataFrame) -> pl.DataFrame:
    """article_id, sh_source, sh_evidence for unsourced articles that share at least
    SHARED_MIN_LINES distinct boilerplate lines with one article whose source is known.

    Only lines that a single source prints are evidence (a line two publishers share names
    neither). Each such line has one donor, the earliest known-source article that carries it
    (by date, then path); an unsourced article inherits the donor's source when it shares enough
    lines with that donor, and only when all its qualifying donors agree on the source. Everything
    is joins on the line template's hash, so the cost stays linear in the corpus.

    `arts` needs article_id, path, rank, known_source (null when unknown) and need_source (bool).
    """
    key = boilerplate_key(pl.col("line"))
    bp = (
        lines.filter(pl.col("why").is_in(BOILERPLATE_WHY))
        .select("article_id", k=key)
        .filter(pl.col("k").str.count_matches(" ", literal=True) + 1 >= SHARED_MIN_WORDS)
        .select("article_id", h=pl.col("k").hash(13))
        .unique()
    )
    known = arts.filter(pl.col("known_source").is_not_null()).select(
        "article_id", "known_source", "rank"
    )
    by_line = (
        bp.join(known, on="article_id")
        .group_by("h")
        .agg(
            n_src=pl.col("known_source").n_unique(),
            src=pl.col("known_source").first(),
            donor=pl.col("article_id").sort_by("rank").first(),
        )
        .filter(pl.col("n_src") == 1)
        .drop("n_src")
    )
    need = arts.filter(pl.col("need_source")).select("article_id")
    pairs = (
        bp.join(need, on="article_id", how="semi")
        .join(by_line, on="h")
        .group_by("article_id", "donor", "src")
        .agg(n=pl.len())
        .filter(pl.col("n") >= SHARED_MIN_LINES)
    )
    donors = arts.select(donor="article_id", donor_path="path", donor_rank="rank")
    best = (
        pairs.join(donors, on="donor")
        .filter(pl.col("src").n_unique().over("article_id") == 1)
        .sort("article_id", "n", "donor_rank", descending=[False, True, False])
        .unique("article_id", keep="first")
    )
    return best.select(
        "article_id",
        sh_source="src",
        sh_evidence=pl.format(
            "shared boilerplate: {} boilerplate lines also in {} (article {}), whose source is known",
            "n",
            "donor_path",
            "donor",
        ),
    )


# =============================================================================================
# The publishers table: names and aliases -> domain
# =============================================================================================
PUBLISHER_COLUMNS = ("domain", "name", "aliases", "timezone", "note")
_TLD = r"com|net|org|de|at|ch|hk|cn|tw|cc|uk|jp|kr|sg|io|info|biz|news|eu|fr|it|es|nl|au|in|ca"
DOMAIN_TOKEN = rf"(?i)\b((?:[a-z0-9][a-z0-9-]*\.)+(?:{_TLD}))\b"


def load_publishers(path: Path | None = None) -> pl.DataFrame:
    """One row per alias: alias (lower case), domain, name, timezone (null when none). The
    domain and the name count as aliases. An alias of two publishers is an InputError with
    its line, as is a row without domain or name, or a zone that is not an IANA name."""
    from zoneinfo import available_timezones

    path = Path(path) if path else DEFAULT_PUBLISHERS
    try:
        tab = pl.read_csv(path, infer_schema=False, comment_prefix="#")
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InputError(f"publishers table is not a readable CSV: {exc}", path) from None
    missing = set(PUBLISHER_COLUMNS) - set(tab.columns)
    if missing:
        raise InputError(f"publishers table lacks columns {sorted(missing)}", path, line=1)
    tab = tab.with_row_index("row", offset=2)
    zones = available_timezones()
    for r in tab.iter_rows(named=True):
        if not (r["domain"] or "").strip() or not (r["name"] or "").strip():
            raise InputError("publishers row needs a domain and a name", path, line=r["row"])
        if r["timezone"] and r["timezone"].strip() not in zones:
            raise InputError(f"unknown time zone {r['timezone']!r}", path, line=r["row"])
    aliases = (
        tab.with_columns(
            alias=pl.concat_list(
                pl.col("domain"), pl.col("name"), pl.col("aliases").fill_null("").str.split("|")
            )
        )
        .explode("alias")
        .with_columns(alias=pl.col("alias").str.strip_chars().str.to_lowercase())
        .filter(pl.col("alias") != "")
        .unique(["alias", "domain"], keep="first", maintain_order=True)
    )
    clash = aliases.filter(pl.col("alias").is_duplicated()).sort("row")
    if clash.height:
        raise InputError(
            f"alias {clash['alias'][0]!r} belongs to two publishers", path, line=clash["row"][1]
        )
    return aliases.select(
        "alias",
        pl.col("domain").str.strip_chars().str.to_lowercase(),
        pl.col("name").str.strip_chars(),
        timezone=pl.col("timezone").str.strip_chars().replace("", None),
    )


def alias_regex(publishers: pl.DataFrame) -> str:
    """One case-insensitive alternation of every alias, longest first; Latin aliases must be
    whole words, Chinese ones may sit anywhere (Chinese has no spaces)."""
    import re

    parts = []
    for alias in sorted(publishers["alias"].to_list(), key=len, reverse=True):
        esc = re.escape(alias)
        parts.append(rf"\b{esc}\b" if alias[0].isascii() and alias[-1].isascii() else esc)
    return fast_regex("(?i)(" + "|".join(parts) + ")")


def named_domain(text: pl.Expr, publishers: pl.DataFrame, rx: str, tokens: bool = True) -> pl.Expr:
    """The domain a text names: the longest publisher alias in it, else (with `tokens`) a domain
    written in it. Bare domains only count where the line is about the page's publisher (a
    source or copyright line, the site header): in a story "JD.com" is a company."""
    # the longest alias the text holds ("新浪首页 > 新浪财经": the finance channel, not the portal)
    alias = (
        text.str.extract_all(rx)
        .list.eval(pl.element().sort_by(pl.element().str.len_chars(), descending=True))
        .list.first()
        .str.to_lowercase()
    )
    lookup = dict(zip(publishers["alias"], publishers["domain"], strict=True))
    found = alias.replace_strict(lookup, default=None, return_dtype=pl.String)
    if not tokens:
        return found
    token = text.str.extract(DOMAIN_TOKEN, 1).str.to_lowercase().str.replace(r"^www\.", "")
    return pl.coalesce(found, token)


def metadata_sources(arts: pl.DataFrame, publishers: pl.DataFrame) -> pl.Expr:
    """The metadata source as a domain: a name the table knows or a domain in the name; else
    the URL's host when the name is that host's first label spelled out ("Asia Tech Ledger",
    asiatechledger.com); else the name as given; else the URL's host."""
    rx = alias_regex(publishers)
    name = pl.col("meta_source").str.strip_chars()
    host = (
        pl.col("meta_url")
        .str.extract(r"(?i)^[a-z]+://([^/:?#]+)", 1)
        .str.to_lowercase()
        .str.replace(r"^www\.", "")
    )
    squashed = name.str.to_lowercase().str.replace_all(r"[^\p{L}\p{N}]", "")
    host_label = host.str.replace_all(r"[^a-z0-9.]", "").str.split(".").list.first()
    return pl.coalesce(
        named_domain(name, publishers, rx),
        pl.when(squashed == host_label).then(host),
        name,
        host,
    )


# =============================================================================================
# What the text says about its publisher
# =============================================================================================
# (kind, strength, regex whose group 1 is the name, may a name outside the table be used?)
TEXT_CUES = (
    (
        "source line",
        90,
        r"(?i)^(?:read the original article on|originally published (?:on|by|at|in))\s*:?\s*(.+?)\.?$",
        True,
    ),
    # Syndication notes name the original publisher, whatever it is.
    (
        "source line",
        90,
        r"(?i)^(?:weiter zum vollständigen artikel (?:bei|auf)|den vollständigen artikel lesen sie"
        r" (?:bei|auf)|dieser artikel erschien zuerst (?:bei|auf|in)|this (?:article|story)"
        r" (?:first |originally )?appeared (?:first )?(?:on|in)|the post .{3,200}? appeared first on)"
        r"\s*:?\s*[\"„“]?(.+?)[\"“”]?\.?$",
        True,
    ),
    # "Quelle: Unternehmensangaben", "Source: company filings": only a known name counts.
    ("source line", 90, r"(?i)^(?:quelle|quellen|source|sources)\s*:\s*(.+?)\.?$", False),
    ("source line", 90, r"^@\s*((?:[\w-]+\.)+[a-zA-Z]{2,})$", True),
    (
        "source line",
        90,
        r"(?:本文來源|本文来源|文章來源|文章来源|來源|来源|出處|出处|稿源)\s*[:：]\s*([^\s　|]+)",
        True,
    ),
    (
        "copyright line",
        80,
        r"(?i)(?:©|ⓒ|\(c\)|copyright)\s*(?:©|ⓒ)?\s*(?:\d{4}\s*)?(.{2,60})",
        False,
    ),
    # an agency's standards footer: "Our Standards: The Thomson Reuters Trust Principles."
    (
        "standards line",
        80,
        r"(?i)^our (?:standards|editorial standards|principles)\s*:\s*(?:the\s+)?(.{2,40}?)\s+"
        r"(?:trust principles|editorial (?:code|guidelines|standards))\.?$",
        False,
    ),
    ("wire tag", 75, r"^\(([^()]{2,30})\)\s*(?:--|[-–—])", False),
    ("wire tag", 75, r"^\p{Lu}[\p{L}\d ./,'-]{1,60}\(([^()]{2,30})\)\s*(?:--|[-–—])", False),
    ("wire tag", 75, r"^【([^】]{2,16})】", False),
    ("wire tag", 75, r"^[（(]([^）)]{2,12}?)(?:記者|记者|電|电)", False),
    ("wire tag", 75, r"^\[([^\]]{2,40})\]$", False),
    ("website line", 75, r"(?i)^(?:website|web|homepage|internet)\s*:\s*(\S+)$", False),
    ("byline", 65, r"^(?:[Bb]y|[Vv]on)\s+(.{3,80})$", False),
)
HEADER_LINES = 3  # the site's name, when printed, tops the page
CREDIT = fast_regex(
    r"(?i)\b(?:photo|photos|foto|fotos|bild|bildquelle|image|images|picture|pictures|grafik|chart"
    r"|graphic|video|illustration)\b|圖片|图片|圖：|图：|攝|摄|資料圖|资料图"
)


def text_sources(lines: pl.DataFrame, publishers: pl.DataFrame) -> pl.DataFrame:
    """article_id, text_source, text_source_kind, text_source_evidence from what the lines say.

    The strongest cue wins (source line > copyright > wire tag > byline > the site's name in
    the header chrome > a removed chrome line naming one publisher); among equals, the first.
    """
    rx = alias_regex(publishers)
    # Cues sit at a line's start or in short lines; a wire tag opens a long paragraph.
    short = lines.with_columns(pl.col("line").str.slice(0, 300))
    cues = pl.concat([*_cue_hits(short, publishers, rx), _chrome_hits(short, publishers, rx)])
    cues = cues.filter(pl.col("domain").is_not_null() & (pl.col("domain") != ""))
    # A removed chrome line is evidence only when such lines name a single publisher.
    chrome = pl.col("kind") == "chrome line"
    cues = cues.filter(
        ~chrome | (pl.col("domain").filter(chrome).n_unique().over("article_id") == 1)
    )
    best = cues.sort(
        ["article_id", "strength", "line_idx"], descending=[False, True, False]
    ).unique("article_id", keep="first", maintain_order=True)
    return best.select(
        "article_id",
        text_source="domain",
        text_source_kind="kind",
        text_source_evidence=pl.format(
            "{} (line {}): «{}»", "kind", "file_line", pl.col("line").str.slice(0, 100)
        ),
    )


def _cue_hits(short: pl.DataFrame, publishers: pl.DataFrame, rx: str) -> list[pl.DataFrame]:
    """One frame per TEXT_CUES row: the lines it matches and the domain the name maps to."""
    found = []
    # Every cue has one of these; the other lines (most of the body) are skipped.
    short = short.filter(
        pl.col("line").str.contains(
            r"[(（【\[©ⓒ@:：]|(?i)copyright|(?i)^(?:by|von|read the original|originally published"
            r"|weiter zum|den vollständigen|dieser artikel|this article|this story|the post)\s"
        )
    )
    for kind, strength, pattern, free_name in TEXT_CUES:
        hit = short.with_columns(_name=pl.col("line").str.extract(pattern, 1)).filter(
            pl.col("_name").is_not_null()
        )
        dom = named_domain(pl.col("_name"), publishers, rx)
        if free_name:  # "Read the original article on Example Wire": the name as printed
            dom = pl.coalesce(dom, pl.col("_name").str.strip_chars(" .:;,"))
        found.append(
            hit.select(
                "article_id",
                "line_idx",
                "file_line",
                "line",
                domain=dom,
                kind=pl.lit(kind),
                strength=pl.lit(strength),
            )
        )
    return found


def _chrome_hits(short: pl.DataFrame, publishers: pl.DataFrame, rx: str) -> pl.DataFrame:
    """A publisher named in the header chrome (a short line among the first three, or a
    navigation line near the top: "FXStreet", "DER AKTIONÄR  Aktien · Märkte") or in a line
    cleaning removed ("Redaktion finanzen.net", "Most Read from Bloomberg"). A headline that
    names an agency ("Reuters: ...") is longer than a site name, so it is not header chrome."""
    top = short.filter((pl.col("line_idx") < 12) | pl.col("why").is_not_null())
    line = pl.col("line")
    words = line.str.count_matches(" ", literal=True) + 1 + line.str.count_matches(r"\p{Han}") / 3
    header = ((pl.col("line_idx") < HEADER_LINES) & (words <= 6)) | (
        (pl.col("why") == "site navigation") & (pl.col("line_idx") < 12)
    )
    # A removed line names the publisher only when it is short chrome ("Redaktion X",
    # "Most Read from X"), not a paragraph a promo rule took out.
    chrome = pl.col("why").is_not_null() & (words <= 12)
    # Photo and chart credits name agencies and picture desks, not the page's publisher.
    credit = line.str.contains(CREDIT)
    cand = top.filter((header | chrome) & ~credit).with_columns(_header=header)
    # A literal (Aho-Corasick) pass finds the few distinct lines that can name a publisher;
    # the regex with word boundaries then runs on those only.
    needles = publishers["alias"].to_list() + [f".{t}" for t in _TLD.split("|")]
    maybe = pl.col("line").str.to_lowercase().str.contains_any(needles)
    named = (
        cand.select("line")
        .unique()
        .filter(maybe)
        .with_columns(
            domain=named_domain(pl.col("line"), publishers, rx),
            alias_domain=named_domain(pl.col("line"), publishers, rx, tokens=False),
        )
    )
    return cand.join(named, on="line", how="left").select(
        "article_id",
        "line_idx",
        "file_line",
        "line",
        domain=pl.when("_header").then("domain").otherwise("alias_domain"),
        kind=pl.when("_header").then(pl.lit("site header")).otherwise(pl.lit("chrome line")),
        strength=pl.when("_header").then(pl.lit(60)).otherwise(pl.lit(50)),
    )


def home_zones(sources: pl.DataFrame, publishers: pl.DataFrame) -> pl.DataFrame:
    """article_id, home_tz: the zone a known publisher prints its times in."""
    zones = (
        publishers.filter(pl.col("timezone").is_not_null())
        .unique("domain")
        .select("domain", home_tz="timezone")
    )
    return sources.join(zones, left_on="source", right_on="domain", how="inner").select(
        "article_id", "home_tz"
    )


def named_sources(
    arts: pl.DataFrame, lines: pl.DataFrame, publishers: pl.DataFrame
) -> pl.DataFrame:
    """Source tiers 1-2: metadata, then what the text says (see pipeline.corpus.sources)."""
    named = text_sources(lines, publishers)
    arts = arts.join(named, on="article_id", how="left").with_columns(
        meta_domain=metadata_sources(arts, publishers)
    )
    has_meta = pl.col("meta_domain").is_not_null()
    return arts.with_columns(
        source=pl.coalesce("meta_domain", "text_source"),
        source_origin=pl.when(has_meta)
        .then(pl.coalesce("origin_source", "origin_url"))
        .when(pl.col("text_source").is_not_null())
        .then(pl.lit("text")),
        source_evidence=pl.when(~has_meta).then("text_source_evidence"),
        source_confidence=pl.when(has_meta)
        .then(pl.lit("high"))
        .when(pl.col("text_source_kind").is_in(["byline", "chrome line"]))
        .then(pl.lit("medium"))
        .when(pl.col("text_source").is_not_null())
        .then(pl.lit("high")),
    )


def inferred_sources(
    arts: pl.DataFrame, lines: pl.DataFrame, signatures: pl.DataFrame
) -> pl.DataFrame:
    """Source tiers 3-4 when nothing names the publisher: signatures, then shared boilerplate."""
    arts = arts.join(signature_sources(lines, signatures), on="article_id", how="left")
    arts = arts.with_columns(
        known_source="source",
        need_source=pl.col("source").is_null() & pl.col("sig_source").is_null(),
    )
    arts = arts.join(shared_boilerplate_sources(lines, arts), on="article_id", how="left")
    known = pl.col("known_source").is_not_null()
    return arts.with_columns(
        source=pl.coalesce("source", "sig_source", "sh_source"),
        field_sources=pl.col("field_sources").struct.with_fields(
            source=pl.when(known)
            .then(pl.col("field_sources").struct.field("source"))
            .when(pl.col("sig_source").is_not_null())
            .then(pl.lit("signature"))
            .when(pl.col("sh_source").is_not_null())
            .then(pl.lit("shared_boilerplate"))
        ),
        source_confidence=pl.when(known)
        .then("source_confidence")
        .when(pl.col("sig_source").is_not_null())
        .then(pl.lit("medium"))
        .when(pl.col("sh_source").is_not_null())
        .then(pl.lit("low"))
        .otherwise(pl.lit("none")),
        source_evidence=pl.when(known)
        .then("source_evidence")
        .otherwise(
            pl.coalesce(
                "sig_evidence",
                "sh_evidence",
                pl.lit(
                    "publisher unknown: no metadata, source line, copyright line, wire tag or "
                    "site header names it, no publisher signature matches, no boilerplate "
                    "shared with a known-source article"
                ),
            )
        ),
    )
