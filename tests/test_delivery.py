"""Email delivery against a real SMTP server (aiosmtpd on 127.0.0.1), with TLS and AUTH."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import json
import shutil
import socket
import ssl
import subprocess
import threading
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from pipeline.editions.delivery import (
    Ledger,
    SmtpSettings,
    read_recipients,
    send_edition,
)
from pipeline.errors import InputError

EDITION_ID = "2025-11-14-0123abcd"
AS_OF = "2025-11-14"
USER, PASSWORD = "desk", "s3cret-Pa55word"
SITE_URL = "https://example.org/briefing/"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A small built site: manifest, PDF (every byte value, to catch encoding damage), findings."""
    d = tmp_path / "site"
    d.mkdir()
    (d / "manifest.json").write_text(json.dumps({"edition_id": EDITION_ID, "as_of": AS_OF}))
    (d / f"alibaba-briefing-{EDITION_ID}.pdf").write_bytes(
        b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
    )
    (d / "key_findings.json").write_text(
        json.dumps(
            ["Shares <script>alert(1)</script> & bonds moved", "Zweite Erkenntnis: Umsatz stieg"]
        )
    )
    return d


def write_recipients(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    lines = ["name,email,language"] + [",".join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


PEOPLE = [
    ("Ann Analyst", "ann@example.org", "en"),
    ("Bernd Berger", "bernd@example.de", "de"),
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
def settings(starttls_server, cert) -> SmtpSettings:
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
        site_url=SITE_URL,
        ledger_path=tmp_path / "sent.jsonl",
        sleep=kw.pop("sleep", sleeps.append),
        **kw,
    )
    return report, sleeps


# --------------------------------------------------------------------------- real SMTP


def test_starttls_auth_delivers_exact_pdf_subject_and_both_parts(
    site, tmp_path, settings, starttls_server
):
    box, _ = starttls_server
    report, _ = run(site, tmp_path, settings)
    assert report.ok and report.exit_code == 0
    assert report.count("sent") == len(PEOPLE)
    pdf = (site / f"alibaba-briefing-{EDITION_ID}.pdf").read_bytes()
    findings = json.loads((site / "key_findings.json").read_text())
    assert len(box.messages) == len(PEOPLE)  # one message per recipient
    for _name, address, _lang in PEOPLE:
        (msg,) = box.received(address)
        assert EDITION_ID in msg["Subject"]
        assert address in msg["To"]
        attachments = list(msg.iter_attachments())
        assert [a.get_filename() for a in attachments] == [f"alibaba-briefing-{EDITION_ID}.pdf"]
        assert attachments[0].get_content_type() == "application/pdf"
        assert attachments[0].get_content() == pdf
        text = msg.get_body(("plain",)).get_content()
        html = msg.get_body(("html",)).get_content()
        assert SITE_URL in text and f'href="{SITE_URL}"' in html
        for finding in findings:
            assert finding in text
        # Findings are data, not markup: HTML in them is escaped in the HTML part.
        assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp;" in html
    assert (
        "Wichtigste Ergebnisse"
        in box.received("bernd@example.de")[0].get_body(("plain",)).get_content()
    )
    # The ledger records each send; no secret goes into it.
    ledger = (tmp_path / "sent.jsonl").read_text()
    assert PASSWORD not in ledger
    assert Ledger(tmp_path / "sent.jsonl").state(EDITION_ID) == {
        a.lower(): "sent" for _, a, _ in PEOPLE
    }


def test_rerun_after_complete_send_sends_nothing(site, tmp_path, settings, starttls_server):
    box, _ = starttls_server
    run(site, tmp_path, settings)
    report, _ = run(site, tmp_path, settings)
    assert report.count("already_sent") == len(PEOPLE) and report.ok
    assert len(box.messages) == len(PEOPLE)


def test_transient_failure_midrun_then_resume_without_duplicates(
    site, tmp_path, settings, starttls_server
):
    box, _ = starttls_server
    box.defer = {"bernd@example.de", "cem@example.org"}
    report, sleeps = run(site, tmp_path, settings, max_attempts=3, backoff=0.5)
    assert [r.status for r in report.results] == ["sent", "failed", "failed"]
    assert report.exit_code == 1
    assert "451" in report.results[1].error and report.results[1].attempts == 3
    assert sleeps == [0.5, 1.0] * 2  # exponential backoff per recipient, injected sleep
    box.defer = set()
    report, _ = run(site, tmp_path, settings)
    assert [r.status for r in report.results] == ["already_sent", "sent", "sent"]
    assert report.ok
    for _, address, _ in PEOPLE:
        assert len(box.received(address)) == 1


def test_crash_during_backoff_then_resume_without_duplicates(
    site, tmp_path, settings, starttls_server
):
    box, _ = starttls_server
    box.defer = {"bernd@example.de"}

    def killed(_seconds: float) -> None:
        raise KeyboardInterrupt  # the process dies while waiting to retry

    with pytest.raises(KeyboardInterrupt):
        run(site, tmp_path, settings, sleep=killed)
    assert [rcpts for rcpts, _ in box.messages] == [["ann@example.org"]]
    box.defer = set()
    report, _ = run(site, tmp_path, settings)
    assert [r.status for r in report.results] == ["already_sent", "sent", "sent"]
    for _, address, _ in PEOPLE:
        assert len(box.received(address)) == 1


def test_transient_then_success_is_retried(site, tmp_path, settings, starttls_server):
    box, _ = starttls_server
    box.defer = {"ann@example.org"}
    calls: list[float] = []

    def heal(seconds: float) -> None:
        calls.append(seconds)
        box.defer = set()

    report, _ = run(site, tmp_path, settings, sleep=heal, backoff=0.25)
    assert report.ok and report.results[0].attempts == 2 and calls == [0.25]
    assert len(box.received("ann@example.org")) == 1


def test_refused_address_reported_others_delivered(site, tmp_path, settings, starttls_server):
    box, _ = starttls_server
    box.refuse = {"bernd@example.de"}
    report, sleeps = run(site, tmp_path, settings)
    assert [r.status for r in report.results] == ["sent", "failed", "sent"]
    assert "550" in report.results[1].error and report.results[1].attempts == 1
    assert sleeps == []  # permanent errors are not retried
    assert report.exit_code == 1
    assert "bernd@example.de" in report.summary()
    assert box.received("bernd@example.de") == []
    assert len(box.received("cem@example.org")) == 1


def test_wrong_password_fails_everyone_without_leaking_it(
    site, tmp_path, settings, starttls_server, caplog
):
    box, _ = starttls_server
    wrong = "not-the-Pa55word"
    bad = dataclasses.replace(settings, password=wrong)
    caplog.set_level("DEBUG")
    report, sleeps = run(site, tmp_path, bad)
    assert report.exit_code == 1 and report.count("failed") == len(PEOPLE)
    assert "535" in report.results[0].error
    assert all("535" in r.error for r in report.results)
    assert box.messages == [] and sleeps == []
    for text in (report.summary(), caplog.text, repr(bad), (tmp_path / "sent.jsonl").read_text()):
        assert wrong not in text and PASSWORD not in text


def test_untrusted_certificate_is_fatal(site, tmp_path, settings):
    untrusted = dataclasses.replace(settings, ca_file=None)
    report, sleeps = run(site, tmp_path, untrusted)
    assert report.count("failed") == len(PEOPLE) and sleeps == []
    assert "TLS" in report.results[0].error


def test_uncertain_send_is_not_repeated_unless_asked(site, tmp_path, settings, starttls_server):
    box, _ = starttls_server
    ledger = Ledger(tmp_path / "sent.jsonl")
    # What a run killed mid-transaction leaves behind: "sending" and nothing after it,
    # plus a torn final line.
    ledger.append(edition_id=EDITION_ID, email="ann@example.org", status="sending")
    with ledger.path.open("ab") as fh:
        fh.write(b'{"edition_id": "' + EDITION_ID.encode() + b'", "email": "cem@ex')
    report, _ = run(site, tmp_path, settings)
    assert [r.status for r in report.results] == ["uncertain", "sent", "sent"]
    assert report.exit_code == 1 and box.received("ann@example.org") == []
    report, _ = run(site, tmp_path, settings, resend_uncertain=True)
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


def test_dry_run_writes_eml_files_and_no_ledger(site, tmp_path):
    report, _ = run(site, tmp_path, None, send=False)
    assert report.dry_run and report.ok and report.count("written") == len(PEOPLE)
    assert not (tmp_path / "sent.jsonl").exists()
    pdf = (site / f"alibaba-briefing-{EDITION_ID}.pdf").read_bytes()
    assert [p.parent.name for p in report.outbox_files] == [EDITION_ID] * len(PEOPLE)
    for path, (_, address, _) in zip(report.outbox_files, PEOPLE, strict=True):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert address in msg["To"] and EDITION_ID in msg["Subject"]
        assert next(msg.iter_attachments()).get_content() == pdf


def test_missing_findings_are_named_in_the_body(site, tmp_path):
    (site / "key_findings.json").unlink()
    report, _ = run(site, tmp_path, None, send=False)
    msg = email.message_from_bytes(report.outbox_files[0].read_bytes(), policy=email.policy.default)
    assert (
        "key findings of this edition were not available" in msg.get_body(("plain",)).get_content()
    )
    assert "not available" in msg.get_body(("html",)).get_content()


def test_missing_pdf_is_an_input_error(site, tmp_path):
    (site / f"alibaba-briefing-{EDITION_ID}.pdf").unlink()
    with pytest.raises(InputError, match="PDF is missing"):
        run(site, tmp_path, None, send=False)


@pytest.mark.parametrize("bad_id", ["../../escape", "/tmp/x", "2025-11-14-zzzz"])
def test_manifest_id_that_is_not_an_edition_id_writes_nothing(site, tmp_path, bad_id):
    """The id names the outbox folder, so a tampered manifest must not steer a write."""
    (site / "manifest.json").write_text(json.dumps({"edition_id": bad_id, "as_of": AS_OF}))
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
        ("name,email,language\nAnn,ann@example.org,fr\n", 2, "not supported"),
        (
            "name,email,language\nAnn,ann@example.org,en\nANN,Ann@Example.org,en\n",
            3,
            "listed twice",
        ),
        ("name,email,language\n\nAnn,ann@example.org\n", 3, "expected 3 fields"),
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


# --------------------------------------------------------------------------- settings


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
