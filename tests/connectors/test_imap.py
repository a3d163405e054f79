"""IMAP against a real Dovecot on loopback: renumbered folders, wrong passwords, certificates,
a connection dropped mid-fetch, nothing marked read, and the same life as a Maildir."""

from __future__ import annotations

import socket
import threading
import time

import pytest

import connectors.imap as imap_mod
import daemon.ingest as ingest
from daemon.errors import AuthError, SourceError
from daemon.identity import Me
from daemon.ingest import sync_source
from daemon.pipeline import derive
from daemon.store import Store
from tests.connectors.imap_world import admin, append, connector, delete_by_message_id, reset
from tests.helpers import ME, NOW, REPO, message, synced_report_summary, tiekeeper


@pytest.fixture
def server(dovecot):
    reset(dovecot)
    return dovecot


def _content(store: Store) -> tuple:
    records = store.db.execute("SELECT ident, data FROM records ORDER BY 1").fetchall()
    inter = store.db.execute("SELECT message_id, address, direction FROM interactions ORDER BY 1, 2").fetchall()
    return records, inter


def test_a_renumbered_folder_replaces_its_records_without_duplicating_interactions(server, tmp_path):
    for i in range(3):
        append(server, "Archive", message(f"p{i}@x.example", ME, NOW, msgid=f"<arch{i}@t>"))
    store = Store(tmp_path / "s.db")
    with connector(server) as conn:
        sync_source(store, conn, "imap")
    derive(store, Me([ME]))
    before = store.db.execute("SELECT ident FROM records").fetchall()
    c = admin(server)
    c.delete_folder("Archive")
    c.logout()
    time.sleep(1.1)  # Dovecot takes a new UIDVALIDITY from the clock
    for i in range(3):
        append(server, "Archive", message(f"p{i}@x.example", ME, NOW, msgid=f"<arch{i}@t>"))
    with connector(server) as conn:
        result = sync_source(store, conn, "imap")
    derive(store, Me([ME]))
    after = store.db.execute("SELECT ident FROM records").fetchall()
    assert (result.fetched, result.deleted) == (3, 3) and set(before).isdisjoint(after)
    ids = [r[0] for r in store.db.execute("SELECT message_id FROM interactions")]
    assert sorted(ids) == ["<arch0@t>", "<arch1@t>", "<arch2@t>"]  # once each


def test_a_wrong_password_is_a_clear_auth_error_and_other_sources_carry_on(server, tmp_path):
    with pytest.raises(AuthError, match="refused the username or password"):
        connector(server, password="wrong").list()
    mail = tmp_path / "mail"
    for sub in ("cur", "new", "tmp"):
        (mail / sub).mkdir(parents=True)
    (mail / "cur" / "1:2,S").write_bytes(message("a@x.example", ME, NOW))
    (tmp_path / "config.toml").write_text(
        f'[identity]\naddresses = ["{ME}"]\n[store]\npath = "s.db"\n'
        f'[sources.work]\ntype = "imap"\nhost = "127.0.0.1"\nport = {server.port}\ntls = "starttls"\n'
        f'username = "alice"\npassword_command = ["echo", "wrong"]\nca_file = "{server.cert}"\n'
        '[sources.home]\ntype = "maildir"\npath = "mail"\n')
    out = tiekeeper(tmp_path / "config.toml", "sync", timeout=120)
    assert out.returncode == 3
    assert "source work:" in out.stderr and "refused the username or password" in out.stderr
    assert "tiekeeper auth password work" in out.stderr and "wrong" not in out.stderr.replace("wrong one", "")
    assert "source home: 1 new or changed" in out.stderr


def test_a_self_signed_certificate_is_refused_unless_configured(server):
    append(server, "INBOX", message("a@x.example", ME, NOW))
    with pytest.raises(SourceError) as refused:
        connector(server, ca_file=None).list()
    line = refused.value.one_line()  # what the user sees
    assert "not trusted (self-signed certificate)" in line and "set sources.src.ca_file" in line
    assert len(connector(server).list().items) == 1  # STARTTLS, trusting the configured certificate
    assert len(connector(server, port=server.imaps, tls="ssl").list().items) == 1  # implicit TLS


