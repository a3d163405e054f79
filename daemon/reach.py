"""Can each source be reached? A file or folder that is there, a server that answers.

``config check`` asks this of every source before a sync would find out: a path must exist (and a
Maildir be a folder), an ICS feed must answer a quick HEAD, and an IMAP, CalDAV or Google server
must resolve and accept a connection (with a verified TLS handshake where the source uses TLS).
No password is sent: logging in is ``doctor``'s part.
"""

from __future__ import annotations

import os
import socket
import ssl
import urllib.error
import urllib.request
from pathlib import Path

from connectors.neterror import describe, host_port
from daemon.checks import Check
from daemon.config import Config, SourceConfig

TIMEOUT = 5.0


def checks(config: Config, timeout: float = TIMEOUT) -> list[Check]:
    """One check per source, and a warning when there is no source at all."""
    if not config.sources:
        return [Check("sources", True, "the config has no source, so there is nothing to read",
                      "add a [sources.NAME] table (see config.example.toml)", warning=True)]
    return [source(s, config.path.parent if config.path else None, timeout) for s in config.sources]


def source(src: SourceConfig, config_dir: Path | None, timeout: float = TIMEOUT) -> Check:
    if src.type in ("maildir", "mbox") or (src.type == "ics" and src.path is not None):
        return _path(src, config_dir)
    if src.type == "ics":
        return _feed(src, timeout)
    if src.type == "imap":
        return _connect(src, src.host or "", src.port or 993, src.tls == "ssl", f"sources.{src.name}.host, port and tls",
                        timeout)
    if src.type == "caldav":
        where = host_port(src.url or "")
        host, port = where.rsplit(":", 1)
        return _connect(src, host, int(port), (src.url or "").startswith("https"), f"sources.{src.name}.url", timeout)
    root = src.api_endpoint or ("https://gmail.googleapis.com/" if src.type == "gmail" else "https://www.googleapis.com/")
    host, port = host_port(root).rsplit(":", 1)
    keys = f"sources.{src.name}.api_endpoint" if src.api_endpoint else "your network connection"
    return _connect(src, host, int(port), root.startswith("https"), keys, timeout)


def _what(src: SourceConfig) -> str:
    return f"source {src.name}"


def _path(src: SourceConfig, config_dir: Path | None) -> Check:
    path = src.path
    key = f"sources.{src.name}.path"
    relative = (f"; relative paths resolve against the config's folder {config_dir}"
                if config_dir and path and path.is_relative_to(config_dir.resolve()) else "")
    if path is None or not path.exists():
        return Check(_what(src), False, f"{key}: {path} does not exist",
                     f"fix {key}: set it to your {_kind(src.type)}{relative}")
    if not os.access(path, os.R_OK):
        return Check(_what(src), False, f"{key}: {path} is not readable", f"chmod u+r {path}")
    if src.type == "maildir" and not path.is_dir():
        return Check(_what(src), False, f"{key}: {path} is not a folder", f"set {key} to the Maildir's root folder")
    return Check(_what(src), True, f"{path} is there")


def _kind(source_type: str) -> str:
    return {"maildir": "Maildir's root folder", "mbox": "mbox file or folder of them",
            "ics": ".ics file or folder of them"}[source_type]


def _feed(src: SourceConfig, timeout: float) -> Check:
    url = (src.url or "").replace("webcal://", "https://", 1)
    where = host_port(url)
    request = urllib.request.Request(url, method="HEAD", headers={"User-Agent": "tiekeeper config check"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            status = resp.status
    except urllib.error.HTTPError as e:
        status = e.code
    except (urllib.error.URLError, OSError) as e:
        clean = describe(e, where, None, f"sources.{src.name}.url")
        detail = clean or (f"cannot fetch {where} ({type(e).__name__})", "check the URL and the network")
        return Check(_what(src), False, f"the feed: {detail[0]}", detail[1])
    if status in (401, 403, 404, 410):
        return Check(_what(src), False, f"the feed at {where} answered HTTP {status}",
                     f"check sources.{src.name}.url: its secret token may be wrong or revoked")
    if status >= 500:
        return Check(_what(src), False, f"the feed at {where} answered HTTP {status} (a server error)",
                     "try again later")
    return Check(_what(src), True, f"the feed at {where} answers")  # 405: HEAD refused, but the server is there


def _connect(src: SourceConfig, host: str, port: int, tls: bool, keys: str, timeout: float) -> Check:
    where = f"{host}:{port}"
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            if tls:
                ctx = ssl.create_default_context(cafile=str(src.ca_file) if src.ca_file else None)
                with ctx.wrap_socket(sock, server_hostname=host):
                    pass
    except (OSError, ssl.SSLError) as e:
        clean = describe(e, where, f"sources.{src.name}.ca_file" if src.type in ("imap", "caldav") else None, keys)
        detail = clean or (f"cannot connect to {where} ({type(e).__name__})", f"check {keys}")
        return Check(_what(src), False, detail[0], detail[1])
    return Check(_what(src), True, f"{where} answers" + (" (TLS certificate verified)" if tls else ""))
