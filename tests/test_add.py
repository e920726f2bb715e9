"""`add`: article pages and a feed served from 127.0.0.1; the pages are written here."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml
from local_server import LocalServer, page

from pipeline.config import PROJECT_ROOT
from pipeline.corpus.articles import read_corpus
from pipeline.corpus.fetch import Fetcher, add_articles


def article_html(title: str, day: str, paragraphs: list[str], chrome: str = "") -> str:
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{title}</title>
<meta property="og:title" content="{title}">
<meta property="og:site_name" content="Harbour Ledger">
<meta property="article:published_time" content="{day}T08:00:00Z">
</head><body><nav>Home | Markets | {chrome}</nav>
<article><h1>{title}</h1>{body}</article><footer>Harbour Ledger {chrome}</footer></body></html>"""


FIRST = [
    "Alibaba Group reported that revenue at its cloud unit grew faster than analysts expected "
    "in the September quarter, helped by demand for artificial intelligence services.",
    "The shares rose 3.1% in Hong Kong trading on Friday, while the Hang Seng Index gained "
    "0.4%. The company also said it would keep spending heavily on data centres next year.",
    "Some investors worried that the spending would weigh on profit margins in 2026.",
]
SECOND = [
    "Chinese regulators met with several large platform companies this week to discuss "
    "pricing practices in online retail, according to people familiar with the talks.",
    "Alibaba and two rivals were asked to explain discounts offered during the November "
    "shopping festival. None of the companies commented on the meeting.",
]
PAGE_A = article_html("Cloud growth lifts Alibaba", "2025-11-14", FIRST)
PAGE_B = article_html("Regulators question platform pricing", "2025-11-20", SECOND)
PAGE_COPY = article_html("Cloud growth lifts Alibaba", "2025-11-14", FIRST, chrome="Syndicated")
FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>Harbour Ledger</title>
<link>/</link><description>News</description>
<item><title>Cloud growth</title><link>/news/a.html</link></item>
<item><title>Pricing</title><link>/news/b.html</link></item>
</channel></rss>"""


def redirect(to: str, status: int = 302):
    return lambda req: (status, {"Location": to}, b"")


@pytest.fixture
def site():
    srv = LocalServer().start()
    srv.routes.update(
        {
            "/robots.txt": page("User-agent: *\nDisallow: /private/\n", "text/plain"),
            "/news/a.html": page(PAGE_A),
            "/news/b.html": page(PAGE_B),
            "/news/copy.html": page(PAGE_COPY),
            "/private/secret.html": page(PAGE_B),
            "/data.json": page('{"not": "html"}', "application/json"),
            "/big.html": page(article_html("Big", "2025-11-14", ["word " * 20000])),
            "/loop1": redirect("/loop2"),
            "/loop2": redirect("/loop1"),
            "/away": redirect("http://example.invalid/news.html"),
            "/moved": redirect("/news/b.html", 301),
            "/gone.html": page("gone", status=404),
            "/feed.xml": page(FEED, "application/rss+xml"),
        }
    )
    yield srv
    srv.stop()


def fetcher(**kw) -> Fetcher:
    return Fetcher(delay=kw.pop("delay", 0), max_bytes=kw.pop("max_bytes", 50_000), **kw)


def test_a_page_is_stored_byte_for_byte_with_its_sidecar(tmp_path, site):
    [out] = add_articles([site.base + "/news/a.html"], [], tmp_path, fetcher())
    assert out.path is not None and out.reason is None
    assert out.path.read_bytes() == PAGE_A.encode("utf-8")
    meta = yaml.safe_load(out.path.with_name(out.path.stem + ".meta.yml").read_text())
    assert meta["url"] == site.base + "/news/a.html"
    assert meta["source"] == "Harbour Ledger"
    assert meta["title"] == "Cloud growth lifts Alibaba"
    assert meta["published_at"] == "2025-11-14"
    assert meta["fetched_at"][:4] >= "2025"
    [ua] = {r.headers["user-agent"] for r in site.requests}
    assert "briefing-pipeline" in ua
    # the corpus reads the new page like any saved one
    arts = read_corpus(tmp_path).articles
    row = arts.row(0, named=True)
    assert str(row["published_date"]) == "2025-11-14" and row["url"] == meta["url"]
    assert "cloud unit" in row["text"]
    assert not [i for i in row["issues"] if "fetched_at" in i]  # a known key, not a warning


def test_pages_already_in_the_corpus_are_refused(tmp_path, site):
    add_articles([site.base + "/news/a.html"], [], tmp_path, fetcher())
    again, copy = add_articles(
        [site.base + "/news/a.html", site.base + "/news/copy.html"], [], tmp_path, fetcher()
    )
    assert again.duplicate and "same URL" in again.reason
    assert copy.duplicate and "same text" in copy.reason
    assert len(list(tmp_path.glob("*.html"))) == 1


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/private/secret.html", "robots.txt disallows it"),
        ("/data.json", "not an HTML page (Content-Type application/json)"),
        ("/big.html", "larger than the 48 KB limit"),
        ("/loop1", "redirect loop"),
        ("/away", "redirects off-site (302 to http://example.invalid/news.html)"),
        ("/gone.html", "HTTP 404"),
    ],
)
def test_refusals_say_why_and_write_nothing(tmp_path, site, path, reason):
    [out] = add_articles([site.base + path], [], tmp_path, fetcher())
    assert out.path is None and reason in out.reason
    assert list(tmp_path.iterdir()) == []
    assert not any(r.path == "/example.invalid" for r in site.requests)


def test_same_site_redirects_are_followed_and_the_final_url_kept(tmp_path, site):
    [out] = add_articles([site.base + "/moved"], [], tmp_path, fetcher())
    assert out.path is not None and out.meta["url"] == site.base + "/news/b.html"
    assert out.path.read_bytes() == PAGE_B.encode("utf-8")


def test_requests_to_one_host_are_spaced(tmp_path, site):
    import time

    t0 = time.monotonic()
    urls = [site.base + "/news/a.html", site.base + "/news/b.html"]
    add_articles(urls, [], tmp_path, fetcher(delay=0.3))
    assert time.monotonic() - t0 >= 0.6  # robots.txt, then two pages, 0.3 s apart
    times = [r.at for r in site.requests]
    assert len(times) == 3  # robots.txt once
    # seen from the server thread, so allow for its scheduling on a busy machine
    assert all(b - a >= 0.15 for a, b in zip(times, times[1:], strict=False))


def test_a_feed_adds_its_entries_once(tmp_path, site):
    env = dict(os.environ, BRIEFING_ARTICLES_DIR=str(tmp_path), BRIEFING_FETCH_DELAY="0")
    cmd = [sys.executable, "-m", "pipeline", "add", "--feed", site.base + "/feed.xml"]
    first = subprocess.run(cmd, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    assert "2 added, 0 refused" in first.stdout
    assert len(list(tmp_path.glob("*.html"))) == 2
    second = subprocess.run(cmd, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    assert second.returncode == 0 and "0 added, 2 refused" in second.stdout
    assert second.stderr.count("already in the corpus") == 2
    bad = subprocess.run(
        [*cmd[:4], site.base + "/private/secret.html"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "robots.txt disallows it" in bad.stderr
    assert "Traceback" not in bad.stderr
