"""The weekly recipe end to end: `make weekly` against a chart API and a news site on 127.0.0.1.

Everything it writes goes to a temporary folder (articles copy, market updates, tables, site,
editions, outbox); the servers answer with payloads written here. Slow: one full build, one
publish, one incremental build.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

from local_server import LocalServer, page
from test_add import article_html
from test_market_update import chart_route, snapshot_spx

from pipeline.config import PROJECT_ROOT, Settings

STORY = [
    "Alibaba said on Thursday it would raise its investment in cloud computing, sending its "
    "Hong Kong shares up 2.4% while the Hang Seng Index slipped 0.3%.",
    "The company told investors that demand for its AI models had doubled since the summer, "
    "but did not say how much the new data centres would cost.",
]


def test_make_weekly_runs_the_whole_recipe(tmp_path: Path) -> None:
    srv = LocalServer().start()
    srv.routes["/v8/finance/chart/"] = chart_route(snapshot_spx())
    srv.routes["/robots.txt"] = page("User-agent: *\nAllow: /\n", "text/plain")
    srv.routes["/news/cloud.html"] = page(
        article_html("Alibaba lifts cloud spending", "2025-11-20", STORY)
    )
    articles = tmp_path / "articles"
    shutil.copytree(PROJECT_ROOT / "data" / "articles", articles)
    updates = tmp_path / "market"
    env = dict(
        os.environ,
        BRIEFING_ARTICLES_DIR=str(articles),
        BRIEFING_MARKET_DIR=os.pathsep.join([str(Settings().market_dir), str(updates)]),
        BRIEFING_MARKET_UPDATE_DIR=str(updates),
        BRIEFING_MARKET_URL=srv.base + "/v8/finance/chart/{symbol}",
        BRIEFING_FETCH_DELAY="0",
        BRIEFING_PROCESSED_DIR=str(tmp_path / "processed"),
        BRIEFING_SITE_DIR=str(tmp_path / "_site"),
        BRIEFING_EDITIONS_DIR=str(tmp_path / "editions"),
        BRIEFING_OUTBOX=str(tmp_path / "outbox"),
        BRIEFING_RECIPIENTS=str(PROJECT_ROOT / "stakeholders.example.csv"),
        QUARTO="0",
    )
    env.pop("FORCE", None)

    def make(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["make", *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True
        )

    try:
        done = make("weekly", f"URL={srv.base}/news/cloud.html", "SINCE=2026-07-20")
    finally:
        srv.stop()
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    record = json.loads((updates / "PROVENANCE.json").read_text())
    assert "BABA.csv" in record["files"]
    assert len(list(articles.glob("*.html"))) == 1
    edition = (tmp_path / "_site" / "EDITION").read_text().strip()
    assert edition.startswith("2025-11-20-")  # the new article moved the as-of date
    assert (tmp_path / "editions" / edition).is_dir()
    assert edition in (tmp_path / "_site" / "report" / "editions.html").read_text()
    assert list((tmp_path / "outbox").glob("**/*.eml"))
    t0 = time.perf_counter()
    again = make("report")
    assert again.returncode == 0 and "nothing changed" in again.stdout
    assert time.perf_counter() - t0 < 5  # make and uv included; the check itself is < 1 s
