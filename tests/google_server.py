"""A local server that speaks the subset of Google's APIs tiekeeper uses, over real HTTP on loopback.

Gmail v1 (users.getProfile, messages.list/get with format=metadata, history.list, the multipart/mixed
batch endpoint), Calendar v3 (calendarList.list, calendars.insert, events.list with syncToken,
events.insert/update/delete, with an event's etag honoured in If-Match: 412 when it moved on) and
an OAuth token endpoint (refresh and authorization-code grants,
plus an authorization page that redirects straight back with a code). The real
google-api-python-client talks to it through ``api_endpoint``.

Faults are switched on per test: a per-user quota (a token bucket in units a second) answering 429
with or without Retry-After, batch parts failing on their own, expired history ids and sync
tokens, revoked refresh tokens, expired access tokens, garbage answers. ``stats`` counts what
happened, for assertions and the benchmark.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import json
import re
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from tests.servers import free_port

CAL = "https://www.googleapis.com/auth/"
GMAIL_COSTS = {"messages.get": 5, "messages.list": 5, "history.list": 2, "getProfile": 1}


@dataclass
class Message:
    id: str
    thread: str
    labels: list[str]
    headers: list[tuple[str, str]]
    internal_ms: int


@dataclass
class GoogleState:
    """Everything the server holds; tests change it directly between syncs."""

    messages: dict[str, Message] = field(default_factory=dict)
    history: list[tuple[int, str, str]] = field(default_factory=list)  # (historyId, type, message id)
    history_id: int = 1000
    history_floor: int = 0  # history ids below this have expired (404)
    calendars: dict[str, dict] = field(default_factory=dict)  # id -> {"summary", "events": {id: event}}
    change_seq: int = 1
    token_floor: int = 0  # sync tokens below this have expired (410); calendars may have their own
    refresh_tokens: set[str] = field(default_factory=lambda: {"refresh-1"})
    access_tokens: set[str] = field(default_factory=set)
    codes: dict[str, str] = field(default_factory=dict)
    consents: list[dict] = field(default_factory=list)  # the query of each /o/oauth2/auth request
    scopes_of: dict[str, set[str]] = field(default_factory=dict)  # token -> scopes; absent: every scope
    quota_units_per_second: float | None = None  # None: no quota
    retry_after: str | None = None  # sent with quota 429s
    fail_parts: dict[str, list[int]] = field(default_factory=dict)  # message id -> statuses to answer first
    fail_requests: list[int] = field(default_factory=list)  # statuses for the next whole requests
    garbage: bool = False  # answer REST calls with HTML
    before_write: object = None  # called once with (calendar id, event id) before the next event write
    stats: Counter = field(default_factory=Counter)
    _tokens: float = 0.0
    _stamp: float = 0.0
    lock: threading.RLock = field(default_factory=threading.RLock)

    # -- Gmail model -----------------------------------------------------------------------------
    def bump(self, kind: str, mid: str) -> None:
        self.history_id += 1
        self.history.append((self.history_id, kind, mid))

    def add_message(self, raw: bytes, labels: list[str], mid: str | None = None) -> str:
        mid = mid or uuid.uuid4().hex[:16]
        msg = email.message_from_bytes(raw, policy=email.policy.compat32)
        headers = [(k, " ".join(str(v).split())) for k, v in msg.items()]
        try:
            when = int(parsedate_to_datetime(msg["Date"]).timestamp() * 1000)
        except (TypeError, ValueError):
            when = int(time.time() * 1000)
        with self.lock:
            self.messages[mid] = Message(mid, mid, list(labels), headers, when)
            self.bump("messageAdded", mid)
        return mid

    def delete_message(self, mid: str) -> None:
        with self.lock:
            del self.messages[mid]
            self.bump("messageDeleted", mid)

    def relabel(self, mid: str, add: list[str] = (), remove: list[str] = ()) -> None:
        with self.lock:
            m = self.messages[mid]
            m.labels = [x for x in m.labels if x not in remove] + [x for x in add if x not in m.labels]
            self.bump("labelAdded" if add else "labelRemoved", mid)

    def load_maildir(self, root: Path, me: str | tuple[str, ...]) -> int:
        """Every message of a Maildir, labelled as Gmail would: SENT when I sent it (From one of my
        addresses ``me``, or filed in a Sent folder), INBOX and UNREAD when it reached the root
        folder, and any other folder (".Lists") as a user label with the inbox skipped, as a filter
        files list mail. Gmail's user label ids look like "Label_12"; here "Label_<folder>"."""
        mine = [m.lower() for m in ((me,) if isinstance(me, str) else me)]
        n = 0
        for path in sorted(p for p in root.rglob("*") if p.is_file() and p.parent.name in ("cur", "new")):
            raw = path.read_bytes()
            frm = email.message_from_bytes(raw).get("From", "").lower()
            folder = path.parent.parent
            name = "" if folder == root else folder.name.lstrip(".")
            if any(m in frm for m in mine) or name.lower() == "sent":
                labels = ["SENT"]
            elif name:
                labels = [f"Label_{name}"]
            else:
                labels = ["INBOX", "UNREAD"]
            self.add_message(raw, labels)
            n += 1
        return n

    # -- Calendar model ---------------------------------------------------------------------------
    def put_event(self, calendar: str, event: dict) -> dict:
        with self.lock:
            cal = self.calendars.setdefault(calendar, {"summary": calendar, "events": {}})
            self.change_seq += 1
            event = {**event, "etag": f'"{self.change_seq}"', "updated": "2026-01-01T00:00:00Z", "_seq": self.change_seq}
            event.setdefault("id", uuid.uuid4().hex)
            event.setdefault("iCalUID", f"{event.get('recurringEventId') or event['id']}@google.com")
            event.setdefault("status", "confirmed")
            cal["events"][event["id"]] = event
            return event

    def cancel_event(self, calendar: str, event_id: str) -> None:
        with self.lock:
            ev = self.calendars[calendar]["events"][event_id]
            self.put_event(calendar, {**ev, "status": "cancelled"})

    # -- quota --------------------------------------------------------------------------------------
    def spend(self, units: int) -> bool:
        """Take ``units`` from the per-user bucket; False means over quota (429)."""
        with self.lock:
            self.stats["units"] += units
            if self.quota_units_per_second is None:
                return True
            now = time.monotonic()
            rate = self.quota_units_per_second
            self._tokens = min(rate, self._tokens + (now - self._stamp) * rate) if self._stamp else rate
            self._stamp = now
            if self._tokens < units:
                self.stats["429"] += 1
                return False
            self._tokens -= units
            self.stats["granted_units"] += units
            return True


