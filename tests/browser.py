"""Helpers for opening the built site in Debian's Chromium, headless, through Playwright.

The browser is the system `/usr/bin/chromium` (apt package `chromium`); `playwright install`
is never run. Every launch gets a fresh profile, and every page is watched for what a reader
would notice or a newsroom must not ship: console errors, uncaught exceptions, requests that
leave the site, charts that draw nothing.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 900}
# Vega's SVG renderer puts each drawn item of a data mark inside <g class="mark-... role-mark">;
# axes, legends and titles have other roles, so a chart with no data draws none of these.
MARK_ITEMS = "svg g.role-mark > *"
TOOLTIP = "#vg-tooltip-element"
ALLOWED_SCHEMES = ("file:", "data:", "blob:", "about:")


def unavailable_reason() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not CHROMIUM.is_file():
        return (
            f"{CHROMIUM} is missing: install Debian's browser with "
            "`apt-get install -y chromium` (make test does this)"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed in the venv (uv sync installs the dev group)"
    return None


@contextlib.contextmanager
def launch(viewport: dict[str, int] | None = None) -> Iterator[Any]:
    """A Playwright browser context on the system Chromium with a throw-away profile."""
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                profile,
                executable_path=str(CHROMIUM),
                args=CHROMIUM_ARGS,
                headless=True,
                viewport=viewport or VIEWPORT,
                accept_downloads=True,
            )
            context.set_default_timeout(10_000)
            try:
                yield context
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


@dataclass
class PageLog:
    """What happened while a page was open."""

    url: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)  # requests that tried to leave the site


def watch(page: Any, log: PageLog) -> None:
    """Record console errors and exceptions; abort and record every request off the site.

    Playwright's routes see file:// requests too, so everything the page loads passes here.
    """
    page.on(
        "console",
        lambda msg: log.console_errors.append(msg.text) if msg.type == "error" else None,
    )
    page.on("pageerror", lambda exc: log.page_errors.append(str(exc)))

    def route(r: Any) -> None:
        url = r.request.url
        log.requests.append(url)
        if url.startswith(ALLOWED_SCHEMES):
            r.continue_()
        else:
            log.blocked.append(url)
            r.abort()

    page.route("**/*", route)


def open_page(context: Any, path: Path, wait_charts_ms: int = 15_000) -> tuple[Any, PageLog]:
    """Open `path` from file:// with `watch` on, and wait until its charts have drawn.

    A chart that never draws is not an exception here: the caller inspects `chart_marks`.
    """
    page = context.new_page()
    log = PageLog(url=path.resolve().as_uri())
    watch(page, log)
    page.goto(log.url, wait_until="load")
    target = refresh_target(path)
    if target is not None:  # a forwarding page: settle on where it leads before looking
        page.wait_for_url(target.resolve().as_uri())
        page.wait_for_load_state("load")
    wait_for_charts(page, wait_charts_ms)
    return page, log


_REFRESH = re.compile(
    r"""<meta\s+http-equiv=["']?refresh["']?\s+content=["']\s*\d+\s*;\s*url=([^"'>]+)""",
    re.IGNORECASE,
)


def refresh_target(path: Path) -> Path | None:
    """The file a `<meta http-equiv="refresh">` page forwards to, or None."""
    m = _REFRESH.search(path.read_text(encoding="utf-8", errors="replace"))
    if m is None:
        return None
    return path.parent / m.group(1).strip().split("#")[0]


def wait_for_charts(page: Any, timeout_ms: int) -> bool:
    """True once every `.chart` holds an SVG with marks (or the page has no charts)."""
    try:
        page.wait_for_function(
            """sel => [...document.querySelectorAll('.chart')]
                 .every(c => c.querySelector(sel) !== null)""",
            arg=MARK_ITEMS,
            timeout=timeout_ms,
        )
        return True
    except Exception:  # Playwright's TimeoutError: reported by the caller as a chart failure
        return False


def chart_marks(page: Any) -> dict[str, int]:
    """Number of drawn mark items in each `.chart`, by its id."""
    return page.evaluate(
        """sel => Object.fromEntries([...document.querySelectorAll('.chart')].map(
               (c, i) => [c.id || `chart#${i}`, c.querySelectorAll(sel).length]))""",
        MARK_ITEMS,
    )


def mark_points(page: Any, chart_selector: str) -> list[tuple[float, float]]:
    """Screen points on the data marks of one chart: point-like marks first, then lines.

    A line's bounding-box centre is usually off the line, so lines use a point half-way
    along the path; symbols, bars and areas use their centre.
    """
    points = page.evaluate(
        """([chartSel, sel]) => {
            const chart = document.querySelector(chartSel);
            if (!chart) return [];
            const out = [];
            for (const el of chart.querySelectorAll(sel)) {
                const kind = (el.parentElement.getAttribute('class') || '');
                const lineLike = /mark-(line|rule|trail)/.test(kind);
                let x, y;
                if (lineLike && el.getTotalLength && el.getScreenCTM()) {
                    const p = el.getPointAtLength(el.getTotalLength() / 2);
                    const q = new DOMPoint(p.x, p.y).matrixTransform(el.getScreenCTM());
                    x = q.x; y = q.y;
                } else {
                    const r = el.getBoundingClientRect();
                    if (r.width === 0 && r.height === 0) continue;
                    x = r.x + r.width / 2; y = r.y + r.height / 2;
                }
                out.push([lineLike ? 1 : 0, x, y]);
            }
            out.sort((a, b) => a[0] - b[0]);
            return out.map(p => [p[1], p[2]]);
        }""",
        [chart_selector, MARK_ITEMS],
    )
    return [(float(x), float(y)) for x, y in points]


def hover_for_tooltip(page: Any, chart_selector: str, tries: int = 30) -> str | None:
    """Hover over marks of a chart until vega-embed's tooltip shows; its text, or None."""
    # Mouse coordinates only reach what is on screen: bring the chart into view first.
    page.locator(chart_selector).scroll_into_view_if_needed()
    for x, y in mark_points(page, chart_selector)[:tries]:
        page.mouse.move(x, y)
        try:
            page.wait_for_selector(f"{TOOLTIP}.visible", state="visible", timeout=400)
        except Exception:  # not over a mark with a tooltip: try the next one
            continue
        return page.inner_text(TOOLTIP)
    return None


def chart_spec(page: Any, chart_id: str) -> dict[str, Any]:
    """The Vega-Lite spec embedded next to a chart (`<script id="CHART-spec">`)."""
    text = page.evaluate(
        "id => { const s = document.getElementById(id + '-spec'); return s && s.textContent; }",
        chart_id,
    )
    if text is None:
        raise AssertionError(f"no embedded spec #{chart_id}-spec")
    return json.loads(text)


def download_link(page: Any, chart_id: str) -> Any:
    """The chart's own CSV download link: the first `p.chart-download` after the chart."""
    return page.locator(f'[id="{chart_id}"] ~ p.chart-download a[download]').first


def download_text(page: Any, link: Any, timeout_ms: int = 10_000) -> tuple[str, str]:
    """Click a download link as a reader would; returns (URL, file text)."""
    with page.expect_download(timeout=timeout_ms) as info:
        link.click()
    download = info.value
    return download.url, Path(download.path()).read_text(encoding="utf-8")


# ---- comparing a chart's CSV with the data in its spec ------------------------------------


def spec_datasets(spec: Any) -> list[list[dict[str, Any]]]:
    """Every inline dataset of a Vega-Lite spec: `data.values` anywhere and `datasets`."""
    found: list[list[dict[str, Any]]] = []

    def walk(node: Any, key: str | None) -> None:
        if isinstance(node, dict):
            if key == "data" and isinstance(node.get("values"), list):
                found.append(node["values"])
                return
            if key == "datasets":
                found.extend(v for v in node.values() if isinstance(v, list))
                return
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)

    walk(spec, None)
    return [rows for rows in found if rows and all(isinstance(r, dict) for r in rows)]


