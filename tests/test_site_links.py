"""The built site, read as files: every internal link resolves and nothing is fetched from outside.

The rule for external URLs: a page may *link* out (`<a href="https://...">` to an article's
source), but nothing it loads may come from elsewhere. So an http(s) or protocol-relative URL
in any `src`, `<link href>`, `srcset`, `url(...)`, `@import`, or a Vega spec's `data.url` is a
failure, as are `javascript:` URLs and root-absolute paths ("/x"), which break under file://.
No browser needed; tests/test_site_browser.py checks the same at run time.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from browser import refresh_target
from site_fixtures import html_pages

URL_ATTRS = {"src", "href", "srcset", "poster", "data", "action", "formaction", "background"}
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+?)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""")


@dataclass(frozen=True)
class Ref:
    """One URL a site file holds, and where: `kind` is "a" for a plain link, else "load"."""

    file: Path
    where: str  # e.g. '<script src>', 'url() in <style>'
    url: str
    kind: str


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.refs: list[tuple[str, str, str]] = []  # (where, url, kind)
        self.ids: set[str] = set()
        self._in: str | None = None
        self._json = False
        self.json_blocks: list[str] = []
        self.styles: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        for key in ("id", "name") if tag == "a" else ("id",):
            if a.get(key):
                self.ids.add(a[key])
        for name, value in a.items():
            if name == "srcset":
                for part in value.split(","):
                    if part.strip():
                        self.refs.append((f"<{tag} srcset>", part.split()[0], "load"))
            elif name in URL_ATTRS or name == "xlink:href":
                kind = "a" if tag == "a" and name == "href" else "load"
                self.refs.append((f"<{tag} {name}>", value.strip(), kind))
            elif name == "style":
                self.styles.append(value)
        if tag == "meta" and a.get("http-equiv", "").lower() == "refresh":
            m = re.search(r"url=(.+)$", a.get("content", ""), re.IGNORECASE)
            if m:
                self.refs.append(("<meta refresh>", m.group(1).strip(" '\""), "load"))
        self._in = tag if tag in ("style", "script") else None
        self._json = tag == "script" and a.get("type", "") == "application/json"

    def handle_endtag(self, tag: str) -> None:
        self._in, self._json = None, False

    def handle_data(self, data: str) -> None:
        if self._in == "style":
            self.styles.append(data)
        elif self._in == "script" and self._json:
            self.json_blocks.append(data)


def _spec_urls(node: object, key: str | None = None) -> list[str]:
    """`data.url` values anywhere in a Vega/Vega-Lite spec: loaded by the browser at run time."""
    if isinstance(node, dict):
        if key == "data" and isinstance(node.get("url"), str):
            return [node["url"]]
        return [u for k, v in node.items() for u in _spec_urls(v, k)]
    if isinstance(node, list):
        return [u for v in node for u in _spec_urls(v, key)]
    return []


def scan_html(path: Path) -> tuple[list[Ref], set[str]]:
    """Every URL in one HTML page and the fragment ids it defines."""
    parser = _Collector()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    refs = [Ref(path, where, url, kind) for where, url, kind in parser.refs]
    for css in parser.styles:
        refs += [Ref(path, "url() in a style", u, "load") for u in _css_urls(css)]
    for block in parser.json_blocks:
        try:
            spec = json.loads(block)
        except ValueError:
            continue
        refs += [Ref(path, "Vega data.url", u, "load") for u in _spec_urls(spec)]
    return refs, parser.ids


def _css_urls(text: str) -> list[str]:
    return [(m.group(1) or m.group(2)).strip() for m in CSS_URL.finditer(text)]


def site_refs(site: Path) -> tuple[list[Ref], dict[Path, set[str]]]:
    """All URLs in the site's pages and stylesheets, and each page's ids."""
    refs: list[Ref] = []
    ids: dict[Path, set[str]] = {}
    for page in html_pages(site):
        found, page_ids = scan_html(page)
        refs += found
        ids[page.resolve()] = page_ids
    for css in sorted(site.rglob("*.css")):
        text = css.read_text(encoding="utf-8", errors="replace")
        refs += [Ref(css, "url() in CSS", u, "load") for u in _css_urls(text)]
    return refs, ids


def _ids_of(path: Path, ids: dict[Path, set[str]]) -> set[str]:
    if path not in ids:
        ids[path] = scan_html(path)[1]
    return ids[path]


