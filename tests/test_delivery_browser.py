"""The stakeholder email as a reader sees it: each message's HTML part in Chromium at 360 and 600 px.

The messages are made by the real CLI (`python -m pipeline send`, dry run) from the real built
site (conftest `site_dir`) and the shipped `stakeholders.example.csv`. The chart travels as a
MIME part named by `cid:`; the test swaps the reference for a data: URI of that very part, so
the browser loads the image from the message and from nowhere else. Screenshots go to
`test-artifacts/email-<lang>-<width>.png`.
"""

from __future__ import annotations

import base64
import email
import email.policy
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from browser import PageLog, launch, unavailable_reason, watch
from site_fixtures import REPO_ROOT, artifacts_dir

WHY_NOT = unavailable_reason()
WIDTHS = (360, 600)
SITE_URL = "https://briefing.newsroom.test/alibaba/"
# What a reader must never see: internals leaking through a template.
LEAKS = re.compile(
    r"\b(null|None|nan|NaN|undefined)\b|[\w-]+\.(pdf|parquet|csv|json|j2|eml|png)\b|\{\{|\}\}"
)


@pytest.fixture(scope="module")
def outbox(site_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], str]:
    """The CLI's dry run on the built site: the .eml files and what it printed."""
    out = tmp_path_factory.mktemp("email-outbox")
    env = {**os.environ, "BRIEFING_SITE_DIR": str(site_dir), "BRIEFING_SITE_URL": SITE_URL}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "send",
            "--recipients",
            str(REPO_ROOT / "stakeholders.example.csv"),
            "--outbox",
            str(out),
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return sorted(out.rglob("*.eml")), done.stdout


def html_with_inline_image(msg: Any) -> str:
    """The HTML part, its cid: references replaced by data: URIs of the parts they name."""
    html = msg.get_body(("html",)).get_content()
    parts = {p["Content-ID"].strip("<>"): p for p in msg.walk() if p.get("Content-ID")}

    def data_uri(match: re.Match) -> str:
        part = parts[match[1]]
        payload = base64.b64encode(part.get_content()).decode()
        return f'src="data:{part.get_content_type()};base64,{payload}"'

    return re.sub(r'src="cid:([^"]+)"', data_uri, html)


def test_cli_writes_one_message_per_stakeholder(outbox) -> None:
    files, printed = outbox
    assert len(files) == 2 and "written: 2" in printed
    languages = [
        email.message_from_bytes(f.read_bytes(), policy=email.policy.default)["Content-Language"]
        for f in files
    ]
    assert languages == ["en", "de"]


def layout(page: Any) -> dict[str, Any]:
    """Overflowing elements, the image's state and the visible text, measured in the page."""
    return page.evaluate(
        """() => {
          const w = document.documentElement.clientWidth;
          const wide = [...document.body.querySelectorAll('*')]
            .filter(e => e.getBoundingClientRect().right > w + 0.5)
            .map(e => e.tagName + ' ' + Math.round(e.getBoundingClientRect().right));
          const img = document.querySelector('img');
          const h1 = document.querySelector('h1').getBoundingClientRect();
          return {width: w, scroll: document.documentElement.scrollWidth, wide,
                  img: img && {complete: img.complete, natural: img.naturalWidth, declared: +img.getAttribute('width'),
                               shown: img.getBoundingClientRect().width},
                  h1_bottom: h1.bottom, text: document.body.innerText};
        }"""
    )


@pytest.mark.skipif(WHY_NOT is not None, reason=WHY_NOT or "")
@pytest.mark.parametrize("width", WIDTHS)
def test_html_part_fits_and_shows_its_chart(outbox, width: int, tmp_path: Path) -> None:
    files, _ = outbox
    with launch({"width": width, "height": 900}) as context:
        for eml in files:
            msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
            language = msg["Content-Language"]
            page_file = tmp_path / f"email-{language}.html"
            page_file.write_text(html_with_inline_image(msg), encoding="utf-8")
            page = context.new_page()
            log = PageLog(url=page_file.as_uri())
            watch(page, log)
            page.goto(log.url, wait_until="load")
            got = layout(page)
            page.screenshot(path=artifacts_dir() / f"email-{language}-{width}.png", full_page=True)
            page.close()
            where = f"{language} at {width} px"
            assert got["scroll"] <= width and not got["wide"], (where, got["wide"][:5])
            # Drawn at scale 2: twice as many pixels as the width the message declares.
            img = got["img"]
            assert img["complete"] and img["natural"] == 2 * img["declared"] >= 1000, (where, img)
            assert 0 < got["img"]["shown"] <= width, where
            assert got["h1_bottom"] < 320, f"{where}: the headline is below the preview pane"
            assert not LEAKS.findall(got["text"]), (where, LEAKS.findall(got["text"]))
            assert not log.blocked and not log.console_errors and not log.page_errors, where
