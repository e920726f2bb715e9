"""Email delivery against a real SMTP server (aiosmtpd on 127.0.0.1, STARTTLS + AUTH), built from
the default edition's real tables: languages, inline chart, refusals, size limit, the ledger."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.policy
import html as html_lib
import json
import re
import shutil
import socket
import ssl
import subprocess
import threading
from pathlib import Path

import polars as pl
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from pipeline.editions.mail import (
    Ledger,
    SmtpSettings,
    read_recipients,
    send_edition,
)
from pipeline.errors import InputError

EDITION_ID = "2025-11-14-0123abcd"
USER, PASSWORD = "desk", "s3cret-Pa55word"
SITE_URL = "https://briefing.newsroom.test/alibaba/"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# --------------------------------------------------------------------------- fixtures


def make_site(d: Path, processed: Path, as_of: str, edition_id: str = EDITION_ID) -> Path:
    """A built site as `send` reads it: manifest, the tables under data/, the PDF."""
    (d / "data").mkdir(parents=True)
    for table in processed.glob("*.parquet"):
        shutil.copyfile(table, d / "data" / table.name)
    (d / "manifest.json").write_text(json.dumps({"edition_id": edition_id, "as_of": as_of}))
    # Every byte value, to catch encoding damage to the attachment.
    (d / f"alibaba-briefing-{edition_id}.pdf").write_bytes(
        b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
    )
    return d


@pytest.fixture
def site(tmp_path: Path, tables, settings) -> Path:
    """The default edition's real tables (seed corpus, market snapshot) in a small site."""
    return make_site(tmp_path / "site", settings.processed_dir, tables.tables.as_of.isoformat())