def check_refs(site: Path) -> tuple[list[str], list[str], int]:
    """(broken internal references, forbidden external ones, number of internal ones checked)."""
    refs, ids = site_refs(site)
    root = site.resolve()
    broken, external, internal = [], [], 0
    for ref in refs:
        where = f"{ref.file.relative_to(site)} {ref.where} {ref.url!r}"
        parts = urlsplit(ref.url)
        scheme = parts.scheme.lower()
        if scheme in ("http", "https") or ref.url.startswith("//"):
            if ref.kind != "a":
                external.append(f"{where}: loads from outside the site")
            continue
        if scheme == "javascript":
            external.append(f"{where}: javascript: URL")
            continue
        if scheme in ("mailto", "tel"):
            if ref.kind != "a":
                external.append(f"{where}: {scheme}: outside a link")
            continue
        if scheme == "data":
            continue
        if scheme:
            external.append(f"{where}: unexpected scheme {scheme}:")
            continue
        if parts.path.startswith("/"):
            broken.append(f"{where}: root-absolute path breaks under file://")
            continue
        internal += 1
        target = (ref.file.parent / unquote(parts.path)).resolve() if parts.path else ref.file
        target = target.resolve()
        if not target.is_relative_to(root):
            broken.append(f"{where}: points outside the site")
            continue
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            broken.append(f"{where}: no such file {target.relative_to(root)}")
            continue
        if parts.fragment and target.suffix == ".html":
            if unquote(parts.fragment) not in _ids_of(target, ids):
                broken.append(f"{where}: no id {parts.fragment!r} in {target.relative_to(root)}")
    return broken, external, internal


def test_every_internal_link_and_source_resolves(site_dir: Path) -> None:
    broken, _, internal = check_refs(site_dir)
    assert internal > 0, "no internal references found: is this a built site?"
    assert not broken, "\n".join(broken)


def test_no_page_loads_anything_from_outside_the_site(site_dir: Path) -> None:
    _, external, _ = check_refs(site_dir)
    assert not external, "\n".join(external)


def test_every_page_shows_the_edition(site_dir: Path) -> None:
    stamp = site_dir / "EDITION"
    assert stamp.is_file(), "post-render writes EDITION; was it run?"
    edition = stamp.read_text(encoding="utf-8").strip()
    assert edition
    missing = [
        p.relative_to(site_dir).as_posix()
        for p in html_pages(site_dir)
        if refresh_target(p) is None and edition not in p.read_text(encoding="utf-8")
    ]
    assert not missing, f"pages without edition {edition}: {missing}"


# ---- the checker finds what it should -----------------------------------------------------

BAD_PAGE = """<!DOCTYPE html><html><head>
<link rel="stylesheet" href="https://cdn.example.com/x.css">
<script src="//cdn.example.com/x.js"></script>
<style>body { background: url("https://cdn.example.com/bg.png"); }</style>
</head><body>
<h2 id="here">Here</h2>
<a href="https://www.reuters.com/article">source, allowed</a>
<a href="mailto:desk@example.com">mail, allowed</a>
<a href="#here">ok fragment</a>
<a href="#nowhere">bad fragment</a>
<a href="other.html#there">ok other</a>
<a href="missing.html">broken</a>
<a href="/abs.html">absolute</a>
<a href="javascript:alert(1)">js</a>
<img src="pic%20one.png" srcset="pic%20one.png 1x, https://cdn.example.com/p.png 2x">
<div style="background-image: url(http://cdn.example.com/s.png)"></div>
<script type="application/json">{"data": {"url": "https://cdn.example.com/d.csv"}}</script>
</body></html>
"""


def test_checker_flags_external_loads_and_broken_links(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "bad.html").write_text(BAD_PAGE, encoding="utf-8")
    (site / "other.html").write_text('<p id="there">x</p>', encoding="utf-8")
    (site / "pic one.png").write_bytes(b"")
    (site / "s.css").write_text("@import 'https://fonts.example.com/f.css';", encoding="utf-8")
    broken, external, _ = check_refs(site)
    flagged = " ".join(broken + external)
    for url in (
        "https://cdn.example.com/x.css",
        "//cdn.example.com/x.js",
        "https://cdn.example.com/bg.png",
        "https://cdn.example.com/p.png",
        "http://cdn.example.com/s.png",
        "https://cdn.example.com/d.csv",
        "https://fonts.example.com/f.css",
        "javascript:alert(1)",
        "#nowhere",
        "missing.html",
        "/abs.html",
    ):
        assert repr(url) in flagged, url
    assert len(broken) + len(external) == 11
    for allowed in ("reuters", "mailto", "'#here'", "other.html#there", "'pic%20one.png'"):
        assert allowed not in flagged, allowed


@pytest.mark.parametrize("url", ["../outside.html", "../../etc/passwd"])
def test_checker_flags_links_leaving_the_site(tmp_path: Path, url: str) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (tmp_path / "outside.html").write_text("x", encoding="utf-8")
    (site / "p.html").write_text(f'<a href="{url}">x</a>', encoding="utf-8")
    broken, _, _ = check_refs(site)
    assert broken and "outside the site" in broken[0]
