#!/usr/bin/env python3
"""Make the bundled sample: a Maildir (INBOX, Sent, Lists) and a calendar for "Alex Morgan".

Deterministic: the same files on every run (fixed seed, fixed anchor date). The history ends at
ANCHOR; config.example.toml pins ``analysis.as_of`` just after it, so the flags below show whenever
the sample is run. Planted on purpose:

  Jane Doe      close friend, two addresses and two name forms; silent for ten weeks  -> lapsed
  Sam Rivera    friend who always answers but never starts                          -> you_initiate
  Priya Shah    mentor, meetings every six weeks, none for seven months            -> lapsed (professional)
  Tom Becker    friend; your last four mails got no answer                          -> unanswered_by_them (a run that reaches today, not a lapse)
  Mia Chen      keeps writing; you have not answered her last three                 -> unanswered_by_you
  Luca Rossi    networking contact on his usual 4-5 month rhythm                    -> nothing (not lapsed)
  Nora Park     colleague, weekly 1:1                                               -> nothing
  Ben Ortiz     balanced friend                                                     -> nothing
  noise         a newsletter, receipts, a cold pitch, a recruiter's Bcc blast, a mailing list,
                a 300-person conference, a declined and a cancelled meeting         -> never contacts

Usage: python sample/generate.py [OUTPUT_DIR]   (default: the folder of this script)
"""

from __future__ import annotations

import random
import shutil
import sys
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

ZONE = timezone(timedelta(hours=1))  # the sample lives in Berlin winter time; good enough for headers
ANCHOR = datetime(2026, 11, 19, 18, 0, tzinfo=ZONE)
START = ANCHOR - timedelta(days=730)
ME_HOME = ("Alex Morgan", "alex@home.example.net")
ME_WORK = ("Alex Morgan", "alex.morgan@northwind.example")

rng = random.Random(20261120)
messages: list[tuple[str, datetime, str]] = []  # (folder, date, raw text)
_counter = [0]


def _msgid() -> str:
    _counter[0] += 1
    return f"<sample.{_counter[0]:05d}@tiekeeper.example>"


def _fmt(person: tuple[str, str]) -> str:
    name, addr = person
    if "," in name:
        return f'"{name}" <{addr}>'
    return f"{name} <{addr}>" if name else addr


def mail(folder: str, when: datetime, sender, to, subject: str, cc=(), reply_to_id: str | None = None,
         refs: list[str] | None = None, extra: dict[str, str] | None = None, body: str = "") -> str:
    mid = _msgid()
    lines = [
        f"Return-Path: <{sender[1]}>",
        f"Received: from mx.example.net by mail.home.example.net; {format_datetime(when)}",
        f"From: {_fmt(sender)}",
        f"To: {', '.join(_fmt(t) for t in to)}" if to else "To: undisclosed-recipients:;",
    ]
    if cc:
        lines.append(f"Cc: {', '.join(_fmt(c) for c in cc)}")
    lines += [f"Subject: {subject}", f"Date: {format_datetime(when)}", f"Message-ID: {mid}"]
    if reply_to_id:
        lines.append(f"In-Reply-To: {reply_to_id}")
        lines.append(f"References: {' '.join((refs or []) + [reply_to_id])}")
    for k, v in (extra or {}).items():
        lines.append(f"{k}: {v}")
    lines += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "",
              body or "(The body of this sample message. tiekeeper never reads or stores bodies.)", ""]
    messages.append((folder, when, "\n".join(lines)))
    return mid


def conversation(when: datetime, me, them, initiator: str, replies: int, subject: str,
                 delay_hours: tuple[float, float] = (2, 30)) -> datetime:
    """A thread: the initiator writes, then the sides alternate ``replies`` times."""
    sides = [me, them] if initiator == "me" else [them, me]
    t = when
    first_id = prev_id = None
    refs: list[str] = []
    for n in range(replies + 1):
        sender = sides[n % 2]
        recipient = sides[(n + 1) % 2]
        folder = "Sent" if sender in (ME_HOME, ME_WORK) else "INBOX"
        subj = subject if n == 0 else f"Re: {subject}"
        mid = mail(folder, t, sender, [recipient], subj, reply_to_id=prev_id, refs=refs[:-1] if refs else None)
        if first_id is None:
            first_id = mid
        refs.append(mid)
        prev_id = mid
        t += timedelta(hours=rng.uniform(*delay_hours))
    return t


def evening(d: datetime) -> datetime:
    return d.replace(hour=rng.choice([19, 20, 21]), minute=rng.choice([0, 15, 30, 45]))


def office(d: datetime) -> datetime:
    d = d.replace(hour=rng.choice([9, 10, 11, 14, 15, 16]), minute=rng.choice([0, 10, 20, 40]))
    while d.weekday() >= 5:
        d += timedelta(days=1)
    return d


def every(start: datetime, end: datetime, days: float, jitter: float):
    t = start
    while t < end:
        yield t
        t += timedelta(days=max(1.0, rng.gauss(days, jitter)))


