"""Private files, and no secrets or addresses in logs at INFO."""

from __future__ import annotations

import re
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.helpers import REPO, tiekeeper

CANARY = "CANARY-SECRET-TOKEN-7f3a"


def _tk(home, *args, umask=None):
    return tiekeeper(home / "config.toml", *args, umask=umask)


def test_outputs_and_store_are_private_under_umask_022(tmp_path):
    shutil.copytree(REPO / "sample", tmp_path / "sample")
    shutil.copy(REPO / "config.example.toml", tmp_path / "config.toml")
    assert _tk(tmp_path, "run", "--once", umask=0o022).returncode == 0
    out = tmp_path / "out"
    assert out.stat().st_mode & 0o777 == 0o700
    files = list(out.iterdir())
    assert {f.name for f in files} >= {"tiekeeper.db", "follow-ups.ics", "digest.eml"}
    for f in files:
        assert f.stat().st_mode & 0o777 == 0o600, f


def test_no_secret_url_token_or_address_reaches_the_logs_at_info(tmp_path):
    class NotFound(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        shutil.copytree(REPO / "sample", tmp_path / "sample")
        url = f"http://127.0.0.1:{server.server_address[1]}/private-{CANARY}/basic.ics"
        text = (REPO / "config.example.toml").read_text().replace('path = "sample/calendar.ics"', f'url = "{url}"')
        (tmp_path / "config.toml").write_text(text)
        result = _tk(tmp_path, "run", "--once")
        status = _tk(tmp_path, "status")
    finally:
        server.shutdown()
    assert result.returncode == 3  # the feed failed, the rest ran
    assert "the feed answered HTTP 404" in result.stderr
    for text in (result.stderr, status.stdout, (tmp_path / "out" / "digest.eml").read_text()):
        assert CANARY not in text
    assert not re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", result.stderr), result.stderr
