"""The source types, each in one place: its config record, how it is read from TOML, its connector,
the secret it needs and how it is checked.

A configured source is a ``SourceConfig`` of its type's class (``ImapSource``, ...): the rest of
tiekeeper holds it and asks it (``connector()``, ``check()``, ``keyring_needed()``) instead of
looking at its type, so everything that depends on the type is here and in the connector modules.
``TYPES`` maps each ``type = "..."`` of a ``[sources.NAME]`` table to its class; the order is the
order ``config check`` lists them in.

``check(config_dir, probe)``: with ``probe=False`` (``config check``) nothing secret is sent: a path
is there, a feed answers, a server accepts a (TLS) connection. With ``probe=True`` (``doctor``) the
source's connector is asked too, through ``Connector.probe``: the path a sync takes, logging in
included. Every message names the source and the key to fix.

A record read from a table with problems may carry a None where its type says otherwise: the config
is then refused as a whole (``ConfigError``), so no such record is used past ``daemon.config.parse``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeGuard

from daemon import reach
from daemon.checks import Check
from daemon.config_reading import (
    EMAIL,
    LOOPBACK_HTTP,
    TLS_MODES,
    Table,
    is_loopback,
    password_advice,
    password_command,
    reject_secrets,
    show,
)
from daemon.errors import TiekeeperError

if TYPE_CHECKING:
    from connectors.base import Connector, FollowupCalendar

PASSWORD = "password"  # a password_command or the keyring (`tiekeeper auth password NAME`)
GOOGLE_TOKEN = "Google token"  # a token_file or the keyring (`tiekeeper auth google NAME`)
GMAIL_QUOTAS = ("standard", "strict")


@dataclass(frozen=True, kw_only=True)
class SourceConfig:
    """What every source has; each type's class adds its own keys and says how it is read, built and
    checked."""

    TYPE: ClassVar[str] = ""  # the config's ``type = "..."``
    SECRET: ClassVar[str | None] = None  # PASSWORD, GOOGLE_TOKEN, or None when the source needs none
    FOLLOWUPS_KEY: ClassVar[str | None] = None  # outputs.followups.KEY naming a source of this type to publish to

    name: str
    context: str | None = None  # "personal" | "professional": what this account is for, if one thing

    @property
    def type(self) -> str:
        return self.TYPE

    @classmethod
    def read(cls, name: str, t: Table, context: str | None) -> SourceConfig | None:
        """The source from its table (``type`` and ``context`` read already); None when a key it
        cannot do without is missing or wrong (the problem is in ``t.problems`` then)."""
        fields = cls.read_keys(t)
        if cls.SECRET == PASSWORD:
            reject_secrets(t, password_advice(name))
        elif cls.SECRET == GOOGLE_TOKEN:
            reject_secrets(t, f"run `tiekeeper auth google {name}` (keyring) or use token_file")
        t.done()
        return cls(name=name, context=context, **fields) if fields is not None else None

    @classmethod
    def read_keys(cls, t: Table) -> dict[str, Any] | None:
        """This type's own keys, in the order their problems are reported."""
        raise NotImplementedError

    def connector(self) -> Connector:
        """The connector a sync reads this source with (asks for its password if it needs one)."""
        raise NotImplementedError

    def check(self, config_dir: Path | None, probe: bool, timeout: float = reach.TIMEOUT) -> Check:
        """Can the source be read? ``probe``: through its connector, logged in (see the module)."""
        raise NotImplementedError

    def keyring_needed(self) -> bool:
        """Its secret is to come from the keyring (so a missing keyring is a problem for it)."""
        return False

    def reads_calendar(self, calendar: str) -> bool:
        """``calendar`` is one of the calendars this source reads by name."""
        return False

    def followups(self, calendar: str) -> FollowupCalendar:
        """Where follow-ups go when ``outputs.followups.FOLLOWUPS_KEY`` names this source."""
        raise NotImplementedError


def _probed(src: SourceConfig) -> Check:
    """Ask the source's connector, as a sync would: ok with what it found, or the error a sync meets."""
    what = f"source {src.name}"
    try:
        with src.connector() as conn:
            return Check(what, True, conn.probe())
    except TiekeeperError as e:
        return Check(what, False, e.message.removeprefix(f"{what}: "), e.remedy)


def _unless_connector_fails(src: SourceConfig, found: Check, probe: bool) -> Check:
    """``found`` (a path or a feed that is there), unless probing finds the connector cannot read it."""
    if not (probe and found.ok):
        return found
    probed = _probed(src)
    return found if probed.ok else probed


