import pytest

from tests.servers import DOVECOT, Dovecot, require


@pytest.fixture(scope="session")
def dovecot(tmp_path_factory):
    require(DOVECOT, "apt-get install dovecot-imapd")
    server = Dovecot(tmp_path_factory.mktemp("dovecot"))
    yield server
    server.stop()
