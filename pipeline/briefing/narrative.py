"""Key findings and section prose, written from the tables through Jinja2 templates.

Every number in the prose is a value computed here from a table at render time; the templates
only place and format them. Change the data and the prose changes with it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from pipeline.briefing.charts import display_source, market_adjusted_moves
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
    env.filters["pct"] = lambda v, digits=1: f"{v * 100:+.{digits}f}%"
    env.filters["num"] = lambda v, digits=2: f"{v:,.{digits}f}"
    return env


def biggest_moves(
    abnormal_returns: pl.DataFrame, articles: pl.DataFrame, year: int, top: int = 3
) -> list[dict[str, Any]]:
    """The largest abnormal daily moves, each with the nearest article before it."""
    moves = market_adjusted_moves(abnormal_returns, year, top=top)
    dated = (
        articles.filter(pl.col("published_date").is_not_null())
        .select("title", display_source("publisher unknown"), pl.col("published_date"))
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