def test_syncing_never_marks_mail_read(server, tmp_path):
    append(server, "INBOX", message("a@x.example", ME, NOW))
    with connector(server) as conn:
        sync_source(Store(tmp_path / "s.db"), conn, "imap")
    c = admin(server)
    c.select_folder("INBOX", readonly=True)
    flags = c.get_flags(c.search("ALL"))
    c.logout()
    assert all(b"\\Seen" not in f for f in flags.values())


class _CuttingProxy:
    """A TCP proxy to the server that drops the connection after ``limit`` bytes from the server."""

    def __init__(self, port: int, limit: int) -> None:
        self.target, self.limit = port, limit
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            sent = [0]

            def pump(src, dst, counted, sent=sent):
                try:
                    while data := src.recv(4096):
                        if counted:
                            sent[0] += len(data)
                            if sent[0] > self.limit:
                                break
                        dst.sendall(data)
                except OSError:
                    pass
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

            threading.Thread(target=pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=pump, args=(upstream, client, True), daemon=True).start()

    def close(self) -> None:
        self.sock.close()


def test_a_connection_dropped_mid_fetch_keeps_what_was_stored_and_the_next_sync_completes(server, tmp_path, monkeypatch):
    for i in range(60):
        append(server, "INBOX", message(f"p{i}@x.example", ME, NOW, msgid=f"<drop{i}@t>"))
    monkeypatch.setattr(imap_mod, "BATCH", 10)
    monkeypatch.setattr(ingest, "BATCH", 10)
    proxy = _CuttingProxy(server.imaps, 12000)
    store = Store(tmp_path / "s.db")
    with pytest.raises(SourceError, match="failed"):
        with connector(server, port=proxy.port, tls="ssl") as conn:
            sync_source(store, conn, "imap")
    proxy.close()
    kept = store.db.execute("SELECT count(*) FROM records").fetchone()[0]
    assert 0 < kept < 60 and store.source_state("src").cursor is None
    with connector(server) as conn:
        sync_source(store, conn, "imap")
    clean = Store(tmp_path / "clean.db")
    with connector(server) as conn:
        sync_source(clean, conn, "imap")
    assert _content(store) == _content(clean) and len(_content(store)[0]) == 60


def test_an_unchanged_mailbox_is_one_status_per_folder(server, tmp_path, monkeypatch):
    append(server, "INBOX", message("a@x.example", ME, NOW))
    store = Store(tmp_path / "s.db")
    with connector(server) as conn:
        sync_source(store, conn, "imap")
    monkeypatch.setattr(imap_mod.ImapConnector, "get_multi", lambda *a: pytest.fail("fetched from an unchanged mailbox"))
    monkeypatch.setattr(imap_mod.ImapConnector, "list", lambda *a: pytest.fail("listed an unchanged mailbox"))
    with connector(server) as conn:
        assert sync_source(store, conn, "imap").fast_path


def test_the_same_life_through_imap_or_maildir_gives_the_same_contacts_and_flags(server, tmp_path):
    sample = REPO / "sample" / "mail"
    for folder, path in (("INBOX", sample), ("Sent", sample / ".Sent"), ("Lists", sample / ".Lists")):
        c = admin(server)
        if folder != "INBOX":
            c.create_folder(folder)
        for f in sorted((path / "cur").iterdir()):
            if not f.name.startswith("."):
                c.append(folder, f.read_bytes().replace(b"\n", b"\r\n"))
        c.logout()
    base = (REPO / "config.example.toml").read_text().replace('path = "sample/calendar.ics"',
                                                             f'path = "{REPO / "sample" / "calendar.ics"}"')
    maildir_cfg = tmp_path / "maildir.toml"
    maildir_cfg.write_text(base.replace('path = "sample/mail"', f'path = "{sample}"').replace(
        'path = "out/tiekeeper.db"', 'path = "a.db"'))
    imap_cfg = tmp_path / "imap.toml"
    imap_cfg.write_text(base.replace('type = "maildir"\n', "").replace(
        'path = "sample/mail"', f'type = "imap"\nhost = "127.0.0.1"\nport = {server.port}\ntls = "starttls"\n'
        f'username = "alice"\npassword_command = ["echo", "secret"]\nca_file = "{server.cert}"').replace(
        'path = "out/tiekeeper.db"', 'path = "b.db"'))

    via_maildir, via_imap = synced_report_summary(maildir_cfg), synced_report_summary(imap_cfg)
    assert via_imap == via_maildir and len(via_maildir) == 8