def write_recipients(path: Path, rows: list[tuple[str, ...]], header="name,email,language") -> Path:
    lines = [header] + [",".join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


PEOPLE = [
    ("Ann Analyst", "ann@example.org", "en"),
    ('"Berger, Bernd"', "bernd@example.de", "de"),
    ("Cem Chef", "cem@example.org", "en"),
]


@pytest.fixture(scope="session")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Self-signed certificate for 127.0.0.1 made with the openssl CLI (no extra dependency)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl CLI not installed: cannot make a test certificate for STARTTLS")
    d = tmp_path_factory.mktemp("tls")
    crt, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(crt),
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return crt, key


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    """aiosmtpd handler: records deliveries, refuses or defers chosen addresses."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []
        self.refuse: set[str] = set()  # 550 at RCPT
        self.defer: set[str] = set()  # 451 at RCPT
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        if address in self.defer:
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted"

    def received(self, address: str) -> list[email.message.EmailMessage]:
        return [
            email.message_from_bytes(raw, policy=email.policy.default)
            for rcpts, raw in self.messages
            if address in rcpts
        ]


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
    # handled=False: let aiosmtpd answer 235 or "535 ... credentials invalid" itself.
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def starttls_server(cert):
    """SMTP on 127.0.0.1 that requires STARTTLS and then AUTH, like a real submission port."""
    crt, key = cert
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(crt, key)
    box = Mailbox()
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=ctx,
        require_starttls=True,
        auth_required=True,
        authenticator=authenticator,
    )
    controller.start()
    try:
        yield box, controller.port
    finally:
        controller.stop()


@pytest.fixture
def smtp_settings(starttls_server, cert) -> SmtpSettings:
    _, port = starttls_server
    env = {
        "BRIEFING_SMTP_HOST": "127.0.0.1",
        "BRIEFING_SMTP_PORT": str(port),
        "BRIEFING_SMTP_SECURITY": "starttls",
        "BRIEFING_SMTP_USER": USER,
        "BRIEFING_SMTP_PASSWORD": PASSWORD,
        "BRIEFING_SMTP_FROM": "briefing@example.org",
        "BRIEFING_SMTP_CA_FILE": str(cert[0]),
    }
    # A short timeout so a misbehaving exchange fails the test instead of hanging it.
    return dataclasses.replace(SmtpSettings.from_env(env), timeout=10.0)


def run(
    site: Path, tmp_path: Path, smtp: SmtpSettings | None, *, send: bool = True, people=PEOPLE, **kw
):
    sleeps: list[float] = []
    report = send_edition(
        site,
        write_recipients(tmp_path / "stakeholders.csv", people),
        tmp_path / "outbox",
        send=send,
        smtp=smtp,
        site_url=kw.pop("site_url", SITE_URL),
        ledger_path=tmp_path / "sent.jsonl",
        sleep=kw.pop("sleep", sleeps.append),
        **kw,
    )
    return report, sleeps


# --------------------------------------------------------------------------- real SMTP


MONTHS_DE = "Januar Februar März April Mai Juni Juli August September Oktober November Dezember"


def pct(value: float, language: str) -> str:
    """The headline change as each reader should see it, formatted here without Babel."""
    text = f"{value * 100:+.1f}%"
    return text.replace(".", ",").replace("%", "\u00a0%") if language == "de" else text


def long_date(d: dt.date, language: str) -> str:
    if language == "de":
        return f"{d.day}. {MONTHS_DE.split()[d.month - 1]} {d.year}"
    return f"{d:%B} {d.day}, {d.year}"


def parts(msg) -> dict:
    """Subject, text, HTML, the inline image named by the HTML's cid:, and the PDF bytes."""
    html_part = msg.get_body(("html",))
    html = html_part.get_content()
    cids = re.findall(r'src="cid:([^"]+)"', html)
    related = {
        p["Content-ID"].strip("<>"): p for p in msg.walk() if p.get("Content-ID") is not None
    }
    pdfs = [a for a in msg.iter_attachments() if a.get_content_type() == "application/pdf"]
    return {
        "subject": str(msg["Subject"]),
        "text": msg.get_body(("plain",)).get_content(),
        "html": html,
        "images": [related[c] for c in cids],
        "pdf": pdfs[0].get_content() if pdfs else None,
    }


def lead_change(site: Path) -> tuple[float, dt.date]:
    """The largest year-to-date change in the site's tables, and its date."""
    ytd = pl.read_parquet(site / "data" / "year_to_date.parquet")
    row = ytd.sort(pl.col("change").abs(), descending=True).row(0, named=True)
    return row["change"], row["last_date"]


# Words only one language uses: each reader's parts must show theirs and none of the other's.
OWN_WORDS = {
    "en": ["Dear ", "since the last close", "What we can't verify"],
    "de": ["Guten Tag ", "seit dem letzten Schlusskurs", "Was wir nicht prüfen können"],
}


def test_each_reader_gets_their_language_chart_and_pdf_over_starttls(
    site, tmp_path, smtp_settings, starttls_server, monkeypatch
):
    box, _ = starttls_server
    charts = spy_on_charts(monkeypatch)
    report, _ = run(site, tmp_path, smtp_settings)
    assert report.ok and report.count("sent") == len(PEOPLE) == len(box.messages)
    pdf = (site / f"alibaba-briefing-{EDITION_ID}.pdf").read_bytes()
    change, as_of = lead_change(site)
    for _name, address, language in PEOPLE:
        (msg,) = box.received(address)
        got = parts(msg)
        other = "de" if language == "en" else "en"
        assert msg["Content-Language"] == language and f'<html lang="{language}">' in got["html"]
        for part in ("subject", "text", "html"):
            body = html_lib.unescape(got[part]).replace("\u00a0", " ")
            assert pct(change, language).lstrip("+-").replace("\u00a0", " ") in body, part
            assert not any(w in body for w in OWN_WORDS[other]), (language, part)
        for part in ("text", "html"):
            body = html_lib.unescape(got[part])
            assert long_date(as_of, language) in body and OWN_WORDS[language][0] in body
            assert pct(change, language) in body  # the key number, signed
            assert SITE_URL + "report/" in body and EDITION_ID in body
        assert long_date(as_of, language) in got["subject"]
        # The chart: one inline PNG, the one the HTML names.
        (image,) = got["images"]
        assert image.get_content_type() == "image/png"
        assert image.get_content().startswith(PNG_SIGNATURE)
        assert got["pdf"] == pdf
        assert msg["List-Unsubscribe"] == "<mailto:briefing@example.org?subject=unsubscribe>"
        assert msg["Message-ID"].endswith("@example.org>") and msg["Date"]
    # "Berger, Bernd" is greeted by the name as said; the chart is labelled in German.
    assert "Guten Tag Bernd Berger," in parts(box.received("bernd@example.de")[0])["text"]
    assert box.received("bernd@example.de")[0]["To"].addresses[0].display_name == "Bernd Berger"
    axis = {lang: spec["encoding"]["y"]["title"] for spec, lang in charts}
    assert "Schlusskurs" in axis["de"] and "last close" in axis["en"]
    legends = {lang: {v["series"] for v in spec["data"]["values"]} for spec, lang in charts}
    assert any("Hongkong" in s for s in legends["de"])
    assert any("Hong Kong" in s for s in legends["en"])
    # The ledger records each send; no secret goes into it.
    ledger = (tmp_path / "sent.jsonl").read_text()
    assert PASSWORD not in ledger
    assert Ledger(tmp_path / "sent.jsonl").state(EDITION_ID) == {
        a.lower(): "sent" for _, a, _ in PEOPLE
    }


def spy_on_charts(monkeypatch) -> list[tuple[dict, str]]:
    """Record each chart spec and language the messages are drawn from (then draw it)."""
    from pipeline.editions.mail import message

    seen: list[tuple[dict, str]] = []
    real = message.chart_png

    def spy(spec: dict, language: str) -> bytes:
        seen.append((spec, language))
        return real(spec, language)

    monkeypatch.setattr(message, "chart_png", spy)
    return seen


def test_rerun_after_complete_send_sends_nothing(site, tmp_path, smtp_settings, starttls_server):
    box, _ = starttls_server
    run(site, tmp_path, smtp_settings)
    report, _ = run(site, tmp_path, smtp_settings)
    assert report.count("already_sent") == len(PEOPLE) and report.ok
    assert len(box.messages) == len(PEOPLE)


def test_transient_failure_midrun_then_resume_without_duplicates(
    site, tmp_path, smtp_settings, starttls_server
):
    box, _ = starttls_server
    box.defer = {"bernd@example.de", "cem@example.org"}
    report, sleeps = run(site, tmp_path, smtp_settings, max_attempts=3, backoff=0.5)
    assert [r.status for r in report.results] == ["sent", "failed", "failed"]
    assert report.exit_code == 1
    assert "451" in report.results[1].error and report.results[1].attempts == 3
    assert sleeps == [0.5, 1.0] * 2  # exponential backoff per recipient, injected sleep
    box.defer = set()
    report, _ = run(site, tmp_path, smtp_settings)
    assert [r.status for r in report.results] == ["already_sent", "sent", "sent"]
    assert report.ok
    for _, address, _ in PEOPLE:
        assert len(box.received(address)) == 1


def test_crash_during_backoff_then_resume_without_duplicates(
    site, tmp_path, smtp_settings, starttls_server
):
    box, _ = starttls_server
    box.defer = {"bernd@example.de"}

    def killed(_seconds: float) -> None:
        raise KeyboardInterrupt  # the process dies while waiting to retry

    with pytest.raises(KeyboardInterrupt):
        run(site, tmp_path, smtp_settings, sleep=killed)
    assert [rcpts for rcpts, _ in box.messages] == [["ann@example.org"]]
    box.defer = set()
    report, _ = run(site, tmp_path, smtp_settings)
    assert [r.status for r in report.results] == ["already_sent", "sent", "sent"]
    for _, address, _ in PEOPLE:
        assert len(box.received(address)) == 1


def test_transient_then_success_is_retried(site, tmp_path, smtp_settings, starttls_server):
    box, _ = starttls_server
    box.defer = {"ann@example.org"}
    calls: list[float] = []

    def heal(seconds: float) -> None:
        calls.append(seconds)
        box.defer = set()

    report, _ = run(site, tmp_path, smtp_settings, sleep=heal, backoff=0.25)
    assert report.ok and report.results[0].attempts == 2 and calls == [0.25]
    assert len(box.received("ann@example.org")) == 1


def test_refused_address_reported_others_delivered(site, tmp_path, smtp_settings, starttls_server):
    box, _ = starttls_server
    box.refuse = {"bernd@example.de"}
    report, sleeps = run(site, tmp_path, smtp_settings)
    assert [r.status for r in report.results] == ["sent", "failed", "sent"]
    assert "550" in report.results[1].error and report.results[1].attempts == 1
    assert sleeps == []  # permanent errors are not retried
    assert report.exit_code == 1
    assert "bernd@example.de" in report.summary()
    assert box.received("bernd@example.de") == []
    assert len(box.received("cem@example.org")) == 1


def test_wrong_password_fails_everyone_without_leaking_it(
    site, tmp_path, smtp_settings, starttls_server, caplog
):
    box, _ = starttls_server
    wrong = "not-the-Pa55word"
    bad = dataclasses.replace(smtp_settings, password=wrong)
    caplog.set_level("DEBUG")
    report, sleeps = run(site, tmp_path, bad)
    assert report.exit_code == 1 and report.count("failed") == len(PEOPLE)
    assert "535" in report.results[0].error
    assert all("535" in r.error for r in report.results)
    assert box.messages == [] and sleeps == []
    for text in (report.summary(), caplog.text, repr(bad), (tmp_path / "sent.jsonl").read_text()):
        assert wrong not in text and PASSWORD not in text


def test_untrusted_certificate_is_fatal(site, tmp_path, smtp_settings):
    untrusted = dataclasses.replace(smtp_settings, ca_file=None)
    report, sleeps = run(site, tmp_path, untrusted)
    assert report.count("failed") == len(PEOPLE) and sleeps == []
    assert "TLS" in report.results[0].error


def test_uncertain_send_is_not_repeated_unless_asked(
    site, tmp_path, smtp_settings, starttls_server
):
    box, _ = starttls_server
    ledger = Ledger(tmp_path / "sent.jsonl")
    # What a run killed mid-transaction leaves behind: "sending" and nothing after it,
    # plus a torn final line.
    ledger.append(edition_id=EDITION_ID, email="ann@example.org", status="sending")
    with ledger.path.open("ab") as fh:
        fh.write(b'{"edition_id": "' + EDITION_ID.encode() + b'", "email": "cem@ex')
    report, _ = run(site, tmp_path, smtp_settings)
    assert [r.status for r in report.results] == ["uncertain", "sent", "sent"]
    assert report.exit_code == 1 and box.received("ann@example.org") == []
    report, _ = run(site, tmp_path, smtp_settings, resend_uncertain=True)
    assert [r.status for r in report.results] == ["sent", "already_sent", "already_sent"]
    assert len(box.messages) == len(PEOPLE)


def test_implicit_tls_without_auth(site, tmp_path, cert):
    crt, key = cert
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(crt, key)
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port(), ssl_context=ctx)
    controller.start()
    try:
        smtp = SmtpSettings(
            host="127.0.0.1",
            port=controller.port,
            security="ssl",
            from_addr="briefing@example.org",
            ca_file=crt,
        )
        report, _ = run(site, tmp_path, smtp, people=PEOPLE[:1])
    finally:
        controller.stop()
    assert report.ok and len(box.received("ann@example.org")) == 1


