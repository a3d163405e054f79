"""Every network failure is one clean line through the real CLI: the host, what happened and the
remedy, never a library's repr. Real sockets on loopback: a closed port, a name that does not
resolve, a self-signed TLS server, a server that never answers."""

from __future__ import annotations

import json
import os
import socket
import ssl
import threading
from pathlib import Path

import pytest

from tests.helpers import tiekeeper as tk
from tests.servers import free_port, make_cert

REPR = ("object at 0x", "Traceback", "Caused by", "<urllib3", "Errno", "HTTPConnection")


class TlsServer:
    """Accepts TLS connections with a self-signed certificate, then hangs up."""

    def __init__(self, d: Path) -> None:
        cert = make_cert(d)
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, d / "key.pem")
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            try:
                with self.ctx.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)
            except (OSError, ssl.SSLError):
                pass

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    server = TlsServer(tmp_path_factory.mktemp("tls"))
    yield server
    server.close()


def _closed_port() -> int:
    return free_port()  # bound, then closed: nothing listens there


def _sync(tmp_path: Path, source: str) -> str:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[identity]\naddresses = ["me@example.org"]\n[store]\npath = "s.db"\n' + source)
    out = tk(cfg, "sync", timeout=120)
    assert out.returncode == 3, out.stderr
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, out.stderr
    for bad in REPR:
        assert bad not in lines[0], lines[0]
    return lines[0]


def _token_file(tmp_path: Path, token_uri: str) -> Path:
    p = tmp_path / "token.json"
    p.write_text(json.dumps({"client_id": "c", "client_secret": "s", "refresh_token": "r", "token_uri": token_uri,
                             "type": "authorized_user"}))
    os.chmod(p, 0o600)
    return p


def test_refused_connections_name_the_host_and_the_fix(tmp_path):
    port = _closed_port()
    where = f"127.0.0.1:{port}"
    imap = _sync(tmp_path, f'[sources.m]\ntype = "imap"\nhost = "127.0.0.1"\nport = {port}\nusername = "u"\n'
                           f'password_command = ["echo", "x"]\n')
    assert f"source m: cannot connect to {where}: connection refused" in imap
    assert "sources.m.host, port and tls" in imap
    dav = _sync(tmp_path, f'[sources.d]\ntype = "caldav"\nurl = "http://{where}/dav/"\n')
    assert f"cannot connect to {where}: connection refused" in dav and "sources.d.url" in dav
    ics = _sync(tmp_path, f'[sources.f]\ntype = "ics"\nurl = "http://{where}/feed.ics"\n')
    assert f"cannot fetch the feed: cannot connect to {where}: connection refused" in ics
    token = _token_file(tmp_path, f"http://{where}/token")
    gmail = _sync(tmp_path, f'[sources.g]\ntype = "gmail"\naccount = "me@example.org"\ntoken_file = "{token}"\n'
                            f'api_endpoint = "http://{where}/"\n')
    assert "source g: cannot reach Google for" in gmail and f"cannot connect to {where}: connection refused" in gmail
    gcal = _sync(tmp_path, f'[sources.c]\ntype = "google_calendar"\naccount = "me@example.org"\n'
                           f'token_file = "{token}"\napi_endpoint = "http://{where}/"\n')
    assert f"cannot connect to {where}: connection refused" in gcal


def test_a_name_that_does_not_resolve_is_said_so(tmp_path):
    host = "tiekeeper-test.invalid"
    imap = _sync(tmp_path, f'[sources.m]\ntype = "imap"\nhost = "{host}"\nusername = "u"\n'
                           f'password_command = ["echo", "x"]\n')
    assert f"cannot find the host {host}: the name does not resolve" in imap
    dav = _sync(tmp_path, f'[sources.d]\ntype = "caldav"\nurl = "https://{host}/dav/"\n')
    assert f"cannot find the host {host}" in dav
    ics = _sync(tmp_path, f'[sources.f]\ntype = "ics"\nurl = "https://{host}/feed.ics"\n')
    assert f"cannot find the host {host}" in ics


def test_a_self_signed_server_is_refused_with_the_ca_file_remedy(tmp_path, tls):
    where = f"127.0.0.1:{tls.port}"
    imap = _sync(tmp_path, f'[sources.m]\ntype = "imap"\nhost = "127.0.0.1"\nport = {tls.port}\nusername = "u"\n'
                           f'password_command = ["echo", "x"]\n')
    assert f"{where} presented a TLS certificate that is not trusted (self-signed certificate)" in imap
    assert "set sources.m.ca_file" in imap
    dav = _sync(tmp_path, f'[sources.d]\ntype = "caldav"\nurl = "https://{where}/dav/"\n')
    assert f"{where} presented a TLS certificate that is not trusted" in dav and "set sources.d.ca_file" in dav
    ics = _sync(tmp_path, f'[sources.f]\ntype = "ics"\nurl = "https://{where}/feed.ics"\n')
    assert f"{where} presented a TLS certificate that is not trusted" in ics


def test_smtp_failures_are_one_line_too(tmp_path, tls):
    for port, words in ((_closed_port(), "connection refused"), (tls.port, "not trusted")):
        cfg = tmp_path / "c.toml"
        cfg.write_text('[identity]\naddresses = ["me@example.org"]\n[store]\npath = "s.db"\n'
                       f'[outputs.digest]\nsmtp_host = "127.0.0.1"\nsmtp_port = {port}\nsmtp_tls = "ssl"\n'
                       'to = "me@example.org"\n')
        out = tk(cfg, "digest", "--send")
        assert out.returncode == 5, out.stderr
        lines = [line for line in out.stderr.splitlines() if line != "analysing ..."]
        assert len(lines) == 1 and f"127.0.0.1:{port}" in lines[0] and words in lines[0].lower(), out.stderr
        assert "Traceback" not in out.stderr and "object at 0x" not in out.stderr


def test_a_server_that_never_answers_times_out_in_one_line(monkeypatch):
    """A listening socket that accepts and says nothing: the connector's timeout, as one line."""
    import connectors.imap as imap
    from daemon.errors import SourceError

    silent = socket.create_server(("127.0.0.1", 0))
    try:
        monkeypatch.setattr(imap, "TIMEOUT", 0.5)
        conn = imap.ImapConnector("m", "127.0.0.1", silent.getsockname()[1], "ssl", "u", "x")
        with pytest.raises(SourceError) as e:
            conn.list()
        assert f"127.0.0.1:{silent.getsockname()[1]} did not answer in time" in e.value.one_line()
    finally:
        silent.close()