def _error(status: int, reason: str, message: str) -> dict:
    return {"error": {"code": status, "message": message, "errors": [{"reason": reason, "message": message}],
                      "status": reason}}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: GoogleServer

    def log_message(self, *args) -> None:  # quiet
        pass

    # -- plumbing -----------------------------------------------------------------------------------
    def _send(self, status: int, body: bytes, ctype: str = "application/json; charset=UTF-8",
              headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        st = self.server.state
        body = self._body()
        path = urlsplit(self.path).path
        with st.lock:
            st.stats["http_requests"] += 1
        if path == "/token":
            return self._send(*self.server.token(parse_qs(body.decode())))
        if path == "/o/oauth2/auth":
            return self._authorize()
        if not self.server.authorized(self.headers.get("Authorization", "")):
            return self._send(401, json.dumps(_error(401, "authError", "Invalid Credentials")).encode())
        with st.lock:
            if st.fail_requests:
                status = st.fail_requests.pop(0)
                return self._send(status, json.dumps(_error(status, "backendError", "try again")).encode())
        if path in ("/batch", "/batch/gmail/v1", "/batch/calendar/v3"):
            return self._batch(body)
        if st.garbage:
            return self._send(200, b"<html>captive portal</html>", "text/html")
        status, payload, headers = self.server.route(method, self.path, body, self._token(),
                                                     self.headers.get("If-Match"))
        self._send(status, b"" if payload is None else json.dumps(payload).encode(), headers=headers)

    def _token(self) -> str:
        return self.headers.get("Authorization", "").removeprefix("Bearer ")

    def _authorize(self) -> None:
        q = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
        code = uuid.uuid4().hex
        with self.server.state.lock:
            self.server.state.consents.append(q)
            self.server.state.codes[code] = q.get("scope", "")
        target = q["redirect_uri"] + "?" + urlencode({"code": code, "state": q.get("state", ""), "scope": q.get("scope", "")})
        self._send(302, b"", "text/plain", {"Location": target})

    def _batch(self, body: bytes) -> None:
        st = self.server.state
        with st.lock:
            st.stats["batches"] += 1
        ctype = self.headers.get("Content-Type", "")
        outer = email.message_from_bytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body, policy=email.policy.compat32)
        boundary = "batch_" + uuid.uuid4().hex
        chunks = []
        for part in outer.get_payload():
            cid = part.get("Content-ID", "").strip("<>")
            inner = part.get_payload(decode=False)
            inner = inner.encode() if isinstance(inner, str) else inner
            request_line, _, rest = inner.partition(b"\n")
            method, target = request_line.decode().split()[:2]
            head, _, part_body = rest.replace(b"\r\n", b"\n").partition(b"\n\n")
            status, payload, headers = self.server.route(method, target, part_body.strip(), self._token())
            text = json.dumps(payload) if payload is not None else ""
            extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
            reason = {200: "OK", 404: "Not Found", 429: "Too Many Requests"}.get(status, "Status")
            chunks.append(f"--{boundary}\r\nContent-Type: application/http\r\nContent-ID: <response-{cid}>\r\n\r\n"
                          f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json; charset=UTF-8\r\n{extra}"
                          f"Content-Length: {len(text.encode())}\r\n\r\n{text}\r\n")
        payload = ("".join(chunks) + f"--{boundary}--\r\n").encode()
        self._send(200, payload, f"multipart/mixed; boundary={boundary}")


class GoogleServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: GoogleState | None = None) -> None:
        self.state = state or GoogleState()
        self.port = free_port()
        super().__init__(("127.0.0.1", self.port), _Handler)
        self.url = f"http://127.0.0.1:{self.port}/"
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    # -- OAuth ------------------------------------------------------------------------------------
    def token_info(self, refresh_token: str = "refresh-1", scopes: list[str] | None = None) -> dict:
        """An authorized-user JSON as `tiekeeper auth google --token-file` writes it. With ``scopes``,
        the server grants that token those scopes only."""
        if scopes is not None:
            with self.state.lock:
                self.state.refresh_tokens.add(refresh_token)
                self.state.scopes_of[refresh_token] = set(scopes)
        return {"client_id": "test-client.apps.googleusercontent.com", "client_secret": "test-secret",
                "refresh_token": refresh_token, "token_uri": self.url + "token", "type": "authorized_user",
                **({"scopes": scopes} if scopes else {})}

    def client_file(self) -> dict:
        """An OAuth client file as Google Cloud's console downloads it ("installed" application)."""
        return {"installed": {"client_id": "test-client.apps.googleusercontent.com", "client_secret": "test-secret",
                              "auth_uri": self.url + "o/oauth2/auth", "token_uri": self.url + "token",
                              "redirect_uris": ["http://localhost"]}}

    def authorized(self, header: str) -> bool:
        return header.startswith("Bearer ") and header[7:] in self.state.access_tokens

    def token(self, form: dict) -> tuple[int, bytes]:
        st = self.state
        grant = form.get("grant_type", [""])[0]
        with st.lock:
            st.stats["token_" + grant] += 1
            if grant == "refresh_token" and form.get("refresh_token", [""])[0] in st.refresh_tokens:
                access = "access-" + uuid.uuid4().hex
                st.access_tokens.add(access)
                if form["refresh_token"][0] in st.scopes_of:
                    st.scopes_of[access] = st.scopes_of[form["refresh_token"][0]]
                return 200, json.dumps({"access_token": access, "expires_in": 3599, "token_type": "Bearer"}).encode()
            if grant == "authorization_code" and form.get("code", [""])[0] in st.codes:
                scope = st.codes.pop(form["code"][0])
                refresh, access = "refresh-" + uuid.uuid4().hex, "access-" + uuid.uuid4().hex
                st.refresh_tokens.add(refresh)
                st.access_tokens.add(access)
                st.scopes_of[refresh] = st.scopes_of[access] = set(scope.split())
                return 200, json.dumps({"access_token": access, "refresh_token": refresh, "expires_in": 3599,
                                        "token_type": "Bearer", "scope": scope}).encode()
        return 400, json.dumps({"error": "invalid_grant", "error_description": "Token has been expired or revoked."}).encode()

    def revoke_all(self) -> None:
        with self.state.lock:
            self.state.refresh_tokens.clear()
            self.state.access_tokens.clear()

    def expire_access_tokens(self) -> None:
        with self.state.lock:
            self.state.access_tokens.clear()

    # -- REST routing -------------------------------------------------------------------------------
    def route(self, method: str, target: str, body: bytes, token: str = "",
              if_match: str | None = None) -> tuple[int, dict | None, dict | None]:
        parts = urlsplit(target)
        q = parse_qs(parts.query)
        path = parts.path
        m = re.fullmatch(r"/gmail/v1/users/me/(.*)", path)
        if m:
            return self._gmail(method, m[1], q)
        m = re.fullmatch(r"/calendar/v3/(.*)", path)
        if m:
            return self._calendar(method, m[1], q, json.loads(body) if body else {}, self.state.scopes_of.get(token),
                                  if_match)
        return 404, _error(404, "notFound", f"no route {path}"), None

    def _quota(self, method: str) -> tuple[int, dict, dict] | None:
        if self.state.spend(GMAIL_COSTS.get(method, 1)):
            return None
        headers = {"Retry-After": self.state.retry_after} if self.state.retry_after else None
        return 429, _error(429, "rateLimitExceeded", "User-rate limit exceeded"), headers

    def _gmail(self, method: str, rest: str, q: dict) -> tuple[int, dict | None, dict | None]:
        st = self.state
        one = {k: v[0] for k, v in q.items()}
        if rest == "profile":
            return self._quota("getProfile") or (200, {"emailAddress": "me", "messagesTotal": len(st.messages),
                                                        "historyId": str(st.history_id)}, None)
        if rest == "messages":
            if over := self._quota("messages.list"):
                return over
            with st.lock:
                visible = [m for m in st.messages.values() if not {"SPAM", "TRASH"} & set(m.labels)]
            visible.sort(key=lambda m: -m.internal_ms)  # newest first, like Gmail
            size = min(int(one.get("maxResults", 100)), 500)
            start = int(one.get("pageToken", 0))
            page = visible[start:start + size]
            out = {"messages": [{"id": m.id, "threadId": m.thread} for m in page], "resultSizeEstimate": len(visible)}
            if start + size < len(visible):
                out["nextPageToken"] = str(start + size)
            return 200, out, None
        m = re.fullmatch(r"messages/([^/]+)", rest)
        if m and method == "GET":
            with st.lock:
                st.stats["messages.get"] += 1
                queued = st.fail_parts.get(m[1])
                if queued:
                    status = queued.pop(0)
                    return status, _error(status, "backendError" if status >= 500 else "rateLimitExceeded", "fail"), None
            if over := self._quota("messages.get"):
                return over
            msg = st.messages.get(m[1])
            if msg is None:
                return 404, _error(404, "notFound", "Requested entity was not found."), None
            wanted = {h.lower() for h in q.get("metadataHeaders", [])}
            headers = [{"name": k, "value": v} for k, v in msg.headers if not wanted or k.lower() in wanted]
            with st.lock:
                st.stats["headers_sent"] += len(headers)
                st.stats["messages.served"] += 1  # answered 200 (not throttled, not failed)
            return 200, {"id": msg.id, "threadId": msg.thread, "labelIds": msg.labels, "internalDate": str(msg.internal_ms),
                         "payload": {"headers": headers}}, None
        if rest == "history":
            if over := self._quota("history.list"):
                return over
            start = int(one["startHistoryId"])
            if start < st.history_floor:
                return 404, _error(404, "notFound", "Requested entity was not found."), None
            types = set(q.get("historyTypes", [])) or {"messageAdded", "messageDeleted", "labelAdded", "labelRemoved"}
            with st.lock:
                entries = [h for h in st.history if h[0] > start and h[1] in types]
                latest = st.history_id
            size = min(int(one.get("maxResults", 100)), 500)
            offset = int(one.get("pageToken", 0))
            out = {"history": [self._history_entry(*h) for h in entries[offset:offset + size]], "historyId": str(latest)}
            if offset + size < len(entries):
                out["nextPageToken"] = str(offset + size)
            return 200, out, None
        return 404, _error(404, "notFound", f"no route {rest}"), None

    def _history_entry(self, hid: int, kind: str, mid: str) -> dict:
        msg = {"id": mid, "threadId": mid}
        key = {"messageAdded": "messagesAdded", "messageDeleted": "messagesDeleted", "labelAdded": "labelsAdded",
               "labelRemoved": "labelsRemoved"}[kind]
        return {"id": str(hid), "messages": [msg], key: [{"message": msg}]}

    def _calendar(self, method: str, rest: str, q: dict, body: dict, scopes: set[str] | None = None,
                  if_match: str | None = None) -> tuple[int, dict | None, dict | None]:
        st = self.state
        one = {k: v[0] for k, v in q.items()}
        with st.lock:
            st.stats["calendar." + method] += 1
        if method != "GET" and (denied := self._calendar_scope_check(rest, scopes)):
            return denied
        if rest == "users/me/calendarList":
            items = [{"id": cid, "summary": c["summary"]} for cid, c in st.calendars.items()]
            return 200, {"items": items}, None
        if rest == "calendars" and method == "POST":
            cid = uuid.uuid4().hex + "@group.calendar.google.com"
            st.calendars[cid] = {"summary": body.get("summary", ""), "events": {}, "app_created": True}
            return 200, {"id": cid, "summary": body.get("summary", "")}, None
        m = re.fullmatch(r"calendars/([^/]+)/events(?:/([^/]+))?", rest)
        if not m:
            return 404, _error(404, "notFound", f"no route {rest}"), None
        cid, eid = unquote(m[1]), unquote(m[2]) if m[2] else None
        cal = st.calendars.get(cid)
        if cal is None:
            return 404, _error(404, "notFound", "Not Found"), None
        if method == "GET" and eid is None:
            return self._events_list(cal, one)
        if method == "POST" and eid is None:
            if body.get("id") in cal["events"] and cal["events"][body["id"]]["status"] != "cancelled":
                return 409, _error(409, "duplicate", "The requested identifier already exists."), None
            return 200, self._public(st.put_event(cid, body)), None
        if eid not in cal["events"]:
            return 404, _error(404, "notFound", "Not Found"), None
        if method == "GET":
            return 200, self._public(cal["events"][eid]), None
        if st.before_write is not None and method in ("PUT", "PATCH", "DELETE"):
            hook, st.before_write = st.before_write, None
            hook(cid, eid)  # e.g. the user editing that event in another app at this very moment
        if if_match not in (None, "*", cal["events"][eid]["etag"]):  # optimistic concurrency, as Google's
            with st.lock:
                st.stats["412"] += 1
            return 412, _error(412, "conditionNotMet", "Precondition Failed"), None
        if method in ("PUT", "PATCH"):
            merged = {**(cal["events"][eid] if method == "PATCH" else {}), **body, "id": eid}
            return 200, self._public(st.put_event(cid, merged)), None
        if method == "DELETE":
            st.cancel_event(cid, eid)
            return 204, None, None
        return 405, _error(405, "notAllowed", method), None

    def _calendar_scope_check(self, rest: str, scopes: set[str] | None):
        """Google's rules for writes: calendars.insert needs calendar or calendar.app.created; events
        writes need calendar, calendar.events, or calendar.app.created on a calendar the app made."""
        if scopes is None or CAL + "calendar" in scopes:
            return None
        m = re.fullmatch(r"calendars/([^/]+)/events.*", rest)
        app_made = bool(m) and self.state.calendars.get(unquote(m[1]), {}).get("app_created")
        if rest == "calendars" and CAL + "calendar.app.created" in scopes or \
                m and (CAL + "calendar.events" in scopes or app_made and CAL + "calendar.app.created" in scopes):
            return None
        return 403, _error(403, "insufficientPermissions", "Request had insufficient authentication scopes."), None

    @staticmethod
    def _public(event: dict) -> dict:
        return {k: v for k, v in event.items() if not k.startswith("_")}

    def _events_list(self, cal: dict, one: dict) -> tuple[int, dict | None, dict | None]:
        st = self.state
        token = one.get("syncToken")
        with st.lock:
            events = sorted(cal["events"].values(), key=lambda e: e["_seq"])
            seq = st.change_seq
        if token:
            since = int(token.split("-")[1])
            if since < max(st.token_floor, cal.get("token_floor", 0)):
                return 410, {"error": {"code": 410, "message": "Sync token is no longer valid, a full sync is required.",
                                       "errors": [{"domain": "calendar", "reason": "fullSyncRequired"}]}}, None
            events = [e for e in events if e["_seq"] > since]
        else:
            st.stats["full_list:" + cal["summary"]] += 1
        if not token and one.get("showDeleted", "false") == "false":
            events = [e for e in events if e["status"] != "cancelled" or e.get("recurringEventId")]
        size = min(int(one.get("maxResults", 250)), 2500)
        offset = int(one.get("pageToken", 0))
        out = {"kind": "calendar#events", "items": [self._public(e) for e in events[offset:offset + size]]}
        if offset + size < len(events):
            out["nextPageToken"] = str(offset + size)
        else:
            out["nextSyncToken"] = f"tok-{seq}"
        return 200, out, None


