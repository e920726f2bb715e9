"""Key findings and section prose, written from the tables through Jinja2 templates.

Every number in the prose is a value computed here from a table at render time; the templates
only place and format them. Change the data and the prose changes with it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from pipeline import reference
from pipeline.briefing.charts import display_source, display_title, market_adjusted_moves
from pipeline.briefing.display import escape_md
from pipeline.findings.summary import verdict_counts

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
TRIGGER_WINDOW_DAYS = 3  # an article up to 3 days before a move counts as a possible trigger


def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["md"] = escape_md
    env.filters["num"] = lambda v, digits=2: f"{v:,.{digits}f}".replace("-", "−")
    from pipeline.briefing import display

    env.filters["money"] = display.money
    env.filters["pct"] = display.pct
    env.filters["day"] = display.day
    return env


def biggest_moves(
    abnormal_returns: pl.DataFrame, articles: pl.DataFrame, year: int, top: int = 3
) -> list[dict[str, Any]]:
    """The largest abnormal daily moves, each with the nearest article before it."""
    moves = market_adjusted_moves(abnormal_returns, year, top=top)
    dated = (
        articles.filter(pl.col("published_date").is_not_null())
        .select(display_title(), display_source(), pl.col("published_date"))
        .sort("published_date")
    )
    out = []
    for row in (
        moves.sort(pl.col("abnormal").abs(), descending=True).head(top).iter_rows(named=True)
    ):
        near = dated.filter(
            (pl.col("published_date") <= row["date"])
            & (pl.col("published_date") >= row["date"] - pl.duration(days=TRIGGER_WINDOW_DAYS))
        )
        row["trigger"] = near.row(-1, named=True) if near.height else None
        row["benchmark_name"] = reference.instruments()[row["benchmark"]].name
        out.append(row)
    return out


def tone_shift(articles: pl.DataFrame, mentions: pl.DataFrame) -> dict[str, Any] | None:
    """Mean tone of articles before and from the first article alleging military ties."""
    military = mentions.filter(
        (pl.col("risk") == "military ties")
        & (pl.col("mentions") > 0)
        & pl.col("published_date").is_not_null()
    )
    scored = articles.filter(pl.col("published_date").is_not_null() & pl.col("tone").is_not_null())
    if military.is_empty() or scored.is_empty():
        return None
    first = military["published_date"].min()
    before = scored.filter(pl.col("published_date") < first)
    after = scored.filter(pl.col("published_date") >= first)
    return {
        "first_date": first,
        "n_before": before.height,
        "tone_before": before["tone"].mean() if before.height else None,
        "n_after": after.height,
        "tone_after": after["tone"].mean() if after.height else None,
    }


def flow_claims(claims: pl.DataFrame, articles: pl.DataFrame) -> list[dict[str, Any]]:
    flows = claims.filter(pl.col("kind") == "flow").join(
        articles.select(
            "article_id", "title", display_source("publisher unknown"), "published_date"
        ),
        on="article_id",
        how="left",
    )
    return flows.sort("published_date", nulls_last=True).to_dicts()


def findings_context(tables: dict[str, pl.DataFrame], as_of: str) -> dict[str, Any]:
    """Every value the findings mention, computed from the tables."""
    year = int(as_of[:4])
    articles, claims = tables["articles"], tables["claims"]
    mentions, ytd = tables["risk_mentions"], tables["year_to_date"]
    return {
        "as_of": as_of,
        "trigger_days": TRIGGER_WINDOW_DAYS,
        "year": year,
        "n_articles": articles.height,
        "n_dated": articles.filter(pl.col("published_date").is_not_null()).height,
        "languages": sorted(articles["language"].drop_nulls().unique().to_list()),
        "ytd": ytd.to_dicts(),
        "moves": biggest_moves(tables["abnormal_returns"], articles, year),
        "tone": tone_shift(articles, mentions),
        "flows": flow_claims(claims, articles),
        "verdicts": verdict_counts(claims),
        "n_claims": claims.height,
        "contradicted": claims.filter(pl.col("verdict") == "contradicted").to_dicts(),
        "risks": (
            mentions.group_by("risk")
            .agg(pl.col("mentions").sum())
            .sort("mentions", descending=True)
            .to_dicts()
        ),
    }


def key_findings(tables: dict[str, pl.DataFrame], as_of: str) -> list[str]:
    """The key findings as Markdown bullet texts, one string per finding."""
    text = _env().get_template("findings.md.j2").render(**findings_context(tables, as_of))
    return [line[2:].strip() for line in text.splitlines() if line.startswith("- ")]


# The story: headline, lede, key numbers and what cannot be verified ----------------------------


def _story_env() -> Environment:
    from pipeline.briefing import display

    env = _env()
    env.filters.update(
        pct=display.pct,
        money=display.money,
        day=display.day,
        signed=display.signed,
        count=_count_word,
    )
    return env


def _count_word(n: int) -> str:
    """Numbers up to ten in words, as a desk writes them."""
    words = "no one two three four five six seven eight nine ten".split()
    return words[n] if 0 <= n < len(words) else f"{n:,}"


def story_context(tables: dict[str, pl.DataFrame], as_of: str) -> dict[str, Any]:
    """Every value the headline and lede mention, taken from the findings tables."""
    reactions, clusters = tables["article_reactions"], tables["news_clusters"]
    names = {i: ins.name for i, ins in reference.instruments().items()}
    by_day = reactions.group_by("event_date").agg(pl.col("significant").any())
    sig = reactions.filter(pl.col("significant")).sort(pl.col("t_ar").abs(), descending=True)
    top = sig.row(0, named=True) if sig.height else None
    partner = (
        sig.filter(
            (pl.col("event_date") == top["event_date"])
            & (pl.col("instrument") != top["instrument"])
        ).to_dicts()
        if top
        else []
    )
    latest = None
    if clusters.height:
        last = clusters.filter(pl.col("cluster") == clusters["cluster"].max())
        worst = last.sort("worst_abnormal").row(0, named=True)
        latest = {
            **worst,
            "topics": (worst["topics"] or "").split("; ") if worst["topics"] else [],
            "listings": last.to_dicts(),
            "quiet": int(last["n_significant"].fill_null(0).sum()) == 0,
            "max_abs_t": last["max_abs_t"].max(),
            "is_top": top is not None and top["cluster"] == worst["cluster"],
        }
    claims = tables["claims"]
    return {
        "as_of": as_of,
        "year": int(as_of[:4]),
        "names": names,
        "n_articles": tables["articles"].height,
        "n_days": by_day.height,
        "n_sig_days": int(by_day["significant"].sum()),
        "top": top,
        "partner": partner[0] if partner else None,
        "latest": latest,
        "ytd": tables["year_to_date"].to_dicts(),
        "n_claims": claims.height,
        "verdicts": verdict_counts(claims),
        "unverifiable": unverifiable_claims(claims),
    }


# Claim instruments that are no row of instruments.csv, as a reader should see them.
UNLISTED_NAMES = {
    "OTHER": "market not identified",
    "STOCK_CONNECT": "Stock Connect",
    "MSCI_CHINA": "MSCI China Index",
}


def unverifiable_claims(claims: pl.DataFrame) -> list[dict[str, Any]]:
    """Each unverifiable claim with the data that would settle it, from its instrument,
    kind and basis (the market snapshot lacks that series, that flow or that price basis)."""
    known = {i: ins.name for i, ins in reference.instruments().items()}
    series = {
        "HSTECH": "Hang Seng TECH index closes",
        "MSCI_CHINA": "MSCI China index closes",
    }
    rows = []
    for c in claims.filter(pl.col("verdict") == "unverifiable").iter_rows(named=True):
        when = c["claim_date"] or c["period_start"]
        if c["kind"] == "flow" or c["instrument"] == "STOCK_CONNECT":
            need = "Stock Connect southbound flow data (HKEX) for that day"
        elif c["instrument"] == "OTHER":
            need = "the market or company the figure is about, and its prices for those dates"
        elif c["basis"] == "adjusted" and c["unit"] != "percent":
            need = f"as-traded {known.get(c['instrument'], c['instrument'])} closes for that month"
        elif c["observed_value"] is not None:
            # the data is there; which session the figure is about is not
            need = "the article's publication time, to fix which session the figure is about"
        else:
            need = series.get(c["instrument"] or "", f"{c['instrument'] or 'market'} data")
            need += " for the article's dates"
        name = known.get(c["instrument"]) or series.get(c["instrument"] or "", "")
        name = name.removesuffix(" closes") or UNLISTED_NAMES.get(
            c["instrument"] or "", (c["instrument"] or "market").replace("_", " ")
        )
        rows.append({**c, "when": when, "need": need, "series": name})
    return rows


def headline(tables: dict[str, pl.DataFrame], as_of: str) -> str:
    """The headline finding, one line of Markdown."""
    ctx = story_context(tables, as_of)
    return _story_env().get_template("headline.md.j2").render(**ctx).strip()


def lede(tables: dict[str, pl.DataFrame], as_of: str) -> str:
    """Two or three sentences under the headline."""
    ctx = story_context(tables, as_of)
    text = _story_env().get_template("lede.md.j2").render(**ctx)
    return " ".join(text.split())


def cannot_verify(tables: dict[str, pl.DataFrame], as_of: str) -> str:
    """The "What we can't verify" list, Markdown bullets."""
    ctx = story_context(tables, as_of)
    return _story_env().get_template("cannot_verify.md.j2").render(**ctx).strip()


def plain(markdown: str) -> str:
    """Markdown text with its backslash escapes removed (for a Typst string literal)."""
    import re

    return re.sub(r"\\(.)", r"\1", markdown)


def key_number_items(tables: dict[str, pl.DataFrame], as_of: str) -> list[tuple[str, str]]:
    """Three (figure, what it measures) pairs: each listing's change this year and the
    strongest significant reaction to an article (or the latest close, when there is none)."""
    from pipeline.briefing import display

    ctx = story_context(tables, as_of)
    items = [
        (
            display.pct(r["change"]),
            f"{r['instrument']} since {display.day(r['base_date'], year=True)} "
            f"({r['basis']} closes, to {display.day(r['last_date'])})",
        )
        for r in ctx["ytd"]
    ]
    top = ctx["top"]
    if top:
        items.append(
            (
                display.pct(top["abnormal_ret"]),
                f"{top['instrument']} net of the {ctx['names'][top['benchmark']]} on "
                f"{display.day(top['event_date'])}, after the {top['label']} "
                f"(t = {display.signed(top['t_ar'])})",
            )
        )
    return items[:3]
