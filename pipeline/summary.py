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


def key_numbers(tables: dict[str, pl.DataFrame], as_of: str) -> pl.DataFrame:
    """The headline figures of an edition (`name`, `value`, `unit`), compared across editions."""
    year = int(as_of[:4])
    rows: list[dict[str, Any]] = [
        {"name": "articles", "value": float(tables["articles"].height), "unit": "count"},
        {"name": "claims", "value": float(tables["claims"].height), "unit": "count"},
    ]
    rows += [
        {"name": f"claims {verdict}", "value": float(n), "unit": "count"}
        for verdict, n in verdict_counts(tables["claims"]).items()
    ]
    closes = (
        tables["prices"]
        .filter(
            pl.col("instrument").is_in(["BABA", "9988.HK"]) & (pl.col("date").dt.year() == year)
        )
        .sort("date")
        .group_by("instrument", maintain_order=True)
        .agg(
            first=pl.col("close").first(),
            last=pl.col("close").last(),
            currency=pl.col("currency").last(),
        )
        .sort("instrument")
    )
    for r in closes.iter_rows(named=True):
        rows.append(
            {"name": f"{r['instrument']} last close", "value": r["last"], "unit": r["currency"]}
        )
        rows.append(
            {
                "name": f"{r['instrument']} change in {year}",
                "value": (r["last"] / r["first"] - 1) * 100,
                "unit": "percent",
            }
        )
    return pl.DataFrame(rows, schema={"name": pl.String, "value": pl.Float64, "unit": pl.String})