_ISO_T = re.compile(r"^(\d{4}-\d{2}-\d{2})T")


def norm_value(value: Any) -> Any:
    """One comparable form for a CSV cell and a JSON value: numbers as floats, null as ''."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return _round(float(value))
    text = str(value)
    try:
        return _round(float(text))
    except ValueError:
        return _ISO_T.sub(r"\1 ", text)


def _round(x: float) -> float | str:
    if math.isnan(x):
        return "NaN"
    return float(f"{x:.10g}")


def parse_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def compare_csv_to_spec(csv_rows: list[dict[str, str]], spec: dict[str, Any]) -> list[str]:
    """Problems with a chart's CSV against its spec's data; empty when the CSV is the data.

    A spec dataset whose fields are all CSV columns must match the CSV projected on those
    fields: every plotted row is in the CSV, and (for at least one dataset) the CSV holds no
    other rows. Layers with fields the CSV lacks (e.g. tooltips joined in) are not compared.
    """
    if not csv_rows:
        return ["the CSV has no rows"]
    columns = set(csv_rows[0])
    datasets = spec_datasets(spec)
    if not datasets:
        return ["the spec has no inline data to compare with"]
    problems, exact = [], False
    # A chart of stacked panels plots its data split across them: panels with the same fields
    # count as one dataset for the "no other rows" check.
    panels: dict[tuple[str, ...], set] = {}
    for n, rows in enumerate(datasets):
        fields = sorted({k for r in rows for k in r})
        if not set(fields) <= columns:
            continue
        plotted = {tuple(norm_value(r.get(f)) for f in fields) for r in rows}
        in_csv = {tuple(norm_value(r[f]) for f in fields) for r in csv_rows}
        union = panels.setdefault(tuple(fields), set())
        union |= plotted
        exact = exact or union == in_csv
        missing = plotted - in_csv
        if missing:
            problems.append(
                f"dataset {n} ({len(rows)} rows): {len(missing)} plotted rows not in the CSV, "
                f"e.g. {dict(zip(fields, sorted(missing, key=str)[0], strict=True))}"
            )
        exact = exact or in_csv == plotted
    if not exact and not problems:
        problems.append(
            f"no dataset of the spec matches the CSV (columns {sorted(columns)}; "
            f"datasets with fields {[sorted({k for r in d for k in r}) for d in datasets]})"
        )
    return problems


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG header (no imaging library needed)."""
    head = path.read_bytes()[:24]
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG")
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
