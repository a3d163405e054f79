"""What the Gmail and Google Calendar connectors share: credentials, the API client, quota and retries.

Credentials are an OAuth "authorized user" (client id, client secret, refresh token, token URI),
read from the keyring (written by `tiekeeper auth google`) or from a 0600 ``token_file`` for
headless boxes. The access token lives in memory only.

``api_endpoint`` sends every call to another root URL: REST calls through ``client_options``, batch
calls through a hand-built batch URI (the client takes batch URIs from its discovery document and
ignores ``client_options`` there), and token refreshes to the token file's own ``token_uri``
(google-auth replaces it with Google's when it reads a file, so it is set again).

The client does not retry and ignores Retry-After: :func:`call` retries 429, 403 rate-limit and 5xx
answers with jittered exponential backoff that honours Retry-After, and a token bucket keeps
the calls under the per-user quota.
"""

from __future__ import annotations

import functools
import json
import logging
import random
import socket
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal
from urllib.parse import urlsplit

from daemon.errors import AuthError, SourceError

log = logging.getLogger(__name__)

GMAIL_SCOPE = "https://www.googleapis.com/auth/gmail.metadata"
CALENDAR_READ_SCOPE = "https://www.googleapis.com/auth/calendar.readonly"
# Follow-ups go to a calendar of tiekeeper's own: calendar.app.created allows creating secondary
# calendars and writing events in those only (calendar.events cannot create a calendar).
CALENDAR_WRITE_SCOPE = "https://www.googleapis.com/auth/calendar.app.created"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
KEYRING_SERVICE = "tiekeeper-google"
TIMEOUT = 60
MAX_ATTEMPTS = 8
_RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded", "dailyLimitExceeded"}


# -- quota --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Quota:
    """A per-user quota: ``units_per_second`` refills the bucket; each method costs ``costs[m]``."""

    units_per_second: float
    costs: dict[str, int]


# Gmail's published per-user limit is 15,000 units a minute (250 a second); messages.get and
# messages.list cost 5 units, history.list 2, getProfile 1. The "strict" preset is our cautious
# assumption for projects created from May 2026 (we found no published figure here): 100 units a
# second. Both can be overridden per source (quota_units_per_minute).
GMAIL_COSTS = {"messages.get": 5, "messages.list": 5, "history.list": 2, "getProfile": 1, "labels.list": 1}
QUOTA_PRESETS = {"standard": 250.0, "strict": 100.0}
# Calendar counts queries, not units: 600 a minute per user is the documented default.
CALENDAR_QUOTA = Quota(10.0, {})


class TokenBucket:
    """A token bucket: ``take(n)`` waits until n units are available. Holds one second of burst."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.rate = rate
        self.capacity = max(rate, 1.0)
        self.tokens = self.capacity
        self.clock, self.sleep = clock, sleep
        self.stamp = clock()
        self._lock = threading.Lock()

    def take(self, units: float) -> float:
        """Take ``units`` (waiting for them) and return how long it waited."""
        units = min(units, self.capacity)
        with self._lock:
            now = self.clock()
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            self.tokens -= units
            wait = -self.tokens / self.rate if self.tokens < 0 else 0.0
        if wait:
            self.sleep(wait)
        return wait


def backoff_delay(attempt: int, retry_after: float | None, base: float = 1.0, cap: float = 64.0,
                  rand: Callable[[], float] = random.random) -> float:
    """Seconds to wait before attempt ``attempt + 1``: exponential with full jitter in its upper
    half, never less than the server's Retry-After."""
    delay = min(cap, base * 2 ** attempt) * (0.5 + rand() / 2)
    return max(delay, retry_after or 0.0)


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds: a number of seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


def error_reason(content: bytes | str | None) -> tuple[str, str]:
    """(reason, message) from a Google JSON error body; ("", "") when it is not one."""
    try:
        err = json.loads(content or b"{}").get("error", {})
    except (ValueError, AttributeError):
        return "", ""
    if isinstance(err, str):  # OAuth endpoints answer {"error": "invalid_grant", ...}
        return err, ""
    reasons = [e.get("reason", "") for e in err.get("errors", []) if isinstance(e, dict)]
    return (reasons[0] if reasons else str(err.get("status", ""))), str(err.get("message", ""))[:200]


def is_retryable(status: int, reason: str) -> bool:
    return status == 429 or status >= 500 or (status == 403 and reason in _RATE_REASONS)


# -- credentials ----------------------------------------------------------------------------------------
def _keyring_key(source: str, account: str) -> str:
    return f"{source}:{account}"