# -- files --------------------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class _PathSource(SourceConfig):
    """A source read from a local path: a file, or a folder of them."""

    KIND: ClassVar[str] = ""  # what the path should be, for the fix ("Maildir's root folder")
    FOLDER: ClassVar[bool] = False  # the path must be a folder

    path: Path

    @classmethod
    def read_keys(cls, t: Table) -> dict[str, Any] | None:
        return {"path": t.file_path("path")}

    def check(self, config_dir: Path | None, probe: bool, timeout: float = reach.TIMEOUT) -> Check:
        found = reach.path_check(self.name, self.path, config_dir, self.KIND, self.FOLDER)
        return _unless_connector_fails(self, found, probe)


@dataclass(frozen=True, kw_only=True)
class MaildirSource(_PathSource):
    TYPE = "maildir"
    KIND = "Maildir's root folder"
    FOLDER = True

    def connector(self) -> Connector:
        from connectors.maildir import MaildirConnector

        return MaildirConnector(self.name, self.path)


@dataclass(frozen=True, kw_only=True)
class MboxSource(_PathSource):
    TYPE = "mbox"
    KIND = "mbox file or folder of them"

    def connector(self) -> Connector:
        from connectors.mbox import MboxConnector

        return MboxConnector(self.name, self.path)


@dataclass(frozen=True, kw_only=True)
class IcsSource(SourceConfig):
    """An iCalendar file or folder of them, or a feed (https:// or webcal://)."""

    TYPE = "ics"
    KIND = ".ics file or folder of them"

    path: Path | None = None
    url: str | None = None

    @classmethod
    def read_keys(cls, t: Table) -> dict[str, Any] | None:
        path = t.file_path("path", None)
        url = t.string("url", None)
        if url is not None and not re.match(r"^(https?|webcal)://", url):
            t.problem("url", f"expected an http(s):// or webcal:// URL, got {show(url)}")
        if (path is None) == (url is None):
            t.problem("", "an ics source needs exactly one of path or url")
        return {"path": path, "url": url}

    def connector(self) -> Connector:
        from connectors.ics import IcsConnector

        return IcsConnector(self.name, path=self.path, url=self.url)

    def check(self, config_dir: Path | None, probe: bool, timeout: float = reach.TIMEOUT) -> Check:
        if self.path is not None:
            found = reach.path_check(self.name, self.path, config_dir, self.KIND)
        else:
            found = reach.feed_check(self.name, self.url, timeout)
        return _unless_connector_fails(self, found, probe)


# -- mail and calendar servers, with a password ----------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class PasswordSource(SourceConfig):
    """A server that takes a username and a password (from password_command or the keyring)."""

    SECRET = PASSWORD

    username: str | None = None
    password_command: tuple[str, ...] | None = None
    ca_file: Path | None = None  # trust this certificate (e.g. a self-signed one) for TLS

    @property
    def server(self) -> str:
        """Where the password is for, as the user wrote it (a host or a URL)."""
        raise NotImplementedError

    def password(self) -> str | None:
        from daemon.secrets import get_password

        return get_password(self.name, self.username, self.password_command) if self.username else None

    def keyring_needed(self) -> bool:
        return bool(self.username) and not self.password_command  # without a username, nothing logs in


@dataclass(frozen=True, kw_only=True)
class ImapSource(PasswordSource):
    TYPE = "imap"

    host: str
    port: int
    tls: str = "ssl"
    folders: tuple[str, ...] | None = None

    @classmethod
    def read_keys(cls, t: Table) -> dict[str, Any] | None:
        host = t.string("host")
        tls = t.choice("tls", TLS_MODES, "ssl") or "ssl"
        port = t.integer("port", 993 if tls == "ssl" else 143, 1)
        if isinstance(port, int) and port > 65535:
            t.problem("port", f"expected a port number up to 65535, got {port}")
        if tls == "none" and host is not None and not is_loopback(host):
            t.problem("tls", f'"none" sends your password in clear text: only allowed for a loopback host, not {show(host)}')
        username = t.string("username")
        command = password_command(t)
        folders = t.strings("folders", None)
        ca_file = t.file_path("ca_file", None)
        if not (host and username):
            return None
        return {"host": host, "port": port, "tls": tls, "username": username, "password_command": command or None,
                "folders": folders, "ca_file": ca_file}

    @property
    def server(self) -> str:
        return self.host

    def connector(self) -> Connector:
        from connectors.imap import ImapConnector

        return ImapConnector(self.name, self.host, self.port, self.tls, self.username or "", self.password() or "",
                             self.folders, self.ca_file)

    def check(self, config_dir: Path | None, probe: bool, timeout: float = reach.TIMEOUT) -> Check:
        if probe:
            return _probed(self)
        return reach.connect_check(self.name, self.host or "", self.port or 993, self.tls == "ssl", self.ca_file,
                                   f"sources.{self.name}.ca_file", f"sources.{self.name}.host, port and tls", timeout)