# ---------------------------------------------------------------------------------------- people
JANE_OLD = ("Doe, Jane", "jane.doe@example.org")
JANE_NEW = ("Jane Doe", "jane@home.example.com")
SAM = ("Sam Rivera", "sam.rivera@example.com")
PRIYA = ("Priya Shah", "priya@lumen.example")
TOM = ("Tom Becker", "tom@becker.example.net")
MIA = ("Mia Chen", "mia.chen@example.org")
LUCA = ("Luca Rossi", "luca@rossi-consulting.example")
NORA = ("Nora Park", "nora.park@northwind.example")
BEN = ("Ben Ortiz", "ben@ortiz.example.com")


def people() -> None:
    # Jane: a close friend, about weekly; moved to a new address a year ago; silent for ten weeks.
    for n, t in enumerate(every(START + timedelta(days=3), ANCHOR - timedelta(days=70), 9, 3)):
        jane = JANE_OLD if t < ANCHOR - timedelta(days=365) else JANE_NEW
        conversation(evening(t), ME_HOME, jane, "me" if n % 2 else "them", rng.choice([1, 2, 3]),
                     rng.choice(["Weekend?", "Saw this and thought of you", "How are you doing", "Photos", "Call later?"]))
    # Sam: answers reliably, never starts.
    for t in every(START + timedelta(days=10), ANCHOR - timedelta(days=5), 21, 4):
        conversation(evening(t), ME_HOME, SAM, "me", 1, rng.choice(["Climbing this week?", "Beer?", "News"]))
    # Priya: mentoring by mail between the meetings (calendar); everything stopped seven months ago.
    for t in every(START + timedelta(days=20), ANCHOR - timedelta(days=215), 42, 6):
        conversation(office(t), ME_WORK, PRIYA, rng.choice(["me", "them"]), 1, "Mentoring: next steps", (1, 20))
    # Tom: a friend, monthly; then four mails of mine went unanswered.
    for n, t in enumerate(every(START + timedelta(days=5), ANCHOR - timedelta(days=150), 30, 6)):
        conversation(evening(t), ME_HOME, TOM, "them" if n % 2 else "me", 1, "Catching up")
    for k in range(4):
        mail("Sent", evening(ANCHOR - timedelta(days=120 - 28 * k)), ME_HOME, [TOM], "Are you around?")
    # Mia: exchanges every six weeks; her last three mails are unanswered.
    for n, t in enumerate(every(START + timedelta(days=15), ANCHOR - timedelta(days=140), 40, 8)):
        conversation(office(t), ME_WORK, MIA, "them" if n % 2 else "me", 1, "Quick question")
    for k in range(3):
        mail("INBOX", office(ANCHOR - timedelta(days=100 - 30 * k)), MIA, [ME_WORK], "Following up on the intro")
    # Luca: a networking contact every four to five months, last one three months ago: on rhythm.
    for n, t in enumerate(every(START + timedelta(days=30), ANCHOR - timedelta(days=60), 140, 15)):
        conversation(office(t), ME_WORK, LUCA, "them" if n % 2 else "me", 2, "Intro and an idea")
    # Nora: a colleague; mail now and then besides the weekly 1:1 (calendar).
    for t in every(START + timedelta(days=430), ANCHOR - timedelta(days=2), 12, 4):
        conversation(office(t), ME_WORK, NORA, rng.choice(["me", "them"]), 1, "Spec review")
    # Ben: a balanced friendship, every two weeks.
    for n, t in enumerate(every(START + timedelta(days=1), ANCHOR - timedelta(days=6), 14, 3)):
        conversation(evening(t), ME_HOME, BEN, "me" if n % 2 else "them", 2, rng.choice(["Run on Sunday?", "Dinner"]))


def noise() -> None:
    for t in every(START, ANCHOR, 7, 0.5):
        mail("INBOX", t.replace(hour=7), ("The Weekly", "news@weekly.example"), [ME_HOME], "This week in tech",
             extra={"List-Id": "<weekly.weekly.example>", "List-Unsubscribe": "<https://weekly.example/u>",
                    "Precedence": "bulk"})
    for t in every(START, ANCHOR, 25, 10):
        mail("INBOX", office(t), ("Shop", "noreply@shop.example"), [ME_HOME], "Your order has shipped")
    for k in range(3):  # a cold pitch, never answered
        mail("INBOX", office(ANCHOR - timedelta(days=90 - 20 * k)), ("Greg Hart", "greg@growthleads.example"),
             [ME_WORK], "Quick question about Northwind's pipeline")
    for k in range(2):  # a recruiter's blast: I am only in Bcc
        mail("INBOX", office(ANCHOR - timedelta(days=200 - 60 * k)), ("Rachel Kim", "rachel@staffing.example"),
             [], "Exciting opportunity")
    crowd = [(f"Member {i}", f"member{i}@bigproject.example") for i in range(12)]
    mail("INBOX", office(ANCHOR - timedelta(days=45)), crowd[0], [ME_WORK] + crowd[1:6], "Project kickoff notes",
         cc=crowd[6:])
    posters = [("Ann Lee", "ann@lists.example.org"), ("Raj Patel", "raj@example.net"), ("Eve Stone", "eve@example.edu")]
    for t in every(START, ANCHOR, 3, 1):
        mail("Lists", t.replace(hour=12), rng.choice(posters), [("Python Dev", "python-dev@lists.example.org")],
             "[Python-Dev] PEP discussion", extra={"List-Id": "Python development <python-dev.lists.example.org>",
                                                   "List-Post": "<mailto:python-dev@lists.example.org>"})


