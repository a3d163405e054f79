"""Reading the config's TOML tables: every problem collected with its dotted path, never a raise.

``Table`` reads one table key by key (``sources.work.port: expected an integer, got "x"``) and, at
``done()``, rejects the keys it never read, naming the valid ones. Also here: what several tables
check alike (e-mail addresses, TLS modes and loopback hosts, a password command, secrets that must
not be in the file). ``daemon.config`` reads the config with these, and each source type in
``connectors.registry`` reads its own table.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

REQUIRED = object()
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
TLS_MODES = ("ssl", "starttls", "none")
LOOPBACK = ("localhost", "127.0.0.1", "::1")
LOOPBACK_HTTP = re.compile(r"^http://(localhost|127\.|\[::1\])")
SECRET_KEYS = ("password", "pass", "secret", "token", "client_secret", "refresh_token", "access_token")


def show(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return str(value)


class Table:
    """Reads one TOML table, collecting problems instead of raising at the first."""

    def __init__(self, data: Any, path: str, problems: list[str], base: Path) -> None:
        self.path, self.problems, self.base = path, problems, base
        if not isinstance(data, dict):
            self.problem("", f"expected a table, got {show(data)}")
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
            if default is REQUIRED:
                self.problem(key, "missing; this key is required")
            return default
        return self.data[key]

    def string(self, key: str, default: Any = REQUIRED) -> Any:
        value = self._get(key, default)
        if value is REQUIRED:
            return None  # missing, and said so
        if key in self.data and not isinstance(value, str):
            self.problem(key, f"expected a string, got {show(value)}")
            return None if default is REQUIRED else default
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: Any = REQUIRED) -> Any:
        value = self.string(key, default)
        if key in self.data and isinstance(value, str) and value not in choices:
            self.problem(key, f"expected one of {', '.join(choices)}, got {show(value)}")
            return None
        return value

    def integer(self, key: str, default: Any, minimum: int = 0) -> Any:
        value = self._get(key, default)
        if key in self.data:
            if isinstance(value, bool) or not isinstance(value, int):
                self.problem(key, f"expected an integer, got {show(value)}")
                return default
            if value < minimum:
                self.problem(key, f"expected an integer of at least {minimum}, got {value}")
                return default
        return value

    def number(self, key: str, default: Any, minimum: float = 0.0) -> Any:
        value = self._get(key, default)
        if key in self.data:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                self.problem(key, f"expected a number, got {show(value)}")
                return default
            if value <= minimum:
                self.problem(key, f"expected a number above {minimum:g}, got {value}")
                return default
            return float(value)
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self._get(key, default)
        if key in self.data and not isinstance(value, bool):
            self.problem(key, f"expected true or false, got {show(value)}")
            return default
        return value

    def strings(self, key: str, default: Any = REQUIRED) -> Any:
        value = self._get(key, default)
        if value is REQUIRED:
            return ()
        if key in self.data:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                self.problem(key, f"expected a list of strings, got {show(value)}")
                return () if default is REQUIRED else default
            return tuple(value)
        return value

    def file_path(self, key: str, default: Any = REQUIRED) -> Any:
        value = self.string(key, default)
        if key in self.data and isinstance(value, str):
            if not value.strip():
                self.problem(key, "expected a path, got an empty string")
                return None
            p = Path(os.path.expandvars(value)).expanduser()
            return p if p.is_absolute() else (self.base / p)
        return value

    def table(self, key: str) -> Table:
        self.seen.add(key)
        return Table(self.data.get(key, {}), self.key_path(key), self.problems, self.base)

    def done(self) -> None:
        """Reject keys that were never read, naming the valid ones."""
        unknown = [k for k in self.data if k not in self.seen]
        for key in unknown:
            valid = ", ".join(sorted(self.seen)) or "none"
            self.problem(key, f"unknown key; valid keys here: {valid}")


def password_command(t: Table) -> tuple[str, ...] | None:
    command = t.strings("password_command", None)
    if command == ():
        t.problem("password_command", 'expected a command as a list, e.g. ["pass", "show", "mail"]')
    return command


def password_advice(name: str) -> str:
    """Where a password goes instead of the config file (a source's, or the digest's SMTP login)."""
    return f"use password_command, or store it in the keyring with `tiekeeper auth password {name}`"


def reject_secrets(t: Table, how: str) -> None:
    """A password or token written into the table is refused, saying ``how`` to give it instead."""
    for secret in SECRET_KEYS:
        if secret in t.data:
            t.seen.add(secret)
            t.problem(secret, f"secrets never go in the config file: {how}")


def is_loopback(host: Any) -> bool:
    return host in LOOPBACK or str(host).startswith("127.")
