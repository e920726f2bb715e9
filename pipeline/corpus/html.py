"""Saved HTML pages: the main text (trafilatura) and the page's own metadata.

trafilatura finds the main text well, but its metadata keeps only the day of publication and
may take the title from `<title>` with the site's suffix. The publisher's own tags say more, so
they are read first: Open Graph / `article:*` meta tags, JSON-LD (`NewsArticle`), `<h1>`, and
`htmldate` (original date, not the update) when a page has no publication tag.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

PUBLISHED_META = (
    "article:published_time",
    "og:published_time",
    "datepublished",
    "pubdate",
    "publishdate",
    "publish-date",
    "parsely-pub-date",
    "dc.date.issued",
    "sailthru.date",
)


def html_to_text(html: str, path: Path) -> tuple[str, dict]:
    """(main text with the headline on top, metadata dict of source/url/title/published_at/...)."""
    import trafilatura

    doc = trafilatura.bare_extraction(html, with_metadata=True, include_comments=False)
    if doc is None:
        return "", {}
    d = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
    tags = page_metadata(html)
    meta = {}
    for key, src in (
        ("title", "title"),
        ("url", "url"),
        ("source", "sitename"),
        ("published_at", "date"),
        ("language", "language"),
        ("byline", "author"),
    ):
        if tags.get(key):
            meta[key] = tags[key]
        elif d.get(src):
            meta[key] = str(d[src])
    if "source" not in meta and d.get("hostname"):
        meta["source"] = str(d["hostname"])
    body = d.get("text") or ""
    if meta.get("title") and not body.startswith(meta["title"]):
        body = f"{meta['title']}\n\n{body}"
    return body, meta


def page_metadata(html: str) -> dict[str, str]:
    """Title, url, site name and publication time as the page's own tags state them."""
    from lxml import html as lxml_html

    try:
        tree = lxml_html.fromstring(html)
    except (ValueError, TypeError):  # lxml refuses empty or oddly encoded documents
        return {}
    metas = {}
    for m in tree.iter("meta"):
        key = (m.get("property") or m.get("name") or m.get("itemprop") or "").strip().lower()
        if key and m.get("content") and key not in metas:
            metas[key] = m.get("content").strip()
    ld = _json_ld_article(tree)
    h1 = next((" ".join(h.text_content().split()) for h in tree.iter("h1")), None)
    canonical = next(
        (
            ln.get("href")
            for ln in tree.iter("link")
            if (ln.get("rel") or "").lower() == "canonical"
        ),
        None,
    )
    published = next((metas[k] for k in PUBLISHED_META if metas.get(k)), None)
    published = published or _text(ld.get("datePublished")) or _htmldate(html)
    publisher = ld.get("publisher")
    out = {
        "title": metas.get("og:title") or _text(ld.get("headline")) or h1,
        "url": metas.get("og:url") or canonical or _text(ld.get("url")),
        "source": metas.get("og:site_name")
        or (_text(publisher.get("name")) if isinstance(publisher, dict) else _text(publisher))
        or metas.get("publisher"),
        "published_at": published,
        "language": (tree.get("lang") or "").strip() or None,
    }
    return {k: v for k, v in out.items() if v}


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _json_ld_article(tree) -> dict:
    """The first JSON-LD object that has a headline or datePublished (an article), else {}."""
    for script in tree.iter("script"):
        if (script.get("type") or "").lower() != "application/ld+json" or not script.text:
            continue
        try:
            data = json.loads(script.text)
        except ValueError:
            continue  # a broken JSON-LD block is the page's problem, not a reason to reject it
        items = data if isinstance(data, list) else data.get("@graph", [data])
        for item in items:
            if isinstance(item, dict) and ("headline" in item or "datePublished" in item):
                return item
    return {}


def _htmldate(html: str) -> str | None:
    """htmldate's original publication date-time, when it finds one with a time of day."""
    from htmldate import find_date

    found = find_date(
        html, original_date=True, extensive_search=False, outputformat="%Y-%m-%dT%H:%M:%S%z"
    )
    if not found:
        return None
    return found[:10] if re.search(r"T00:00:00$", found) else found