def load_authorized_user(source: str, account: str, token_file: Path | None) -> dict[str, Any]:
    """The stored authorized-user JSON, from ``token_file`` or the keyring."""
    remedy = f"run `tiekeeper auth google {source}`"
    if token_file is not None:
        try:
            st = token_file.stat()
            if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise AuthError(source, f"{token_file} can be read by other users",
                                f"run `chmod 600 {token_file}`")
            info = json.loads(token_file.read_text("utf-8"))
        except FileNotFoundError:
            raise AuthError(source, f"token_file {token_file} does not exist", f"{remedy} --token-file {token_file}") from None
        except (OSError, ValueError) as e:
            raise AuthError(source, f"token_file {token_file} is not readable JSON ({type(e).__name__})", remedy) from None
    else:
        from daemon.secrets import keyring_secret

        raw = keyring_secret(source, KEYRING_SERVICE, _keyring_key(source, account),
                             ("no token_file", f"{remedy} --token-file PATH and set sources.{source}.token_file"),
                             ("not authorized yet", remedy))
        try:
            info = json.loads(raw)
        except ValueError:
            raise AuthError(source, "the token stored in the keyring is damaged", remedy) from None
    missing = [k for k in ("client_id", "client_secret", "refresh_token") if not info.get(k)]
    if missing:
        raise AuthError(source, f"the stored authorization lacks {', '.join(missing)}", remedy)
    return info


def store_authorized_user(source: str, account: str, info: dict[str, Any], token_file: Path | None) -> str:
    """Keep the authorization in ``token_file`` (0600) or the keyring; return where it went."""
    text = json.dumps({k: info[k] for k in ("client_id", "client_secret", "refresh_token", "token_uri", "scopes")
                       if info.get(k)})
    if token_file is not None:
        from daemon.fsutil import write_private

        write_private(token_file, text.encode())
        return str(token_file)
    from daemon.secrets import backend_name, keyring_backend

    kr, why = keyring_backend()
    if kr is None:
        raise AuthError(source, f"cannot store the token: {why}",
                        "pass --token-file PATH (written 0600) and set token_file in the source's config")
    kr.set_password(KEYRING_SERVICE, _keyring_key(source, account), text)
    return f"the keyring ({backend_name(kr)})"


def credentials(source: str, account: str, token_file: Path | None, scopes: list[str]):
    from google.oauth2.credentials import Credentials

    info = load_authorized_user(source, account, token_file)
    creds = Credentials.from_authorized_user_info(info, scopes=info.get("scopes") or scopes)
    return creds.with_token_uri(info.get("token_uri") or GOOGLE_TOKEN_URI)


def authorized_http(creds):
    import google_auth_httplib2
    import httplib2

    return google_auth_httplib2.AuthorizedHttp(creds, http=httplib2.Http(timeout=TIMEOUT))


def build_service(api: str, version: str, http, api_endpoint: str | None):
    """A discovery-based client from the discovery document bundled with the library."""
    from googleapiclient.discovery import build

    options = None
    if api_endpoint:
        root = api_endpoint.rstrip("/") + "/"
        options = {"api_endpoint": root + ("calendar/v3/" if api == "calendar" else "")}
    return build(api, version, http=http, static_discovery=True, client_options=options, cache_discovery=False)


def endpoint_where(api: str, api_endpoint: str | None) -> str:
    """host:port the API's calls go to, for error messages."""
    from connectors.neterror import host_port

    if api_endpoint:
        return host_port(api_endpoint)
    return _DEFAULT_HOSTS[0] if api == "gmail" else _DEFAULT_HOSTS[1]


_DEFAULT_HOSTS = ("gmail.googleapis.com:443", "www.googleapis.com:443")


def batch_uri(api: str, api_endpoint: str | None) -> str | None:
    """Where batch requests go when ``api_endpoint`` redirects the API (None: the client's default)."""
    if not api_endpoint:
        return None
    root = api_endpoint.rstrip("/") + "/"
    return root + ("batch/calendar/v3" if api == "calendar" else "batch")


def new_batch(service, api: str, api_endpoint: str | None, callback):
    """A batch request for ``service`` (to ``api_endpoint``'s batch path when it is set)."""
    uri = batch_uri(api, api_endpoint) or service.new_batch_http_request()._batch_uri  # from the discovery doc
    return _lean_batch_class()(callback=callback, batch_uri=uri)


@functools.cache
def _lean_batch_class():
    from googleapiclient import _auth
    from googleapiclient.http import BatchHttpRequest

    class LeanBatch(BatchHttpRequest):
        """The library's batch, with body-less parts written by hand: its email-package serializer
        costs more CPU than everything else a Gmail message needs (bench/gmail.py)."""

        def _serialize_request(self, request) -> str:
            headers = request.headers.copy()
            if request.body is not None or any("\n" in f"{k}{v}" or "\r" in f"{k}{v}" for k, v in headers.items()):
                return super()._serialize_request(request)
            parsed = urlsplit(request.uri)
            if request.http is not None:
                credentials = _auth.get_credentials_from_http(request.http)
                if credentials is not None:
                    _auth.apply_credentials(credentials, headers)
            headers.pop("content-type", None)
            target = parsed.path + (f"?{parsed.query}" if parsed.query else "")
            lines = [f"{request.method} {target} HTTP/1.1", "Content-Type: application/json", "MIME-Version: 1.0",
                     *(f"{k}: {v}" for k, v in headers.items()), f"Host: {parsed.netloc}"]
            return "\n".join(lines) + "\n\n"

    return LeanBatch


