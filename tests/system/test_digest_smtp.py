"""The digest sent to a real SMTP server on loopback (aiosmtpd): what arrives, STARTTLS with a
certificate that must be trusted explicitly, a refused password, and one send per period whatever
triggers it (the service, `run --once`, `digest --send`), each recorded in the store."""

from __future__ import annotations

import email
import email.policy
import shutil
import ssl
from pathlib import Path

import pytest

from tests.helpers import REPO, tiekeeper
from tests.servers import free_port, make_cert

aiosmtpd = pytest.importorskip("aiosmtpd", reason="pip install -e '.[test]' installs aiosmtpd")
from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.smtp import AuthResult, LoginPassword  # noqa: E402


class Capture:
    def __init__(self) -> None:
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.envelopes.append(envelope)
        return "250 OK"


def _auth(server, session, envelope, mechanism, data):
    ok = isinstance(data, LoginPassword) and data.login == b"alice" and data.password == b"secret"
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def home(tmp_path):
    shutil.copytree(REPO / "sample", tmp_path / "sample")
    return tmp_path


def _config(home, smtp: str) -> None:
    text = (REPO / "config.example.toml").read_text().replace('path = "out/digest.eml"', 'path = "out/digest.eml"\n' + smtp)
    (home / "config.toml").write_text(text)


def test_the_digest_arrives_over_smtp_as_multipart_with_its_sections(home):
    handler = Capture()
    server = Controller(handler, hostname="127.0.0.1", port=free_port())
    server.start()
    try:
        _config(home, f'smtp_host = "127.0.0.1"\nsmtp_port = {server.port}\nsmtp_tls = "none"\nto = "alex@home.example.net"')
        assert tiekeeper(home / "config.toml", "sync").returncode == 0
        out = tiekeeper(home / "config.toml", "digest", "--send")
    finally:
        server.stop()
    assert out.returncode == 0, out.stderr
    assert "digest sent to alex@home.example.net" in out.stdout
    (env,) = handler.envelopes
    assert env.rcpt_tos == ["alex@home.example.net"]
    msg = email.message_from_bytes(env.original_content, policy=email.policy.default)
    assert msg.get_content_type() == "multipart/alternative" and msg["To"] == "alex@home.example.net"
    text = msg.get_body(("plain",)).get_content()
    assert "Reconnect with friends" in text and "Jane Doe" in text and "Replies you owe" in text
    html = msg.get_body(("html",)).get_content()
    assert "<h2" in html
    # the chart: month names, counts, and the running month (the sample ends on 20 Nov) marked as partial
    assert "Nov<br>so far" in html and "Oct</td>" in html and "Nov so far (to 20 Nov)" in text


def test_starttls_needs_a_trusted_certificate_and_the_right_password(home, tmp_path):
    cert_dir = tmp_path / "cert"
    cert_dir.mkdir()
    cert = make_cert(cert_dir)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, cert_dir / "key.pem")
    handler = Capture()
    server = Controller(handler, hostname="127.0.0.1", port=free_port(), tls_context=tls, require_starttls=True,
                        authenticator=_auth, auth_required=True)
    server.start()
    base = (f'smtp_host = "127.0.0.1"\nsmtp_port = {server.port}\nsmtp_tls = "starttls"\nusername = "alice"\n'
            f'to = "alex@home.example.net"\n')
    try:
        _config(home, base + 'password_command = ["echo", "secret"]')
        assert tiekeeper(home / "config.toml", "sync").returncode == 0
        untrusted = tiekeeper(home / "config.toml", "digest", "--send")
        _config(home, base + f'password_command = ["echo", "wrong"]\nca_file = "{cert}"')
        refused = tiekeeper(home / "config.toml", "digest", "--send")
        _config(home, base + f'password_command = ["echo", "secret"]\nca_file = "{cert}"')
        sent = tiekeeper(home / "config.toml", "digest", "--send")
    finally:
        server.stop()
    assert untrusted.returncode == 5 and "not trusted" in untrusted.stderr and "outputs.digest.ca_file" in untrusted.stderr
    assert refused.returncode == 5 and "refused the username or password" in refused.stderr
    assert sent.returncode == 0, sent.stderr
    assert len(handler.envelopes) == 1 and "Traceback" not in untrusted.stderr + refused.stderr


@pytest.fixture
def smtp():
    handler = Capture()
    server = Controller(handler, hostname="127.0.0.1", port=free_port())
    server.start()
    yield server, handler
    server.stop()


def _smtp_config(home, server) -> Path:
    _config(home, f'smtp_host = "127.0.0.1"\nsmtp_port = {server.port}\nsmtp_tls = "none"\nto = "alex@home.example.net"\n'
                  'from = "tiekeeper@digest.example.org"')
    return home / "config.toml"


def _sends(cfg: Path) -> list[tuple]:
    from daemon.config import load
    from daemon.store import Store

    store = Store(load(cfg).store_path)
    try:
        return store.digest_sends()
    finally:
        store.close()


