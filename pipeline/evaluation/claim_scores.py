"""Scoring the claims table against claim labels.

Matching rule (one label, at most one pipeline claim, and the other way round):

1. Same article: the claim's `article_id` leads through the articles table to `path`, which is
   the label's `file`.
2. Same value in the label's units, within the rounding the label was written with: the
   magnitudes differ by at most half a unit of the label's last written digit (label `13`
   matches 12.5..13.5; `141.90` matches 141.895..141.905). Both sides store a fall as a
   negative number (the labels README and `claims/extract.py` agree), but the sign is not part
   of the match: a claim whose sign is wrong was still found, and `sign right` and the verdict
   say what went wrong. The instrument is not part of the match either (it is scored).
3. Overlapping quotes: the two quotes share characters at the same place of the article's
   text (`quote_overlap`; where a quote is not found verbatim, their longest common
   substring must cover half the shorter one). This tells apart two equal numbers in one
   article ("18.5%" in the headline and again in the body).
4. One to one: pairs are taken best first (largest overlap over the shorter quote, then
   smallest value difference); a label or claim already taken is skipped.

Labels without a number cannot be matched this way and are counted apart. Labels whose
`expected_verdict` is `not_a_market_claim` are not in recall: they are checked instead for
amounts read as prices (see `amounts_read_as_prices`).
"""

from __future__ import annotations

import difflib
import unicodedata

import polars as pl

from pipeline.evaluation.labels import LABEL_KINDS
from pipeline.evaluation.metrics import OVERALL, count, counts_by_lang, rate, summarise
from pipeline.reference import instruments

# Pipeline (kind, stat, intraday qualifier?) -> label kind. `intraday` is true when the engine
# put the qualifier "intraday" or "as much as" on the claim, which is how it marks a session's
# extreme rather than its close. The claims engine is being rewritten and may rename its kinds:
# update this table. A pipeline kind that already is a label kind maps to itself; anything
# else becomes `unmapped:<kind>/<stat>` and counts as a wrong kind.
KIND_MAP: dict[tuple[str, str, bool], str] = {
    ("close_price", "close", False): "close_price",
    ("close_price", "close", True): "intraday_price",
    ("close_price", "period_high", False): "intraday_price",  # "up to a high of $x"
    ("close_price", "period_high", True): "intraday_price",
    ("close_price", "period_low", False): "intraday_price",
    ("close_price", "period_low", True): "intraday_price",
    ("pct_change_day", "day", False): "pct_change_day",
    ("pct_change_day", "day", True): "intraday_move",
    ("pct_change_ytd", "ytd", False): "pct_change_ytd",
    ("pct_change_ytd", "ytd", True): "pct_change_ytd",
    ("pct_change_mtd", "mtd", False): "pct_change_mtd",
    ("pct_change_mtd", "mtd", True): "pct_change_mtd",
    ("pct_change_period", "since", False): "pct_change_period",
    ("pct_change_period", "since", True): "pct_change_period",
    ("volume", "volume", False): "volume",
    ("volume", "volume", True): "volume",
    ("flow", "flow", False): "flow",
    ("record", "record", False): "other",  # "its biggest gain since 2022"
    ("record", "record", True): "other",
    ("flow", "flow", True): "flow",
}
INTRADAY_QUALIFIERS = ("intraday", "as much as", "as_much_as")
PRICE_KINDS = ("close_price", "intraday_price")
HUGE_PRICE = 1e6  # no share price or index level in the corpus comes near this


def label_kind(claims: pl.DataFrame) -> pl.DataFrame:
    """`claims` with `label_kind`: the pipeline's kind in the labels' vocabulary (KIND_MAP)."""
    table = pl.DataFrame(
        [(k, s, i, v) for (k, s, i), v in KIND_MAP.items()],
        schema={"kind": pl.String, "stat": pl.String, "intraday": pl.Boolean, "mapped": pl.String},
        orient="row",
    )
    if "stat" not in claims.columns:
        claims = claims.with_columns(stat=pl.lit(None, pl.String))
    qualifier = pl.col("qualifier") if "qualifier" in claims.columns else pl.lit(None)
    keyed = claims.with_columns(intraday=qualifier.is_in(INTRADAY_QUALIFIERS).fill_null(False))
    joined = keyed.join(table, on=["kind", "stat", "intraday"], how="left", nulls_equal=True)
    fallback = (
        pl.when(pl.col("kind").is_in(LABEL_KINDS))
        .then(pl.col("kind"))
        .otherwise(pl.format("unmapped:{}/{}", pl.col("kind"), pl.col("stat").fill_null("")))
    )
    return joined.with_columns(label_kind=pl.coalesce("mapped", fallback)).drop(
        "mapped", "intraday"
    )


def label_instrument(column: str) -> pl.Expr:
    """The pipeline's instrument in the labels' vocabulary: a listing or index of the reference
    table stays itself; anything else (ETFs, MSCI, Stock Connect, none) is `OTHER`."""
    named = [i for i, ins in instruments().items() if ins.kind in ("listing", "index")]
    return pl.when(pl.col(column).is_in(named)).then(pl.col(column)).otherwise(pl.lit("OTHER"))


