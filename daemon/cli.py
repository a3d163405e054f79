"""The command line: parse the arguments, load the config, dispatch to the command's handler
(``commands.HANDLERS``); errors are rendered here, one line each (through ``daemon.terminal``)."""

from __future__ import annotations

import argparse
import logging
import os
from datetime import datetime
from pathlib import Path

from daemon import __version__, terminal
from daemon import log as log_setup
from daemon.config import Config, default_config_path, load
from daemon.errors import ConfigError, TiekeeperError

log = logging.getLogger(__name__)

EPILOG = """\
examples:
  tiekeeper --config config.example.toml run --once   sync the sample, analyse, write the outputs
  tiekeeper report --format json                      contacts and flags, machine-readable
  tiekeeper explain jane@example.org                  why someone is (not) a contact, and each flag
  tiekeeper run                                       the background service (syncs on a schedule)

The config file is read from --config, else $TIEKEEPER_CONFIG, else {default}.
Exit codes: 0 ok, 1 error, 2 bad config or arguments, 3 a source failed, 4 store, 5 output, 6 already running.
"""


EXAMPLES = {
    "sync": ["tiekeeper sync                       every source",
             "tiekeeper sync home_mail --force     one source, deleting even if it suddenly lists far less"],
    "report": ["tiekeeper report                     who needs attention, and why",
               "tiekeeper report --all               every contact", "tiekeeper report --format json | jq ."],
    "followups": ["tiekeeper followups --output ~/follow-ups.ics"],
    "digest": ["tiekeeper digest --output digest.eml --preview digest.html"],
    "explain": ["tiekeeper explain jane@example.org", "tiekeeper explain \"Jane Doe <jane@example.org>\""],
    "run": ["tiekeeper run --once                 one pass: sync, analyse, write the outputs",
            "tiekeeper run                        the service (see `tiekeeper service install`)"],
    "snooze": ["tiekeeper snooze jane@example.org 30d", "tiekeeper snooze jane@example.org --undo"],
    "ignore": ["tiekeeper ignore news@shop.example", "tiekeeper ignore news@shop.example --undo"],
    "log": ["tiekeeper log jane@example.org --note coffee", "tiekeeper log jane@example.org --date 2026-05-02",
            "tiekeeper log sam@new.example --new --name \"Sam Lee\"   someone not in your mail yet",
            "tiekeeper log jane@example.org --undo                 remove the latest logged contact"],
    "set": ["tiekeeper set mum@example.org --relationship family",
            "tiekeeper set dana@studio.example --relationship professional --cadence 90d",
            "tiekeeper set dana@studio.example --undo          take the last correction back"],
    "contacts": ["tiekeeper contacts --flag lapsed --kind personal"],
    "auth": ["tiekeeper auth password work_mail", "tiekeeper auth google --client-file client_secret.json"],
    "status": ["tiekeeper status", "tiekeeper status --format json"],
    "doctor": ["tiekeeper doctor"],
    "service": ["tiekeeper service install && systemctl --user enable --now tiekeeper"],
    "config": ["tiekeeper config init                write the example config where it is read",
               "tiekeeper config check               validate it, and check every source can be reached",
               "tiekeeper config path"],
}


def _examples(command: str) -> str:
    return "example" + ("s" if len(EXAMPLES[command]) > 1 else "") + ":\n" + \
        "\n".join(f"  {line}" for line in EXAMPLES[command])