def test_doctor_logs_in_to_an_imap_source_and_names_a_refused_password(server, tmp_path):
    from tests.helpers import tiekeeper

    base = (f'[identity]\naddresses = ["{ME}"]\n[store]\npath = "s.db"\n'
            f'[sources.work]\ntype = "imap"\nhost = "127.0.0.1"\nport = {server.port}\ntls = "starttls"\n'
            f'username = "alice"\nca_file = "{server.cert}"\n')
    (tmp_path / "good.toml").write_text(base + 'password_command = ["echo", "secret"]\n')
    (tmp_path / "bad.toml").write_text(base + 'password_command = ["echo", "nope"]\n')
    good = tiekeeper(tmp_path / "good.toml", "doctor")
    assert good.returncode == 0 and "ok   source work: logged in to 127.0.0.1" in good.stdout
    bad = tiekeeper(tmp_path / "bad.toml", "doctor")
    assert bad.returncode == 1 and "FAIL source work:" in bad.stdout and "refused the username or password" in bad.stdout


def _no_full_listing(monkeypatch):
    def refuse(self):
        raise AssertionError("the fast path fell back to listing every UID")
    monkeypatch.setattr(imap_mod.ImapConnector, "list", refuse)


def test_new_expunged_and_flagged_mail_take_the_fast_path_without_listing_every_uid(server, tmp_path, monkeypatch):
    for i in range(5):
        append(server, "INBOX", message(f"p{i}@x.example", ME, NOW, msgid=f"<in{i}@t>"))
    for i in range(2):
        append(server, "Archive", message(f"q{i}@x.example", ME, NOW, msgid=f"<ar{i}@t>"))
    store = Store(tmp_path / "s.db")
    with connector(server) as conn:
        sync_source(store, conn, "imap")
    for i in range(5, 7):
        append(server, "INBOX", message(f"p{i}@x.example", ME, NOW, msgid=f"<in{i}@t>"))
    delete_by_message_id(server, "INBOX", "<in1@t>")
    c = admin(server)
    c.select_folder("Archive")
    c.add_flags(c.search("ALL"), [b"\\Flagged"])  # moves HIGHESTMODSEQ only
    c.logout()
    with monkeypatch.context() as m:
        _no_full_listing(m)
        with connector(server) as conn:
            result = sync_source(store, conn, "imap")
    assert result.fast_path and (result.fetched, result.deleted) == (2, 1)
    fresh = Store(tmp_path / "fresh.db")
    with connector(server) as conn:
        sync_source(fresh, conn, "imap")
    assert set(store.stored_items("src")) == set(fresh.stored_items("src"))  # the same as listing everything
    with monkeypatch.context() as m:
        _no_full_listing(m)
        with connector(server) as conn:
            again = sync_source(store, conn, "imap")
    assert again.fast_path and (again.fetched, again.deleted) == (0, 0)


def test_expunges_on_a_server_without_qresync_fall_back_to_the_full_listing(server, tmp_path, monkeypatch):
    for i in range(3):
        append(server, "INBOX", message(f"p{i}@x.example", ME, NOW, msgid=f"<in{i}@t>"))
    store = Store(tmp_path / "s.db")
    with connector(server) as conn:
        sync_source(store, conn, "imap")
    delete_by_message_id(server, "INBOX", "<in0@t>")
    with connector(server) as conn:
        conn.client()
        conn._qresync = False  # as on a server that offers no QRESYNC
        result = sync_source(store, conn, "imap")
    assert not result.fast_path and result.deleted == 1 and len(store.stored_items("src")) == 2
