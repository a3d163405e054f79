"""One person under any spelling of their name merges; two people who share a name stay apart.
A property test in both directions, on the whole analysis."""

from __future__ import annotations

import unicodedata
from datetime import datetime, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from daemon.analysis.report import analyse
from daemon.identity import Me
from daemon.models import Interaction

NOW = datetime(2026, 6, 1, 9, tzinfo=timezone.utc)
DAY = 86400.0
me = Me(["me@home.example"])
LATIN = [("Jürgen", "Müller"), ("Zoë", "Weber"), ("Chloé", "Dahl"), ("Ana", "Costa"), ("Søren", "Ito")]
CJK = [("佐藤", "花子"), ("김", "민준"), ("王", "秀英"), ("高橋", "健太")]


def _variants(first: str, last: str) -> st.SearchStrategy[str]:
    cjk = ord(first[0]) > 0x2E80
    forms = [f"{first} {last}", f"{last} {first}", f"{last}, {first}"]
    if cjk:
        forms += [f"{first}{last}", f"{last}{first}"]
    else:
        plain = lambda s: "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c))  # noqa: E731
        forms += [f"{plain(first)} {plain(last)}", f"{first.upper()} {last.lower()}",
                  unicodedata.normalize("NFKC", f"{first} {last}").translate({ord(" "): "\u3000"})]
    return st.sampled_from(forms)


def _exchanges(address: str, name: str, start_day: float, thread: str) -> list[Interaction]:
    out = []
    for k in range(4):
        t = NOW.timestamp() - (start_day - 20 * k) * DAY
        for direction, dt in (("out", 0), ("in", 3600)):
            out.append(Interaction(ts=t + dt, channel="email", address=address, name=name, direction=direction,
                                   weight=1.0, initiator="me" if direction == "out" else "them",
                                   thread=f"{thread}{k}", account="me@home.example"))
    return out


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(LATIN + CJK).flatmap(lambda n: st.tuples(_variants(*n), _variants(*n))))
def test_one_person_under_any_spelling_of_the_name_is_one_contact(spellings):
    a, b = spellings
    items = _exchanges("first@mail-one.example", a, 300, "a") + _exchanges("second@mail-two.example", b, 200, "b")
    rep = analyse(items, me, timezone.utc, NOW)
    assert len(rep.contacts) == 1, [(c.name, c.emails) for c in rep.contacts]


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(LATIN + CJK).flatmap(lambda n: _variants(*n)))
def test_two_people_with_one_name_who_met_with_me_together_stay_apart(name):
    items = _exchanges("one@corp-a.example", name, 300, "a") + _exchanges("two@corp-b.example", name, 200, "b")
    t = NOW.timestamp() - 100 * DAY  # both at one meeting: two people, not one with two addresses
    both = [Interaction(ts=t, channel="meeting", address=addr, name=name, direction="both", weight=1.8,
                        initiator="me", thread="meet", account="me@home.example", fanout=2)
            for addr in ("one@corp-a.example", "two@corp-b.example")]
    assert len(analyse(items + both, me, timezone.utc, NOW).contacts) == 2
    # a mail to both at once proves nothing: people are often mailed at both their addresses
    mail = [Interaction(ts=t, channel="email", address=addr, name=name, direction="out", weight=0.6,
                        initiator="me", thread="both", account="me@home.example")
            for addr in ("one@corp-a.example", "two@corp-b.example")]
    assert len(analyse(items + mail, me, timezone.utc, NOW).contacts) == 1


def test_an_unnamed_address_joins_the_name_its_local_part_spells():
    items = _exchanges("ana@costa-family.example", "Ana Costa", 300, "a") + _exchanges("ana.costa7@gmail.example", "", 200, "b")
    assert len(analyse(items, me, timezone.utc, NOW).contacts) == 1
    # ... but not when two people could be meant
    items += _exchanges("ana@costa-work.example", "Costa Ana", 250, "c")
    items += [Interaction(ts=NOW.timestamp() - 90 * DAY, channel="meeting", address=a, name="Ana Costa", direction="both",
                          weight=1.8, initiator="me", thread="z", account="me@home.example", fanout=2)
              for a in ("ana@costa-family.example", "ana@costa-work.example")]
    rep = analyse(items, me, timezone.utc, NOW)
    assert sorted(c.emails for c in rep.contacts) == [("ana.costa7@gmail.example",), ("ana@costa-family.example",),
                                                      ("ana@costa-work.example",)]


def test_a_plus_tag_never_joins_two_differently_named_people():
    items = _exchanges("team+alice@shared.example", "Alice Archer", 300, "a") + _exchanges("team@shared.example", "Bob Baker", 200, "b")
    assert len(analyse(items, me, timezone.utc, NOW).contacts) == 2
    items = _exchanges("wsa+renesas@sang.example", "Wolfram Sang", 300, "a") + _exchanges("wsa@sang.example", "Wolfram Sang", 200, "b")
    assert len(analyse(items, me, timezone.utc, NOW).contacts) == 1