# --------------------------------------------------------------------------- dry run


def read_eml(path: Path):
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def test_dry_run_writes_eml_files_and_no_ledger(site, tmp_path):
    when = dt.datetime(2025, 11, 20, 7, 30, tzinfo=dt.UTC)
    report, _ = run(site, tmp_path, None, send=False, now=when)
    assert report.dry_run and report.ok and report.count("written") == len(PEOPLE)
    assert not (tmp_path / "sent.jsonl").exists()
    pdf = (site / f"alibaba-briefing-{EDITION_ID}.pdf").read_bytes()
    assert [p.parent.name for p in report.outbox_files] == [EDITION_ID] * len(PEOPLE)
    first = [read_eml(p) for p in report.outbox_files]
    for msg, (_, address, _) in zip(first, PEOPLE, strict=True):
        assert address in msg["To"] and msg["Date"].datetime == when
        assert next(msg.iter_attachments()).get_content() == pdf
        assert msg["List-Unsubscribe"] == "<mailto:briefing@example.invalid?subject=unsubscribe>"
    # Message-ID is stable per edition and reader (a duplicate is recognisable), not per run.
    again, _ = run(site, tmp_path, None, send=False)
    ids = [m["Message-ID"] for m in first]
    assert [read_eml(p)["Message-ID"] for p in again.outbox_files] == ids
    assert len(set(ids)) == len(PEOPLE)


