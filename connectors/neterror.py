"""Network failures as one clean line: what went wrong, with which host, and what to do.

HTTP and mail libraries wrap the socket error that matters in several layers of their own
(``MaxRetryError(... NewConnectionError('<urllib3.connection.HTTPConnection object at 0x...>: ...'))``).
``describe`` walks those layers down to the cause and words it without any library's repr.
"""

from __future__ import annotations

import errno
import socket
import ssl
from collections.abc import Iterator

# class names of library errors that say what happened when no socket error is attached
_DNS_NAMES = ("NameResolutionError", "ServerNotFoundError")
_TIMEOUT_NAMES = ("ConnectTimeout", "ReadTimeout", "Timeout", "TimeoutError")
_UNREACHABLE = (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EHOSTDOWN, errno.ENETDOWN)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and every exception it carries: causes, contexts, ``reason`` and ``args``."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        e = todo.pop(0)
        if id(e) in seen or len(seen) > 50:
            continue
        seen.add(id(e))
        yield e
        for nxt in (e.__cause__, e.__context__, getattr(e, "reason", None), *getattr(e, "args", ())):
            if isinstance(nxt, BaseException):
                todo.append(nxt)


def kind(exc: BaseException) -> str | None:
    """"tls-cert", "tls", "refused", "dns", "timeout", "reset", "unreachable", or None when the
    exception is no network failure this module knows."""
    found = list(_chain(exc))
    for e in found:  # the most specific cause first: a certificate, then TLS
        if isinstance(e, ssl.SSLCertVerificationError):
            return "tls-cert"
    for e in found:
        if isinstance(e, ssl.SSLError):
            return "tls"
    for e in found:
        if isinstance(e, ConnectionRefusedError):
            return "refused"
        if isinstance(e, socket.gaierror) or type(e).__name__ in _DNS_NAMES:
            return "dns"
        if isinstance(e, (TimeoutError, socket.timeout)) or type(e).__name__ in _TIMEOUT_NAMES:
            return "timeout"
        if isinstance(e, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError)):
            return "reset"
        if isinstance(e, OSError) and e.errno in _UNREACHABLE:
            return "unreachable"
    for e in found:  # no socket error attached: the library's own words
        text = str(e).lower()
        if "certificate verify failed" in text:
            return "tls-cert"
        if "connection refused" in text:
            return "refused"
        if "name or service not known" in text or "temporary failure in name resolution" in text \
                or "nodename nor servname" in text or "failed to resolve" in text:
            return "dns"
        if "timed out" in text:
            return "timeout"
    return None


def _cert_reason(exc: BaseException) -> str:
    for e in _chain(exc):
        if isinstance(e, ssl.SSLCertVerificationError) and e.verify_message:
            return e.verify_message
    return "certificate verify failed"


def describe(exc: BaseException, where: str, ca_key: str | None, address_keys: str) -> tuple[str, str] | None:
    """(message, remedy) for a network failure talking to ``where`` (host:port), or None when
    ``exc`` is something else. ``ca_key`` is the config key that trusts a certificate
    (``sources.work.ca_file``; None where there is none); ``address_keys`` names where the address is set (``sources.work.host
    and port``)."""
    what = kind(exc)
    if what is None:
        return None
    if what == "tls-cert":
        return (f"{where} presented a TLS certificate that is not trusted ({_cert_reason(exc)})",
                f"if you trust it, set {ca_key} to its certificate" if ca_key
                else "the server's certificate must be fixed; or download the file and read it by path")
    if what == "tls":
        return (f"the TLS handshake with {where} failed",
                f"check {address_keys}: is that port TLS?")
    if what == "refused":
        return (f"cannot connect to {where}: connection refused",
                f"is the server running? check {address_keys}")
    if what == "dns":
        return (f"cannot find the host {where.rsplit(':', 1)[0]}: the name does not resolve",
                f"check the spelling in {address_keys}, and that you are online")
    if what == "timeout":
        return (f"{where} did not answer in time", f"is the server up and the network working? check {address_keys}")
    if what == "reset":
        return (f"{where} closed the connection", "try again later; if it repeats, check the tls setting and port")
    return (f"cannot reach {where}: the network or host is unreachable", "check your network connection")


def host_port(url: str) -> str:
    """"host:port" of an http(s) URL, with the scheme's default port."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme in ("https", "webcal") else 80)
    return f"{parts.hostname or '?'}:{port}"
