"""The tolerance table: which observed values support a claim, by qualifier and scale.

One list of rules drives both the verdicts (as a frame joined to the claims, `tolerance_bands`)
and the table the report prints (`tolerance_table`), so the two cannot drift apart. A band is
built on the claim's magnitude `a = |claimed|` with `half` = half a unit of its last written
digit:

    lo = a - (min(lo_rel * a, cap) + lo_halves * half)      hi = a + (min(hi_rel * a, cap) + hi_halves * half)

`cap` (in the claim's unit; none by default) keeps a relative slack from growing with the
figure: "about 2.5%" may be 2.3%, but "about 90%" is not 81% (a writer who saw 81% would
not round it to 90). An empty `lo_rel` or `hi_rel` leaves that end open, and a strict end excludes the bound.
Falls are mirrored (a claimed -4% gives [-4.0, -3.5] for "nearly").
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import polars as pl

ABOUT_PCT = 0.10  # "about 2.5%" -> +-0.25 pp plus rounding
ABOUT_PCT_CAP = 2.5  # ... but never more than +-2.5 pp: "about 90%" -> [87, 93]
ABOUT_PRICE = 0.05  # "around $310" -> +-5 % plus rounding
NEARLY = 0.125  # "nearly 4%" -> [3.5, 4.0]
OVER_CAP = 0.5  # "over 8%" -> (8, 12]: past half as much again, "over" misleads
EPS = 1e-9
SCALES = ("pct", "price", "multiple", "points", "shares")


@dataclass(frozen=True, kw_only=True)
class Rule:
    qualifier: str
    scales: tuple[str, ...]
    applies_to: str
    lo_rel: float | None
    lo_halves: float
    hi_rel: float | None
    hi_halves: float
    cap: float | None = None
    lo_strict: bool = False
    hi_strict: bool = False
    rule: str
    example: str = ""


def _about(
    scales: tuple[str, ...], rel: float, what: str, example: str, cap: float | None = None
) -> Rule:
    most = "" if cap is None else f" (at most {cap:g} + half unit)"
    return Rule(
        qualifier="about", scales=scales, applies_to=what, lo_rel=rel, lo_halves=1,
        hi_rel=rel, hi_halves=1, cap=cap,
        rule=f"|observed - claimed| <= {rel:.0%} of |claimed| + half unit{most}",
        example=example,
    )  # fmt: skip


AS_MUCH_AS = Rule(
    qualifier="as much as",
    scales=("pct", "points"),
    applies_to="intraday move",
    lo_rel=0,
    lo_halves=1,
    hi_rel=0,
    hi_halves=2,
    hi_strict=True,
    rule="the intraday extreme move (high or low vs previous close), rounded as an exact figure",
    example="as much as 9.2% -> intraday high move in [9.15, 9.3)",
)


RULES: tuple[Rule, ...] = (
    Rule(
        qualifier="exact",
        scales=("pct", "price", "multiple", "shares"),
        applies_to="any",
        lo_rel=0,
        lo_halves=1,
        hi_rel=0,
        hi_halves=2,
        hi_strict=True,
        rule="the claim is the observed value rounded or truncated to its last written "
        "digit: |claimed| - half unit <= |observed| < |claimed| + one unit, same sign",
        example="1.3% -> [1.25, 1.4); 38% -> [37.5, 39); $112.78 -> [112.775, 112.79)",
    ),
    Rule(
        qualifier="exact",
        scales=("points",),
        applies_to="index points",
        lo_rel=0,
        lo_halves=2,
        hi_rel=0,
        hi_halves=2,
        rule="Hong Kong press truncates index points: within one unit either side",
        example="540 points -> [539, 541]",
    ),
    _about(
        ("pct",),
        ABOUT_PCT,
        "percent change",
        "rund 2,5% -> [2.2, 2.8]; about 90% -> [87, 93]",
        cap=ABOUT_PCT_CAP,
    ),
    _about(("points",), ABOUT_PCT, "index points", "about 540 points -> [485.5, 594.5]"),
    _about(("price", "shares"), ABOUT_PRICE, "price level", "around $310 -> [294, 326]"),
    _about(("multiple",), ABOUT_PCT, "volume multiple", "about doubled -> [1.8, 2.2]"),
    Rule(
        qualifier="nearly",
        scales=SCALES,
        applies_to="any",
        lo_rel=NEARLY,
        lo_halves=0,
        hi_rel=0,
        hi_halves=0,
        rule=f"{1 - NEARLY:.3f} x |claimed| <= |observed| <= |claimed|, same sign",
        example="nearly 4% -> [3.5, 4.0]; nearly doubled -> [1.75, 2.0]",
    ),
    Rule(
        qualifier="over",
        scales=SCALES,
        applies_to="any",
        lo_rel=0,
        lo_halves=0,
        hi_rel=OVER_CAP,
        hi_halves=1,
        lo_strict=True,
        rule=f"|claimed| < |observed| <= {1 + OVER_CAP:g} x |claimed|, same sign (a writer who "
        "saw three times the figure would not say 'over')",
        example="over 8% -> (8, 12]",
    ),
    Rule(
        qualifier="under",
        scales=SCALES,
        applies_to="any",
        lo_rel=OVER_CAP,
        lo_halves=1,
        hi_rel=0,
        hi_halves=0,
        hi_strict=True,
        rule=f"{1 - OVER_CAP:g} x |claimed| <= |observed| < |claimed|, same sign",
        example="less than 2% -> [1, 2)",
    ),
    AS_MUCH_AS,
    replace(
        AS_MUCH_AS,
        qualifier="intraday",
        rule="as 'as much as'",
        example="zeitweise 9,2% -> intraday extreme in [9.15, 9.3)",
    ),
    Rule(
        qualifier="as much as",
        scales=("price", "multiple", "shares"),
        applies_to="level",
        lo_rel=ABOUT_PRICE,
        lo_halves=1,
        hi_rel=ABOUT_PRICE,
        hi_halves=1,
        rule="as 'about'",
    ),
    Rule(
        qualifier="intraday",
        scales=("price", "multiple", "shares"),
        applies_to="level",
        lo_rel=0,
        lo_halves=1,
        hi_rel=0,
        hi_halves=2,
        hi_strict=True,
        rule="an intraday level is checked against the session's low-high range, "
        "widened by the rounding of the written figure",
        example="zeitweise 180,16 Dollar -> supported if low <= 180.16 <= high",
    ),
    Rule(
        qualifier="at time of writing",
        scales=SCALES,
        applies_to="percent change",
        lo_rel=0,
        lo_halves=1,
        hi_rel=0,
        hi_halves=1,
        rule="the claimed move lies within the session's range (low to high vs previous "
        "close), widened by half a unit",
        example="as of writing up 3.38% -> supported if the day's low and high bracket +3.38%",
    ),
)
NOTES: tuple[tuple[str, str, str, str], ...] = (
    ("any", "sign", "a change in the opposite direction is contradicted whatever the size", ""),
    (
        "any",
        "adjusted-only price level",
        "outside the band -> unverifiable, not contradicted "
        "(dividend adjustment lowers old prices)",
        "low of around $64 in Oct 2022",
    ),
    (
        "any",
        "intraday level",
        "checked against the session's low-high range, not the close; the note says so",
        "zeitweise 180,16 Dollar",
    ),
)


def tolerance_table() -> pl.DataFrame:
    """The tolerance rules as a table the report can print (docs/methodology.md explains)."""
    rows = [(r.qualifier, r.applies_to, r.rule, r.example) for r in RULES] + list(NOTES)
    return pl.DataFrame(rows, schema=["qualifier", "applies_to", "rule", "example"], orient="row")


def tolerance_bands() -> pl.DataFrame:
    """The same rules as numbers, one row per (qualifier, scale), for joining to claims."""
    rows = [
        {
            "qualifier": r.qualifier, "scale": s, "lo_rel": r.lo_rel, "lo_halves": r.lo_halves,
            "hi_rel": r.hi_rel, "hi_halves": r.hi_halves, "cap": r.cap, "lo_strict": r.lo_strict,
            "hi_strict": r.hi_strict,
        }
        for r in RULES
        for s in r.scales
    ]  # fmt: skip
    return pl.DataFrame(rows, schema_overrides={"cap": pl.Float64}).unique(
        ["qualifier", "scale"], keep="first", maintain_order=True
    )


def band_exprs(value: pl.Expr, step: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(lo, hi) of the supported interval, from a frame joined to `tolerance_bands`."""
    a, half = value.abs(), step * 0.5
    cap = pl.col("cap").fill_null(float("inf"))
    lo_m = a - (pl.min_horizontal(pl.col("lo_rel") * a, cap) + pl.col("lo_halves") * half)
    hi_m = a + (pl.min_horizontal(pl.col("hi_rel") * a, cap) + pl.col("hi_halves") * half)
    lo_m = lo_m + pl.when(pl.col("lo_strict")).then(EPS).otherwise(-EPS)
    hi_m = hi_m + pl.when(pl.col("hi_strict")).then(-EPS).otherwise(EPS)
    neg = value < 0
    return (
        pl.when(neg).then(-hi_m).otherwise(lo_m),
        pl.when(neg).then(-lo_m).otherwise(hi_m),
    )


def band(value: float, qualifier: str, decimals: int, scale: str):
    """Interval of observed values that support one claim (the frame rule, for one value)."""
    frame = pl.DataFrame({"value": [float(value)], "step": [10.0 ** (-decimals)]})
    rules = tolerance_bands().filter(pl.col("qualifier") == qualifier, pl.col("scale") == scale)
    lo, hi = band_exprs(pl.col("value"), pl.col("step"))
    row = frame.join(rules, how="cross").select(lo.alias("lo"), hi.alias("hi")).row(0)
    return row[0], row[1]


def within(observed: float, lo: float | None, hi: float | None) -> bool:
    return (lo is None or observed >= lo) and (hi is None or observed <= hi)