# -------------------------------------------------------------------------------------- calendar
def _attendee(person, partstat="ACCEPTED", cutype="INDIVIDUAL") -> str:
    return f'ATTENDEE;CN="{person[0]}";CUTYPE={cutype};PARTSTAT={partstat}:mailto:{person[1]}'


def _utc(d: datetime) -> str:
    return d.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def event(uid: str, start: datetime, minutes: int, summary: str, organizer, attendees: list[str],
          extra: list[str] | None = None, all_day_days: int = 0) -> str:
    lines = ["BEGIN:VEVENT", f"UID:{uid}@sample.tiekeeper.example", f"DTSTAMP:{_utc(ANCHOR)}"]
    if all_day_days:
        lines += [f"DTSTART;VALUE=DATE:{start:%Y%m%d}", f"DTEND;VALUE=DATE:{start + timedelta(days=all_day_days):%Y%m%d}"]
    else:
        lines += [f"DTSTART:{_utc(start)}", f"DTEND:{_utc(start + timedelta(minutes=minutes))}"]
    lines += [f"SUMMARY:{summary}", f'ORGANIZER;CN="{organizer[0]}":mailto:{organizer[1]}']
    lines += attendees + (extra or []) + ["END:VEVENT"]
    return "\r\n".join(lines)


def calendar() -> str:
    events = []
    first_1on1 = office(START + timedelta(days=420)).replace(hour=10, minute=0)
    events.append(event("nora-1on1", first_1on1, 30, "1:1 Alex / Nora", ME_WORK,
                        [_attendee(ME_WORK), _attendee(NORA)], ["RRULE:FREQ=WEEKLY"]))
    for n, t in enumerate(every(START + timedelta(days=40), ANCHOR - timedelta(days=200), 42, 5)):
        events.append(event(f"priya-mentoring-{n}", office(t), 45, "Mentoring sync", PRIYA,
                            [_attendee(PRIYA), _attendee(ME_WORK)]))
    for n, t in enumerate(every(START + timedelta(days=25), ANCHOR - timedelta(days=95), 60, 10)):
        events.append(event(f"jane-dinner-{n}", evening(t), 120, "Dinner with Jane", ME_HOME,
                            [_attendee(ME_HOME), _attendee(JANE_NEW if t > ANCHOR - timedelta(days=365) else JANE_OLD)]))
    conf = [_attendee(ME_WORK)] + [_attendee((f"Attendee {i}", f"a{i}@northconf.example"), "NEEDS-ACTION") for i in range(300)]
    events.append(event("northconf-2026", (ANCHOR - timedelta(days=160)).replace(hour=0), 0, "NorthConf 2026",
                        ("NorthConf", "events@northconf.example"), conf, all_day_days=2))
    events.append(event("vendor-pitch", office(ANCHOR - timedelta(days=80)), 30, "Vendor pitch",
                        ("Greg Hart", "greg@growthleads.example"),
                        [_attendee(("Greg Hart", "greg@growthleads.example")), _attendee(ME_WORK, "DECLINED")]))
    events.append(event("ben-lunch-cancelled", office(ANCHOR - timedelta(days=30)), 60, "Lunch with Ben", ME_HOME,
                        [_attendee(ME_HOME), _attendee(BEN)], ["STATUS:CANCELLED"]))
    # Busy times next week: follow-ups must not land on these.
    events.append(event("dentist", (ANCHOR + timedelta(days=1)).replace(hour=18, minute=0), 120, "Dentist", ME_HOME, []))
    events.append(event("offsite", (ANCHOR + timedelta(days=4)).replace(hour=9, minute=0), 480, "Team offsite", ME_WORK,
                        [_attendee(ME_WORK), _attendee(NORA)]))
    body = "\r\n".join(events)
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tiekeeper//sample//EN\r\nCALSCALE:GREGORIAN\r\n"
            f"{body}\r\nEND:VCALENDAR\r\n")


def write(out: Path) -> None:
    mail_root = out / "mail"
    if mail_root.exists():
        shutil.rmtree(mail_root)
    folders = {"INBOX": mail_root, "Sent": mail_root / ".Sent", "Lists": mail_root / ".Lists"}
    for path in folders.values():
        for sub in ("cur", "new", "tmp"):
            (path / sub).mkdir(parents=True, exist_ok=True)
            (path / sub / ".keep").write_text("")
    for n, (folder, when, raw) in enumerate(sorted(messages, key=lambda m: m[1])):
        name = f"{int(when.timestamp())}.S{n:05d}.sample:2,S"
        (folders[folder] / "cur" / name).write_text(raw, encoding="utf-8")
    (out / "calendar.ics").write_bytes(calendar().encode("utf-8"))


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent
    people()
    noise()
    write(out)
    print(f"wrote {len(messages)} messages and a calendar to {out}")


if __name__ == "__main__":
    main()