def test_unsubscribe_address_comes_from_the_environment_setting(site, tmp_path):
    report, _ = run(site, tmp_path, None, send=False, unsubscribe="mailto:leave@desk.test")
    msg = read_eml(report.outbox_files[0])
    assert msg["List-Unsubscribe"] == "<mailto:leave@desk.test?subject=unsubscribe>"
    assert "leave@desk.test" in msg.get_body(("plain",)).get_content()
    with pytest.raises(InputError, match="BRIEFING_SMTP_UNSUBSCRIBE"):
        run(site, tmp_path, None, send=False, unsubscribe="not an address")


def test_missing_table_names_the_file(site, tmp_path):
    (site / "data" / "year_to_date.parquet").unlink()
    with pytest.raises(InputError, match="year_to_date.parquet"):
        run(site, tmp_path, None, send=False)


@pytest.mark.parametrize(
    "url", ["https://example.invalid/alibaba-briefing/", "", "https://localhost/"]
)
def test_placeholder_site_url_is_refused_when_sending_and_nothing_is_sent(
    site, tmp_path, smtp_settings, starttls_server, url
):
    box, _ = starttls_server
    with pytest.raises(InputError, match="BRIEFING_SITE_URL") as err:
        run(site, tmp_path, smtp_settings, site_url=url)
    assert "export BRIEFING_SITE_URL=" in str(err.value)
    assert box.messages == []
    assert not (tmp_path / "sent.jsonl").exists()  # nothing marked sent, or even "sending"


