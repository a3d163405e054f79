"""The source-type registry: each of the seven types is read from TOML, builds its connector, says
what secret it needs and checks a real local source; and no code outside the registry (and the
connectors' own modules) decides anything by a type's name."""

from __future__ import annotations

import ast
import dataclasses
import http.server
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from connectors import registry
from connectors.registry import GOOGLE_TOKEN, PASSWORD, TYPES, types_needing
from daemon.config import load
from daemon.errors import ConfigError
from tests.helpers import ME, NOW, REPO, calendar, make_maildir, make_mbox, message, tiekeeper, vevent

SEVEN = ("maildir", "mbox", "ics", "imap", "caldav", "gmail", "google_calendar")

# type -> (a [sources.x] body, the connector class it builds, the secret it needs)
TABLES = {
    "maildir": ('path = "mail"', "connectors.maildir.MaildirConnector", None),
    "mbox": ('path = "box.mbox"', "connectors.mbox.MboxConnector", None),
    "ics": ('path = "cal.ics"', "connectors.ics.IcsConnector", None),
    "imap": ('host = "127.0.0.1"\nport = 1143\ntls = "starttls"\nusername = "alice"\n'
             'password_command = ["echo", "secret"]\nfolders = ["INBOX"]',
             "connectors.imap.ImapConnector", PASSWORD),
    "caldav": ('url = "http://127.0.0.1:5232/"\nusername = "alice"\npassword_command = ["echo", "secret"]\n'
               'calendars = ["Work"]', "connectors.caldav.CalDavConnector", PASSWORD),
    "gmail": ('account = "Me@Gmail.com"\ntoken_file = "token.json"\nquota = "strict"',
              "connectors.gmail.GmailConnector", GOOGLE_TOKEN),
    "google_calendar": ('account = "me@gmail.com"\ntoken_file = "token.json"\ncalendars = ["primary", "Work"]',
                        "connectors.google_calendar.GoogleCalendarConnector", GOOGLE_TOKEN),
}


_PASSWORD_KEYS = ("username", "password_command", "ca_file")
_GOOGLE_KEYS = ("account", "token_file", "api_endpoint")
OWN_KEYS = {
    "maildir": ("path",), "mbox": ("path",), "ics": ("path", "url"),
    "imap": (*_PASSWORD_KEYS, "host", "port", "tls", "folders"), "caldav": (*_PASSWORD_KEYS, "url", "calendars"),
    "gmail": (*_GOOGLE_KEYS, "quota", "quota_units_per_minute"), "google_calendar": (*_GOOGLE_KEYS, "calendars"),
}


def _load(tmp_path: Path, sources: str):
    path = tmp_path / "c.toml"
    path.write_text(f'[identity]\naddresses = ["{ME}"]\n[store]\npath = "s.db"\n{sources}')
    return load(path)


def _local_source(kind: str, root: Path) -> Path:
    """A real source of the type under root, with one message or event in it."""
    mail = message("bob@x.example", ME, NOW, msgid="<one@t>")
    if kind == "maildir":
        return make_maildir(root / "mail", {"INBOX": [mail]})
    if kind == "mbox":
        return make_mbox(root / "box.mbox", [mail])
    (root / "cal.ics").write_bytes(calendar(vevent("u1", NOW + timedelta(days=1), attendees=[("bob@x.example", "ACCEPTED")])))
    return root / "cal.ics"


def test_the_registry_has_the_seven_types_in_the_order_config_check_names_them(tmp_path):
    assert tuple(TYPES) == SEVEN
    assert all(cls.TYPE == name for name, cls in TYPES.items())
    with pytest.raises(ConfigError) as e:
        _load(tmp_path, '[sources.x]\ntype = "pop3"\n')
    assert "sources.x.type: expected one of maildir, mbox, ics, imap, caldav, gmail, google_calendar, got \"pop3\"" \
        in e.value.problems


