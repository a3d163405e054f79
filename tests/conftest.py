import importlib.util
import os

import pytest

from tests.servers import DOVECOT, Dovecot, Radicale, Xandikos, require


@pytest.fixture(scope="session")
def dovecot(tmp_path_factory):
    require(DOVECOT, "apt-get install dovecot-imapd")
    server = Dovecot(tmp_path_factory.mktemp("dovecot"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def radicale(tmp_path_factory):
    if importlib.util.find_spec("radicale") is None:
        if os.environ.get("CI"):
            pytest.fail("radicale is missing in CI: it is in the test extras (pip install -e '.[test]')")
        pytest.skip("radicale is not installed: pip install -e '.[test]'")
    server = Radicale(tmp_path_factory.mktemp("radicale"))
    yield server
    server.stop()


@pytest.fixture
def xandikos(tmp_path):
    """A fresh Xandikos (a second CalDAV server, independent of Radicale) for one test."""
    require("xandikos", "apt-get install xandikos")
    server = Xandikos(tmp_path / "xandikos")
    yield server
    server.stop()


@pytest.fixture
def google(tmp_path):
    """A fresh local Google API server (Gmail, Calendar, OAuth) for one test, over real HTTP."""
    from tests.google_server import GoogleServer, token_file

    server = GoogleServer()
    server.token_path = tmp_path / "google-token.json"
    token_file(server.token_path, server)
    yield server
    server.stop()
