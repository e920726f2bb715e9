"""`python -m pipeline add URL... | --feed FEED_URL`: fetch article pages into the articles folder.

Each page is fetched politely (a user agent naming the pipeline, a timeout, robots.txt obeyed,
a pause between requests to one host) and stored byte for byte as `NAME.html`, with a sidecar
`NAME.meta.yml` holding `url`, `source`, `published_at`, `title` (from trafilatura's metadata,
which asks htmldate for the date) and `fetched_at`. The corpus reader does the rest on the next
build, exactly as for a page saved by hand.

A page is refused, with the reason, when it is already in the corpus (same URL, or the same
main text), is not HTML, is larger than the size limit, redirects in a loop or to another
site, or is disallowed by the site's robots.txt. Redirects are followed by hand (urllib's
handler would follow them off-site without asking). Feeds (RSS or Atom) are read with
feedparser; each entry's link is then added like a URL given on the command line.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import time
import urllib.error
import urllib.parse
import urllib.request
import urllib.robotparser
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from pipeline.corpus.articles import SIDECAR_SUFFIX, read_corpus
from pipeline.errors import InputError
from pipeline.io import write_bytes_atomic, write_text_atomic

USER_AGENT = "briefing-pipeline/0.1 (article fetcher; +https://example.invalid/alibaba-briefing/)"
TIMEOUT = 20.0
MAX_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 5
HTML_TYPES = ("text/html", "application/xhtml+xml")
FEED_TYPES = ("xml", "rss", "atom")


class Refused(Exception):
    """A page that is not added, and why (reported, not raised to the CLI)."""


@dataclass(frozen=True)
class Response:
    url: str  # after redirects
    content_type: str
    body: bytes


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        return None  # a 3xx becomes an HTTPError, handled by `Fetcher.get`


@dataclass
class Fetcher:
    """HTTP GETs with a user agent, a timeout, a size limit, robots.txt and a per-host pause."""

    delay: float = 1.0  # seconds between two requests to one host (Settings.fetch_delay)
    timeout: float = TIMEOUT
    max_bytes: int = MAX_BYTES
    _last: dict[str, float] = field(default_factory=dict)
    _robots: dict[str, urllib.robotparser.RobotFileParser] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._opener = urllib.request.build_opener(_NoRedirect)

    def get(self, url: str) -> Response:
        """The page at `url`, following same-site redirects; Refused with the reason."""
        seen = [url]
        for _ in range(MAX_REDIRECTS + 1):
            self.check_robots(url)
            status, location, response = self._get_once(url)
            if location is None:
                return response
            nxt = urllib.parse.urljoin(url, location)
            if not same_site(nxt, seen[0]):
                raise Refused(f"redirects off-site ({status} to {nxt})")
            if nxt in seen:
                raise Refused(f"redirect loop ({' -> '.join([*seen, nxt])})")
            seen.append(nxt)
            url = nxt
        raise Refused(f"more than {MAX_REDIRECTS} redirects ({' -> '.join(seen)})")

    def _get_once(self, url: str) -> tuple[int, str | None, Response | None]:
        self._pause(url)
        req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        try:
            with self._opener.open(req, timeout=self.timeout) as resp:
                return 200, None, self._read(url, resp)
        except urllib.error.HTTPError as exc:
            if exc.code in (301, 302, 303, 307, 308) and exc.headers.get("Location"):
                return exc.code, exc.headers["Location"], None
            raise Refused(f"HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise Refused(f"no answer ({getattr(exc, 'reason', exc)})") from None

    def _read(self, url: str, resp) -> Response:  # noqa: ANN001 - http.client response
        length = resp.headers.get("Content-Length")
        if length and length.isdigit() and int(length) > self.max_bytes:
            raise Refused(f"larger than the {self.max_bytes // 1024} KB limit ({length} bytes)")
        body = resp.read(self.max_bytes + 1)
        if len(body) > self.max_bytes:
            raise Refused(f"larger than the {self.max_bytes // 1024} KB limit")
        return Response(resp.geturl() or url, resp.headers.get("Content-Type", ""), body)

    def _pause(self, url: str) -> None:
        host = urllib.parse.urlsplit(url).netloc
        wait = self._last.get(host, -1e9) + self.delay - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._last[host] = time.monotonic()

    def check_robots(self, url: str) -> None:
        """Refused when the site's robots.txt disallows `url` for our user agent.

        urllib.robotparser does the matching; the file is fetched here (its own `read` has no
        timeout or user agent). No robots.txt (404) allows everything; 401/403 allow nothing.
        """
        parts = urllib.parse.urlsplit(url)
        root = f"{parts.scheme}://{parts.netloc}"
        if root not in self._robots:
            rp = urllib.robotparser.RobotFileParser(root + "/robots.txt")
            try:
                _, _, got = self._get_once(root + "/robots.txt")
                rp.parse((got.body if got else b"").decode("utf-8", "replace").splitlines())
            except Refused as exc:
                code = re.match(r"HTTP (\d+)", str(exc))
                if code and code[1] in ("401", "403"):
                    rp.disallow_all = True
                elif not (code and code[1].startswith("4")):
                    raise Refused(f"robots.txt could not be read: {exc}") from None
                else:
                    rp.allow_all = True
            self._robots[root] = rp
        if not self._robots[root].can_fetch(USER_AGENT, url):
            raise Refused("robots.txt disallows it")


def same_site(a: str, b: str) -> bool:
    """Same host, give or take `www.`, and no downgrade to another scheme than http(s)."""
    pa, pb = urllib.parse.urlsplit(a), urllib.parse.urlsplit(b)

    def host(p: urllib.parse.SplitResult) -> str:
        return (p.hostname or "").removeprefix("www.")

    return pa.scheme in ("http", "https") and host(pa) == host(pb) and pa.port == pb.port


# -- what is already in the corpus ----------------------------------------------------------


def normalised(text: str) -> str:
    """Text compared for "same article": lower case, words only, single spaces."""
    return " ".join(re.findall(r"\w+", text.lower()))


@dataclass
class Known:
    """URLs, main texts and file hashes of the articles already in the folder."""

    urls: set[str] = field(default_factory=set)
    texts: dict[str, str] = field(default_factory=dict)  # normalised text -> path
    hashes: dict[str, str] = field(default_factory=dict)  # sha256 of the file -> path

    @classmethod
    def of(cls, articles_dir: Path) -> Known:
        known = cls()
        files = [p for p in articles_dir.rglob("*") if p.is_file() and not p.name.startswith(".")]
        for p in files:
            known.hashes[hashlib.sha256(p.read_bytes()).hexdigest()] = p.name
        if not any(not p.name.endswith(SIDECAR_SUFFIX) for p in files):
            return known
        corpus = read_corpus(articles_dir).articles
        for path, url, text in corpus.select("path", "url", "text").iter_rows():
            if url:
                known.urls.add(url)
            if text:
                known.texts[normalised(text)] = path
        return known

    def duplicate(self, urls: list[str], body: bytes, text: str) -> str | None:
        for url in urls:
            if url in self.urls:
                return f"already in the corpus (same URL {url})"
        digest = hashlib.sha256(body).hexdigest()
        if digest in self.hashes:
            return f"already in the corpus (same bytes as {self.hashes[digest]})"
        if normalised(text) in self.texts:
            return f"already in the corpus (same text as {self.texts[normalised(text)]})"
        return None

    def remember(self, urls: list[str], body: bytes, text: str, name: str) -> None:
        self.urls.update(urls)
        self.hashes[hashlib.sha256(body).hexdigest()] = name
        self.texts[normalised(text)] = name


# -- adding pages ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    url: str
    path: Path | None = None  # the article written
    reason: str | None = None  # why it was refused
    meta: dict = field(default_factory=dict)

    @property
    def duplicate(self) -> bool:
        return bool(self.reason and self.reason.startswith("already in the corpus"))


def page_metadata(html: str, url: str, fetched_at: dt.datetime) -> dict:
    """The sidecar: url, source (site name, else the domain), published_at, title, fetched_at."""
    import trafilatura

    meta = trafilatura.extract_metadata(html, default_url=url)
    host = (urllib.parse.urlsplit(url).hostname or "").removeprefix("www.")
    values = {
        "url": url,
        "source": (meta.sitename if meta else None) or host,
        "published_at": meta.date if meta else None,
        "title": meta.title if meta else None,
        "fetched_at": fetched_at.isoformat(timespec="seconds"),
    }
    return {k: v for k, v in values.items() if v}


def article_name(url: str) -> str:
    """`<domain>-<hash of the URL>`: stable, unique per URL, safe on every filesystem."""
    host = (urllib.parse.urlsplit(url).hostname or "page").removeprefix("www.")
    host = re.sub(r"[^a-z0-9.-]", "-", host.lower())
    return f"{host}-{hashlib.sha256(url.encode()).hexdigest()[:12]}"


def add_page(url: str, articles_dir: Path, fetcher: Fetcher, known: Known) -> Outcome:
    """Fetch one page and write it with its sidecar, or say why not."""
    import trafilatura

    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        return Outcome(url, reason="not an http(s) URL")
    if url in known.urls:
        return Outcome(url, reason=f"already in the corpus (same URL {url})")
    try:
        got = fetcher.get(url)
        ctype = got.content_type.split(";")[0].strip().lower()
        if ctype not in HTML_TYPES:
            raise Refused(f"not an HTML page (Content-Type {got.content_type or 'missing'})")
        html = got.body.decode(_charset(got.content_type) or "utf-8", "replace")
        text = trafilatura.extract(html) or ""
        if not text.strip():
            raise Refused("no article text found on the page")
        urls = list(dict.fromkeys([url, got.url]))
        dup = known.duplicate(urls, got.body, text)
        if dup:
            raise Refused(dup)
    except Refused as exc:
        return Outcome(url, reason=str(exc))
    meta = page_metadata(html, got.url, dt.datetime.now(dt.UTC))
    name = article_name(got.url)
    sidecar = articles_dir / f"{name}{SIDECAR_SUFFIX}"
    # Sidecar first: a page is never in the folder without the metadata that came with it.
    write_text_atomic(yaml.safe_dump(meta, allow_unicode=True, sort_keys=False), sidecar)
    write_bytes_atomic(got.body, articles_dir / f"{name}.html")
    known.remember(urls, got.body, text, f"{name}.html")
    return Outcome(url, path=articles_dir / f"{name}.html", meta=meta)


def _charset(content_type: str) -> str | None:
    match = re.search(r"charset=([\w-]+)", content_type, re.I)
    return match[1] if match else None


def feed_links(feed_url: str, fetcher: Fetcher) -> list[str]:
    """The entry links of an RSS or Atom feed (feedparser); a bad feed is an InputError."""
    import feedparser

    try:
        got = fetcher.get(feed_url)
    except Refused as exc:
        raise InputError(f"feed not fetched: {exc}", feed_url) from None
    parsed = feedparser.parse(got.body)
    links = [e.get("link") for e in parsed.entries if e.get("link")]
    if not links and parsed.get("bozo"):
        raise InputError(
            f"not an RSS or Atom feed ({parsed.get('bozo_exception')})",
            feed_url,
            fix="give the feed's own URL (often /feed, /rss or /atom.xml)",
        )
    return [urllib.parse.urljoin(got.url, link) for link in links]


def add_articles(
    urls: list[str], feeds: list[str], articles_dir: Path, fetcher: Fetcher | None = None
) -> list[Outcome]:
    """Add every URL, then every entry of every feed; one outcome per page, in order."""
    fetcher = fetcher or Fetcher()
    if not articles_dir.is_dir():
        raise InputError("articles folder not found", articles_dir, fix="set BRIEFING_ARTICLES_DIR")
    known = Known.of(articles_dir)
    pages = list(urls)
    for feed in feeds:
        pages += feed_links(feed, fetcher)
    return [add_page(url, articles_dir, fetcher, known) for url in dict.fromkeys(pages)]
