"""An edition's headline figures, as a small table of its own.

`key_numbers` is what the Editions page compares between two editions ("moved key numbers"),
so it is written with the other tables rather than recomputed from prose.
"""

from __future__ import annotations

from typing import Any

import polars as pl


def verdict_counts(claims: pl.DataFrame) -> dict[str, int]:
    counts = claims.group_by("verdict").agg(n=pl.len())
    found = dict(zip(counts["verdict"].to_list(), counts["n"].to_list(), strict=True))
    return {v: int(found.get(v, 0)) for v in ("supported", "contradicted", "unverifiable")}


def key_numbers(
    articles: pl.DataFrame, claims: pl.DataFrame, year_to_date: pl.DataFrame, as_of: str
) -> pl.DataFrame:
    """The headline figures of an edition (`name`, `value`, `unit`), compared across editions."""
    year = int(as_of[:4])
    rows: list[dict[str, Any]] = [
        {"name": "articles", "value": float(articles.height), "unit": "count"},
        {"name": "claims", "value": float(claims.height), "unit": "count"},
    ]
    rows += [
        {"name": f"claims {verdict}", "value": float(n), "unit": "count"}
        for verdict, n in verdict_counts(claims).items()
    ]
    for r in year_to_date.iter_rows(named=True):
        rows.append(
            {
                "name": f"{r['instrument']} last close",
                "value": r["last_traded"],
                "unit": r["currency"],
            }
        )
        rows.append(
            {
                "name": f"{r['instrument']} change in {year}",
                "value": r["change"] * 100,
                "unit": "percent",
            }
        )
    return pl.DataFrame(rows, schema={"name": pl.String, "value": pl.Float64, "unit": pl.String})
