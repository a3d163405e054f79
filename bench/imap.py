#!/usr/bin/env python3
"""Benchmark: IMAP header sync against a real Dovecot on loopback.

Generates a mailbox (default 50,000 messages, the same realistic headers as bench/ingest.py) into
Dovecot's Maildir, lets Dovecot index it, then measures through tiekeeper's IMAP connector:
the full header sync (list + fetch + parse + infer + store), an incremental sync (100 new and 10
expunged messages: the per-folder fast path), and the unchanged-mailbox check (one STATUS per
folder), on a default Dovecot and with INBOX kept in Dovecot's mailbox list index.

    python bench/imap.py [MESSAGES]          needs dovecot (apt-get install dovecot-imapd)
"""

from __future__ import annotations

import os
import pwd
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest import ME, generate  # noqa: E402
from connectors.imap import ImapConnector  # noqa: E402
from daemon.identity import Me  # noqa: E402
from daemon.ingest import sync_source  # noqa: E402
from daemon.pipeline import derive  # noqa: E402
from daemon.store import Store  # noqa: E402
from tests.servers import Dovecot  # noqa: E402


def _connector(server) -> ImapConnector:
    return ImapConnector("bench", "127.0.0.1", server.port, "starttls", server.user, server.password,
                         ca_file=server.cert)


def incremental(server, store: Store) -> None:
    """100 new messages and 10 expunged in INBOX: the per-folder fast path (UIDNEXT, VANISHED)."""
    from datetime import datetime, timezone

    import imapclient

    from tests.helpers import message

    admin = imapclient.IMAPClient("127.0.0.1", port=server.port, ssl=False)
    admin.starttls(_connector(server)._context())
    admin.login(server.user, server.password)
    for i in range(100):
        raw = message(f"new{i}@example.org", ME, datetime(2026, 11, 1, tzinfo=timezone.utc), msgid=f"<new{i}@bench>")
        admin.append("INBOX", raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
    admin.select_folder("INBOX")
    admin.delete_messages(admin.search("ALL")[:10])
    admin.expunge()
    admin.logout()
    with _connector(server) as c:
        c.client()
        t = time.perf_counter()
        r = sync_source(store, c, "imap")
        took = time.perf_counter() - t
    assert r.fast_path and (r.fetched, r.deleted) == (100, 10), r
    print(f"incremental 100 new + 10 expunged (fast path): {took * 1000:8.1f} ms")


def unchanged(server, store: Store, label: str) -> None:
    with _connector(server) as c:
        c.client()  # connect and log in first: the figure is the check, not the TLS handshake
        for _ in range(3):
            c.cursor_now()  # let the server settle (a reloaded Dovecot fills its list index)
        times, checks = [], []
        for _ in range(5):
            t = time.perf_counter()
            r = sync_source(store, c, "imap")
            times.append(time.perf_counter() - t)
            assert r.fast_path and not (r.fetched or r.deleted)
        for _ in range(5):
            t = time.perf_counter()
            c.cursor_now()
            checks.append(time.perf_counter() - t)
    print(f"unchanged  ({label})")
    print(f"           whole sync (fast path):        {min(times) * 1000:8.1f} ms best of 5, median "
          f"{sorted(times)[2] * 1000:.1f} ms")
    print(f"           of which the IMAP STATUS check: {min(checks) * 1000:8.1f} ms best of 5, median "
          f"{sorted(checks)[2] * 1000:.1f} ms")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50000
    with tempfile.TemporaryDirectory() as tmp:
        server = Dovecot(Path(tmp) / "dovecot")
        try:
            t = time.perf_counter()
            generate(server.maildir, n)
            for d in [server.maildir, *server.maildir.rglob("*")]:
                if d.is_dir():
                    os.utime(d, (1, 1_600_000_000))  # a mailbox that has been quiet for a while
            if os.geteuid() == 0:
                nobody = pwd.getpwnam("nobody")
                for p in [server.maildir, *server.maildir.rglob("*")]:
                    os.chown(p, nobody.pw_uid, nobody.pw_gid)
            # What a long-running server has done long ago: build its index files for every folder.
            index = ["doveadm", "-c", str(server.dir / "dovecot.conf"), "index", "-u", server.user, "*"]
            if os.geteuid() == 0:
                index = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] + index
            subprocess.run(index, check=True, capture_output=True)
            print(f"corpus: {n} messages written into Dovecot's Maildir in {time.perf_counter() - t:.1f}s")
            conn = ImapConnector("bench", "127.0.0.1", server.port, "starttls", server.user, server.password,
                                 ca_file=server.cert)
            t = time.perf_counter()
            conn.list()
            print(f"dovecot    first index + UID listing: {time.perf_counter() - t:.2f}s (server-side warm-up, not timed below)")
            conn.close()
            store = Store(Path(tmp) / "bench.db")
            t = time.perf_counter()
            with ImapConnector("bench", "127.0.0.1", server.port, "starttls", server.user, server.password,
                               ca_file=server.cert) as c:
                r = sync_source(store, c, "imap")
            derive(store, Me([ME]))
            full = time.perf_counter() - t
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"full sync  list+fetch+parse+infer+store: {r.fetched / full:8.0f} msg/s  ({full:.2f}s)  peak RSS {rss:.0f} MB")
            incremental(server, store)
            unchanged(server, store, "default Dovecot")
            # Dovecot keeps every folder's STATUS in its mailbox list index except INBOX's, unless
            # told to: by default each STATUS of INBOX opens it (linear in its size, server-side).
            server.configure("mailbox_list_index_include_inbox = yes")
            unchanged(server, store, "mailbox_list_index_include_inbox = yes")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
