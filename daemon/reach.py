"""Can each source be reached? A file or folder that is there, a server that answers.

``config check`` asks this of every source before a sync would find out: a path must exist (and a
Maildir be a folder), an ICS feed must answer a quick HEAD, and an IMAP, CalDAV or Google server
must resolve and accept a connection (with a verified TLS handshake where the source uses TLS).
No password is sent: logging in is ``doctor``'s part. Which of these a source needs is its type's
to say (``SourceConfig.check`` in ``connectors.registry``); the looking is done here.
"""

from __future__ import annotations

import os
import socket
import ssl
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

from connectors.neterror import describe, host_port
from daemon.checks import Check

if TYPE_CHECKING:
    from daemon.config import Config

TIMEOUT = 5.0


def checks(config: Config, timeout: float = TIMEOUT) -> list[Check]:
    """One check per source, and a warning when there is no source at all."""
    if not config.sources:
        return [Check("sources", True, "the config has no source, so there is nothing to read",
                      "add a [sources.NAME] table (see config.example.toml)", warning=True)]
    config_dir = config.path.parent if config.path else None
    return [s.check(config_dir, probe=False, timeout=timeout) for s in config.sources]


def _what(name: str) -> str:
    return f"source {name}"


def path_check(name: str, path: Path | None, config_dir: Path | None, kind: str, folder: bool = False) -> Check:
    """``path`` (sources.NAME.path) is there and readable, and a folder if ``folder``; ``kind`` says
    what it should be ("Maildir's root folder")."""
    key = f"sources.{name}.path"
    relative = (f"; relative paths resolve against the config's folder {config_dir}"
                if config_dir and path and path.is_relative_to(config_dir.resolve()) else "")
    if path is None or not path.exists():
        return Check(_what(name), False, f"{key}: {path} does not exist", f"fix {key}: set it to your {kind}{relative}")
    if not os.access(path, os.R_OK):
        return Check(_what(name), False, f"{key}: {path} is not readable", f"chmod u+r {path}")
    if folder and not path.is_dir():
        return Check(_what(name), False, f"{key}: {path} is not a folder", f"set {key} to the {kind}")
    return Check(_what(name), True, f"{path} is there")


def feed_check(name: str, feed_url: str | None, timeout: float = TIMEOUT) -> Check:
    """The feed at ``feed_url`` (sources.NAME.url) answers a HEAD request."""
    url = (feed_url or "").replace("webcal://", "https://", 1)
    where = host_port(url)
    request = urllib.request.Request(url, method="HEAD", headers={"User-Agent": "tiekeeper config check"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            status = resp.status
    except urllib.error.HTTPError as e:
        status = e.code
    except (urllib.error.URLError, OSError) as e:
        clean = describe(e, where, None, f"sources.{name}.url")
        detail = clean or (f"cannot fetch {where} ({type(e).__name__})", "check the URL and the network")
        return Check(_what(name), False, f"the feed: {detail[0]}", detail[1])
    if status in (401, 403, 404, 410):
        return Check(_what(name), False, f"the feed at {where} answered HTTP {status}",
                     f"check sources.{name}.url: its secret token may be wrong or revoked")
    if status >= 500:
        return Check(_what(name), False, f"the feed at {where} answered HTTP {status} (a server error)",
                     "try again later")
    return Check(_what(name), True, f"the feed at {where} answers")  # 405: HEAD refused, but the server is there


def url_check(name: str, url: str, ca_file: Path | None, ca_key: str | None, keys: str, timeout: float = TIMEOUT) -> Check:
    """The server of an http(s) URL accepts a connection (TLS verified for https)."""
    host, port = host_port(url).rsplit(":", 1)
    return connect_check(name, host, int(port), url.startswith("https"), ca_file, ca_key, keys, timeout)


def connect_check(name: str, host: str, port: int, tls: bool, ca_file: Path | None, ca_key: str | None, keys: str,
                  timeout: float = TIMEOUT) -> Check:
    """``host:port`` accepts a connection and, if ``tls``, a verified TLS handshake (trusting
    ``ca_file`` if given). ``ca_key`` and ``keys`` name the config keys a fix would change."""
    where = f"{host}:{port}"
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            if tls:
                ctx = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
                with ctx.wrap_socket(sock, server_hostname=host):
                    pass
    except (OSError, ssl.SSLError) as e:
        clean = describe(e, where, ca_key, keys)
        detail = clean or (f"cannot connect to {where} ({type(e).__name__})", f"check {keys}")
        return Check(_what(name), False, detail[0], detail[1])
    return Check(_what(name), True, f"{where} answers" + (" (TLS certificate verified)" if tls else ""))
