"""ICS feeds over real HTTP on loopback: conditional GET, unchanged feeds never parsed, and a
captive portal's HTML page changes nothing."""

from __future__ import annotations

import hashlib
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from connectors.ics import IcsConnector
from daemon.errors import SourceError
from daemon.ingest import sync_source
from daemon.store import Store
from tests.helpers import calendar, vevent


class Feed:
    def __init__(self) -> None:
        self.body = calendar(vevent("a@t", datetime(2026, 1, 5, 10, tzinfo=timezone.utc), attendees=[("a@x.example", "ACCEPTED")]),
                             vevent("b@t", datetime(2026, 1, 6, 10, tzinfo=timezone.utc), attendees=[("b@x.example", "ACCEPTED")]))
        self.content_type = "text/calendar; charset=utf-8"
        self.requests: list[tuple[str | None, int]] = []


@pytest.fixture
def feed():
    state = Feed()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            etag = '"' + hashlib.sha1(state.body).hexdigest()[:10] + '"'
            if self.headers.get("If-None-Match") == etag:
                state.requests.append((self.headers.get("If-None-Match"), 304))
                self.send_response(304)
                self.end_headers()
                return
            state.requests.append((self.headers.get("If-None-Match"), 200))
            self.send_response(200)
            self.send_header("Content-Type", state.content_type)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(state.body)))
            self.end_headers()
            self.wfile.write(state.body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/cal.ics"
    yield state
    server.shutdown()


def test_an_unchanged_feed_answers_304_and_is_not_parsed(feed, tmp_path, monkeypatch):
    store = Store(tmp_path / "s.db")
    first = sync_source(store, IcsConnector("feed", url=feed.url), "ics")
    assert first.fetched == 2
    import connectors.ics as ics

    monkeypatch.setattr(ics, "parse_calendar_objects", lambda *a: pytest.fail("parsed an unchanged feed"))
    second = sync_source(store, IcsConnector("feed", url=feed.url), "ics")
    assert second.fast_path
    assert feed.requests[-1][1] == 304 and feed.requests[-1][0] is not None


def test_a_changed_feed_is_fetched_and_diffed(feed, tmp_path):
    store = Store(tmp_path / "s.db")
    sync_source(store, IcsConnector("feed", url=feed.url), "ics")
    feed.body = calendar(vevent("a@t", datetime(2026, 1, 5, 10, tzinfo=timezone.utc), attendees=[("a@x.example", "ACCEPTED")]))
    result = sync_source(store, IcsConnector("feed", url=feed.url), "ics")
    assert (result.fetched, result.deleted) == (0, 1)


def test_a_captive_portal_page_changes_nothing_and_says_so(feed, tmp_path):
    store = Store(tmp_path / "s.db")
    sync_source(store, IcsConnector("feed", url=feed.url), "ics")
    feed.body = b"<html><body>Please log in to the hotel wifi</body></html>"
    feed.content_type = "text/html"
    with pytest.raises(SourceError, match="not a calendar .*nothing was changed"):
        sync_source(store, IcsConnector("feed", url=feed.url), "ics")
    assert store.db.execute("SELECT count(*) FROM records").fetchone()[0] == 2


def test_an_unreachable_feed_is_one_clear_error():
    with pytest.raises(SourceError, match="cannot fetch the feed"):
        IcsConnector("feed", url="http://127.0.0.1:9/none.ics").list()