def test_placeholder_site_url_in_a_dry_run_is_written_but_the_cli_says_so(site, tmp_path):
    report, _ = run(site, tmp_path, None, send=False, site_url="https://example.invalid/x/")
    assert report.count("written") == len(PEOPLE)
    assert "BRIEFING_SITE_URL" in report.summary()
    assert "BRIEFING_SITE_URL" not in run(site, tmp_path, None, send=False)[0].summary()


def headline_of(path: Path) -> str:
    return re.search(r"<h1[^>]*>(.*?)</h1>", read_eml(path).get_body(("html",)).get_content())[1]


def test_the_body_follows_a_changed_table(site, tmp_path):
    """Rewrite the tables the site ships: the headline, numbers and article follow them."""
    data = site / "data"
    ytd = pl.read_parquet(data / "year_to_date.parquet")
    pl.DataFrame(ytd).with_columns(
        change=pl.when(pl.col("instrument") == "BABA").then(-0.2345).otherwise(0.0512)
    ).write_parquet(data / "year_to_date.parquet")
    ar = pl.read_parquet(data / "abnormal_returns.parquet")
    year = ytd["last_date"].max().year
    move = ar.filter(pl.col("date").dt.year() == year).sort(
        pl.col("abnormal_ret").abs(), descending=True
    )["date"][0]
    articles = pl.read_parquet(data / "articles.parquet")
    articles.with_columns(
        published_date=pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.lit(move))
        .otherwise(pl.col("published_date")),
        title=pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.lit("Shares <b>slide</b> & bonds"))
        .otherwise(pl.col("title")),
    ).write_parquet(data / "articles.parquet")
    report, _ = run(site, tmp_path, None, send=False)
    en, de = report.outbox_files[0], report.outbox_files[1]
    assert "New York" in headline_of(en) and "down 23.4%" in headline_of(en)
    assert "-23,4\u00a0%" in headline_of(de)
    text = read_eml(en).get_body(("plain",)).get_content()
    assert "+5.1%" in text and "-23.4%" in text
    assert "“Shares <b>slide</b> & bonds”" in " ".join(text.split())  # unwrapped
    html = read_eml(en).get_body(("html",)).get_content()
    # Titles are data, not markup: escaped in the HTML part.
    assert "<b>slide</b>" not in html and "Shares &lt;b&gt;slide&lt;/b&gt; &amp; bonds" in html


def test_the_body_follows_another_edition(site, tmp_path, make_settings):
    """A different as-of date, built by the real pipeline: its numbers, not the default's."""
    from pipeline.editions.edition import build_edition

    earlier = make_settings(tmp_path / "earlier", as_of=dt.date(2025, 11, 4))
    built = build_edition(earlier)
    other = make_site(tmp_path / "site-earlier", earlier.processed_dir, "2025-11-04")
    change, as_of = lead_change(other)
    assert as_of == dt.date(2025, 11, 4) and built.tables.as_of == as_of
    assert change != lead_change(site)[0]
    report, _ = run(other, tmp_path, None, send=False)
    for path, (_, _, language) in zip(report.outbox_files, PEOPLE, strict=True):
        text = read_eml(path).get_body(("plain",)).get_content()
        assert pct(change, language) in text and long_date(as_of, language) in text
        assert pct(lead_change(site)[0], language) not in text


