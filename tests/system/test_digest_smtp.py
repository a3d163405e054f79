"""The digest sent to a real SMTP server on loopback (aiosmtpd): what arrives, STARTTLS with a
certificate that must be trusted explicitly, and a refused password."""

from __future__ import annotations

import email
import email.policy
import shutil
import ssl

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
        out = tiekeeper(home / "config.toml", "digest")
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
    assert "<h2" in msg.get_body(("html",)).get_content()


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
        untrusted = tiekeeper(home / "config.toml", "digest")
        _config(home, base + f'password_command = ["echo", "wrong"]\nca_file = "{cert}"')
        refused = tiekeeper(home / "config.toml", "digest")
        _config(home, base + f'password_command = ["echo", "secret"]\nca_file = "{cert}"')
        sent = tiekeeper(home / "config.toml", "digest")
    finally:
        server.stop()
    assert untrusted.returncode == 5 and "not trusted" in untrusted.stderr and "outputs.digest.ca_file" in untrusted.stderr
    assert refused.returncode == 5 and "refused the username or password" in refused.stderr
    assert sent.returncode == 0, sent.stderr
    assert len(handler.envelopes) == 1 and "Traceback" not in untrusted.stderr + refused.stderr
