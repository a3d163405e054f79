"""What each CLI command does: open the store, call the pipeline, show the result (through daemon.terminal).

``HANDLERS`` names the handler of each subcommand; ``cli`` dispatches through it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import datetime

from daemon import own_addresses, pipeline
from daemon.acting import address_of as _address
from daemon.acting import cmd_ignore, cmd_log, cmd_set, cmd_snooze
from daemon.analysis.report import Report, to_json
from daemon.analysis.rhythm import human_days
from daemon.config import Config
from daemon.errors import UsageError
from daemon.identity import Me, clean_text, merge_key
from daemon.pipeline import ProgressFactory
from daemon.stages import stage
from daemon.store import Store
from daemon.terminal import ask_secret, note, print_json, warn, write
from daemon.terminal import out as _out

# A subcommand's handler: the loaded config, the parsed arguments, --as-of (in the user's zone, or
# None) and the progress bars (None off a terminal); it returns the exit code.
Handler = Callable[[Config, argparse.Namespace, datetime | None, ProgressFactory | None], int]


def cmd_sync(config: Config, args: argparse.Namespace, as_of: datetime | None,
             progress: ProgressFactory | None) -> int:
    unknown = [s for s in args.sources if s not in {c.name for c in config.sources}]
    if unknown:
        raise UsageError(f"no source named {', '.join(unknown)}",
                         f"sources in the config: {', '.join(s.name for s in config.sources)}")
    store = Store(config.store_path)
    done, failed = pipeline.sync_all(config, store, args.force, args.sources or None, progress)
    pipeline.store_derived(config, store)
    _warn_own_addresses(config, store)
    return 3 if failed else 0


def _warn_own_addresses(config: Config, store: Store) -> None:
    for line in own_addresses.warning_lines(config, own_addresses.remembered(store)):
        warn(line)


def _report(config: Config, as_of: datetime | None) -> Report:
    store = Store.for_reading(config.store_path)
    try:
        with stage("analysing"):
            return pipeline.report(config, store, pipeline.clock(config, as_of))
    finally:
        store.close()


def _when(ts: float | None, zone) -> str:
    return datetime.fromtimestamp(ts, zone).strftime("%-d %b %Y") if ts else "never"


def print_text_report(rep: Report, zone, everyone: bool = False) -> None:
    flagged = rep.flagged()
    _out(f"As of {rep.as_of.astimezone(zone):%-d %b %Y %H:%M}: {len(rep.contacts)} contacts, "
         f"{len(flagged)} need attention, {rep.interactions} interactions analysed.")
    for c in sorted(flagged, key=lambda c: -max(f.severity for f in c.flags)):
        _out()
        told = " (as you set it)" if c.told else ""
        _out(f"{clean_text(c.name)} <{c.emails[0]}> — {c.relationship}, usually every {human_days(c.expected_gap_days)}{told}")
        for f in c.flags:
            label = f.pattern.replace("_", " ") if f.pattern else f.check
            _out(f"  [{label}] {clean_text(f.why)}")
    if everyone:
        _out()
        _out(f"{'name':28} {'relationship':13} {'rhythm':>10} {'last two-way':>13}  flags")
        for c in sorted(rep.contacts, key=lambda c: c.name.casefold()):
            flags = ",".join(f.pattern or f.check for f in c.flags)
            _out(f"{clean_text(c.name)[:28]:28} {c.relationship:13} {human_days(c.expected_gap_days):>10} "
                 f"{_when(c.last_two_way, zone):>13}  {flags}")


def _hint_if_never_synced(config: Config) -> None:
    """An empty report before any sync is no news: say what to run (on stderr, so json stays clean)."""
    store = Store.for_reading(config.store_path)
    try:
        synced = any(s.last_sync for s in store.source_states())
    finally:
        store.close()
    if not synced:
        note("nothing synced yet: run `tiekeeper sync` (or `tiekeeper run --once`) first")


def cmd_report(config: Config, args: argparse.Namespace, as_of: datetime | None,
               progress: ProgressFactory | None) -> int:
    rep = _report(config, as_of)
    if not rep.contacts:
        _hint_if_never_synced(config)
    if args.format == "json":
        print_json(to_json(rep))
    else:
        print_text_report(rep, config.identity.zone, args.all)
    return 0


def cmd_followups(config: Config, args: argparse.Namespace, as_of: datetime | None,
                  progress: ProgressFactory | None) -> int:
    from dataclasses import replace

    if args.output:
        config = replace(config, followups=replace(config.followups, path=args.output))
    if config.followups.path is None and not pipeline.publishes_remotely(config):
        raise UsageError("no follow-ups output configured",
                         "set [outputs.followups] path (or caldav / google), or pass --output PATH")
    store = Store(config.store_path)
    with stage("analysing"):
        rep = pipeline.report(config, store, pipeline.clock(config, as_of))
    path = pipeline.write_followups(config, store, rep)
    if path:
        _out(f"follow-ups for {len(rep.flagged())} contact(s) written to {path}")
    pushed = pipeline.push_followups(config, store)
    if pushed is not None:
        _out(f"follow-ups calendar {config.followups.calendar!r}: {pushed} change(s) pushed")
    return 0


def cmd_digest(config: Config, args: argparse.Namespace, as_of: datetime | None,
               progress: ProgressFactory | None) -> int:
    from datetime import timezone

    from daemon.delivery import deliver
    from daemon.fsutil import write_private
    from daemon.outputs.digest import preview_html

    if args.preview and args.send:
        raise UsageError("--preview never sends", "drop --send to look at the digest, or --preview to send it")
    if args.force and not args.send:
        raise UsageError("--force goes with --send", "tiekeeper digest --send --force")
    if args.send and not config.digest.smtp_host:
        raise UsageError("--send needs a mail server", "set [outputs.digest] smtp_host and to")
    path = args.output or config.digest.path
    if path is None and not args.preview and not args.send:
        raise UsageError("no digest file configured",
                         "set [outputs.digest] path, pass --output PATH, or --send to mail it")
    rep = _report(config, as_of)
    if path or args.send:
        store = Store(config.store_path) if args.send else Store.for_reading(config.store_path)
        trigger = "digest --send --force" if args.force else "digest --send"
        done = deliver(config, store, rep, datetime.now(timezone.utc), trigger, path, args.send, args.force)
        if done.path:
            _out(f"digest written to {done.path}")
        if done.sent_to:
            _out(f"digest sent to {done.sent_to}")
        if done.not_sent:
            _out(f"digest not sent: {done.not_sent} (--force sends another)")
    if args.preview:
        write_private(args.preview, preview_html(rep, config.identity.zone).encode())
        _out(f"HTML preview written to {args.preview}")
    return 0


def cmd_explain(config: Config, args: argparse.Namespace, as_of: datetime | None,
                progress: ProgressFactory | None) -> int:
    address = _address(args.address)
    zone = config.identity.zone
    if address in Me(config.identity.addresses):
        _out(f"{address} is one of your own addresses (identity.addresses): never a contact.")
        return 0
    store = Store.for_reading(config.store_path)
    if address in own_addresses.me(config, store):
        _out(f"{address} is one of your own addresses (you send from it; add it to identity.addresses): "
             "never a contact.")
        return 0
    rep = _report(config, as_of)
    key = merge_key(address)
    for c in rep.contacts:
        if any(merge_key(e) == key for e in c.emails):
            _out(f"{clean_text(c.name)} is a contact: {c.why_contact}.")
            _out(f"  addresses: {', '.join(c.emails)}")
            if c.told:
                _out(f"  relationship: {c.relationship}; tie: {c.tier} (set by you in {c.told}; undo: "
                     f"{'tiekeeper set --undo ' + c.emails[0] if c.told == 'tiekeeper set' else 'edit [[people]]'})")
            else:
                _out(f"  relationship: {c.relationship} (confidence {c.confidence:.0%}); tie: {c.tier}")
            for s in c.signals:
                _out(f"    signal: {s}")
            _out(f"  {c.interactions} interactions in {c.conversations} conversations "
                 f"({c.two_way_conversations} two-way) on {c.days_with_contact} days")
            _out(f"  rhythm: usually every {human_days(c.expected_gap_days)}; last two-way contact {_when(c.last_two_way, zone)}")
            _out(f"  lapse check: {c.lapse_reason}")
            _out(f"  one-sided check: {c.reciprocity_reason}")
            for f in c.flags:
                _out(f"  FLAG {f.pattern or f.check}: {clean_text(f.why)}")
            if not c.flags:
                _out("  no flags")
            return 0
    for n in rep.not_contacts:
        if any(merge_key(e) == key for e in n.emails):
            _out(f"{address} is not a contact: {n.reason}.")
            break
    else:
        _out(f"{address} has no interactions in the analysis window.")
    for rule, count in pipeline.drops_for(config, store, address):
        _out(f"  {count} message(s) from it dropped: {rule}")
    return 0


def cmd_run(config: Config, args: argparse.Namespace, as_of: datetime | None,
            progress: ProgressFactory | None) -> int:
    if args.once:
        store = Store(config.store_path)
        result = pipeline.run_once(config, store, as_of, args.force, progress, stage)
        _warn_own_addresses(config, store)
        if result.report:
            print_text_report(result.report, config.identity.zone)
        _out()
        for name, path in result.written.items():
            _out(f"{name}: {path}")
        if result.pushed is not None:
            _out(f"follow-ups calendar: {result.pushed} change(s) pushed")
        if result.digest and result.digest.sent_to:
            _out(f"digest sent to {result.digest.sent_to}")
        return 3 if result.failed else 5 if result.output_errors else 0
    from daemon.service import serve

    return serve(config, getattr(args, "config_path", None), as_of)


def cmd_status(config: Config, args: argparse.Namespace, as_of: datetime | None,
               progress: ProgressFactory | None) -> int:
    from daemon.status import gather, render

    data = gather(config)
    if args.format == "json":
        print_json(data)
    else:
        for line in render(data):
            _out(line)
    return 0


def cmd_doctor(config: Config, args: argparse.Namespace, as_of: datetime | None,
               progress: ProgressFactory | None) -> int:
    from daemon.status import doctor

    checks = doctor(config)
    for c in checks:
        _out(c.line())
    failed = [c for c in checks if not c.ok]
    _out(f"{len(failed)} problem(s) found" if failed else "everything looks fine")
    return 1 if failed else 0


def cmd_config(config: Config, args: argparse.Namespace, as_of: datetime | None,
               progress: ProgressFactory | None) -> int:
    """`config check`: the config is valid (load() said so), and every source can be reached."""
    from daemon import reach
    from daemon.status import identity_checks

    _out(f"{config.path}: valid ({len(config.sources)} source(s), store {config.store_path})")
    checks = reach.checks(config) + [c for c in identity_checks(config) if c.warning]
    for c in checks:
        _out(c.line())
    failed = [c for c in checks if not c.ok]
    if not failed:
        _out("ok")
        return 0
    _out(f"{len(failed)} problem(s) found: fix them, then run `tiekeeper config check` again")
    paths = any(c.detail.startswith("sources.") and ".path:" in c.detail for c in failed)
    return 2 if paths else 3


def cmd_service(config: Config, args: argparse.Namespace, as_of: datetime | None,
                progress: ProgressFactory | None) -> int:
    from pathlib import Path

    from daemon.fsutil import write_private
    from daemon.systemd import unit as unit_for

    config_path = Path(args.config_path).resolve()
    unit = unit_for([sys.executable, "-m", "daemon", "--config", str(config_path)])
    if args.action == "print":
        write(unit)
        return 0
    target = Path(args.unit_dir).expanduser() / "tiekeeper.service"
    write_private(target, unit.encode())
    _out(f"installed {target}")
    _out("start it with: systemctl --user daemon-reload && systemctl --user enable --now tiekeeper")
    return 0


def _source_named(config: Config, name: str):
    try:
        return config.source(name)
    except KeyError:
        raise UsageError(f"no source named {name}",
                         f"sources in the config: {', '.join(s.name for s in config.sources)}") from None


def cmd_auth(config: Config, args: argparse.Namespace, as_of: datetime | None,
             progress: ProgressFactory | None) -> int:
    if args.kind == "google":
        return _auth_google(config, args)
    from connectors.registry import needs_password
    from daemon.secrets import set_password

    if not args.source:
        raise UsageError("name the source: tiekeeper auth password SOURCE")
    source = _source_named(config, args.source)
    if not needs_password(source):
        raise UsageError(f"source {source.name} is a {source.type} source and needs no password")
    if not source.username:  # a caldav source may log in with nobody: its password would go unused
        raise UsageError(f"source {source.name} has no username, so it sends no password; nothing stored",
                         f"if the server needs a login, add sources.{source.name}.username to the config first")
    if source.password_command:
        _out(f"note: sources.{source.name}.password_command is set and wins over the keyring")
    password = ask_secret(f"password for {source.username} at {source.server}: ")
    if not password:
        raise UsageError("no password given; nothing stored")
    set_password(source.name, source.username, password)
    _out(f"stored in the keyring for source {source.name}")
    return 0


def _auth_google(config: Config, args: argparse.Namespace) -> int:
    from connectors import google_api, google_auth
    from connectors.registry import GOOGLE_TOKEN, needs_google_token, types_needing

    google = [s for s in config.sources if needs_google_token(s)]
    kinds = " or ".join(types_needing(GOOGLE_TOKEN))
    if args.source:
        chosen = _source_named(config, args.source)
        if not needs_google_token(chosen):
            raise UsageError(f"source {chosen.name} is a {chosen.type} source, not {kinds}")
        google = [s for s in google if s.account == chosen.account]  # one consent covers the account
    if not google:
        raise UsageError(f"no {kinds} source in the config", "add one (see config.example.toml)")
    if not args.client_file:
        raise UsageError("--client-file is needed: your OAuth client (a \"Desktop app\" client from Google Cloud)",
                         "the README's \"Google\" section shows how to make one in five steps")
    if not args.token_file and any(s.token_file is None for s in google):
        from daemon.secrets import keyring_backend

        backend, why = keyring_backend()
        if backend is None:  # say so before the user consents, not after
            raise UsageError(f"the token would go to the keyring, but {why}",
                             "on a headless box pass --token-file PATH (written 0600) and set token_file in the "
                             "source's config (see README, \"Headless\")")
    for grant in google_auth.grants(google, config.followups.google):
        info = google_auth.authorize(grant, args.client_file, not args.no_browser, _out)
        for source in grant.sources:
            where = google_api.store_authorized_user(source.name, source.account, info,
                                                     args.token_file or source.token_file)
            _out(f"source {source.name}: authorized for {grant.account}; the token is in {where}")
            if args.token_file and source.token_file != args.token_file:
                _out(f"  set sources.{source.name}.token_file = \"{args.token_file}\" in the config to use it")
    return 0


def cmd_contacts(config: Config, args: argparse.Namespace, as_of: datetime | None,
                 progress: ProgressFactory | None) -> int:
    rep = _report(config, as_of)
    if not rep.contacts:
        _hint_if_never_synced(config)

    def keep(c) -> bool:
        names = {f.pattern or f.check for f in c.flags} | {f.check for f in c.flags}
        if args.kind and c.relationship != args.kind:
            return False
        if args.flag == "any":
            return bool(c.flags)
        if args.flag == "none":
            return not c.flags
        return args.flag is None or args.flag in names

    chosen = [c for c in sorted(rep.contacts, key=lambda c: c.name.casefold()) if keep(c)]
    if args.format == "json":
        data = to_json(rep)
        ids = {c.id for c in chosen}
        print_json([c for c in data["contacts"] if c["id"] in ids])
        return 0
    zone = config.identity.zone
    for c in chosen:
        flags = ",".join(f.pattern or f.check for f in c.flags) or "-"
        _out(f"{clean_text(c.name)[:28]:28} {c.emails[0][:34]:34} {c.relationship:12} "
             f"every {human_days(c.expected_gap_days):>9}  last two-way {_when(c.last_two_way, zone):>11}  {flags}")
    _out(f"{len(chosen)} contact(s)")
    return 0


HANDLERS: dict[str, Handler] = {
    "sync": cmd_sync,
    "report": cmd_report,
    "followups": cmd_followups,
    "digest": cmd_digest,
    "explain": cmd_explain,
    "run": cmd_run,
    "snooze": cmd_snooze,
    "ignore": cmd_ignore,
    "log": cmd_log,
    "set": cmd_set,
    "contacts": cmd_contacts,
    "auth": cmd_auth,
    "status": cmd_status,
    "doctor": cmd_doctor,
    "service": cmd_service,
    "config": cmd_config,
}