def _zone_name(tzinfo, tzid: str) -> str | None:
    """The IANA name of a time's zone, as Google names a zone on import: a zoneinfo key, an IANA
    TZID that the file defines itself, or a Windows TZID ("W. Europe Standard Time") mapped to its
    IANA zone. None for a zone Google could not name."""
    from zoneinfo import ZoneInfo

    from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

    key = getattr(tzinfo, "key", None)
    if key:
        return key
    if tzid in WINDOWS_TO_OLSON:
        return WINDOWS_TO_OLSON[tzid]
    try:
        ZoneInfo(tzid)
    except (ValueError, KeyError, OSError):
        return None
    return tzid or None


def _google_time(value, zone: str, tzid: str = "") -> dict:
    """A date or datetime (``tzid``: its TZID parameter) as a Google EventDateTime."""
    if not isinstance(value, datetime):
        return {"date": value.isoformat()}
    if value.tzinfo is None:  # floating time: Google needs a zone
        return {"dateTime": value.isoformat(), "timeZone": zone}
    name = _zone_name(value.tzinfo, tzid)
    return {"dateTime": value.isoformat(), **({"timeZone": name} if name else {})}


def _google_person(prop, partstat: dict | None = None) -> dict:
    """An ORGANIZER or ATTENDEE as Google keeps it: the address (whatever the case of "mailto:"),
    the CN as displayName, rooms and other resources marked, and, for an attendee, the PARTSTAT."""
    value = str(prop)
    person = {"email": value[7:] if value[:7].lower() == "mailto:" else value}
    params = getattr(prop, "params", {})
    if params.get("CN"):
        person["displayName"] = str(params["CN"])
    if str(params.get("CUTYPE", "")).upper() in ("ROOM", "RESOURCE"):
        person["resource"] = True
    if partstat is not None:
        person["responseStatus"] = partstat.get(str(params.get("PARTSTAT", "")).upper(), "needsAction")
    return person