def _plain(text: str | None) -> str:
    return " ".join(unicodedata.normalize("NFKC", text or "").casefold().split())


def _spans(text: str, quote: str) -> list[tuple[int, int]]:
    """Every place `quote` occurs in `text`, as (start, end)."""
    found, at = [], text.find(quote)
    while quote and at >= 0:
        found.append((at, at + len(quote)))
        at = text.find(quote, at + 1)
    return found


def quote_overlap(pair: dict) -> float:
    """How much two quotes of one article overlap, over the shorter one's length (0..1).

    Where both quotes occur in the article's text, this is where they lie: the most
    characters any occurrence of one shares with any occurrence of the other. Where one does
    not (a text the reader normalised differently), it is the longest common substring of
    the two quotes after NFKC, case-folding and collapsing spaces, counted only from half the
    shorter quote up (two quotes sharing just "8%" are not the same place). difflib is the
    standard library's matcher; Polars has no string-similarity expression. This runs only on
    pairs already in one article with one value: a few hundred.
    """
    a, b, text = pair["quote"] or "", pair["p_quote"] or "", pair["text"] or ""
    if not a or not b:
        return 0.0
    shorter = min(len(a), len(b))
    spans_a, spans_b = _spans(text, a), _spans(text, b)
    if spans_a and spans_b:
        shared = max(min(ea, eb) - max(sa, sb) for sa, ea in spans_a for sb, eb in spans_b)
        return max(shared, 0) / shorter
    pa, pb = _plain(a), _plain(b)
    m = difflib.SequenceMatcher(None, pa, pb, autojunk=False).find_longest_match(
        0, len(pa), 0, len(pb)
    )
    share = m.size / min(len(pa), len(pb))
    return share if share >= 0.5 else 0.0


def _with_overlap(pairs: pl.DataFrame, articles: pl.DataFrame) -> pl.DataFrame:
    """`pairs` with `overlap` (see `quote_overlap`), keeping those that overlap at all."""
    texts = articles.select(file="path", text="text")
    overlap = pl.struct("quote", "p_quote", "text").map_elements(
        quote_overlap, return_dtype=pl.Float64
    )
    with_text = pairs.join(texts, on="file", how="left")
    return with_text.with_columns(overlap=overlap).filter(pl.col("overlap") > 0).drop("text")


def pipeline_claims(claims: pl.DataFrame, articles: pl.DataFrame) -> pl.DataFrame:
    """Pipeline claims with `claim_row`, the article's `file` and label-vocabulary columns."""
    files = articles.select("article_id", file="path")
    mapped = label_kind(claims.with_row_index("claim_row")).join(files, on="article_id")
    return mapped.select(
        "claim_row",
        "file",
        p_quote="quote",
        p_value="value",
        p_instrument=label_instrument("instrument"),
        p_date="claim_date",
        p_kind="label_kind",
        p_verdict="verdict",
    )


def candidate_pairs(
    labels: pl.DataFrame, pipe: pl.DataFrame, articles: pl.DataFrame
) -> pl.DataFrame:
    """Label x pipeline-claim pairs in one article with the same value and overlapping quotes."""
    half_unit = 0.5 * pl.lit(10.0).pow(-pl.col("decimals").cast(pl.Float64))
    diff = (pl.col("p_value").abs() - pl.col("value").abs()).abs()
    pairs = (
        labels.filter(pl.col("value").is_not_null())
        .join(pipe, on="file")
        .with_columns(value_diff=diff)
        .filter(pl.col("value_diff") <= half_unit + 1e-9 * pl.col("value").abs())
    )
    return _with_overlap(pairs, articles)


def one_to_one(pairs: pl.DataFrame) -> pl.DataFrame:
    """Greedy assignment, best pair first: each round keeps the pairs that are the best of both
    their label and their claim, then drops every other pair touching those. Rounds, not rows."""
    ranked = pairs.sort(["overlap", "value_diff", "claim_row"], descending=[True, False, False])
    chosen = ranked.clear()
    while ranked.height:
        best = ranked.filter(
            (pl.int_range(pl.len()).over("label_id") == 0)
            & (pl.int_range(pl.len()).over("claim_row") == 0)
        )
        chosen = pl.concat([chosen, best])
        ranked = ranked.join(best.select("label_id"), on="label_id", how="anti").join(
            best.select("claim_row"), on="claim_row", how="anti"
        )
    return chosen


