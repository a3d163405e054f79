"""An address you send from that [identity] leaves out is named, with the line to add, by `run`,
`doctor` and `config check`; and you never become your own contact meanwhile."""

from __future__ import annotations

import json
import re
import shutil
from datetime import timedelta

import pytest

from tests.helpers import NOW, REPO, make_maildir, message
from tests.helpers import tiekeeper as tk
from tests.system.test_cli import PLANTED

LINE = 'addresses = ["alex@home.example.net", "alex.morgan@northwind.example"]'


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    d = tmp_path_factory.mktemp("own")
    shutil.copytree(REPO / "sample", d / "sample")
    text = (REPO / "config.example.toml").read_text().replace(LINE, 'addresses = ["alex@home.example.net"]')
    (d / "config.toml").write_text(text)
    return d


def test_run_names_the_missing_address_and_the_report_is_as_with_it_listed(sample):
    run = tk(sample / "config.toml", "run", "--once")
    assert run.returncode == 0, run.stderr
    warning = [line for line in run.stderr.splitlines() if "alex.morgan@northwind.example" in line]
    assert len(warning) == 1 and warning[0].startswith("tiekeeper: warning: you send from") and LINE in warning[0]
    data = json.loads(tk(sample / "config.toml", "report", "--format", "json").stdout)
    found = {c["emails"][0]: {f.get("pattern") or f["kind"] for f in c["flags"]} for c in data["contacts"]}
    assert found == PLANTED  # exactly what the full identity gives
    logged = [line for line in run.stderr.splitlines() if not line.startswith("tiekeeper: warning:")]
    assert not any(re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", line) for line in logged)  # no address in the logs


def test_doctor_and_config_check_name_it_with_the_line_to_add(sample):
    doctor = tk(sample / "config.toml", "doctor")
    assert "warn identity: you send from alex.morgan@northwind.example" in doctor.stdout and LINE in doctor.stdout
    check = tk(sample / "config.toml", "config", "check")
    assert check.returncode == 0 and "warn identity: you send from alex.morgan@northwind.example" in check.stdout
    assert LINE in check.stdout
    status = tk(sample / "config.toml", "status")
    assert "you send from alex.morgan@northwind.example" in status.stdout and LINE in status.stdout
    explain = tk(sample / "config.toml", "explain", "alex.morgan@northwind.example")
    assert "one of your own addresses" in explain.stdout


def test_mail_between_your_own_addresses_never_makes_you_a_contact(tmp_path):
    home, work, friend = "me@home.example", "me@work.example", "kim@friend.example"
    sent, inbox = [], []
    for week in range(30):
        t = NOW - timedelta(days=7 * week + 3)
        sent.append(message(home, [work], t, subject=f"note {week}"))  # to yourself at work
        inbox.append(message(work, [home], t + timedelta(hours=2), subject=f"Re: note {week}"))
        sent.append(message(work, ["colleague@work.example"], t + timedelta(hours=3)))
        sent.append(message(home, [friend], t + timedelta(hours=4)))
        inbox.append(message(friend, [home], t + timedelta(hours=6)))
    make_maildir(tmp_path / "mail", {"INBOX": inbox, "Sent": sent})
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[identity]\naddresses = ["{home}"]\n[store]\npath = "s.db"\n'
                   f'[sources.mail]\ntype = "maildir"\npath = "mail"\n[analysis]\nas_of = "{NOW.isoformat()}"\n')
    run = tk(cfg, "run", "--once")
    assert run.returncode == 0, run.stderr
    assert f'addresses = ["{home}", "{work}"]' in run.stderr
    data = json.loads(tk(cfg, "report", "--format", "json").stdout)
    emails = {e for c in data["contacts"] for e in c["emails"]}
    assert friend in emails and work not in emails