@dataclass(frozen=True, kw_only=True)
class CalDavSource(PasswordSource):
    TYPE = "caldav"
    FOLLOWUPS_KEY = "caldav"

    url: str
    calendars: tuple[str, ...] | None = None  # display names to read (default: all)

    @classmethod
    def read_keys(cls, t: Table) -> dict[str, Any] | None:
        url = t.string("url")
        if url is not None and not re.match(r"^https?://", url):
            t.problem("url", f"expected an http(s):// URL, got {show(url)}")
        elif url and url.startswith("http://") and not LOOPBACK_HTTP.match(url):
            t.problem("url", "plain http sends your password in clear text: use https (http only for loopback hosts)")
        username = t.string("username", None)
        command = password_command(t)
        calendars = t.strings("calendars", None)
        ca_file = t.file_path("ca_file", None)
        if not url:
            return None
        return {"url": url, "username": username, "password_command": command or None, "calendars": calendars,
                "ca_file": ca_file}

    @property
    def server(self) -> str:
        return self.url

    def connector(self) -> Connector:
        from connectors.caldav import CalDavConnector

        return CalDavConnector(self.name, self.url, self.username, self.password(), self.calendars, self.ca_file)

    def check(self, config_dir: Path | None, probe: bool, timeout: float = reach.TIMEOUT) -> Check:
        if probe:
            return _probed(self)
        return reach.url_check(self.name, self.url or "", self.ca_file, f"sources.{self.name}.ca_file",
                               f"sources.{self.name}.url", timeout)

    def reads_calendar(self, calendar: str) -> bool:
        return bool(self.calendars) and calendar in (self.calendars or ())

    def followups(self, calendar: str) -> FollowupCalendar:
        from connectors.caldav import CalDavConnector
        from connectors.caldav_publish import CalDavFollowups

        conn = self.connector()
        assert isinstance(conn, CalDavConnector)
        return CalDavFollowups(conn, calendar)


# -- Google ------------------------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class GoogleSource(SourceConfig):
    """A Google API read with the account's OAuth token (from token_file or the keyring)."""

    SECRET = GOOGLE_TOKEN
    DEFAULT_ROOT: ClassVar[str] = ""  # where the API's calls go without api_endpoint

    account: str  # the Google account, lower case
    token_file: Path | None = None  # an authorized-user JSON (0600) instead of the keyring
    api_endpoint: str | None = None  # send every Google API call (REST, batch) to this root URL

    @classmethod
    def read_keys(cls, t: Table) -> dict[str, Any] | None:
        account = t.string("account")
        if isinstance(account, str) and not EMAIL.match(account):
            t.problem("account", f'expected the Google account\'s address like "me@gmail.com", got {show(account)}')
        token_file = t.file_path("token_file", None)
        endpoint = t.string("api_endpoint", None)
        if endpoint is not None and not re.match(r"^https?://", endpoint):
            t.problem("api_endpoint", f"expected an http(s):// root URL, got {show(endpoint)}")
        elif endpoint and endpoint.startswith("http://") and not LOOPBACK_HTTP.match(endpoint):
            t.problem("api_endpoint", "plain http would send your tokens in clear text: use https (http only for loopback hosts)")
        own = cls.read_api_keys(t)
        if not isinstance(account, str):
            return None
        return {"account": account.strip().lower(), "token_file": token_file, "api_endpoint": endpoint, **own}

    @classmethod
    def read_api_keys(cls, t: Table) -> dict[str, Any]:
        """The keys of this API only (read after the ones every Google source has)."""
        raise NotImplementedError

    def scopes(self, publishes_followups: bool) -> set[str]:
        """The OAuth scopes reading it needs (and publishing follow-ups to it, if it does)."""
        raise NotImplementedError

    def keyring_needed(self) -> bool:
        return self.token_file is None

    def check(self, config_dir: Path | None, probe: bool, timeout: float = reach.TIMEOUT) -> Check:
        if probe:
            return _probed(self)
        keys = f"sources.{self.name}.api_endpoint" if self.api_endpoint else "your network connection"
        return reach.url_check(self.name, self.api_endpoint or self.DEFAULT_ROOT, None, None, keys, timeout)


