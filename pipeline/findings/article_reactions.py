"""The `article_reactions` and `news_clusters` tables: which news moved the stock, in words.

The briefing's headline and lede are written from these two tables. `article_reactions` is the
event study (`events`) with one row per listing and event day (several articles on the same
trading day are one market reaction, not several), a label for the news taken from the
articles' own titles and terms, and a significance verdict. `news_clusters` groups the dated
articles into runs of coverage and records how each listing traded during each run.
"""

from __future__ import annotations

import polars as pl

from pipeline import reference

# Two articles further apart than this belong to different runs of coverage.
CLUSTER_GAP_DAYS = 14
# A two-sided p-value below this is called significant (5% level), as in the methodology.
SIGNIFICANCE = 0.05

# General newsroom topics, first match wins: the title is searched before the opening
# sentences. English, German and Chinese cues; no rule names a single article.
TOPICS: tuple[tuple[str, str], ...] = (
    ("White House memo", r"\bmemo\b|weißen? haus.{0,80}memo|备忘录"),
    (
        "espionage allegations",
        r"espionage|spionage|间谍|military ties|militär|volksbefreiungsarmee"
        r"|people.s liberation army|解放军",
    ),
    ("national-security review", r"national security|nationale sicherheit|国家安全"),
    ("investor outflows", r"exodus|outflows?\b|withdrawal|abfl[uü]ss|资金流出"),
    ("results", r"\bresults\b|earnings|quartalszahlen|quarterly|业绩|财报"),
    ("AI report", r"\bai\b|artificial intelligence|\bki\b|人工智能"),
    ("sanctions", r"sanction|sanktion|制裁"),
    ("delisting", r"delist|退市"),
    ("export controls", r"export control|exportkontroll|出口管制"),
)
OPENING_SENTENCES = 3
# A company named in at least this many sentences is one the story is about ("naming Apple").
PROTAGONIST_MENTIONS = 3
NAMED_TYPES = ("company", "person", "organisation")


def article_labels(
    articles: pl.DataFrame, sentences: pl.DataFrame, entities: pl.DataFrame
) -> pl.DataFrame:
    """`article_id`, `topic`, `named` (the company the article names most, besides the
    subject and its publisher) and `label` ("AI report naming Apple")."""
    opening = (
        sentences.filter(pl.col("sentence_idx") < OPENING_SENTENCES)
        .group_by("article_id")
        .agg(opening=pl.col("text").str.join(" "))
    )
    text = articles.select("article_id", "title", "source").join(
        opening, on="article_id", how="left"
    )
    topic_in = lambda col: pl.coalesce(  # noqa: E731 - one expression per text field
        *(
            pl.when(pl.col(col).str.contains("(?i)" + pattern)).then(pl.lit(name))
            for name, pattern in TOPICS
        )
    )
    topics = text.with_columns(topic=pl.coalesce(topic_in("title"), topic_in("opening"))).select(
        "article_id", "topic", "source"
    )
    return topics.join(_most_named(entities, topics), on="article_id", how="left").select(
        "article_id",
        "topic",
        "named",
        label=pl.when(pl.col("topic").is_not_null() & pl.col("named").is_not_null())
        .then(pl.col("topic") + pl.lit(" naming ") + pl.col("named"))
        .otherwise(pl.coalesce("topic", "named")),
    )


def _most_named(entities: pl.DataFrame, topics: pl.DataFrame) -> pl.DataFrame:
    """The company each article names most often (ties: the one named first), leaving out the
    subject of the briefing and the article's own publisher."""
    issuers = {ins.issuer for ins in reference.instruments().values() if ins.kind == "listing"}
    return (
        entities.filter((pl.col("type") == "company") & ~pl.col("entity").is_in(sorted(issuers)))
        .join(topics.select("article_id", "source"), on="article_id", how="left")
        .filter(pl.col("entity") != pl.col("source").fill_null(""))
        .group_by("article_id", "entity")
        .agg(n=pl.len(), first=pl.col("sentence_idx").min())
        .filter(pl.col("n") >= PROTAGONIST_MENTIONS)
        .sort(["article_id", "n", "first"], descending=[False, True, False])
        .group_by("article_id", maintain_order=True)
        .agg(named=pl.col("entity").first())
    )


def news_clusters_of(articles: pl.DataFrame) -> pl.DataFrame:
    """Each dated article's run of coverage: `article_id`, `cluster` (1 = earliest)."""
    dated = articles.filter(pl.col("published_date").is_not_null()).sort("published_date")
    gap = pl.col("published_date").diff().dt.total_days().fill_null(0) > CLUSTER_GAP_DAYS
    return dated.select("article_id", (gap.cum_sum() + 1).cast(pl.Int32).alias("cluster"))


