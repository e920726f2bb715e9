"""Exact and near-duplicate articles (syndicated copies), found in linear time.

Exact duplicates share the normalised text. Near duplicates share >= NEAR_DUP_THRESHOLD of
their normalised paragraphs (Jaccard): syndicated copies keep the paragraphs and change the
chrome around them. Candidates come from a 24-hash MinHash with 6 LSH bands of 4, and are
verified with the exact Jaccard, so cost stays linear in the corpus.
"""

from __future__ import annotations

import polars as pl

NEAR_DUP_THRESHOLD = 0.8
N_HASH, BAND_ROWS = 24, 4


def find_duplicates(
    df: pl.DataFrame, threshold: float = NEAR_DUP_THRESHOLD, paragraphs: pl.DataFrame | None = None
) -> pl.DataFrame:
    """duplicate_of for every article: null for kept ones, else the kept copy's article_id.

    `df` needs article_id, text (paragraphs separated by newlines) and rank (lower = preferred
    copy). `paragraphs` (article_id, h = hash of the lower-cased paragraph) saves re-splitting
    the texts.
    """
    base = df.select("article_id", "rank", key=pl.col("text").str.to_lowercase().hash(11))
    exact = (
        base.sort("rank")
        .with_columns(keep=pl.col("article_id").first().over("key"))
        .filter(pl.col("keep") != pl.col("article_id"))
        .select(a="article_id", b="keep")
    )
    reps = (
        base.sort("rank")
        .unique("key", keep="first", maintain_order=True)
        .select("article_id", "rank")
    )
    if paragraphs is None:
        paragraphs = (
            df.select("article_id", p=pl.col("text").str.split("\n"))
            .explode("p")
            .filter(pl.col("p").str.strip_chars() != "")
            .select("article_id", h=pl.col("p").str.strip_chars().str.to_lowercase().hash(3))
        )
    paras = paragraphs.join(reps.select("article_id"), on="article_id", how="semi").unique()
    near = _near_pairs(paras, reps, threshold)
    rank = dict(zip(df["article_id"].to_list(), df["rank"].to_list(), strict=True))
    dup = _groups(pl.concat([exact, near]), rank)
    return df.select("article_id").with_columns(
        duplicate_of=pl.col("article_id")
        .replace_strict(dup, default=None, return_dtype=pl.String)
        .pipe(lambda d: pl.when(d != pl.col("article_id")).then(d))
    )


def _near_pairs(paras: pl.DataFrame, reps: pl.DataFrame, threshold: float) -> pl.DataFrame:
    """(a, b) pairs of articles whose paragraph sets have Jaccard >= threshold; b ranks first."""
    sig = (
        paras.group_by("article_id")
        .agg(n=pl.len(), **{f"m{i}": pl.col("h").hash(100 + i).min() for i in range(N_HASH)})
        .join(reps, on="article_id")
    )
    cand = []
    for band in range(N_HASH // BAND_ROWS):
        cols = [f"m{i}" for i in range(band * BAND_ROWS, (band + 1) * BAND_ROWS)]
        cand.append(
            sig.with_columns(bk=pl.struct(cols).hash(band))
            .sort("rank")
            .with_columns(head=pl.col("article_id").first().over("bk"))
            .filter(pl.col("head") != pl.col("article_id"))
            .select(a="article_id", b="head")
        )
    cands = pl.concat(cand).unique()
    if cands.height == 0:
        return cands
    n = sig.select("article_id", "n")
    inter = (
        cands.join(paras, left_on="a", right_on="article_id")
        .join(paras, left_on=["b", "h"], right_on=["article_id", "h"])
        .group_by("a", "b")
        .agg(inter=pl.len())
    )
    shared = pl.col("inter").fill_null(0)
    return (
        cands.join(inter, on=["a", "b"], how="left")
        .join(n.rename({"n": "na"}), left_on="a", right_on="article_id")
        .join(n.rename({"n": "nb"}), left_on="b", right_on="article_id")
        .filter(shared / (pl.col("na") + pl.col("nb") - shared) >= threshold)
        .select("a", "b")
    )


def _groups(pairs: pl.DataFrame, rank: dict[str, int]) -> dict[str, str]:
    """Union-find over the (few) matched pairs: each member -> the best-ranked member."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    for a, b in pairs.iter_rows():
        ra, rb = find(a), find(b)
        if ra != rb:
            if rank[ra] <= rank[rb]:
                parent[rb] = ra
            else:
                parent[ra] = rb
    return {x: find(x) for x in parent}
