"""Builders for test data: messages, Maildirs, mbox files, calendars and configs."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

from daemon.config import parse

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
ME = "me@home.example"
ME_WORK = "me@work.example"
_ids = itertools.count(1)


def message(sender: str, to: list[str] | str, when: datetime, subject: str = "Hello", cc: list[str] = (),
            extra: dict[str, str] | None = None, in_reply_to: str | None = None, msgid: str | None = None,
            body: str = "SECRET BODY TEXT that must never be stored") -> bytes:
    to = [to] if isinstance(to, str) else to
    msgid = msgid or f"<m{next(_ids)}@test.example>"
    lines = [f"From: {sender}", f"To: {', '.join(to)}"]
    if cc:
        lines.append(f"Cc: {', '.join(cc)}")
    lines += [f"Subject: {subject}", f"Date: {format_datetime(when)}", f"Message-ID: {msgid}"]
    if in_reply_to:
        lines += [f"In-Reply-To: {in_reply_to}", f"References: {in_reply_to}"]
    for k, v in (extra or {}).items():
        lines.append(f"{k}: {v}")
    lines += ["", body, ""]
    return "\r\n".join(lines).encode("utf-8")


def make_maildir(root: Path, folders: dict[str, list[bytes]]) -> Path:
    """Maildir++ under root: "INBOX" is the root itself, others are ".Name" subfolders."""
    for folder, msgs in folders.items():
        base = root if folder == "INBOX" else root / f".{folder}"
        for sub in ("cur", "new", "tmp"):
            (base / sub).mkdir(parents=True, exist_ok=True)
        for n, raw in enumerate(msgs):
            (base / "cur" / f"{1700000000 + n}.M{n}P1.test:2,S").write_bytes(raw)
    return root


def make_mbox(path: Path, msgs: list[bytes]) -> Path:
    with open(path, "wb") as fh:
        for raw in msgs:
            fh.write(b"From sender@example.org Mon Jan  1 00:00:00 2024\n")
            fh.write(raw.replace(b"\r\n", b"\n"))
            fh.write(b"\n")
    return path


def vevent(uid: str, start: datetime, minutes: int = 60, summary: str = "Meeting", organizer: str = ME,
           attendees: list[tuple[str, str]] = (), extra: list[str] = ()) -> str:
    utc = lambda d: d.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")  # noqa: E731
    lines = ["BEGIN:VEVENT", f"UID:{uid}", f"DTSTAMP:{utc(start)}", f"DTSTART:{utc(start)}",
             f"DTEND:{utc(start + timedelta(minutes=minutes))}", f"SUMMARY:{summary}", f"ORGANIZER:mailto:{organizer}"]
    lines += [f"ATTENDEE;PARTSTAT={p}:mailto:{a}" for a, p in attendees]
    lines += list(extra) + ["END:VEVENT"]
    return "\r\n".join(lines)


def calendar(*events: str) -> bytes:
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n" + "\r\n".join(events)
            + "\r\nEND:VCALENDAR\r\n").encode()


def config(tmp: Path, sources: dict[str, dict], **sections) -> object:
    data = {"identity": {"addresses": [ME, ME_WORK], "timezone": "Europe/Berlin"},
            "store": {"path": str(tmp / "store.db")}, "sources": sources}
    data.update(sections)
    return parse(data, tmp / "config.toml")


NOW = datetime(2026, 6, 1, 9, 0, tzinfo=timezone.utc)


def tiekeeper(config_path: Path, *args: str, cwd: Path | None = None, timeout: int = 300, umask: int | None = None,
              env: dict | None = None, wrapper: tuple[str, ...] = ()):
    """Run the real CLI in a subprocess (importing this checkout) and return the CompletedProcess.
    ``env`` adds to (a value of None removes from) the environment; ``wrapper`` runs it inside another
    command, e.g. a private D-Bus session."""
    import os
    import subprocess
    import sys

    full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run([*wrapper, sys.executable, "-m", "daemon", "--config", str(config_path), *args],
                          cwd=cwd or config_path.parent, env={k: v for k, v in full_env.items() if v is not None},
                          capture_output=True, text=True, timeout=timeout,
                          preexec_fn=(lambda: os.umask(umask)) if umask is not None else None)


def synced_report_summary(config_path: Path) -> list:
    """Sync, then the report reduced to what must not depend on the source type: per contact its
    name, addresses, relationship, interaction count and flags."""
    import json

    sync = tiekeeper(config_path, "sync")
    assert sync.returncode == 0, sync.stderr
    data = json.loads(tiekeeper(config_path, "report", "--format", "json").stdout)
    return sorted((c["name"], sorted(c["emails"]), c["relationship"], c["interactions"],
                   sorted(f.get("pattern") or f["kind"] for f in c["flags"])) for c in data["contacts"])


def store_at_schema(path: Path, version: int, fill=None) -> Path:
    """A store as the tiekeeper of schema ``version`` left it: its first ``version`` migrations,
    then ``fill(db)`` (its rows), committed and closed."""
    import sqlite3

    from daemon.store.db import _statements
    from daemon.store.migrations import MIGRATIONS

    db = sqlite3.connect(path)
    for migration in MIGRATIONS[:version]:
        for statement in _statements(migration):
            db.execute(statement)
    if fill:
        fill(db)
    db.execute(f"PRAGMA user_version = {version}")
    db.commit()
    db.close()
    return path
