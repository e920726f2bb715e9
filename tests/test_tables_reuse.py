"""Issue 15: a build whose market inputs did not change reads the market tables back.

On the real seeds and snapshot: the second build reuses them and gives the same bytes as a
fresh one; a changed market file, a changed as-of date, a table file altered on disk or
`force` each rebuild them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from pathlib import Path

import pytest

from pipeline.editions.edition import build_edition
from pipeline.tables import MARKET_TABLES, TABLE_NAMES


def _bytes(folder: Path) -> dict[str, bytes]:
    return {name: (folder / f"{name}.parquet").read_bytes() for name in TABLE_NAMES}


@pytest.fixture(scope="module")
def built_twice(tmp_path_factory, make_settings):
    tmp = tmp_path_factory.mktemp("reuse")
    settings = make_settings(tmp)
    first = build_edition(settings)
    first_bytes = _bytes(settings.processed_dir)
    second = build_edition(settings)
    return settings, first, first_bytes, second


def test_unchanged_market_inputs_reuse_the_market_tables_byte_for_byte(built_twice) -> None:
    settings, first, first_bytes, second = built_twice
    assert first.tables.reused == ()
    assert set(second.tables.reused) == set(MARKET_TABLES)
    assert _bytes(settings.processed_dir) == first_bytes
    assert second.edition.id == first.edition.id


def test_a_new_article_keeps_the_market_tables_and_rebuilds_the_rest(
    built_twice, tmp_path, make_settings
) -> None:
    settings, first, first_bytes, _ = built_twice
    articles = tmp_path / "articles"
    shutil.copytree(settings.articles_dir, articles)
    (articles / "new.txt").write_text(
        "Alibaba shares rise in Hong Kong\n\nAlibaba shares rose 1.2% in Hong Kong on Monday, "
        "after the company said its cloud unit had won new contracts.\n",
        encoding="utf-8",
    )
    (articles / "new.meta.yml").write_text(
        "source: example.org\npublished_at: '2025-11-17'\n", encoding="utf-8"
    )
    processed = tmp_path / "processed"
    shutil.copytree(settings.processed_dir, processed)
    with_article = dataclasses.replace(settings, articles_dir=articles, processed_dir=processed)
    built = build_edition(with_article)
    assert set(built.tables.reused) == set(MARKET_TABLES)
    assert built["articles"].height == first["articles"].height + 1
    fresh = build_edition(make_settings(tmp_path / "fresh", articles_dir=articles), reuse=False)
    assert fresh.tables.reused == ()
    assert _bytes(processed) == _bytes(tmp_path / "fresh" / "processed")


def test_changed_as_of_altered_file_or_force_rebuild_them(built_twice, tmp_path) -> None:
    settings, first, *_ = built_twice
    processed = tmp_path / "processed"
    shutil.copytree(settings.processed_dir, processed)
    here = dataclasses.replace(settings, processed_dir=processed)
    assert build_edition(here, reuse=False).tables.reused == ()
    earlier = dataclasses.replace(here, as_of=first.tables.as_of - dt.timedelta(days=1))
    assert build_edition(earlier).tables.reused == ()
    assert set(build_edition(earlier).tables.reused) == set(MARKET_TABLES)
    prices = processed / "prices.parquet"
    prices.write_bytes(prices.read_bytes()[:-1] + b"\0")  # not what the last build wrote
    rebuilt = build_edition(earlier)
    assert rebuilt.tables.reused == ()
    assert rebuilt["prices"].height > 0


def test_a_changed_market_file_rebuilds_them(built_twice, tmp_path) -> None:
    settings, first, *_ = built_twice
    market = tmp_path / "market"
    shutil.copytree(settings.market_dirs[0], market)
    provenance = market / "PROVENANCE.md"
    provenance.write_text(provenance.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    processed = tmp_path / "processed"
    shutil.copytree(settings.processed_dir, processed)
    moved = dataclasses.replace(settings, market_dir=market, processed_dir=processed)
    assert moved.market_dirs[0] == market
    assert build_edition(moved).tables.reused == ()
