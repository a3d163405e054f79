"""Gmail through the Gmail API with the ``gmail.metadata`` scope: headers and labels, never bodies.

IDENT  the Gmail message id. Headers never change, so the ETAG is constant; label changes come
       through history and refetch the message.
CURSOR the mailbox's historyId, taken (users.getProfile) before a full listing.

A first sync lists every id (messages.list) and fetches metadata in batches of messages.get
(format=metadata, only the headers inference needs). Batches start at 25 parts and adapt: they
grow while Gmail answers, and halve when it throttles. Parts that fail with 429, a 403 rate limit
or a 5xx are put back in the queue and retried after a jittered exponential delay that honours
Retry-After; a token bucket keeps the whole under the per-user quota. Ingest commits every
``commit_every`` records, so an interrupted first sync resumes where it stopped: the next run lists
the ids again and fetches only those not yet stored.

Later syncs read history.list from the cursor. An expired historyId (404) falls back to a listing
and the same diff: ids are listed again, only missing messages are fetched.
"""

from __future__ import annotations

import builtins
import logging
from collections import deque
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from email.utils import format_datetime
from pathlib import Path

from connectors import google_api as g
from connectors.base import Connector
from connectors.maildir import mail_record
from connectors.mailparse import FETCHED_HEADERS
from daemon.errors import SourceError
from daemon.models import Delta, Item, Listing, RawRecord

log = logging.getLogger(__name__)

FIRST_BATCH = 25
MIN_BATCH = 5
MAX_BATCH = 50  # Google advises against larger Gmail batches: they are throttled as a burst
LIST_PAGE = 500
DELTA_LIMIT = 2000  # more changes than this go through the listing, which commits as it goes
HISTORY_TYPES = ["messageAdded", "messageDeleted", "labelAdded", "labelRemoved"]
ETAG = "1"


def message_record(msg: dict) -> RawRecord:
    """A mail record from a messages.get(format=metadata) answer."""
    headers = (msg.get("payload") or {}).get("headers") or []
    lines = []
    for h in headers:
        name, value = str(h.get("name", "")), str(h.get("value", ""))
        if name and ":" not in name:
            lines.append(f"{name}: {' '.join(value.split())}")  # no CR/LF can smuggle a field in
    if not any(line.lower().startswith("date:") for line in lines) and str(msg.get("internalDate", "")).isdigit():
        when = datetime.fromtimestamp(int(msg["internalDate"]) / 1000, timezone.utc)
        lines.append(f"Date: {format_datetime(when)}")
    labels = tuple(str(x) for x in msg.get("labelIds") or ())
    folder = "SENT" if "SENT" in labels else "INBOX" if "INBOX" in labels else "ARCHIVE"
    return mail_record(str(msg["id"]), ETAG, folder, "\r\n".join(lines).encode("utf-8"), sent="SENT" in labels,
                       labels=labels)


