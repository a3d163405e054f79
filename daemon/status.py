"""What the service is doing and what needs the user: `tiekeeper status` and `tiekeeper doctor`."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from daemon.checks import Check
from daemon.config import Config
from daemon.errors import StoreError
from daemon.store import Store


def service_pid(store_path: Path) -> int | None:
    """The pid of the running service, or None (its lock file is free)."""
    from daemon.service import lock_path

    lock = lock_path(store_path)
    if not lock.exists():
        return None
    fd = os.open(lock, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        pid = os.pread(fd, 32, 0).decode(errors="replace").strip()
        return int(pid) if pid.isdigit() else -1
    finally:
        os.close(fd)
    return None


def _ago(ts: float | None, now: float) -> str | None:
    if ts is None:
        return None
    d = now - ts
    if d < 0:
        return f"in {_span(-d)}"
    return f"{_span(d)} ago"


def _span(seconds: float) -> str:
    if seconds < 90:
        return f"{int(seconds)} s"
    if seconds < 5400:
        return f"{int(seconds // 60)} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def gather(config: Config) -> dict[str, Any]:
    """Everything `status` shows, as plain data (also the --format json output)."""
    now = time.time()
    pid = service_pid(config.store_path)
    out: dict[str, Any] = {"service": {"running": pid is not None, "pid": pid}, "sources": [], "jobs": [],
                           "needs_you": []}
    if not config.store_path.exists():
        out["needs_you"].append("no store yet: run `tiekeeper sync` or start `tiekeeper run`")
        return out
    store = Store(config.store_path, readonly=True)
    try:
        states = {s.name: s for s in store.source_states()}
        job_states = {j.name: j for j in store.job_states()}
        for src in config.sources:
            s = states.get(src.name)
            job = job_states.get(f"sync:{src.name}")
            entry = {"name": src.name, "type": src.type, "records": s.records if s else 0,
                     "last_sync": s.last_sync if s else None, "failures": s.failures if s else 0,
                     "error": s.last_error if s else None, "next_try": job.next_due if job else None}
            out["sources"].append(entry)
            if entry["error"]:
                out["needs_you"].append(entry["error"])
        for j in sorted(job_states.values(), key=lambda j: j.name):
            out["jobs"].append({"name": j.name, "last_success": j.last_success, "next_due": j.next_due,
                                "failures": j.failures, "error": j.last_error, "period": j.period})
            if j.last_error and not j.name.startswith("sync:"):
                out["needs_you"].append(f"{j.name}: {j.last_error}")
        from daemon.own_addresses import remembered, warning_lines

        out["needs_you"] += warning_lines(config, remembered(store))
        out["digest"] = _last_digest(store)
        bad_config = store.get("config_error")
        if bad_config:
            out["needs_you"].append(f"the config could not be reloaded, the old one is in use: {bad_config}")
    finally:
        store.close()
    out["now"] = now
    return out


def _last_digest(store: Store) -> dict[str, Any] | None:
    """The last digest sent, by whichever trigger (None: none yet, or a store not migrated yet)."""
    try:
        sends = store.digest_sends()
    except StoreError:  # read-only on a store an older tiekeeper wrote (no such table)
        return None
    if not sends:
        return None
    period, sent_at, trigger, _recipient, _msgid = sends[-1]
    return {"sent_at": sent_at, "period": period, "by": trigger, "sends": len(sends)}


def render(data: dict[str, Any]) -> list[str]:
    now = data.get("now", time.time())
    svc = data["service"]
    lines = [f"service: {'running (pid ' + str(svc['pid']) + ')' if svc['running'] else 'not running'}"]
    if data["sources"]:
        lines.append("sources:")
    for s in data["sources"]:
        health = "FAILING" if s["error"] else "ok" if s["last_sync"] else "never synced"
        when = _ago(s["last_sync"], now) or "never"
        line = f"  {s['name']:16} {health:12} {s['records']:>7} records, last sync {when}"
        if s["next_try"]:
            line += f", next {_ago(s['next_try'], now)}"
        lines.append(line)
    if data["jobs"]:
        lines.append("jobs:")
    for j in data["jobs"]:
        if j["name"].startswith("sync:"):
            continue
        line = f"  {j['name']:16} last success {_ago(j['last_success'], now) or 'never'}"
        if j["name"] == "digest" and j["period"]:
            line += f", sent for the week of {j['period'][:10]}"
        elif j["next_due"]:
            line += f", next {_ago(j['next_due'], now)}"
        lines.append(line)
    if data.get("digest"):
        d = data["digest"]
        lines.append(f"digest: last sent {_ago(d['sent_at'], now)} by {d['by']}, for the week of {d['period'][:10]}")
    if data["needs_you"]:
        lines.append("needs you:")
        lines += [f"  - {n}" for n in data["needs_you"]]
    else:
        lines.append("nothing needs you")
    return lines


# ---------------------------------------------------------------------------------------- doctor
def _writable_dir(path: Path) -> bool:
    p = path
    while not p.exists():
        p = p.parent
    return os.access(p, os.W_OK)


def doctor(config: Config) -> list[Check]:
    checks = [Check("config", True, f"{config.path or 'built in'}: valid, {len(config.sources)} source(s)")]
    sp = config.store_path
    if sp.exists():
        mode = sp.stat().st_mode & 0o777
        checks.append(Check("store permissions", mode == 0o600, f"{sp} is {mode:o}", f"chmod 600 {sp}"))
        try:
            db = sqlite3.connect(f"file:{sp}?mode=ro", uri=True)
            ok = db.execute("PRAGMA quick_check").fetchone()[0] == "ok"
            db.close()
            checks.append(Check("store integrity", ok, "quick_check ok" if ok else "quick_check found damage",
                                "move the store aside and run `tiekeeper sync` to rebuild it"))
        except sqlite3.DatabaseError as e:
            checks.append(Check("store integrity", False, str(e), "move the store aside and run `tiekeeper sync`"))
    else:
        checks.append(Check("store", _writable_dir(sp.parent), f"{sp} will be created on the first sync",
                            f"make {sp.parent} writable or set [store] path"))
    checks += identity_checks(config)
    checks.append(_keyring_check(config.sources))
    if not config.sources:
        from daemon import reach

        checks += reach.checks(config)
    config_dir = config.path.parent if config.path else None
    for src in config.sources:  # logged in, the way a sync reads it
        checks.append(src.check(config_dir, probe=True))
    for name, path in (("follow-ups file", config.followups.path), ("digest file", config.digest.path)):
        if path:
            checks.append(Check(name, _writable_dir(path.parent), f"{path}", f"make {path.parent} writable"))
    if config.followups.caldav or config.followups.google:
        checks.append(_followups_calendar_check(config))
    return checks


def identity_checks(config: Config) -> list[Check]:
    """A warning per group of addresses you send from that [identity] does not list (needs a store)."""
    from daemon.errors import StoreError
    from daemon.own_addresses import advice, detect

    if not config.store_path.exists():
        return []
    try:
        store = Store(config.store_path, readonly=True)
        try:
            missing = detect(config, store)
        finally:
            store.close()
    except (StoreError, sqlite3.DatabaseError):
        return []  # the store checks above say what is wrong with it
    if not missing:
        return [Check("identity", True, "every address you send from is in identity.addresses")]
    return [Check("identity", True, f"you send from {', '.join(missing)}, which identity.addresses does not list",
                  f"set in [identity]: {advice(config, missing)}", warning=True)]


def _followups_calendar_check(config: Config) -> Check:
    """Can the follow-ups calendar be reached (and is it there yet)? Read-only: nothing is made."""
    import connectors
    from daemon.errors import TiekeeperError

    f = config.followups
    where = f"{f.calendar!r} via source {f.caldav or f.google}"
    try:
        target = connectors.followup_target(config)
        assert target is not None  # asked only when outputs.followups names a source
        with target:
            found = target.find() is not None
    except TiekeeperError as e:
        return Check("follow-ups calendar", False, f"{where}: {e.message}", e.remedy)
    return Check("follow-ups calendar", True, f"{where}: " + ("found" if found else "will be made on the first push"))


def _keyring_check(sources) -> Check:
    from connectors.registry import GOOGLE_TOKEN, PASSWORD, types_needing
    from daemon.secrets import backend_name, keyring_backend

    backend, why = keyring_backend()
    if backend is not None:
        return Check("keyring", True, f"backend {backend_name(backend)}")
    needy = [s.name for s in sources if s.keyring_needed()]
    if not needy:
        return Check("keyring", True, f"{why}; no source here needs one")
    return Check("keyring", False, f"{why}; needed by {', '.join(needy)}",
                 f"run a Secret Service (e.g. gnome-keyring), or use password_command ({', '.join(types_needing(PASSWORD))}) "
                 f"or token_file ({', '.join(types_needing(GOOGLE_TOKEN))})")