def test_digest_writes_the_eml_and_sends_only_with_send_once_a_period_unless_forced(home, smtp):
    server, handler = smtp
    cfg = _smtp_config(home, server)
    assert tiekeeper(cfg, "sync").returncode == 0
    written = tiekeeper(cfg, "digest")
    assert written.returncode == 0, written.stderr
    assert "digest written to" in written.stdout and "sent" not in written.stdout and not handler.envelopes
    preview = tiekeeper(cfg, "digest", "--preview", str(home / "p.html"))
    assert preview.returncode == 0 and not handler.envelopes  # --preview never sends
    both = tiekeeper(cfg, "digest", "--preview", str(home / "p.html"), "--send")
    assert both.returncode == 2 and "--preview never sends" in both.stderr and not handler.envelopes
    assert len(both.stderr.splitlines()) == 1 and "Traceback" not in both.stderr

    sent = tiekeeper(cfg, "digest", "--send")
    assert sent.returncode == 0 and "digest sent to alex@home.example.net" in sent.stdout
    again = tiekeeper(cfg, "digest", "--send")
    assert again.returncode == 0 and "digest not sent: a digest was sent already for the week of" in again.stdout
    assert len(handler.envelopes) == 1
    msg = email.message_from_bytes(handler.envelopes[0].original_content, policy=email.policy.default)
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["Message-ID"].endswith("@digest.example.org>")  # the sender's domain
    eml = email.message_from_bytes((home / "out" / "digest.eml").read_bytes(), policy=email.policy.default)
    assert eml["Auto-Submitted"] == "auto-generated" and (home / "out" / "digest.eml").stat().st_mode & 0o777 == 0o600

    forced = tiekeeper(cfg, "digest", "--send", "--force")
    assert forced.returncode == 0 and "digest sent to" in forced.stdout and len(handler.envelopes) == 2
    sends = _sends(cfg)
    assert [s[2] for s in sends] == ["digest --send", "digest --send --force"] and sends[0][0] == sends[1][0]
    assert [s[4] for s in sends] == [email.message_from_bytes(e.original_content)["Message-ID"] for e in handler.envelopes]


def test_run_once_sends_only_when_due_and_the_service_counts_what_the_cli_sent(home, smtp):
    from daemon.config import load
    from daemon.service import Service

    server, handler = smtp
    cfg = _smtp_config(home, server)
    first = tiekeeper(cfg, "run", "--once")
    assert first.returncode == 0, first.stderr
    assert "digest sent to alex@home.example.net" in first.stdout and len(handler.envelopes) == 1
    second = tiekeeper(cfg, "run", "--once")
    assert second.returncode == 0, second.stderr
    assert "digest sent" not in second.stdout and len(handler.envelopes) == 1  # this period had its digest
    assert (home / "out" / "digest.eml").is_file()  # the file is still written every time

    service = Service(load(cfg), cfg)
    try:
        service.tick()
        assert len(handler.envelopes) == 1  # the service counts the send `run --once` made
        assert service.store.job_state("digest") is None or service.store.job_state("digest").failures == 0
    finally:
        service.store.close()
    assert [s[2] for s in _sends(cfg)] == ["run --once"]
    assert "digest: last sent" in tiekeeper(cfg, "status").stdout and "by run --once" in tiekeeper(cfg, "status").stdout
    assert tiekeeper(cfg, "digest", "--send").stdout.count("digest not sent") == 1 and len(handler.envelopes) == 1


def test_the_service_records_its_send_and_the_cli_respects_it(home, smtp):
    from daemon.config import load
    from daemon.service import Service

    server, handler = smtp
    cfg = _smtp_config(home, server)
    service = Service(load(cfg), cfg)
    try:
        service.tick()
        service.tick()
    finally:
        service.store.close()
    assert len(handler.envelopes) == 1 and [s[2] for s in _sends(cfg)] == ["service"]
    run = tiekeeper(cfg, "run", "--once")
    assert run.returncode == 0 and "digest sent" not in run.stdout and len(handler.envelopes) == 1


def test_a_mail_server_that_is_down_is_one_clean_line(home):
    from tests.servers import free_port

    port = free_port()  # nothing listens there
    _config(home, f'smtp_host = "127.0.0.1"\nsmtp_port = {port}\nsmtp_tls = "none"\nto = "alex@home.example.net"')
    assert tiekeeper(home / "config.toml", "sync").returncode == 0
    out = tiekeeper(home / "config.toml", "digest", "--send")
    errors = [line for line in out.stderr.splitlines() if line.startswith("tiekeeper:")]
    assert len(errors) == 1 and f"cannot connect to 127.0.0.1:{port}: connection refused" in errors[0], out.stderr
    assert "outputs.digest.smtp_host" in errors[0] and "Errno" not in out.stderr and "Traceback" not in out.stderr