def article_reactions(
    events: pl.DataFrame,
    articles: pl.DataFrame,
    sentences: pl.DataFrame,
    entities: pl.DataFrame,
) -> pl.DataFrame:
    """One row per listing and event day: the articles (publisher and date), their label, and
    the abnormal return with its t-statistic, p-value and verdict (`significant`)."""
    labels = article_labels(articles, sentences, entities)
    clusters = news_clusters_of(articles)
    who = articles.select(
        "article_id",
        "published_date",
        publisher=pl.col("source").fill_null("publisher not known"),
    )
    rows = (
        events.join(who, on=["article_id", "published_date"], how="left")
        .join(labels, on="article_id", how="left")
        .join(clusters, on="article_id", how="left")
        .sort("published_date", "article_id")
    )
    stats = ("ret", "benchmark", "benchmark_ret", "abnormal_ret", "t_ar", "p_ar")
    stats += ("car_m1_p1", "t_car_m1_p1", "p_car_m1_p1")
    return (
        rows.group_by("instrument", "event_date", maintain_order=True)
        .agg(
            pl.col("article_id").str.join("; ").alias("article_ids"),
            (pl.col("publisher") + pl.lit(", ") + pl.col("published_date").dt.strftime("%-d %b"))
            .str.join("; ")
            .alias("articles"),
            pl.col("label").drop_nulls().unique(maintain_order=True).str.join(" / "),
            pl.col("topic").drop_nulls().unique(maintain_order=True).str.join(" / "),
            pl.col("cluster").max(),
            pl.col("published_date").min().alias("first_published"),
            *(pl.col(c).first() for c in stats),
        )
        .with_columns(significant=(pl.col("p_ar") < SIGNIFICANCE).fill_null(False))
        .sort("event_date", "instrument")
    )


def news_clusters(
    articles: pl.DataFrame,
    sentences: pl.DataFrame,
    entities: pl.DataFrame,
    article_reactions: pl.DataFrame,
    abnormal_returns: pl.DataFrame,
    prices: pl.DataFrame,
) -> pl.DataFrame:
    """Per run of coverage and listing: its dates, article count, commonest label, the worst
    session in the run (return, abnormal return, t) and the close at its end (as traded where
    known: `end_close`, `end_close_date`, `currency`)."""
    clusters = news_clusters_of(articles).join(
        articles.select("article_id", "published_date"), on="article_id"
    )
    spans = clusters.group_by("cluster").agg(
        start=pl.col("published_date").min(),
        end=pl.col("published_date").max(),
        n_articles=pl.len(),
    )
    # The run's topics in the order they appeared, each once ("investor outflows; ...").
    topics = (
        clusters.join(article_labels(articles, sentences, entities), on="article_id", how="left")
        .sort("published_date")
        .group_by("cluster", maintain_order=True)
        .agg(topics=pl.col("topic").drop_nulls().unique(maintain_order=True).str.join("; "))
    )
    sessions = (
        spans.join(abnormal_returns, how="cross")
        .filter(pl.col("date").is_between(pl.col("start"), pl.col("end")))
        .sort("date")
    )
    worst = (
        sessions.sort("ret")
        .group_by("cluster", "instrument", maintain_order=True)
        .agg(pl.col("date", "ret", "abnormal_ret", "t_ar", "benchmark").first())
        .rename({"date": "worst_date", "ret": "worst_ret", "abnormal_ret": "worst_abnormal"})
        .rename({"t_ar": "worst_t"})
    )
    significant = article_reactions.group_by("cluster", "instrument").agg(
        n_significant=pl.col("significant").sum().cast(pl.Int64),
        max_abs_t=pl.col("t_ar").abs().max(),
    )
    closes = (
        prices.filter(~pl.col("placeholder").fill_null(False))
        .select(
            "instrument",
            "currency",
            end_close_date=pl.col("date"),
            end_close=pl.coalesce("close_traded", "close"),
        )
        .sort("end_close_date")
    )
    return (
        spans.join(topics, on="cluster", how="left")
        .join(worst, on="cluster", how="left")
        .join(significant, on=["cluster", "instrument"], how="left")
        .sort("instrument", "end")
        .join_asof(
            closes,
            left_on="end",
            right_on="end_close_date",
            by="instrument",
            check_sortedness=False,  # sorted within each instrument above
        )
        .sort("cluster", "instrument")
    )