class GmailConnector(Connector):
    commit_every = 500  # about ten seconds of fetching at the standard quota

    def __init__(self, name: str, account: str, token_file: Path | None = None, api_endpoint: str | None = None,
                 quota: g.Quota | None = None, base_delay: float = 1.0) -> None:
        super().__init__(name)
        self.account = account
        self.token_file = token_file
        self.api_endpoint = api_endpoint
        self.caller = g.Caller(name, quota or g.Quota(g.QUOTA_PRESETS["standard"], g.GMAIL_COSTS), base_delay,
                               where=g.endpoint_where("gmail", api_endpoint))
        self.batch_size = FIRST_BATCH
        self._service = None
        self._messages_resource = None

    @property
    def service(self):
        if self._service is None:
            with g.translate(self.name, "authorization", self.caller.where):
                creds = g.credentials(self.name, self.account, self.token_file, [g.GMAIL_SCOPE])
                self._service = g.build_service("gmail", "v1", g.authorized_http(creds), self.api_endpoint)
        return self._service

    def _users(self):
        return self.service.users()

    def _messages(self):
        """users().messages(), built once: the client builds each resource anew from the discovery
        document (5 ms a time, more than everything else a message costs)."""
        if self._messages_resource is None:
            self._messages_resource = self._users().messages()
        return self._messages_resource

    def probe(self) -> str:
        self.cursor_now()  # the mailbox's history id: one authorized call
        return f"authorized for {self.account}; Gmail answers"

    # -- cursor and fast path -------------------------------------------------------------------------
    def cursor_now(self) -> str | None:
        profile = self.caller.call(self._users().getProfile(userId="me"), "getProfile", "users.getProfile")
        return str(profile["historyId"])

    def changes_since(self, cursor: str) -> Delta | None:
        touched: dict[str, None] = {}
        deleted: set[str] = set()
        page, latest = None, cursor
        while True:
            req = self._users().history().list(userId="me", startHistoryId=cursor, historyTypes=HISTORY_TYPES,
                                               maxResults=LIST_PAGE, pageToken=page)
            resp = self.caller.call(req, "history.list", "history.list", allow=(404,))
            if not isinstance(resp, dict):
                log.info("source %s: history %s has expired; listing the mailbox to catch up", self.name, cursor)
                return None
            for entry in resp.get("history") or []:
                for key in ("messagesAdded", "labelsAdded", "labelsRemoved"):
                    for change in entry.get(key) or []:
                        mid = str(change["message"]["id"])
                        if mid not in deleted:
                            touched[mid] = None
                for change in entry.get("messagesDeleted") or []:
                    mid = str(change["message"]["id"])
                    deleted.add(mid)
                    touched.pop(mid, None)
            latest = str(resp.get("historyId") or latest)
            page = resp.get("nextPageToken")
            if not page:
                break
        if len(touched) > DELTA_LIMIT:
            return None
        upserts = []
        for record in self.get_multi(list(touched)):
            labels = set(record.data.get("labels", "").split(","))
            if labels & {"SPAM", "TRASH"}:
                deleted.add(record.ident)  # moved to spam or trash: gone, like messages.list says
            else:
                upserts.append(record)
        deleted |= set(touched) - {r.ident for r in upserts} - deleted  # vanished before we fetched it
        return Delta(upserts, sorted(deleted), latest)

    # -- listing and fetching -------------------------------------------------------------------------
    def list(self) -> Listing:
        items: dict[str, Item] = {}
        page = None
        while True:
            req = self._users().messages().list(userId="me", maxResults=LIST_PAGE, pageToken=page,
                                                fields="messages/id,nextPageToken")
            resp = self.caller.call(req, "messages.list", "messages.list")
            for m in resp.get("messages") or []:
                items[str(m["id"])] = Item(str(m["id"]), ETAG)
            page = resp.get("nextPageToken")
            if not page:
                return Listing(items)

    def get_multi(self, idents: Sequence[str]) -> Iterator[RawRecord]:
        queue = deque(idents)
        attempts: dict[str, int] = {}
        while queue:
            chunk = [queue.popleft() for _ in range(min(self.batch_size, len(queue)))]
            records, retry, retry_after = self._batch(chunk)
            yield from records
            if not retry:
                self.batch_size = min(MAX_BATCH, self.batch_size + 5)
                continue
            self.batch_size = max(MIN_BATCH, self.batch_size // 2)
            worst = 0
            for ident in retry:
                attempts[ident] = attempts.get(ident, 0) + 1
                worst = max(worst, attempts[ident])
            if worst >= g.MAX_ATTEMPTS:
                raise SourceError(self.name, f"Gmail kept throttling or failing {len(retry)} message(s) after "
                                             f"{g.MAX_ATTEMPTS} attempts; what was fetched is kept",
                                  "tiekeeper resumes on the next sync; lower quota_units_per_minute if this repeats")
            queue.extendleft(reversed(retry))
            self.caller.throttled += len(retry)
            self.caller.sleep(g.backoff_delay(worst - 1, retry_after, self.caller.base_delay))

    # the method list() above hides the builtin inside the class, hence builtins.list
    def _batch(self, chunk: builtins.list[str]) -> tuple[builtins.list[RawRecord], builtins.list[str], float | None]:
        """One batch request: the records it returned, the idents to retry and the longest Retry-After."""
        from googleapiclient.errors import HttpError

        records: list[RawRecord] = []
        retry: list[str] = []
        waits: list[float] = []
        fatal: list[SourceError] = []

        def done(ident: str, response, exception) -> None:
            if exception is None:
                try:
                    records.append(message_record(response))
                except (KeyError, TypeError, AttributeError) as e:
                    records.append(RawRecord(ident, ETAG, "bad", {"error": f"malformed answer ({type(e).__name__})"}))
                return
            status = int(getattr(getattr(exception, "resp", None), "status", 0) or 0)
            reason, message = g.error_reason(getattr(exception, "content", b""))
            if status == 404:
                return  # deleted since the listing
            if g.is_retryable(status, reason) or not status:
                retry.append(ident)
                ra = g.retry_after_seconds(exception.resp.get("retry-after")) if status else None
                if ra is not None:
                    waits.append(ra)
                return
            fatal.append(g.api_error(self.name, "messages.get", status, reason, message))

        batch = g.new_batch(self.service, "gmail", self.api_endpoint, done)
        messages = self._messages()
        for ident in chunk:
            batch.add(messages.get(userId="me", id=ident, format="metadata", metadataHeaders=list(FETCHED_HEADERS),
                                           fields="id,threadId,labelIds,internalDate,payload/headers"),
                      request_id=ident)
        self.caller.cost("messages.get", len(chunk))
        self.caller.calls += 1
        try:
            with g.translate(self.name, "a batch of messages.get", self.caller.where):
                batch.execute()
        except HttpError as e:  # the batch request itself failed: every part is retried
            status = int(e.resp.status)
            reason, message = g.error_reason(e.content)
            if not g.is_retryable(status, reason):
                raise g.api_error(self.name, "a batch of messages.get", status, reason, message) from None
            return [], chunk, g.retry_after_seconds(e.resp.get("retry-after"))
        if fatal:
            raise fatal[0]
        return records, retry, max(waits) if waits else None