def test_too_big_a_message_links_the_pdf_and_the_cli_says_so(site, tmp_path):
    report, _ = run(site, tmp_path, None, send=False, max_bytes=50_000)
    msg = read_eml(report.outbox_files[0])
    assert [a.get_content_type() for a in msg.iter_attachments()] == []
    pdf_url = f"{SITE_URL}alibaba-briefing-{EDITION_ID}.pdf"
    assert pdf_url in msg.get_body(("plain",)).get_content()
    assert f'href="{pdf_url}"' in msg.get_body(("html",)).get_content()
    assert "linked, not attached" in report.summary()
    normal, _ = run(site, tmp_path, None, send=False)
    assert "linked" not in normal.summary()
    assert len(normal.outbox_files[0].read_bytes()) < 10 * 1024 * 1024


def test_unsupported_language_gets_english_and_the_cli_says_so(site, tmp_path):
    people = [("Jean Dupont", "jean@example.fr", "fr"), ("Ute Ulm", "ute@example.at", "de-AT")]
    report, _ = run(site, tmp_path, None, send=False, people=people)
    fr, at = (read_eml(p) for p in report.outbox_files)
    assert (
        fr["Content-Language"] == "en"
        and "Dear Jean Dupont," in fr.get_body(("plain",)).get_content()
    )
    assert at["Content-Language"] == "de"
    assert "jean@example.fr (line 2) asked for 'fr'" in report.summary()
    assert "ute@example.at" not in report.summary()


def test_salutation_column_wins_over_the_name(site, tmp_path):
    people = [
        ('"Muster, Erika"', "erika@example.de", "de", '"Liebe Erika,"'),
        ('"Doe, Jo"', "jo@example.org", "en", ""),
    ]
    path = write_recipients(tmp_path / "s.csv", people, header="name,email,language,salutation")
    report = send_edition(
        site,
        path,
        tmp_path / "outbox",
        send=False,
        smtp=None,
        site_url=SITE_URL,
        ledger_path=tmp_path / "sent.jsonl",
    )
    erika, jo = (read_eml(p).get_body(("plain",)).get_content() for p in report.outbox_files)
    assert erika.startswith("Liebe Erika,") and "Guten Tag" not in erika
    assert jo.startswith("Dear Jo Doe,")


def test_missing_pdf_is_an_input_error(site, tmp_path):
    (site / f"alibaba-briefing-{EDITION_ID}.pdf").unlink()
    with pytest.raises(InputError, match="PDF is missing"):
        run(site, tmp_path, None, send=False)


@pytest.mark.parametrize("bad_id", ["../../escape", "/tmp/x", "2025-11-14-zzzz"])
def test_manifest_id_that_is_not_an_edition_id_writes_nothing(site, tmp_path, bad_id):
    """The id names the outbox folder, so a tampered manifest must not steer a write."""
    (site / "manifest.json").write_text(json.dumps({"edition_id": bad_id, "as_of": "2025-11-19"}))
    with pytest.raises(InputError, match="not an edition id"):
        run(site, tmp_path, None, send=False)
    assert not (tmp_path / "outbox").exists()
    assert not (tmp_path / "sent.jsonl").exists()


# --------------------------------------------------------------------------- recipients


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        (
            "name,email,language\nAnn,ann@example.org,en\nBob,not-an-address,en\n",
            3,
            "not an email address",
        ),
        ("name,email,language\nAnn,ann@example.org,english\n", 2, "not a language code"),
        (
            "name,email,language\nAnn,ann@example.org,en\nBo,bo@example.org,xx\n",
            3,
            "not a language",
        ),
        (
            "name,email,language\nAnn,ann@example.org,en\nANN,Ann@Example.org,en\n",
            3,
            "listed twice",
        ),
        ("name,email,language\n\nAnn,ann@example.org\n", 3, "expected 3 fields"),
        ("name,email,language,salutation\nAnn,ann@example.org,en\n", 2, "expected 4 fields"),
        ("email,name,language\nAnn,ann@example.org,en\n", 1, "header"),
        ("name,email,language\n,ann@example.org,en\n", 2, "name is empty"),
    ],
)
def test_bad_recipients_file_names_the_line(tmp_path, body, line, message):
    path = tmp_path / "stakeholders.csv"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(InputError, match=message) as err:
        read_recipients(path)
    assert err.value.line == line and err.value.path == path
    assert f"stakeholders.csv:{line}:" in str(err.value)


