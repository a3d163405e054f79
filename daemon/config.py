"""Configuration: TOML into frozen dataclasses.

Every problem is collected and reported at once, each with its dotted path and what was expected
(``sources.work.port: expected an integer, got "x"``). Unknown keys are rejected with the valid ones
listed. Relative paths resolve against the config file's folder. Secrets never live here: sources
name a ``password_command`` or use the keyring.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs

from daemon.errors import ConfigError

APP = "tiekeeper"
SOURCE_TYPES = ("maildir", "mbox", "ics", "imap", "caldav", "gmail", "google_calendar")
GMAIL_QUOTAS = ("standard", "strict")
TLS_MODES = ("ssl", "starttls", "none")
LOOPBACK = ("localhost", "127.0.0.1", "::1")
RELATIONSHIPS = ("personal", "professional")  # what a source or an account carries
PERSON_RELATIONSHIPS = ("personal", "professional", "family")  # what a tie is, when the user says so
_REQUIRED = object()


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir(APP)) / "config.toml"


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP))


@dataclass(frozen=True)
class Identity:
    addresses: tuple[str, ...]
    timezone: str
    # what one of my accounts carries, when I say so: (address, "personal" | "professional")
    contexts: tuple[tuple[str, str], ...] = ()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True, kw_only=True)
class SourceConfig:
    name: str
    type: str
    path: Path | None = None
    url: str | None = None
    context: str | None = None  # "personal" | "professional": what this account is for, if one thing
    host: str | None = None  # imap
    port: int | None = None
    tls: str = "ssl"
    username: str | None = None
    password_command: tuple[str, ...] | None = None
    folders: tuple[str, ...] | None = None
    ca_file: Path | None = None  # trust this certificate (e.g. a self-signed one) for TLS
    calendars: tuple[str, ...] | None = None  # caldav: display names to read (default: all)
    account: str | None = None  # gmail, google_calendar: the Google account
    token_file: Path | None = None  # an authorized-user JSON (0600) instead of the keyring
    api_endpoint: str | None = None  # send every Google API call (REST, batch) to this root URL
    quota: str = "standard"  # gmail: the per-user quota preset
    quota_units_per_minute: int | None = None  # gmail: overrides the preset


@dataclass(frozen=True, kw_only=True)
class FollowupsConfig:
    path: Path | None = None
    working_hours: tuple[time, time] = (time(9, 0), time(17, 0))
    personal_hours: tuple[time, time] = (time(18, 0), time(21, 0))
    duration_minutes: int = 30
    per_day: int = 2
    per_week: int = 5
    alarm_minutes: int | None = None
    caldav: str | None = None  # publish to this caldav source's server ...
    google: str | None = None  # ... or to this google_calendar source's account
    calendar: str = "Follow-ups"  # the calendar there (made when missing); never one you read from


@dataclass(frozen=True, kw_only=True)
class DigestConfig:
    path: Path | None = None
    smtp_host: str | None = None  # send it: over SMTP with a verified TLS context
    smtp_port: int | None = None
    smtp_tls: str = "starttls"
    username: str | None = None
    password_command: tuple[str, ...] | None = None
    to: str | None = None
    sender: str | None = None  # the "from" key
    ca_file: Path | None = None
    every: tuple[int, time] | None = None  # weekday (0 = Monday) and time; parse() moves it into ScheduleConfig


@dataclass(frozen=True)
class AnalysisConfig:
    as_of: datetime | None = None  # pin the clock (replaying an archive, the bundled sample)
    window_days: int = 730


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class ScheduleConfig:
    sync_every_minutes: int = 15
    digest_weekday: int = 0  # Monday
    digest_time: time = time(8, 0)


@dataclass(frozen=True)
class Person:
    name: str | None
    addresses: tuple[str, ...]
    relationship: str | None = None
    cadence_days: float | None = None
    ignore: bool = False
    origin: str = "the config"  # where the user said it: "the config" or "tiekeeper set"


@dataclass(frozen=True, kw_only=True)
class Config:
    path: Path | None
    identity: Identity
    store_path: Path
    sources: tuple[SourceConfig, ...]
    followups: FollowupsConfig = field(default_factory=FollowupsConfig)
    digest: DigestConfig = field(default_factory=DigestConfig)
    analysis: AnalysisConfig = field(default_factory=AnalysisConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    people: tuple[Person, ...] = ()

    def source(self, name: str) -> SourceConfig:
        for s in self.sources:
            if s.name == name:
                return s
        raise KeyError(name)


# --------------------------------------------------------------------------- validation helpers


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return str(value)


class _Table:
    """Reads one TOML table, collecting problems instead of raising at the first."""

    def __init__(self, data: Any, path: str, problems: list[str], base: Path) -> None:
        self.path, self.problems, self.base = path, problems, base
        if not isinstance(data, dict):
            self.problem("", f"expected a table, got {_show(data)}")
            data = {}
        self.data: dict[str, Any] = data
        self.seen: set[str] = set()

    def key_path(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path and key else (self.path or key)

    def problem(self, key: str, message: str) -> None:
        self.problems.append(f"{self.key_path(key)}: {message}")

    def _get(self, key: str, default: Any) -> Any:
        self.seen.add(key)
        if key not in self.data:
            if default is _REQUIRED:
                self.problem(key, "missing; this key is required")
            return default
        return self.data[key]

    def string(self, key: str, default: Any = _REQUIRED) -> Any:
        value = self._get(key, default)
        if key in self.data and not isinstance(value, str):
            self.problem(key, f"expected a string, got {_show(value)}")
            return None if default is _REQUIRED else default
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: Any = _REQUIRED) -> Any:
        value = self.string(key, default)
        if key in self.data and isinstance(value, str) and value not in choices:
            self.problem(key, f"expected one of {', '.join(choices)}, got {_show(value)}")
            return None
        return value

    def integer(self, key: str, default: Any, minimum: int = 0) -> Any:
        value = self._get(key, default)
        if key in self.data:
            if isinstance(value, bool) or not isinstance(value, int):
                self.problem(key, f"expected an integer, got {_show(value)}")
                return default
            if value < minimum:
                self.problem(key, f"expected an integer of at least {minimum}, got {value}")
                return default
        return value

    def number(self, key: str, default: Any, minimum: float = 0.0) -> Any:
        value = self._get(key, default)
        if key in self.data:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                self.problem(key, f"expected a number, got {_show(value)}")
                return default
            if value <= minimum:
                self.problem(key, f"expected a number above {minimum:g}, got {value}")
                return default
            return float(value)
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self._get(key, default)
        if key in self.data and not isinstance(value, bool):
            self.problem(key, f"expected true or false, got {_show(value)}")
            return default
        return value

    def strings(self, key: str, default: Any = _REQUIRED) -> Any:
        value = self._get(key, default)
        if value is _REQUIRED:
            return ()
        if key in self.data:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                self.problem(key, f"expected a list of strings, got {_show(value)}")
                return () if default is _REQUIRED else default
            return tuple(value)
        return value

    def file_path(self, key: str, default: Any = _REQUIRED) -> Any:
        value = self.string(key, default)
        if key in self.data and isinstance(value, str):
            if not value.strip():
                self.problem(key, "expected a path, got an empty string")
                return None
            p = Path(os.path.expandvars(value)).expanduser()
            return p if p.is_absolute() else (self.base / p)
        return value

    def table(self, key: str) -> _Table:
        self.seen.add(key)
        return _Table(self.data.get(key, {}), self.key_path(key), self.problems, self.base)

    def done(self) -> None:
        """Reject keys that were never read, naming the valid ones."""
        unknown = [k for k in self.data if k not in self.seen]
        for key in unknown:
            valid = ", ".join(sorted(self.seen)) or "none"
            self.problem(key, f"unknown key; valid keys here: {valid}")


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_DURATION = re.compile(r"^\s*(\d+)\s*(m|min|h|d)\s*$")
_HOURS = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")


def system_timezone() -> str:
    """The system's IANA zone name: $TZ, then /etc/localtime's target, else UTC."""
    tz = os.environ.get("TZ", "").lstrip(":")
    if tz:
        try:
            ZoneInfo(tz)
            return tz
        except (ZoneInfoNotFoundError, ValueError):
            pass
    try:
        target = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in target:
            name = target.split("zoneinfo/", 1)[1]
            ZoneInfo(name)
            return name
    except (OSError, ZoneInfoNotFoundError, ValueError):
        pass
    return "UTC"


def _identity(t: _Table) -> Identity:
    addresses = t.strings("addresses")
    for i, a in enumerate(addresses or ()):
        if not _EMAIL.match(a):
            t.problem(f"addresses[{i}]", f'expected an email address like "me@example.org", got {_show(a)}')
    if addresses == () and "addresses" in t.data:
        t.problem("addresses", "list every address that is you, e.g. [\"me@example.org\"]")
    zone = t.string("timezone", None)
    if zone is not None:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            t.problem("timezone", f'unknown time zone {_show(zone)}; use an IANA name like "Europe/Berlin"')
            zone = None
    contexts = _account_contexts(t, {a.strip().lower() for a in addresses or ()})
    t.done()
    return Identity(tuple(a.strip().lower() for a in addresses or ()), zone or system_timezone(), contexts)


def _account_contexts(t: _Table, mine: set[str]) -> tuple[tuple[str, str], ...]:
    """``context = { "me@work.example" = "professional" }``: what an account of mine carries."""
    t.seen.add("context")
    told = t.data.get("context", {})
    if not isinstance(told, dict):
        t.problem("context", 'expected a table like { "me@work.example" = "professional" }')
        return ()
    out = []
    for address, context in told.items():
        if address.strip().lower() not in mine:
            t.problem(f"context.{address}", "not one of identity.addresses; add it there first")
        elif context not in ("personal", "professional"):
            t.problem(f"context.{address}", f'expected "personal" or "professional", got {_show(context)}')
        else:
            out.append((address.strip().lower(), context))
    return tuple(out)


def _reject_secrets(t: _Table, name: str) -> None:
    google = t.data.get("type") in ("gmail", "google_calendar")
    how = (f"run `tiekeeper auth google {name}` (keyring) or use token_file" if google else
           f"use password_command, or store it in the keyring with `tiekeeper auth password {name}`")
    for secret in ("password", "pass", "secret", "token", "client_secret", "refresh_token", "access_token"):
        if secret in t.data:
            t.seen.add(secret)
            t.problem(secret, f"secrets never go in the config file: {how}")


def _password_command(t: _Table) -> tuple[str, ...] | None:
    command = t.strings("password_command", None)
    if command == ():
        t.problem("password_command", 'expected a command as a list, e.g. ["pass", "show", "mail"]')
    return command


def _source(name: str, t: _Table) -> SourceConfig | None:
    kind = t.choice("type", SOURCE_TYPES)
    context = t.choice("context", RELATIONSHIPS, None)
    path = url = None
    if kind in ("maildir", "mbox"):
        path = t.file_path("path")
    elif kind == "imap":
        host = t.string("host")
        tls = t.choice("tls", TLS_MODES, "ssl") or "ssl"
        port = t.integer("port", 993 if tls == "ssl" else 143, 1)
        if isinstance(port, int) and port > 65535:
            t.problem("port", f"expected a port number up to 65535, got {port}")
        if tls == "none" and host is not None and host not in LOOPBACK and not str(host).startswith("127."):
            t.problem("tls", f'"none" sends your password in clear text: only allowed for a loopback host, not {_show(host)}')
        username = t.string("username")
        command = _password_command(t)
        folders = t.strings("folders", None)
        ca_file = t.file_path("ca_file", None)
        _reject_secrets(t, name)
        t.done()
        return SourceConfig(name=name, type=kind, path=None, url=None, context=context, host=host, port=port, tls=tls,
                            username=username, password_command=command or None, folders=folders,
                            ca_file=ca_file) if kind and host and username else None
    elif kind == "caldav":
        url = t.string("url")
        if url is not None and not re.match(r"^https?://", url):
            t.problem("url", f"expected an http(s):// URL, got {_show(url)}")
        elif url and url.startswith("http://") and not re.match(r"^http://(localhost|127\.|\[::1\])", url):
            t.problem("url", "plain http sends your password in clear text: use https (http only for loopback hosts)")
        username = t.string("username", None)
        command = _password_command(t)
        calendars = t.strings("calendars", None)
        ca_file = t.file_path("ca_file", None)
        _reject_secrets(t, name)
        t.done()
        return SourceConfig(name=name, type=kind, path=None, url=url, context=context, username=username,
                            password_command=command or None, ca_file=ca_file, calendars=calendars) if url else None
    elif kind in ("gmail", "google_calendar"):
        return _google_source(name, kind, context, t)
    elif kind == "ics":
        path = t.file_path("path", None)
        url = t.string("url", None)
        if url is not None and not re.match(r"^(https?|webcal)://", url):
            t.problem("url", f"expected an http(s):// or webcal:// URL, got {_show(url)}")
        if (path is None) == (url is None):
            t.problem("", "an ics source needs exactly one of path or url")
    t.done()
    return SourceConfig(name=name, type=kind, path=path, url=url, context=context) if kind else None


def _google_source(name: str, kind: str, context: str | None, t: _Table) -> SourceConfig | None:
    account = t.string("account")
    if isinstance(account, str) and not _EMAIL.match(account):
        t.problem("account", f'expected the Google account\'s address like "me@gmail.com", got {_show(account)}')
    token_file = t.file_path("token_file", None)
    endpoint = t.string("api_endpoint", None)
    if endpoint is not None and not re.match(r"^https?://", endpoint):
        t.problem("api_endpoint", f"expected an http(s):// root URL, got {_show(endpoint)}")
    elif endpoint and endpoint.startswith("http://") and not re.match(r"^http://(localhost|127\.|\[::1\])", endpoint):
        t.problem("api_endpoint", "plain http would send your tokens in clear text: use https (http only for loopback hosts)")
    calendars = t.strings("calendars", ("primary",)) if kind == "google_calendar" else None
    quota, per_minute = "standard", None
    if kind == "gmail":
        quota = t.choice("quota", GMAIL_QUOTAS, "standard") or "standard"
        per_minute = t.integer("quota_units_per_minute", None, 60)
    _reject_secrets(t, name)
    t.done()
    if not kind or not isinstance(account, str):
        return None
    return SourceConfig(name=name, type=kind, context=context, account=account.strip().lower(), token_file=token_file,
                        api_endpoint=endpoint, calendars=calendars, quota=quota, quota_units_per_minute=per_minute)


def _hours(t: _Table, key: str, default: tuple[time, time]) -> tuple[time, time]:
    value = t.string(key, None)
    if value is None:
        return default
    m = _HOURS.match(value.strip())
    if not m or int(m[1]) > 23 or int(m[3]) > 24 or int(m[2]) > 59 or int(m[4]) > 59:
        t.problem(key, f'expected a range like "09:00-17:00", got {_show(value)}')
        return default
    start, end = time(int(m[1]), int(m[2])), time(min(int(m[3]), 23), int(m[4]) if int(m[3]) < 24 else 59)
    if end <= start:
        t.problem(key, f"the range must end after it starts, got {_show(value)}")
        return default
    return start, end


def _followups(t: _Table) -> FollowupsConfig:
    d = FollowupsConfig()
    cfg = FollowupsConfig(
        path=t.file_path("path", None),
        working_hours=_hours(t, "working_hours", d.working_hours),
        personal_hours=_hours(t, "personal_hours", d.personal_hours),
        duration_minutes=t.integer("duration_minutes", d.duration_minutes, 5),
        per_day=t.integer("per_day", d.per_day, 1),
        per_week=t.integer("per_week", d.per_week, 1),
        alarm_minutes=t.integer("alarm_minutes", None, 0),
        caldav=t.string("caldav", None),
        google=t.string("google", None),
        calendar=t.string("calendar", d.calendar),
    )
    if isinstance(cfg.calendar, str) and not cfg.calendar.strip():
        t.problem("calendar", "give the calendar a name, e.g. \"Follow-ups\"")
    t.done()
    return cfg


def _check_publishing(f: FollowupsConfig, sources: list[SourceConfig], problems: list[str]) -> None:
    """outputs.followups.caldav / google must name a source of the right type, and never a
    calendar that source reads (follow-ups would then count as meetings)."""
    for key, kind in (("caldav", "caldav"), ("google", "google_calendar")):
        name = getattr(f, key)
        if name is None:
            continue
        match = [s for s in sources if s.name == name]
        if not match:
            problems.append(f"outputs.followups.{key}: no source named {_show(name)}; "
                            f"{kind} sources: {', '.join(s.name for s in sources if s.type == kind) or 'none'}")
        elif match[0].type != kind:
            problems.append(f"outputs.followups.{key}: source {name} is a {match[0].type} source, expected {kind}")
        elif match[0].calendars and f.calendar in match[0].calendars:
            problems.append(f"outputs.followups.calendar: {_show(f.calendar)} is read by source {name}; "
                            "publish follow-ups to a calendar of their own")


def _digest(t: _Table) -> DigestConfig:
    path = t.file_path("path", None)
    host = t.string("smtp_host", None)
    tls = t.choice("smtp_tls", TLS_MODES, "starttls") or "starttls"
    port = t.integer("smtp_port", 465 if tls == "ssl" else 587, 1)
    if host is not None and tls == "none" and host not in LOOPBACK and not host.startswith("127."):
        t.problem("smtp_tls", f'"none" sends mail and passwords in clear text: only allowed for a loopback host, not {_show(host)}')
    to, sender = t.string("to", None), t.string("from", None)
    for key, value in (("to", to), ("from", sender)):
        if value is not None and not _EMAIL.match(value):
            t.problem(key, f'expected an email address like "me@example.org", got {_show(value)}')
    if host is not None and not to:
        t.problem("to", "sending by SMTP needs the address to send the digest to")
    username = t.string("username", None)
    command = _password_command(t)
    ca_file = t.file_path("ca_file", None)
    every = _weekly(t, "every")
    _reject_secrets(t, "digest")
    t.done()
    return DigestConfig(path=path, smtp_host=host, smtp_port=port if host else None, smtp_tls=tls, username=username,
                        password_command=command, to=to, sender=sender, ca_file=ca_file, every=every)


def _as_of(t: _Table) -> datetime | None:
    value = t._get("as_of", None)
    if value is None:
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            t.problem("as_of", f'expected an ISO 8601 date-time like "2026-06-01T09:00:00+02:00", got {_show(value)}')
            return None
    else:
        t.problem("as_of", f"expected an ISO 8601 date-time, got {_show(value)}")
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _analysis(t: _Table) -> AnalysisConfig:
    cfg = AnalysisConfig(as_of=_as_of(t), window_days=t.integer("window_days", 730, 90))
    t.done()
    return cfg


def _schedule(t: _Table) -> ScheduleConfig:
    every = t.string("sync_every", "15m")
    minutes = 15
    m = _DURATION.match(every or "")
    if every is not None and not m:
        t.problem("sync_every", f'expected a duration like "15m", "2h" or "1d", got {_show(every)}')
    elif m:
        minutes = int(m[1]) * {"m": 1, "min": 1, "h": 60, "d": 1440}[m[2]]
        if minutes < 1:
            t.problem("sync_every", "expected at least 1 minute")
            minutes = 15
    weekday, at = _weekly(t, "digest") or (0, time(8, 0))
    t.done()
    return ScheduleConfig(minutes, weekday, at)


def _weekly(t: _Table, key: str) -> tuple[int, time] | None:
    """A weekday and a time like "monday 08:00", or None when the key is absent or wrong."""
    value = t.string(key, None)
    if value is None:
        return None
    m = re.match(r"^\s*([a-z]+)\s+(\d{1,2}):(\d{2})\s*$", value.lower())
    if not (m and m[1] in WEEKDAYS and int(m[2]) < 24 and int(m[3]) < 60):
        t.problem(key, f'expected a weekday and a time like "monday 08:00", got {_show(value)}')
        return None
    return WEEKDAYS.index(m[1]), time(int(m[2]), int(m[3]))


def _people(raw: Any, problems: list[str], base: Path) -> tuple[Person, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problems.append("people: expected an array of tables ([[people]]), got " + _show(raw))
        return ()
    people = []
    for i, entry in enumerate(raw):
        t = _Table(entry, f"people[{i}]", problems, base)
        person = Person(
            name=t.string("name", None),
            addresses=tuple(a.lower() for a in t.strings("addresses")),
            relationship=t.choice("relationship", PERSON_RELATIONSHIPS, None),
            cadence_days=t.number("cadence_days", None),
            ignore=t.boolean("ignore", False),
        )
        if not person.addresses and "addresses" in t.data:
            t.problem("addresses", "expected at least one address")
        t.done()
        people.append(person)
    return tuple(people)


def parse(data: dict[str, Any], path: Path | None = None) -> Config:
    """Validate a parsed TOML document. Raises ConfigError listing every problem."""
    problems: list[str] = []
    base = path.parent.resolve() if path else Path.cwd()
    root = _Table(data, "", problems, base)
    identity = _identity(root.table("identity"))
    store = root.table("store")
    store_path = store.file_path("path", None) or default_data_dir() / "tiekeeper.db"
    store.done()
    sources_table = root.table("sources")
    sources = []
    for name, body in sources_table.data.items():
        sources_table.seen.add(name)
        if not re.match(r"^[A-Za-z0-9_-]+$", name):
            problems.append(f"sources.{name}: source names may use letters, digits, - and _ only")
        src = _source(name, _Table(body, f"sources.{name}", problems, base))
        if src:
            sources.append(src)
    outputs = root.table("outputs")
    followups = _followups(outputs.table("followups"))
    digest = _digest(outputs.table("digest"))
    outputs.done()
    _check_publishing(followups, sources, problems)
    analysis = _analysis(root.table("analysis"))
    schedule = _schedule(root.table("schedule"))
    if digest.every is not None:  # outputs.digest.every is the documented key; schedule.digest the old one
        if "digest" in root.data.get("schedule", {}):
            problems.append("schedule.digest: the digest's day and time are set twice; keep outputs.digest.every")
        schedule = replace(schedule, digest_weekday=digest.every[0], digest_time=digest.every[1])
    root.seen.add("people")
    people = _people(data.get("people"), problems, base)
    root.done()
    if problems:
        raise ConfigError(problems, str(path) if path else None)
    return Config(path=path, identity=identity, store_path=store_path, sources=tuple(sources), followups=followups,
                  digest=digest, analysis=analysis, schedule=schedule, people=people)


def load(path: Path) -> Config:
    """Read and validate a config file."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            [f"no config file here; copy config.example.toml to {path} or pass --config PATH"], str(path)
        ) from None
    except OSError as e:
        raise ConfigError([f"cannot read: {e.strerror}"], str(path)) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(["not UTF-8 text"], str(path)) from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError([f"not valid TOML: {e}"], str(path)) from None
    return parse(data, path)