@pytest.mark.parametrize("kind", SEVEN)
def test_each_type_is_read_into_its_own_record_and_builds_its_connector(kind, tmp_path):
    body, connector_class, secret = TABLES[kind]
    src = _load(tmp_path, f'[sources.x]\ntype = "{kind}"\ncontext = "professional"\n{body}\n').source("x")
    assert type(src) is TYPES[kind] and src.type == kind and src.name == "x" and src.context == "professional"
    assert src.SECRET == secret and registry.needs_password(src) == (secret == PASSWORD)
    assert registry.needs_google_token(src) == (secret == GOOGLE_TOKEN)
    module, name = connector_class.rsplit(".", 1)
    with src.connector() as conn:
        assert type(conn).__module__ == module and type(conn).__name__ == name and conn.name == "x"
    assert {f.name for f in dataclasses.fields(src)} == {"name", "context", *OWN_KEYS[kind]}  # its own keys only


def test_each_type_reads_its_own_keys_with_the_same_one_line_problems(tmp_path):
    with pytest.raises(ConfigError) as e:
        _load(tmp_path, '[sources.m]\ntype = "maildir"\nhost = "x"\n'
                        '[sources.i]\ntype = "imap"\nhost = "imap.example"\nusername = "u"\nport = 70000\npath = "x"\n'
                        '[sources.g]\ntype = "gmail"\naccount = "me@gmail.com"\ncalendars = ["x"]\npassword = "p"\n'
                        '[sources.c]\ntype = "google_calendar"\naccount = "nope"\nquota = "strict"\n')
    assert e.value.problems == [
        "sources.m.path: missing; this key is required",
        "sources.m.host: unknown key; valid keys here: context, path, type",
        "sources.i.port: expected a port number up to 65535, got 70000",
        "sources.i.path: unknown key; valid keys here: ca_file, context, folders, host, password_command, port, tls, "
        "type, username",
        "sources.g.password: secrets never go in the config file: run `tiekeeper auth google g` (keyring) or use "
        "token_file",
        "sources.g.calendars: unknown key; valid keys here: account, api_endpoint, context, password, quota, "
        "quota_units_per_minute, token_file, type",
        'sources.c.account: expected the Google account\'s address like "me@gmail.com", got "nope"',
        "sources.c.quota: unknown key; valid keys here: account, api_endpoint, calendars, context, token_file, type",
    ]


def test_a_caldav_source_without_its_url_is_one_line_not_a_traceback(tmp_path):
    """A required key that is missing was read as a placeholder object: for caldav's url it reached a
    regex and crashed with a TypeError."""
    with pytest.raises(ConfigError) as e:
        _load(tmp_path, '[sources.d]\ntype = "caldav"\n[sources.i]\ntype = "imap"\ntls = "none"\nusername = "u"\n')
    assert e.value.problems == ["sources.d.url: missing; this key is required",
                                "sources.i.host: missing; this key is required"]


def test_what_each_type_needs_to_log_in_is_declared_once():
    assert types_needing(PASSWORD) == ("imap", "caldav")
    assert types_needing(GOOGLE_TOKEN) == ("gmail", "google_calendar")
    assert [(key, cls.TYPE) for key, cls in registry.publishing_types()] == [("caldav", "caldav"),
                                                                            ("google", "google_calendar")]


def test_the_keyring_is_needed_where_no_command_or_token_file_gives_the_secret(tmp_path):
    cfg = _load(tmp_path, '[sources.i]\ntype = "imap"\nhost = "h"\nusername = "u"\n'
                          '[sources.ic]\ntype = "imap"\nhost = "h"\nusername = "u"\npassword_command = ["true"]\n'
                          '[sources.d]\ntype = "caldav"\nurl = "https://d/"\n'
                          '[sources.du]\ntype = "caldav"\nurl = "https://d/"\nusername = "u"\n'
                          '[sources.g]\ntype = "gmail"\naccount = "a@b.c"\n'
                          '[sources.gt]\ntype = "google_calendar"\naccount = "a@b.c"\ntoken_file = "t.json"\n'
                          '[sources.m]\ntype = "mbox"\npath = "x"\n')
    assert [s.name for s in cfg.sources if s.keyring_needed()] == ["i", "du", "g"]