def events_from_ics(data: bytes, zone: str = "Europe/Berlin") -> list[dict]:
    """Google event resources for every VEVENT of an iCalendar file, as Google would store them:
    one master per series, one event per overridden instance (recurringEventId + originalStartTime).
    Kept as Google keeps them: times with their zone (a time in a zone Google cannot name keeps its
    offset; a floating time gets ``zone``), all-day dates, DURATION as an end, recurrence lines,
    status, transparency, the organizer and the attendees with their CN, PARTSTAT and rooms."""
    from icalendar import Calendar

    partstat = {"ACCEPTED": "accepted", "DECLINED": "declined", "TENTATIVE": "tentative"}
    out = []
    for ev in Calendar.from_ical(data).walk("VEVENT"):
        uid = str(ev["UID"])
        base = hashlib.md5(uid.encode()).hexdigest()

        def when(name: str, ev=ev) -> dict:
            return _google_time(ev[name].dt, zone, str(ev[name].params.get("TZID", "")))

        item = {"id": base, "iCalUID": uid, "status": str(ev.get("STATUS", "CONFIRMED")).lower(), "start": when("DTSTART")}
        if ev.get("DTEND"):
            item["end"] = when("DTEND")
        elif ev.get("DURATION"):  # Google keeps an end, never a duration
            start = ev["DTSTART"]
            item["end"] = _google_time(start.dt + ev["DURATION"].dt, zone, str(start.params.get("TZID", "")))
        if ev.get("SUMMARY"):
            item["summary"] = str(ev["SUMMARY"])
        if str(ev.get("TRANSP", "")).upper() == "TRANSPARENT":
            item["transparency"] = "transparent"
        if ev.get("ORGANIZER"):
            item["organizer"] = _google_person(ev["ORGANIZER"])
        attendees = ev.get("ATTENDEE") or []
        attendees = attendees if isinstance(attendees, list) else [attendees]
        if attendees:
            item["attendees"] = [_google_person(a, partstat) for a in attendees]
        lines = []
        for name in ("RRULE", "EXDATE", "RDATE"):
            values = ev.get(name)
            for v in values if isinstance(values, list) else [values] if values is not None else []:
                lines.append(ev.content_line(name, v).to_ical().decode())
        if lines:
            item["recurrence"] = lines
        if ev.get("RECURRENCE-ID"):
            rid = ev["RECURRENCE-ID"].dt
            item["recurringEventId"] = base
            item["id"] = base + "_" + re.sub(r"\W", "", rid.isoformat())
            item["originalStartTime"] = when("RECURRENCE-ID")
        out.append(item)
    return out


def token_file(path: Path, server: GoogleServer, **kwargs) -> Path:
    path.write_text(json.dumps(server.token_info(**kwargs)))
    path.chmod(0o600)
    return path