def test_example_recipients_file_is_valid():
    path = Path(__file__).resolve().parent.parent / "stakeholders.example.csv"
    recipients = read_recipients(path)
    rows = path.read_text(encoding="utf-8").strip().splitlines()[1:]
    assert len(recipients) == len(rows)
    assert {r.language for r in recipients} == {"en", "de"}


def test_missing_recipients_file_says_how_to_fix(tmp_path):
    with pytest.raises(InputError, match="stakeholders.example.csv"):
        read_recipients(tmp_path / "stakeholders.csv")


# --------------------------------------------------------------------------- smtp_settings


BASE_ENV = {"BRIEFING_SMTP_HOST": "smtp.example.org", "BRIEFING_SMTP_FROM": "b@example.org"}


def test_settings_defaults_and_password_file(tmp_path):
    s = SmtpSettings.from_env(BASE_ENV)
    assert (s.security, s.port, s.user, s.password) == ("starttls", 587, None, None)
    secret = tmp_path / "pw"
    secret.write_text("from-a-file\n")
    s = SmtpSettings.from_env(
        {
            **BASE_ENV,
            "BRIEFING_SMTP_SECURITY": "ssl",
            "BRIEFING_SMTP_USER": "u",
            "BRIEFING_SMTP_PASSWORD_FILE": str(secret),
        }
    )
    assert (s.port, s.password) == (465, "from-a-file")
    assert "from-a-file" not in repr(s)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"BRIEFING_SMTP_HOST": ""}, "BRIEFING_SMTP_HOST"),
        ({"BRIEFING_SMTP_SECURITY": "tls1"}, "BRIEFING_SMTP_SECURITY"),
        ({"BRIEFING_SMTP_PORT": "five"}, "BRIEFING_SMTP_PORT"),
        ({"BRIEFING_SMTP_FROM": ""}, "BRIEFING_SMTP_FROM"),
        ({"BRIEFING_SMTP_USER": "u"}, "no password"),
        ({"BRIEFING_SMTP_PASSWORD": "hunter2-secret"}, "BRIEFING_SMTP_USER"),
        (
            {
                "BRIEFING_SMTP_USER": "u",
                "BRIEFING_SMTP_PASSWORD": "hunter2-secret",
                "BRIEFING_SMTP_SECURITY": "none",
            },
            "without TLS",
        ),
        (
            {
                "BRIEFING_SMTP_USER": "u",
                "BRIEFING_SMTP_PASSWORD": "hunter2-secret",
                "BRIEFING_SMTP_PASSWORD_FILE": "/nonexistent",
            },
            "only one",
        ),
    ],
)
def test_bad_settings_name_the_variable_not_the_secret(extra, message):
    with pytest.raises(InputError, match=message) as err:
        SmtpSettings.from_env({**BASE_ENV, **extra})
    assert "hunter2-secret" not in str(err.value)


def test_trigger_window_matches_the_sites_key_findings():
    """The email and the site must name the same article before a move."""
    from pipeline.briefing.narrative import TRIGGER_WINDOW_DAYS as site_window
    from pipeline.editions.mail.context import TRIGGER_WINDOW_DAYS as email_window

    assert email_window == site_window


def test_dry_run_without_a_recipients_file_uses_the_example_but_sending_does_not(
    site, tmp_path, smtp_settings
):
    shutil.copyfile(
        Path(__file__).resolve().parent.parent / "stakeholders.example.csv",
        tmp_path / "stakeholders.example.csv",
    )
    kw = dict(smtp=None, site_url=SITE_URL, ledger_path=tmp_path / "sent.jsonl")
    report = send_edition(
        site, tmp_path / "stakeholders.csv", tmp_path / "outbox", send=False, **kw
    )
    assert report.count("written") == 2 and "used stakeholders.example.csv" in report.summary()
    with pytest.raises(InputError, match="recipients file not found"):
        send_edition(
            site,
            tmp_path / "stakeholders.csv",
            tmp_path / "outbox",
            send=True,
            **{**kw, "smtp": smtp_settings},
        )
