"""Configuration: TOML into frozen dataclasses.

Every problem is collected and reported at once, each with its dotted path and what was expected
(``sources.work.port: expected an integer, got "x"``). Unknown keys are rejected with the valid ones
listed. Relative paths resolve against the config file's folder. Secrets never live here: sources
name a ``password_command`` or use the keyring. A ``[sources.NAME]`` table is read by its type's
class in ``connectors.registry``; the reading helpers are in ``daemon.config_reading``.
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

from connectors.registry import TYPES, SourceConfig, publishing_types
from daemon.config_reading import (
    EMAIL,
    TLS_MODES,
    Table,
    is_loopback,
    password_advice,
    password_command,
    reject_secrets,
    show,
)
from daemon.errors import ConfigError

APP = "tiekeeper"
RELATIONSHIPS = ("personal", "professional")  # what a source or an account carries
PERSON_RELATIONSHIPS = ("personal", "professional", "family")  # what a tie is, when the user says so


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


# --------------------------------------------------------------------------- the tables

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


def _identity(t: Table) -> Identity:
    addresses = t.strings("addresses")
    for i, a in enumerate(addresses or ()):
        if not EMAIL.match(a):
            t.problem(f"addresses[{i}]", f'expected an email address like "me@example.org", got {show(a)}')
    if addresses == () and "addresses" in t.data:
        t.problem("addresses", "list every address that is you, e.g. [\"me@example.org\"]")
    zone = t.string("timezone", None)
    if zone is not None:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            t.problem("timezone", f'unknown time zone {show(zone)}; use an IANA name like "Europe/Berlin"')
            zone = None
    contexts = _account_contexts(t, {a.strip().lower() for a in addresses or ()})
    t.done()
    return Identity(tuple(a.strip().lower() for a in addresses or ()), zone or system_timezone(), contexts)


def _account_contexts(t: Table, mine: set[str]) -> tuple[tuple[str, str], ...]:
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
            t.problem(f"context.{address}", f'expected "personal" or "professional", got {show(context)}')
        else:
            out.append((address.strip().lower(), context))
    return tuple(out)


def _source(name: str, t: Table) -> SourceConfig | None:
    """A [sources.NAME] table: its type says which keys it has (connectors.registry)."""
    kind = t.choice("type", tuple(TYPES))
    context = t.choice("context", RELATIONSHIPS, None)
    if kind not in TYPES:
        t.done()
        return None
    return TYPES[kind].read(name, t, context)


def _hours(t: Table, key: str, default: tuple[time, time]) -> tuple[time, time]:
    value = t.string(key, None)
    if value is None:
        return default
    m = _HOURS.match(value.strip())
    if not m or int(m[1]) > 23 or int(m[3]) > 24 or int(m[2]) > 59 or int(m[4]) > 59:
        t.problem(key, f'expected a range like "09:00-17:00", got {show(value)}')
        return default
    start, end = time(int(m[1]), int(m[2])), time(min(int(m[3]), 23), int(m[4]) if int(m[3]) < 24 else 59)
    if end <= start:
        t.problem(key, f"the range must end after it starts, got {show(value)}")
        return default
    return start, end


def _followups(t: Table) -> FollowupsConfig:
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
    for key, kind in publishing_types():
        name = getattr(f, key)
        if name is None:
            continue
        match = [s for s in sources if s.name == name]
        if not match:
            problems.append(f"outputs.followups.{key}: no source named {show(name)}; "
                            f"{kind.TYPE} sources: {', '.join(s.name for s in sources if isinstance(s, kind)) or 'none'}")
        elif not isinstance(match[0], kind):
            problems.append(f"outputs.followups.{key}: source {name} is a {match[0].type} source, expected {kind.TYPE}")
        elif match[0].reads_calendar(f.calendar):
            problems.append(f"outputs.followups.calendar: {show(f.calendar)} is read by source {name}; "
                            "publish follow-ups to a calendar of their own")


def _digest(t: Table) -> DigestConfig:
    path = t.file_path("path", None)
    host = t.string("smtp_host", None)
    tls = t.choice("smtp_tls", TLS_MODES, "starttls") or "starttls"
    port = t.integer("smtp_port", 465 if tls == "ssl" else 587, 1)
    if host is not None and tls == "none" and not is_loopback(host):
        t.problem("smtp_tls", f'"none" sends mail and passwords in clear text: only allowed for a loopback host, not {show(host)}')
    to, sender = t.string("to", None), t.string("from", None)
    for key, value in (("to", to), ("from", sender)):
        if value is not None and not EMAIL.match(value):
            t.problem(key, f'expected an email address like "me@example.org", got {show(value)}')
    if host is not None and not to:
        t.problem("to", "sending by SMTP needs the address to send the digest to")
    username = t.string("username", None)
    command = password_command(t)
    ca_file = t.file_path("ca_file", None)
    every = _weekly(t, "every")
    reject_secrets(t, password_advice("digest"))
    t.done()
    return DigestConfig(path=path, smtp_host=host, smtp_port=port if host else None, smtp_tls=tls, username=username,
                        password_command=command, to=to, sender=sender, ca_file=ca_file, every=every)


def _as_of(t: Table) -> datetime | None:
    value = t._get("as_of", None)
    if value is None:
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            t.problem("as_of", f'expected an ISO 8601 date-time like "2026-06-01T09:00:00+02:00", got {show(value)}')
            return None
    else:
        t.problem("as_of", f"expected an ISO 8601 date-time, got {show(value)}")
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _analysis(t: Table) -> AnalysisConfig:
    cfg = AnalysisConfig(as_of=_as_of(t), window_days=t.integer("window_days", 730, 90))
    t.done()
    return cfg


def _schedule(t: Table) -> ScheduleConfig:
    every = t.string("sync_every", "15m")
    minutes = 15
    m = _DURATION.match(every or "")
    if every is not None and not m:
        t.problem("sync_every", f'expected a duration like "15m", "2h" or "1d", got {show(every)}')
    elif m:
        minutes = int(m[1]) * {"m": 1, "min": 1, "h": 60, "d": 1440}[m[2]]
        if minutes < 1:
            t.problem("sync_every", "expected at least 1 minute")
            minutes = 15
    weekday, at = _weekly(t, "digest") or (0, time(8, 0))
    t.done()
    return ScheduleConfig(minutes, weekday, at)


def _weekly(t: Table, key: str) -> tuple[int, time] | None:
    """A weekday and a time like "monday 08:00", or None when the key is absent or wrong."""
    value = t.string(key, None)
    if value is None:
        return None
    m = re.match(r"^\s*([a-z]+)\s+(\d{1,2}):(\d{2})\s*$", value.lower())
    if not (m and m[1] in WEEKDAYS and int(m[2]) < 24 and int(m[3]) < 60):
        t.problem(key, f'expected a weekday and a time like "monday 08:00", got {show(value)}')
        return None
    return WEEKDAYS.index(m[1]), time(int(m[2]), int(m[3]))


def _people(raw: Any, problems: list[str], base: Path) -> tuple[Person, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problems.append("people: expected an array of tables ([[people]]), got " + show(raw))
        return ()
    people = []
    for i, entry in enumerate(raw):
        t = Table(entry, f"people[{i}]", problems, base)
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
    root = Table(data, "", problems, base)
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
        src = _source(name, Table(body, f"sources.{name}", problems, base))
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