# -- one call with retries ---------------------------------------------------------------------------
class Caller:
    """Executes API requests for one source: quota, retries, and errors turned into SourceError."""

    def __init__(self, source: str, quota: Quota, base_delay: float = 1.0,
                 sleep: Callable[[float], None] = time.sleep, where: str = "Google") -> None:
        self.source = source
        self.where = where  # host:port, for a network failure's message
        self.quota = quota
        self.bucket = TokenBucket(quota.units_per_second, sleep=sleep)
        self.base_delay = base_delay
        self.sleep = sleep
        self.calls = 0
        self.throttled = 0

    def cost(self, method: str, n: int = 1) -> None:
        self.bucket.take(self.quota.costs.get(method, 1) * n)

    def call(self, request, method: str, what: str, allow: tuple[int, ...] = ()):
        """``request.execute()`` with quota and retries. A status in ``allow`` is returned as an
        HttpError for the caller to handle (e.g. 404 for an expired history id)."""
        from googleapiclient.errors import HttpError

        for attempt in range(MAX_ATTEMPTS):
            self.cost(method)
            self.calls += 1
            try:
                with translate(self.source, what, self.where):
                    answer = request.execute(num_retries=0)
                if answer in ("", b""):
                    # 204 No Content (events.delete): the client's raw model, used for methods whose
                    # discovery document declares no response, hands back the empty body.
                    return {}
                if not isinstance(answer, dict):
                    raise SourceError(self.source, f"Google's answer to {what} is not JSON (a proxy or captive portal?)",
                                      "tiekeeper will try again later; nothing stored was changed")
                return answer
            except HttpError as e:
                status = int(e.resp.status)
                reason, message = error_reason(e.content)
                if status in allow:
                    return e
                if not is_retryable(status, reason) or attempt == MAX_ATTEMPTS - 1:
                    raise api_error(self.source, what, status, reason, message) from None
                self.throttled += status in (429, 403)
                delay = backoff_delay(attempt, retry_after_seconds(e.resp.get("retry-after")), self.base_delay)
                log.debug("source %s: %s answered %s, retrying in %.1fs", self.source, what, status, delay)
                self.sleep(delay)
        raise AssertionError("unreachable")


def api_error(source: str, what: str, status: int, reason: str, message: str) -> SourceError:
    auth = f"run `tiekeeper auth google {source}`"
    if status == 401:
        return AuthError(source, f"Google refused the access token for {what}", auth)
    if status == 403 and reason in ("insufficientPermissions", "ACCESS_TOKEN_SCOPE_INSUFFICIENT", "forbidden"):
        return AuthError(source, f"the authorization does not cover {what} ({reason})", auth)
    if is_retryable(status, reason):
        return SourceError(source, f"Google kept answering {status} ({reason or 'no reason'}) for {what}",
                           "tiekeeper will try again later; lower quota_units_per_minute if this repeats")
    detail = f": {message}" if message else ""
    return SourceError(source, f"Google answered {status} for {what}{detail}", "check the source's settings")


class translate:
    """Turn transport, token and garbage-answer failures into SourceError/AuthError."""

    def __init__(self, source: str, what: str, where: str = "Google") -> None:
        self.source, self.what, self.where = source, what, where

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> Literal[False]:
        if exc is None:
            return False
        from google.auth.exceptions import RefreshError, TransportError
        from googleapiclient.errors import HttpError

        if isinstance(exc, HttpError):
            return False
        if isinstance(exc, RefreshError):
            text = str(exc)
            why = "was revoked or has expired (invalid_grant)" if "invalid_grant" in text else f"could not be refreshed ({text[:120]})"
            raise AuthError(self.source, f"the Google authorization {why}",
                            f"run `tiekeeper auth google {self.source}`") from None
        if isinstance(exc, (TransportError, OSError, socket.timeout)) or type(exc).__module__.startswith("httplib2"):
            from connectors.neterror import describe

            custom = self.where not in ("Google", *_DEFAULT_HOSTS)
            clean = describe(exc, self.where, None,
                             f"sources.{self.source}.api_endpoint" if custom else "your network connection")
            if clean:
                raise SourceError(self.source, f"cannot reach Google for {self.what}: {clean[0]}",
                                  f"{clean[1]}; tiekeeper will try again") from None
            raise SourceError(self.source, f"cannot reach Google for {self.what} ({type(exc).__name__})",
                              "check the network; tiekeeper will try again") from None
        if isinstance(exc, (ValueError, KeyError, TypeError)):
            raise SourceError(self.source, f"Google's answer to {self.what} is not what the API returns "
                                           f"({type(exc).__name__})", "tiekeeper will try again later") from None
        return False