def claim_scores(
    claims: pl.DataFrame, articles: pl.DataFrame, claim_labels: pl.DataFrame
) -> pl.DataFrame:
    """One row per claim label with its matched pipeline claim (null columns when missed)
    and one boolean per field checked on a match."""
    pipe = pipeline_claims(claims, articles)
    matched = one_to_one(candidate_pairs(claim_labels, pipe, articles)).select(
        "label_id", *[c for c in pipe.columns if c != "file"], "overlap"
    )
    scored = claim_labels.join(matched, on="label_id", how="left")
    hit = pl.col("claim_row").is_not_null()
    return scored.with_columns(
        market=pl.col("expected_verdict") != "not_a_market_claim",
        has_value=pl.col("value").is_not_null(),
        matched=hit,
        instrument_right=pl.when(hit).then(pl.col("p_instrument") == pl.col("instrument")),
        date_right=pl.when(hit).then(pl.col("p_date").eq_missing(pl.col("date"))),
        kind_right=pl.when(hit).then(pl.col("p_kind") == pl.col("kind")),
        sign_right=pl.when(hit).then(pl.col("p_value").sign() == pl.col("value").sign()),
        verdict_right=pl.when(hit).then(pl.col("p_verdict") == pl.col("expected_verdict")),
        false_contradicted=hit
        & (pl.col("p_verdict") == "contradicted")
        & (pl.col("expected_verdict") == "supported"),
    )


def amounts_read_as_prices(
    claims: pl.DataFrame, articles: pl.DataFrame, claim_labels: pl.DataFrame
) -> pl.DataFrame:
    """Pipeline price claims that are really amounts, one row per pipeline claim.

    Two ways to be one: (a) it matches a label of kind `non_price_amount` or verdict
    `not_a_market_claim` with overlapping quotes and the same digits at any scale (misreading
    "RMB380 billion" as 380 is exactly the error looked for, so the scale is not compared);
    (b) its value is at least HUGE_PRICE, which no price in the corpus reaches.
    """
    pipe = pipeline_claims(claims, articles).filter(pl.col("p_kind").is_in(PRICE_KINDS))
    amounts = claim_labels.filter(
        (pl.col("kind") == "non_price_amount")
        | (pl.col("expected_verdict") == "not_a_market_claim")
    ).filter(pl.col("value").is_not_null() & (pl.col("value") != 0))
    ratio = (pl.col("value").abs() / pl.col("p_value").abs()).log10()
    same_digits = (ratio - ratio.round()).abs() < 1e-6
    pairs = amounts.join(pipe.filter(pl.col("p_value") != 0), on="file").filter(same_digits)
    by_label = _with_overlap(pairs, articles).group_by("claim_row").agg(pl.col("label_id").first())
    flagged = pipe.join(by_label, on="claim_row", how="left").with_columns(
        huge=pl.col("p_value").abs() >= HUGE_PRICE
    )
    return flagged.filter(pl.col("label_id").is_not_null() | pl.col("huge"))


def unmatched_claims(
    claims: pl.DataFrame, articles: pl.DataFrame, scores: pl.DataFrame
) -> pl.DataFrame:
    """Pipeline claims that no label matched (a number misread, or one that is no claim)."""
    pipe = pipeline_claims(claims, articles)
    return pipe.join(scores.select("claim_row").drop_nulls(), on="claim_row", how="anti")


def claim_summary(
    scores: pl.DataFrame, as_prices: pl.DataFrame, unmatched: pl.DataFrame, langs: list[str]
) -> pl.DataFrame:
    """The claim figures per language and overall (see `metrics.summarise`).

    `as_prices` and `unmatched` carry a `lang` column (the label file the article is in).
    """
    scored = pl.col("market") & pl.col("has_value")
    on_match = pl.col("market") & pl.col("matched")
    specs = [
        rate("claim recall", pl.col("matched"), scored),
        count("claim labels without a number", pl.col("market") & ~pl.col("has_value")),
        rate("instrument right", pl.col("instrument_right"), on_match),
        rate("claim date right", pl.col("date_right"), on_match),
        rate("kind right", pl.col("kind_right"), on_match),
        rate("sign right", pl.col("sign_right"), on_match),
        rate("verdict right", pl.col("verdict_right"), on_match),
        count("false contradicted", pl.col("false_contradicted") & pl.col("market")),
        count("non-market numbers made claims", ~pl.col("market") & pl.col("matched")),
    ]
    return pl.concat(
        [
            summarise(scores, specs),
            counts_by_lang(as_prices, "amounts read as prices", langs),
            counts_by_lang(unmatched, "pipeline claims matching no label", langs),
        ]
    )


def recall_by_kind(scores: pl.DataFrame) -> pl.DataFrame:
    """Recall per label kind, per language and overall; kinds a language lacks are left out."""
    scored = scores.filter(pl.col("market") & pl.col("has_value"))
    kinds = [k for k in LABEL_KINDS if k in set(scored["kind"])]
    specs = [rate(k, pl.col("matched"), pl.col("kind") == k) for k in kinds]
    return summarise(scored, specs).rename({"metric": "kind"}).filter(pl.col("den") > 0)


def verdict_confusion(scores: pl.DataFrame) -> pl.DataFrame:
    """Counts of label verdict (rows) x pipeline verdict (`missed` when no claim matched)."""
    scored = scores.filter(pl.col("market") & pl.col("has_value")).with_columns(
        p_verdict=pl.col("p_verdict").fill_null("missed")
    )
    both = pl.concat([scored, scored.with_columns(lang=pl.lit(OVERALL))])
    return (
        both.group_by("lang", "expected_verdict", "p_verdict")
        .agg(n=pl.len().cast(pl.Int64))
        .sort("lang", "expected_verdict", "p_verdict")
    )