@pytest.mark.parametrize("kind", ("maildir", "mbox", "ics"))
def test_a_local_source_is_checked_where_it_is_and_through_its_connector(kind, tmp_path):
    path = _local_source(kind, tmp_path)
    src = _load(tmp_path, f'[sources.x]\ntype = "{kind}"\n{TABLES[kind][0]}\n').source("x")
    for probe in (False, True):
        found = src.check(tmp_path, probe=probe)
        assert found.ok and found.line() == f"ok   source x: {path} is there", found
    with src.connector() as conn:
        assert conn.probe().startswith("1 ") and len(conn.list().items) == 1  # what the probe saw, a sync reads
    path.rename(tmp_path / "elsewhere")
    for probe in (False, True):
        gone = src.check(tmp_path, probe=probe)
        assert not gone.ok and gone.detail == f"sources.x.path: {path} does not exist", gone
        assert gone.fix.startswith(f"fix sources.x.path: set it to your {type(src).KIND}")
    if kind == "maildir":
        path.write_text("a file, not a Maildir")
        assert src.check(tmp_path, probe=True).line() == (
            f"FAIL source x: sources.x.path: {path} is not a folder -> set sources.x.path to the Maildir's root folder")


class _LoginPage(http.server.BaseHTTPRequestHandler):
    """A feed URL behind a captive portal: HEAD says 200, GET answers an HTML page."""

    def do_HEAD(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/calendar")
        self.end_headers()

    def do_GET(self) -> None:
        body = b"<html><body>Please log in</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def test_doctor_reads_a_feed_through_its_connector_where_config_check_only_knocks(tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _LoginPage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        where = f"127.0.0.1:{server.server_port}"
        cfg = tmp_path / "c.toml"
        cfg.write_text(f'[identity]\naddresses = ["{ME}"]\n[store]\npath = "s.db"\n'
                       f'[sources.feed]\ntype = "ics"\nurl = "http://{where}/cal.ics"\n')
        check = tiekeeper(cfg, "config", "check")
        assert check.returncode == 0 and f"ok   source feed: the feed at {where} answers" in check.stdout
        doctor = tiekeeper(cfg, "doctor")
        assert doctor.returncode == 1, doctor.stdout
        assert ("FAIL source feed: the feed answered text/html that is not a calendar (a login page or captive "
                "portal?); nothing was changed -> open the URL in a browser to check it") in doctor.stdout
    finally:
        server.shutdown()


# -- no type switch outside the registry --------------------------------------------------------------
# The connectors' own modules know their own type; everything else asks the source's record.
CONNECTOR_MODULES = {"maildir", "mbox", "ics", "imap", "caldav", "caldav_publish", "gmail", "google_api",
                     "google_calendar", "google_publish", "registry"}


def _type_switches(tree: ast.AST) -> list[tuple[int, str]]:
    """Comparisons and lookups that decide by a source type's name: ``x.type == ...``,
    ``kind in ("gmail", ...)``, ``{"maildir": ...}[kind]``, ``case "imap":``."""
    def names_a_type(node: ast.AST) -> bool:
        if isinstance(node, ast.Constant):
            return node.value in SEVEN
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return any(names_a_type(e) for e in node.elts)
        return False

    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(names_a_type(o) or isinstance(o, ast.Attribute) and o.attr == "type" for o in operands):
                found.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.Dict) and sum(k is not None and names_a_type(k) for k in node.keys) > 1:  # a table by type
            found.append((node.lineno, ast.unparse(node)[:80]))
        elif isinstance(node, ast.MatchValue) and names_a_type(node.value):
            found.append((node.lineno, ast.unparse(node)))
    return found


def test_no_code_outside_the_registry_switches_on_a_source_type():
    switches = []
    for folder in ("daemon", "connectors"):
        for path in sorted((REPO / folder).rglob("*.py")):
            if folder == "connectors" and path.stem in CONNECTOR_MODULES:
                continue
            for line, code in _type_switches(ast.parse(path.read_text("utf-8"))):
                switches.append(f"{path.relative_to(REPO)}:{line}: {code}")
    assert not switches, "decide by the source's record (connectors/registry.py), not its type name:\n" + "\n".join(switches)


def test_the_switch_finder_finds_each_kind_of_switch():
    code = ('if src.type == "imap": pass\nif kind in ("gmail", "x"): pass\nd = {"maildir": 1, "mbox": 2}\n'
            'match k:\n    case "caldav": pass\nlog = ("caldav", "urllib3")\nt.string("caldav", None)\n'
            'r = {"ics": text, "uid": u}\n')
    assert [line for line, _ in _type_switches(ast.parse(code))] == [1, 2, 3, 5]
