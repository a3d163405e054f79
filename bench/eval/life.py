"""Synthetic lives with planted ground truth, for judging tiekeeper's judgement.

A life is two years of one person's mail and calendar: friends, colleagues, networking contacts and
all the noise around them. Every person has an archetype and the labels it implies (lapsed, one of
the one-sided patterns, personal or professional, which addresses are one person). The life keeps a
ground-truth log of every contact moment, so each label can be checked from the life's own data
(``tests/eval`` does) without running tiekeeper at all.

The life is rendered as a Maildir (INBOX, Sent, Lists) and two ICS calendars (personal, work).
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.header import Header
from email.utils import format_datetime
from pathlib import Path

ZONE = timezone(timedelta(hours=1))
NOW = datetime(2026, 6, 1, 9, 0, tzinfo=ZONE)
START = NOW - timedelta(days=730)
DAY = 86400.0
ME_PERSONAL = "me.myself@gmail.com"
ME_WORK = "me@mycorp.example"

FIRST = ("Anna Ben Cara Dev Eli Fay Gus Hana Ivo Jon Kim Lea Max Nia Oli Pia Raj Sol Tia Uwe Vic Wen Xia Yan Zoe "
         "Ada Bo Cy Di Ed Flo Gil Hal Ira Jo Kai Liv Mo Ned Ona").split()
LAST = ("Abbott Brandt Costa Dahl Evans Fischer Garcia Horvat Ito Jensen Kowalski Laine Moreau Novak Okafor "
        "Petrov Quinn Rossi Sato Tanaka Ulrich Varga Weber Xu Young Zimmer Ahn Berg Chen Diaz").split()
FREEMAIL = ("gmail.com", "outlook.com", "yahoo.com", "posteo.de", "icloud.com")
UNICODE_FIRST = ("Jürgen", "Zoë", "Søren", "Chloé", "Åsa")


@dataclass
class Moment:
    """One contact in the ground truth: a conversation (mail) or a meeting."""

    ts: float
    channel: str  # "mail" | "meeting"
    initiator: str  # "me" | "them"
    answered: bool  # mail: the other side replied; meetings always are


@dataclass
class Person:
    key: str
    archetype: str
    name: str
    addresses: list[str]
    relationship: str  # personal | professional
    labels: set[str]  # lapsed, you_initiate, they_initiate, unanswered_by_them, unanswered_by_you
    rhythm_days: float
    moments: list[Moment] = field(default_factory=list)
    series: tuple[float, int, float | None] | None = None  # a weekly 1:1: (start, every n weeks, until)


@dataclass
class Noise:
    key: str
    address: str
    kind: str


@dataclass
class Life:
    seed: int
    people: list[Person]
    noise: list[Noise]
    one_account: bool = False  # everything through one address (no work/personal split to lean on)
    messages: list[tuple[str, float, bytes]] = field(default_factory=list)  # (folder, ts, raw)
    events: dict[str, list[str]] = field(default_factory=lambda: {"personal": [], "work": []})


class _Maker:
    def __init__(self, seed: int, one_account: bool = False) -> None:
        self.rng = random.Random(seed)
        self.life = Life(seed, [], [], one_account)
        self.n = 0
        self.names: set[str] = set()

    # -- identities ----------------------------------------------------------------------------
    def name(self) -> tuple[str, str]:
        while True:
            first = self.rng.choice(UNICODE_FIRST if self.rng.random() < 0.15 else FIRST)
            last = self.rng.choice(LAST)
            if f"{first} {last}" not in self.names:
                self.names.add(f"{first} {last}")
                return first, last

    def address(self, first: str, last: str, domain: str) -> str:
        local = f"{first}.{last}".lower().encode("ascii", "ignore").decode() or "x"
        return f"{local}{self.rng.randint(1, 99)}@{domain}"

    # -- rendering -------------------------------------------------------------------------------
    def when(self, day: float, personal: bool) -> float:
        """A plausible moment on that day: evenings and weekends for friends, office hours for work."""
        d = datetime.fromtimestamp(START.timestamp() + day * DAY, ZONE)
        if personal and self.rng.random() < 0.85:
            hour = self.rng.choice([7, 19, 20, 21, 22]) if d.weekday() < 5 else self.rng.randint(9, 21)
        else:
            while d.weekday() >= 5:  # back to Friday: never past the day planned
                d -= timedelta(days=1)
            hour = self.rng.randint(9, 17)
        return d.replace(hour=hour, minute=self.rng.randrange(60), second=0).timestamp()

    def mail(self, folder: str, ts: float, sender: tuple[str, str], to: list[tuple[str, str]], subject: str,
             reply_to: str | None = None, cc: list[tuple[str, str]] = (), extra: dict[str, str] | None = None) -> str:
        self.n += 1
        mid = f"<life{self.life.seed}.{self.n}@eval.example>"

        def fmt(p: tuple[str, str]) -> str:
            name, addr = p
            if not name:
                return addr
            if any(ord(c) > 127 for c in name):
                return f"{Header(name, 'utf-8').encode()} <{addr}>"
            return f'"{name}" <{addr}>' if "," in name else f"{name} <{addr}>"

        lines = [f"Received: from mx.example.net by mail.example.net; {format_datetime(datetime.fromtimestamp(ts, ZONE))}",
                 f"From: {fmt(sender)}", f"To: {', '.join(fmt(t) for t in to) if to else 'undisclosed-recipients:;'}"]
        if cc:
            lines.append(f"Cc: {', '.join(fmt(c) for c in cc)}")
        lines += [f"Subject: {subject}", f"Date: {format_datetime(datetime.fromtimestamp(ts, ZONE))}", f"Message-ID: {mid}"]
        if reply_to:
            lines += [f"In-Reply-To: {reply_to}", f"References: {reply_to}"]
        lines += [f"{k}: {v}" for k, v in (extra or {}).items()]
        lines += ["", "body", ""]
        self.life.messages.append((folder, ts, "\r\n".join(lines).encode()))
        return mid

    def conversation(self, p: Person, m: Moment, address: str, display: str) -> None:
        # a friend writes to the work address, or the reverse; networking goes through both often
        crossover = self.rng.random() < (0.4 if p.archetype in NETWORKING else 0.12)
        mine = ("", ME_PERSONAL if self.life.one_account or (p.relationship == "personal") != crossover else ME_WORK)
        theirs = (display, address)
        subject = self.rng.choice(["Hi", "Plans", "Question", "Re: that thing", "Update", "Quick one"])
        first_from, first_to = (mine, theirs) if m.initiator == "me" else (theirs, mine)
        mid = self.mail("Sent" if m.initiator == "me" else "INBOX", m.ts, first_from, [first_to], subject)
        if m.answered:  # people reply within their own hours: the same daily pattern, 0-2 days later
            day = (m.ts - START.timestamp()) / DAY + self.rng.choice([0, 1, 1, 2])
            reply = self.when(day, (p.relationship == "personal") != (self.rng.random() < 0.15))
            reply = reply if reply > m.ts else m.ts + self.rng.uniform(1, 6) * 3600
            self.mail("INBOX" if m.initiator == "me" else "Sent", reply, first_to, [first_from], f"Re: {subject}", mid)

    def meeting(self, p: Person, m: Moment, address: str, summary: str, calendar: str) -> None:
        self.n += 1
        start = datetime.fromtimestamp(m.ts, timezone.utc)
        me = ME_PERSONAL if calendar == "personal" or self.life.one_account else ME_WORK
        organizer = me if m.initiator == "me" else address
        self.life.events[calendar].append("\r\n".join([
            "BEGIN:VEVENT", f"UID:ev{self.n}@eval.example", f"DTSTAMP:{start:%Y%m%dT%H%M%SZ}",
            f"DTSTART:{start:%Y%m%dT%H%M%SZ}", f"DTEND:{start + timedelta(hours=1):%Y%m%dT%H%M%SZ}",
            f"SUMMARY:{summary}", f"ORGANIZER:mailto:{organizer}",
            f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{me}", f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{address}", "END:VEVENT"]))


    def series(self, p: Person, address: str) -> None:
        """A weekly 1:1 as one VEVENT with an RRULE (and UNTIL when the 1:1 ended)."""
        self.n += 1
        start_ts, every, until = p.series
        start = datetime.fromtimestamp(start_ts, timezone.utc)
        rule = f"RRULE:FREQ=WEEKLY;INTERVAL={every}"
        if until is not None:
            rule += f";UNTIL={datetime.fromtimestamp(until, timezone.utc):%Y%m%dT%H%M%SZ}"
        me = ME_PERSONAL if self.life.one_account else ME_WORK
        self.life.events["work"].append("\r\n".join([
            "BEGIN:VEVENT", f"UID:series{self.n}@eval.example", f"DTSTAMP:{start:%Y%m%dT%H%M%SZ}",
            f"DTSTART:{start:%Y%m%dT%H%M%SZ}", f"DTEND:{start + timedelta(minutes=30):%Y%m%dT%H%M%SZ}", rule,
            "SUMMARY:1:1", f"ORGANIZER:mailto:{me}",
            f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{me}", f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{address}", "END:VEVENT"]))


# ------------------------------------------------------------------------------------ archetypes
#   name: (relationship, labels, rhythm range in days)
ARCHETYPES = {
    "friend_steady": ("personal", set(), (7, 30)),
    "friend_lapsed": ("personal", {"lapsed"}, (7, 30)),
    "friend_you_initiate": ("personal", {"you_initiate"}, (10, 25)),
    "friend_they_initiate": ("personal", {"they_initiate"}, (10, 25)),
    "friend_unanswered_by_them": ("personal", {"unanswered_by_them"}, (14, 30)),
    "friend_bursty": ("personal", set(), (45, 70)),
    "friend_young": ("personal", set(), (5, 10)),
    "colleague_steady": ("professional", set(), (7, 21)),
    "colleague_met_last": ("professional", set(), (14, 30)),
    "colleague_ended": ("professional", {"lapsed"}, (7, 14)),
    "contact_unanswered_by_you": ("professional", {"unanswered_by_you"}, (20, 40)),
    "networker_intermittent": ("professional", set(), (110, 170)),
    "networker_lapsed": ("professional", {"lapsed"}, (60, 80)),
    "thin_history": ("personal", set(), (30, 60)),
    # the failure classes of issue 16: networking ties met over coffee chats, intro calls and
    # catch-ups (partly through the personal account and calendar, from free-mail or their own
    # company), names in CJK scripts, and a second address with no display name
    "mentor_coffee": ("professional", set(), (60, 110)),
    "conference_contact": ("professional", set(), (90, 150)),
    "mentor_lapsed": ("professional", {"lapsed"}, (45, 70)),
    "friend_cjk": ("personal", set(), (10, 30)),
    "friend_unnamed_address": ("personal", set(), (10, 30)),
}
NETWORKING = ("mentor_coffee", "conference_contact", "mentor_lapsed")
NETWORKING_MEETINGS = ("Coffee chat", "Catch-up", "Intro call", "Mentoring", "Lunch", "Coffee")
CJK_NAMES = (("佐藤", "花子", "hanako.sato"), ("김", "민준", "minjun.kim"), ("王", "秀英", "xiuying.wang"),
             ("高橋", "健太", "kenta.takahashi"), ("李", "娜", "na.li"), ("박", "서연", "seoyeon.park"))


def _schedule(mk: _Maker, p: Person, start_day: float, end_day: float) -> list[float]:
    """Contact days from start to end (both included) with log-normal gaps around the person's
    rhythm (real gaps are skewed), laid out backwards so the last contact is exactly at ``end_day``."""
    days, d = [], end_day
    while d >= start_day:
        days.append(d)
        d -= max(1.5, p.rhythm_days * mk.rng.lognormvariate(0, 0.35))
    return days[::-1]


def _plant(mk: _Maker, p: Person) -> None:
    """Fill ``p.moments`` according to its archetype (days count from START; NOW is day 730)."""
    rng, a, r = mk.rng, p.archetype, p.rhythm_days
    personal = p.relationship == "personal"
    my_share = rng.uniform(0.35, 0.65)  # balanced ties are balanced in their own way
    balanced = lambda: "me" if rng.random() < my_share else "them"  # noqa: E731
    one_sided_share = rng.uniform(0.85, 0.97)
    reply_rate = rng.uniform(0.88, 0.98)  # ordinary life: now and then a mail goes unanswered
    last = 730 - rng.uniform(0.2, 0.8) * r  # an active tie: last contact within its rhythm
    if a in ("friend_lapsed", "colleague_ended", "mentor_lapsed"):
        last = 730 - max(4.5 * r, 70)
    if a == "networker_lapsed":
        last = 730 - max(4 * r, 280)
    first = min(rng.uniform(0, 200), last - 5 * r)  # at least ~5 contacts before the tie goes quiet
    first = max(first, 0)
    if a == "friend_young":
        first, last = 730 - 45, 730 - 20
    if a == "thin_history":
        first, last = 300, 300 + r
    if a in ("friend_unanswered_by_them", "contact_unanswered_by_you"):
        last = 730 - max(rng.uniform(110, 160), 3.5 * r)  # clearly lapsed, whatever the rhythm
    if a == "friend_bursty":
        for b in _schedule(mk, p, first, last):
            for k in range(rng.randint(2, 4)):
                p.moments.append(Moment(mk.when(b + k * rng.uniform(0.5, 1.5), personal), "mail", balanced(), True))
        p.moments.sort(key=lambda m: m.ts)
        _enforce_share(rng, p)
        return
    days = _schedule(mk, p, first, last)
    for n, d in enumerate(days):
        init = {"friend_you_initiate": "me", "friend_they_initiate": "them"}.get(a) or balanced()
        if a in ("friend_you_initiate", "friend_they_initiate") and rng.random() > one_sided_share:
            init = "them" if init == "me" else "me"
        channel = "meeting" if (a == "colleague_met_last" or a in NETWORKING) and rng.random() < 0.5 else "mail"
        # the last three contacts before a tie goes quiet are two-way: they define when it went quiet,
        # and make its history judgeable (tiekeeper needs three two-way conversations)
        answered = channel == "meeting" or n >= len(days) - 3 or rng.random() < reply_rate
        off_pattern = rng.random() < 0.15  # friends on a work day, colleagues on an evening
        p.moments.append(Moment(mk.when(d, personal != off_pattern), channel, init, answered))
    if a in ("colleague_steady", "colleague_ended"):
        # a recurring 1:1 (RRULE), weekly or fortnightly; the ended tie's series stops with it
        every = 1 if r < 11 else 2
        start = mk.when(first, False)
        until = mk.when(last, False) if a == "colleague_ended" else None
        p.series = (start, every, until)
        t = start
        while t <= min(until or NOW.timestamp(), NOW.timestamp()):
            p.moments.append(Moment(t, "series", "other", True))  # an instance: started by nobody
            t += every * 7 * DAY
    if a == "colleague_met_last":
        p.moments.append(Moment(mk.when(730 - rng.uniform(1, 5), False), "meeting", "them", True))
    if a == "friend_unanswered_by_them":
        for k in range(rng.randint(3, 5)):
            p.moments.append(Moment(mk.when(last + 20 + k * 25, True), "mail", "me", False))
    if a == "contact_unanswered_by_you":
        for k in range(rng.randint(3, 5)):
            p.moments.append(Moment(mk.when(last + 15 + k * 22, False), "mail", "them", False))
    p.moments.sort(key=lambda m: m.ts)
    _enforce_share(rng, p)


def conversation_starts(p: Person, days: float = 365) -> list[Moment]:
    """The first moment of each two-way conversation in the last ``days``; as in the design notes,
    a new conversation begins after 72 hours of quiet."""
    recent = [m for m in p.moments if m.answered and NOW.timestamp() - m.ts <= days * DAY]
    starts, last = [], None
    for m in recent:
        if last is None or m.ts - last > 3 * DAY:
            starts.append(m)
        last = m.ts
    return starts


def observed_share(p: Person, days: float = 365) -> tuple[int, int]:
    """(started by me, started by them) among two-way conversations in the last ``days``."""
    starts = conversation_starts(p, days)
    return sum(m.initiator == "me" for m in starts), sum(m.initiator == "them" for m in starts)


def _enforce_share(rng: random.Random, p: Person) -> None:
    """Make the labels true of the data: balanced ties really are 30-70 % in the window, one-sided
    ones really are 85 %+, by flipping who started a conversation (never when it happened)."""
    want = "me" if "you_initiate" in p.labels else "them" if "they_initiate" in p.labels else None
    for _ in range(200):
        mine, theirs = observed_share(p)
        total = mine + theirs
        if total == 0:
            return
        share = mine / total
        recent = conversation_starts(p)
        if want is None and 0.3 <= share <= 0.7:
            return
        if want == "me" and share >= 0.85 or want == "them" and share <= 0.15:
            return
        if want is None:
            flip_from = "me" if share > 0.7 else "them"
        else:
            flip_from = "them" if want == "me" else "me"
        m = rng.choice([m for m in recent if m.initiator == flip_from])
        m.initiator = "them" if flip_from == "me" else "me"


def _addresses(mk: _Maker, archetype: str, relationship: str, multi: bool) -> tuple[str, list[str], str]:
    if archetype == "friend_cjk":  # written family name first; one address shows it with a space, one without
        family, given, local = mk.rng.choice([n for n in CJK_NAMES if f"{n[0]} {n[1]}" not in mk.names])
        mk.names.add(f"{family} {given}")
        addrs = [f"{local}{mk.rng.randint(1, 99)}@{mk.rng.choice(FREEMAIL)}", f"{local.split('.')[0]}@{local.split('.')[1]}-home.example"]
        return f"{family} {given}", addrs, f"{family}{given}"
    first, last = mk.name()
    name = f"{first} {last}"
    if archetype == "friend_unnamed_address":  # a named family address and an unnamed free-mail one
        ascii_ = lambda t: unicodedata.normalize("NFKD", t.lower()).encode("ascii", "ignore").decode()  # noqa: E731
        return name, [f"{ascii_(first)}@{ascii_(last)}-family.example",
                      f"{ascii_(first)}.{ascii_(last)}{mk.rng.randint(1, 99)}@{mk.rng.choice(FREEMAIL)}"], name
    if archetype in NETWORKING:  # their own company, or free-mail
        domain = f"{last.lower()}-consulting.example" if mk.rng.random() < 0.5 else mk.rng.choice(FREEMAIL)
        return name, [mk.address(first, last, domain)], name
    if relationship == "professional":
        domain = "mycorp.example" if archetype.startswith("colleague") else f"{last.lower()}-co.example"
    else:
        domain = mk.rng.choice(FREEMAIL) if mk.rng.random() < 0.7 else f"{last.lower()}-family.example"
    addrs = [mk.address(first, last, domain)]
    if multi:
        kind = mk.rng.choice(["second", "gmail_dots", "plus"])
        if kind == "second":
            other = f"{last.lower()}-co.example" if relationship == "personal" else mk.rng.choice(FREEMAIL)
            addrs.append(mk.address(first, last, other))
        elif kind == "gmail_dots":
            local = f"{first}.{last}".lower().encode("ascii", "ignore").decode()
            addrs = [f"{local}@gmail.com", f"{local.replace('.', '')}@gmail.com"]
        else:
            local, _, dom = addrs[0].partition("@")
            addrs.append(f"{local}+{mk.rng.choice(['news', 'work', 'x'])}@{dom}")
    return name, addrs, f"{last}, {first}" if mk.rng.random() < 0.3 else name


def make_life(seed: int, people_per_archetype: int = 2, multi_share: float = 0.3, one_account: bool = False) -> Life:
    mk = _Maker(seed, one_account)
    for archetype, (rel, labels, (lo, hi)) in ARCHETYPES.items():
        for k in range(people_per_archetype):
            multi = mk.rng.random() < multi_share
            name, addrs, display = _addresses(mk, archetype, rel, multi)
            p = Person(f"{archetype}-{k}", archetype, name, addrs, rel, set(labels), mk.rng.uniform(lo, hi))
            _plant(mk, p)
            for i, m in enumerate(p.moments):
                addr = addrs[i * len(addrs) // max(len(p.moments), 1)]  # a person moves from one address to the next
                shown = display if mk.rng.random() < 0.5 else name
                if m.channel == "series":
                    continue  # rendered once below, as one recurring event
                if archetype == "friend_unnamed_address" and addr == addrs[-1]:
                    shown = ""  # this address never comes with a name
                if m.channel == "meeting" and archetype in NETWORKING:
                    calendar = "personal" if mk.rng.random() < 0.5 else "work"
                    mk.meeting(p, m, addr, mk.rng.choice(NETWORKING_MEETINGS), calendar)
                elif m.channel == "meeting":
                    summary = mk.rng.choice(["1:1", "Sync", "Review", "Planning"])
                    mk.meeting(p, m, addr, summary, "work")
                else:
                    mk.conversation(p, m, addr, shown)
            if p.series:
                mk.series(p, addrs[-1])
            mk.life.people.append(p)
    _noise(mk)
    return mk.life


def _noise(mk: _Maker) -> None:
    life = mk.life
    me_p, me_w = ("", ME_PERSONAL), ("", ME_PERSONAL if life.one_account else ME_WORK)

    def add(key: str, address: str, kind: str) -> None:
        life.noise.append(Noise(key, address, kind))

    for n in range(3):
        sender = (f"News {n}", f"newsletter@news{n}.example")
        add(f"newsletter-{n}", sender[1], "newsletter")
        for d in range(0, 730, 7):
            mk.mail("INBOX", mk.when(d, True), sender, [me_p], "This week",
                    extra={"List-Id": f"<weekly.news{n}.example>", "List-Unsubscribe": "<mailto:u@x.example>"})
    for n, local in enumerate(["no-reply", "notifications", "receipts"]):
        sender = ("Shop", f"{local}@shop{n}.example")
        add(f"auto-{n}", sender[1], "automated")
        for d in range(5, 730, 30):
            mk.mail("INBOX", mk.when(d, False), sender, [me_p], "Your order")
    for n in range(4):  # cold pitches: a real-looking person writes three times, nobody answers
        first, last = mk.name()
        sender = (f"{first} {last}", mk.address(first, last, f"growth{n}.example"))
        add(f"pitch-{n}", sender[1], "cold pitch")
        for k in range(3):
            mk.mail("INBOX", mk.when(600 + 25 * k + n, False), sender, [me_w], "Quick question")
    for n in range(2):  # recruiter blasts in Bcc
        sender = (f"Recruiter {n}", f"jobs.r{n}@staffing.example")
        add(f"recruiter-{n}", sender[1], "recruiter")
        for k in range(4):
            mk.mail("INBOX", mk.when(100 + 90 * k, False), sender, [], "Opportunity")
    crowd = [(f"Crowd {i}", f"crowd{i}@bigcorp.example") for i in range(14)]
    for c in crowd[1:]:
        add(f"cc-{c[1]}", c[1], "only Cc'd on a big thread")
    add("cc-sender", crowd[0][1], "big thread sender")
    mk.mail("INBOX", mk.when(650, False), crowd[0], [me_w] + crowd[1:5], "All hands notes", cc=crowd[5:])
    mk.mail("Sent", mk.when(651, False), me_w, [crowd[0]] + crowd[1:5], "Re: All hands notes", cc=crowd[5:])
    for n in range(3):
        sender = (f"Bulk {n}", f"team{n}@saas{n}.example")
        add(f"bulk-{n}", sender[1], "bulk mailer")
        for d in range(10, 730, 45):
            mk.mail("INBOX", mk.when(d, False), sender, [me_w], "Tips", extra={"Feedback-ID": f"{n}:campaign"})
    for d in range(0, 730, 2):  # a mailing list folder: people, but on a list
        poster = (f"Poster {d % 7}", f"poster{d % 7}@lists-people.example")
        mk.mail("Lists", mk.when(d, False), poster, [("", "dev@lists.example")], "[dev] thread",
                extra={"List-Id": "<dev.lists.example>", "List-Post": "<mailto:dev@lists.example>"})
    for d in range(7):
        add(f"list-{d}", f"poster{d}@lists-people.example", "mailing list poster")
    for n in range(2):  # a vendor webinar: an invitation from a stranger, accepted, nobody else visible
        start = datetime.fromtimestamp(mk.when(300 + 100 * n, False), timezone.utc)
        host = f"host{n}@webinar{n}.example"
        life.events["work"].append("\r\n".join([
            "BEGIN:VEVENT", f"UID:webinar{n}@eval.example", "DTSTAMP:20260101T000000Z",
            f"DTSTART:{start:%Y%m%dT%H%M%SZ}", f"DTEND:{start + timedelta(hours=1):%Y%m%dT%H%M%SZ}",
            "SUMMARY:Live demo: scale your pipeline", f"ORGANIZER:mailto:{host}",
            f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{me_w[1]}", "END:VEVENT"]))
        add(f"webinar-{n}", host, "webinar organizer")
    # a 300-person conference and a declined and a cancelled meeting
    conf = [f"ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:att{i}@conf.example" for i in range(300)]
    life.events["work"].append("\r\n".join(["BEGIN:VEVENT", "UID:conf@eval.example", "DTSTAMP:20260101T000000Z",
                                            "DTSTART;VALUE=DATE:20251010", "DTEND;VALUE=DATE:20251012", "SUMMARY:Conference",
                                            "ORGANIZER:mailto:events@conf.example", f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{me_w[1]}"]
                                           + conf + ["END:VEVENT"]))
    for i in range(3):
        add(f"conf-{i}", f"att{i}@conf.example", "conference attendee")
    for uid, extra, who in (("declined", f"ATTENDEE;PARTSTAT=DECLINED:mailto:{me_w[1]}", "vendor@pitchy.example"),
                            ("cancelled", "STATUS:CANCELLED", "lunch@cancelled.example")):
        for k in range(4):
            start = datetime.fromtimestamp(mk.when(400 + 30 * k, False), timezone.utc)
            life.events["work"].append("\r\n".join([
                "BEGIN:VEVENT", f"UID:{uid}{k}@eval.example", "DTSTAMP:20260101T000000Z",
                f"DTSTART:{start:%Y%m%dT%H%M%SZ}", f"DTEND:{start + timedelta(hours=1):%Y%m%dT%H%M%SZ}",
                "SUMMARY:Meeting", f"ORGANIZER:mailto:{who}", f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{who}", extra,
                "END:VEVENT"]))
        add(uid, who, f"{uid} meeting")


def render(life: Life, root: Path) -> dict[str, Path]:
    """Write the life as a Maildir and two ICS files; returns the paths."""
    mail = root / "mail"
    folders = {"INBOX": mail, "Sent": mail / ".Sent", "Lists": mail / ".Lists"}
    for f in folders.values():
        for sub in ("cur", "new", "tmp"):
            (f / sub).mkdir(parents=True, exist_ok=True)
    for n, (folder, ts, raw) in enumerate(life.messages):
        (folders[folder] / "cur" / f"{int(ts)}.L{n}.eval:2,S").write_bytes(raw)
    paths = {"mail": mail}
    for cal, events in life.events.items():
        p = root / f"{cal}.ics"
        p.write_bytes(("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//eval//EN\r\n" + "\r\n".join(events)
                       + "\r\nEND:VCALENDAR\r\n").encode())
        paths[cal] = p
    return paths