def _as_of(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an ISO date or date-time like 2026-06-01 or 2026-06-01T09:00+02:00, got {value!r}") from None
    return parsed


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tiekeeper",
        description="tiekeeper notices relationships that are quietly lapsing. It reads mail and calendar "
                    "metadata (never bodies), finds your real contacts and their usual rhythm, and flags lapsed "
                    "and one-sided ties with a plain reason, as calendar follow-ups and an email summary.",
        epilog=EPILOG.format(default=default_config_path()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--config", type=Path, metavar="PATH", help="the config file (TOML)")
    p.add_argument("-v", "--verbose", action="store_true", help="debug output (may show addresses)")
    p.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    p.add_argument("--version", action="version", version=f"tiekeeper {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, help_: str, analyses: bool = False) -> argparse.ArgumentParser:
        c = sub.add_parser(name, help=help_, description=help_, epilog=_examples(name),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        # the global options work after the command too; SUPPRESS keeps one given before it
        c.add_argument("--config", type=Path, metavar="PATH", default=argparse.SUPPRESS, help="the config file (TOML)")
        c.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        c.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        if analyses:
            c.add_argument("--as-of", type=_as_of, metavar="DATETIME",
                           help="analyse as if it were this moment (default: now, or analysis.as_of in the config)")
        return c

    s = command("sync", "fetch new and changed metadata from every source (or the ones named)")
    s.add_argument("sources", nargs="*", metavar="SOURCE", help="source names from the config (default: all)")
    s.add_argument("--force", action="store_true",
                   help="apply deletions even when a source suddenly lists nothing or far less than before")
    r = command("report", "show contacts and flags (reads the store; run `sync` first)", analyses=True)
    r.add_argument("--format", choices=("text", "json"), default="text", help="text for people, json for programs")
    r.add_argument("--all", action="store_true", help="text format: list every contact, not only flagged ones")
    f = command("followups", "write the follow-up events file (outputs.followups.path) and push them to their "
                "CalDAV or Google calendar, if configured", analyses=True)
    f.add_argument("--output", type=Path, metavar="PATH", help="write here instead of the configured path")
    d = command("digest", "write the email summary as an .eml file (outputs.digest.path); with --send, also mail "
                "it, at most once per period (outputs.digest.every), counting what the service sent", analyses=True)
    d.add_argument("--output", type=Path, metavar="PATH", help="write here instead of the configured path")
    d.add_argument("--preview", type=Path, metavar="HTML", help="also write the summary's HTML to this file (never sends)")
    d.add_argument("--send", action="store_true",
                   help="mail it through outputs.digest.smtp_host, unless a digest went out this period already")
    d.add_argument("--force", action="store_true", help="with --send: mail it even if one went out this period")
    e = command("explain", "say why an address is or is not a contact, and how each flag was reached", analyses=True)
    e.add_argument("address", help="an email address (any of the person's addresses)")
    run = command("run", "the service: sync, analyse and write outputs on a schedule ([schedule] sync_every, "
                  "[outputs.digest] every)",
                  analyses=True)
    run.add_argument("--once", action="store_true", help="one pass, then exit")
    run.add_argument("--force", action="store_true", help="as for sync")
    sn = command("snooze", "hold back a contact's nudges for a while (e.g. 30d, 2w, 3m)", analyses=True)
    sn.add_argument("contact", help="any of the person's addresses")
    sn.add_argument("duration", nargs="?", help="how long: 30d, 2w, 3m (months of 30 days)")
    sn.add_argument("--undo", action="store_true", help="lift the snooze: their nudges are back")
    ig = command("ignore", "never treat someone as a contact again (undo: delete it with --undo)")
    ig.add_argument("contact", help="any of the person's addresses")
    ig.add_argument("--undo", action="store_true", help="treat them as a contact again")
    lg = command("log", "record a contact that happened offline (a call, a coffee): it resets the clock")
    lg.add_argument("contact", help="any of the person's addresses")
    lg.add_argument("--date", type=_as_of, metavar="DATE", help="when (default: now), e.g. 2026-05-02")
    lg.add_argument("--note", default="", help="a word for yourself, e.g. \"coffee\"")
    lg.add_argument("--new", action="store_true",
                    help="someone who is no contact yet (not in your mail or calendars); needs --name")
    lg.add_argument("--name", help="with --new: the person's name")
    lg.add_argument("--undo", action="store_true", help="remove the contact logged last with them")
    se = command("set", "correct a tie: its relationship or usual rhythm wins over what tiekeeper infers",
                 analyses=True)
    se.add_argument("contact", help="any of the person's addresses")
    se.add_argument("--relationship", choices=("personal", "professional", "family"),
                    help="what the tie is (family ties may stay quiet 1.5x longer)")
    se.add_argument("--cadence", metavar="RHYTHM", help="how often you are usually in touch: 30d, 2w, 3m")
    se.add_argument("--undo", action="store_true", help="take back the last correction of this address")
    co = command("contacts", "list contacts, filtered by flag or relationship", analyses=True)
    co.add_argument("--flag", choices=("any", "lapsed", "one_sided", "you_initiate", "they_initiate",
                                       "unanswered_by_them", "unanswered_by_you", "none"), help="only these")
    co.add_argument("--kind", choices=("personal", "professional", "family", "unknown"), help="only this relationship")
    co.add_argument("--format", choices=("text", "json"), default="text")
    au = command("auth", "store a source's password, or authorize Google, in the system keyring (never in the config)")
    au.add_argument("kind", choices=("password", "google"),
                    help="password: for imap and caldav sources; google: the browser consent for gmail and "
                         "google_calendar sources")
    au.add_argument("source", nargs="?", help="the source's name in the config (google: default every Google source)")
    au.add_argument("--client-file", type=Path, metavar="JSON",
                    help="google: your OAuth client file, a \"Desktop app\" client from Google Cloud (see README)")
    au.add_argument("--token-file", type=Path, metavar="PATH",
                    help="google: keep the token in this 0600 file instead of the keyring (headless boxes); "
                         "set the source's token_file to it too")
    au.add_argument("--no-browser", action="store_true", help="google: print the consent address instead of opening it")
    st = command("status", "is the service running; each source's health, last and next runs; what needs you")
    st.add_argument("--format", choices=("text", "json"), default="text")
    command("doctor", "check the config, the store, the keyring and every source, with the fix for each problem")
    sv = command("service", "install the systemd user unit that runs `tiekeeper run` in the background")
    sv.add_argument("action", choices=("install", "print"), help="install: write the unit; print: show it")
    sv.add_argument("--unit-dir", default="~/.config/systemd/user", help="where to write the unit (default: %(default)s)")
    cfg = command("config", "configuration helpers")
    cfg.add_argument("action", choices=("check", "path", "init"),
                     help="check: validate the config and check every source can be reached; path: print where it "
                          "is read; init: write the example config there (runs on the bundled sample as it is)")
    return p


def _config_path(args: argparse.Namespace) -> Path:
    if args.config:
        return args.config
    env = os.environ.get("TIEKEEPER_CONFIG")
    return Path(env) if env else default_config_path()


def _tz_as_of(config: Config, args: argparse.Namespace) -> datetime | None:
    value = getattr(args, "as_of", None)
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=config.identity.zone)


def main(argv: list[str] | None = None) -> int:
    try:
        try:
            code = _main(argv)
        except SystemExit as e:  # --help and argument errors: their output is flushed below too
            code = e.code if isinstance(e.code, int) else 0 if e.code is None else 2
        terminal.flush()
        return code
    except BrokenPipeError:  # `tiekeeper report | head -1`: the reader has what it wanted
        terminal.quiet_stdout()
        return 0


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    log_setup.setup(args.verbose, args.quiet)
    if not args.command:
        parser.print_help()  # argparse writes its own help and usage errors (as for --help)
        return 2
    try:
        return _dispatch(args)
    except ConfigError as e:
        for line in e.lines():
            terminal.config_error(line)
        return e.exit_code
    except TiekeeperError as e:
        terminal.error(e.one_line())
        return e.exit_code
    except KeyboardInterrupt:
        terminal.note("interrupted")
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    from daemon import commands

    path = _config_path(args)
    if args.command == "config" and args.action == "path":
        terminal.out(str(path))
        return 0
    if args.command == "config" and args.action == "init":
        from daemon import config_init

        terminal.out(config_init.write(path))
        return 0
    config = load(path)
    args.config_path = path
    handler = commands.HANDLERS[args.command]
    return handler(config, args, _tz_as_of(config, args), terminal.progress_bars())