@dataclass(frozen=True, kw_only=True)
class GmailSource(GoogleSource):
    TYPE = "gmail"
    DEFAULT_ROOT = "https://gmail.googleapis.com/"

    quota: str = "standard"  # the per-user quota preset
    quota_units_per_minute: int | None = None  # overrides the preset

    @classmethod
    def read_api_keys(cls, t: Table) -> dict[str, Any]:
        quota = t.choice("quota", GMAIL_QUOTAS, "standard") or "standard"
        return {"quota": quota, "quota_units_per_minute": t.integer("quota_units_per_minute", None, 60)}

    def scopes(self, publishes_followups: bool) -> set[str]:
        from connectors import google_api

        return {google_api.GMAIL_SCOPE}

    def connector(self) -> Connector:
        from connectors import google_api
        from connectors.gmail import GmailConnector

        per_second = (self.quota_units_per_minute / 60 if self.quota_units_per_minute
                      else google_api.QUOTA_PRESETS[self.quota])
        return GmailConnector(self.name, self.account, self.token_file, self.api_endpoint,
                              google_api.Quota(per_second, google_api.GMAIL_COSTS))


@dataclass(frozen=True, kw_only=True)
class GoogleCalendarSource(GoogleSource):
    TYPE = "google_calendar"
    FOLLOWUPS_KEY = "google"
    DEFAULT_ROOT = "https://www.googleapis.com/"

    calendars: tuple[str, ...] = ("primary",)  # ids or titles to read

    @classmethod
    def read_api_keys(cls, t: Table) -> dict[str, Any]:
        return {"calendars": t.strings("calendars", ("primary",))}

    def scopes(self, publishes_followups: bool) -> set[str]:
        from connectors import google_api

        scopes = {google_api.CALENDAR_READ_SCOPE}
        if publishes_followups:
            scopes.add(google_api.CALENDAR_WRITE_SCOPE)  # only when follow-ups are pushed to this account
        return scopes

    def connector(self) -> Connector:
        from connectors.google_calendar import GoogleCalendarConnector

        return GoogleCalendarConnector(self.name, self.account, self.calendars or ("primary",),
                                       self.token_file, self.api_endpoint)

    def reads_calendar(self, calendar: str) -> bool:
        return bool(self.calendars) and calendar in self.calendars

    def followups(self, calendar: str) -> FollowupCalendar:
        from connectors import google_api
        from connectors.google_calendar import GoogleCalendarConnector
        from connectors.google_publish import GoogleFollowups

        conn = GoogleCalendarConnector(self.name, self.account, ("primary",), self.token_file, self.api_endpoint,
                                       scopes=(google_api.CALENDAR_READ_SCOPE, google_api.CALENDAR_WRITE_SCOPE))
        return GoogleFollowups(conn, calendar)


# -- the registry ---------------------------------------------------------------------------------------
TYPES: dict[str, type[SourceConfig]] = {cls.TYPE: cls for cls in (
    MaildirSource, MboxSource, IcsSource, ImapSource, CalDavSource, GmailSource, GoogleCalendarSource)}


def types_needing(secret: str) -> tuple[str, ...]:
    """The type names whose sources need ``secret`` (PASSWORD or GOOGLE_TOKEN), in TYPES' order."""
    return tuple(name for name, cls in TYPES.items() if cls.SECRET == secret)


def publishing_types() -> tuple[tuple[str, type[SourceConfig]], ...]:
    """(outputs.followups key, the type a source named there must be) for each calendar follow-ups go to."""
    return tuple((cls.FOLLOWUPS_KEY, cls) for cls in TYPES.values() if cls.FOLLOWUPS_KEY)


def needs_password(src: SourceConfig) -> TypeGuard[PasswordSource]:
    """The source logs in with a password (``tiekeeper auth password`` stores it)."""
    return isinstance(src, PasswordSource)


def needs_google_token(src: SourceConfig) -> TypeGuard[GoogleSource]:
    """The source reads a Google API with an OAuth token (``tiekeeper auth google`` gets it)."""
    return isinstance(src, GoogleSource)
