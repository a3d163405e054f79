"""The judgement: contacts, conversations, rhythm, lapse, one-sidedness, kind — and its properties."""

import random
import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from daemon.analysis.conversations import conversations
from daemon.analysis.reciprocity import beta_tail
from daemon.analysis.report import analyse
from daemon.analysis.rhythm import fit, human_days
from daemon.config import Person
from daemon.identity import Me
from daemon.models import Interaction
from tests.helpers import ME, ME_WORK

me = Me([ME, ME_WORK])
ZONE = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 6, 1, 9, tzinfo=timezone.utc)
DAY = 86400.0


def mail(ts: float, who: str, direction: str, name: str = "", weight: float = 1.0, thread: str = "") -> Interaction:
    return Interaction(ts=ts, channel="email", address=who, name=name, direction=direction, weight=weight,
                       initiator="me" if direction == "out" else "them", thread=thread or f"t{ts}",
                       account=ME, source="s", ident=f"{who}{ts}{direction}")


def exchange(days_ago: float, who: str, first: str = "out", name: str = "", reply_after_h: float = 5) -> list[Interaction]:
    t = NOW.timestamp() - days_ago * DAY + 19 * 3600 % DAY
    second = "in" if first == "out" else "out"
    th = f"{who}-{days_ago}"
    return [mail(t, who, first, name, thread=th), mail(t + reply_after_h * 3600, who, second, name, thread=th)]


def steady(who: str, every_days: float, until_days_ago: float, since_days_ago: float = 700, first=lambda n: "out" if n % 2 else "in", name: str = ""):
    out, n, d = [], 0, since_days_ago
    while d > until_days_ago:
        out += exchange(d, who, first(n), name)
        d -= every_days
        n += 1
    return out


def report(items, people=()):
    return analyse(items, me, ZONE, NOW, people)


def _flags(rep, address):
    for c in rep.contacts:
        if address in c.emails:
            return {f.pattern or f.check for f in c.flags}
    return None


def test_a_weekly_friend_silent_for_ten_weeks_is_lapsed_with_a_why():
    rep = report(steady("jane@example.org", 7, 70, 400))
    (c,) = rep.contacts
    assert _flags(rep, "jane@example.org") == {"lapsed"}
    why = c.flags[0].why
    assert why.startswith("Quiet on both sides for 2 months") and "usually talk every a week" not in why
    assert "you usually talk every 7 days" in why


def test_the_same_friend_in_touch_last_week_is_not_lapsed():
    assert _flags(report(steady("jane@example.org", 7, 5, 400)), "jane@example.org") == set()


def test_an_intermittent_networker_on_a_five_month_rhythm_is_not_lapsed():
    items = [i for d in (700, 550, 400, 250, 100) for i in exchange(d, "luca@consult.example")]
    assert _flags(report(items), "luca@consult.example") == set()


def test_thin_histories_and_young_ties_are_never_flagged():
    assert _flags(report(steady("new@x.example", 7, 40, 55)), "new@x.example") == set()
    assert _flags(report(exchange(300, "a@x.example") + exchange(290, "a@x.example")), "a@x.example") == set()


def test_an_unanswered_run_that_reaches_the_present_is_that_pattern_not_a_lapse():
    items = steady("tom@x.example", 14, 150, 500)
    items += [mail(NOW.timestamp() - d * DAY, "tom@x.example", "out") for d in (140, 120, 100)]
    rep = report(items)
    assert _flags(rep, "tom@x.example") == {"unanswered_by_them"}  # 100 days of silence, yet no lapse
    (c,) = rep.contacts
    assert c.lapse_reason.startswith("not a lapse: the silence is an unanswered run")
    items = steady("mia@x.example", 14, 150, 500)
    items += [mail(NOW.timestamp() - d * DAY, "mia@x.example", "in") for d in (140, 120, 100)]
    assert _flags(report(items), "mia@x.example") == {"unanswered_by_you"}


def test_silence_counts_from_the_last_message_in_either_direction():
    """Two unanswered mails (no pattern yet) still break the silence: the last one was a week ago."""
    items = steady("tom@x.example", 14, 150, 500)
    items += [mail(NOW.timestamp() - d * DAY, "tom@x.example", "out") for d in (40, 7)]
    assert _flags(report(items), "tom@x.example") == set()
    # with the same history and nothing since, it has lapsed
    assert _flags(report(steady("tom@x.example", 14, 150, 500)), "tom@x.example") == {"lapsed"}


def test_the_initiation_share_counts_conversations_nobody_answered():
    """Six mails of theirs that I never answered, and six answered ones they also started: they
    started all twelve, so the one pattern is the unanswered run (it wins over who starts)."""
    items = steady("fan@x.example", 30, 200, 370, first=lambda n: "in")
    items += [mail(NOW.timestamp() - d * DAY, "fan@x.example", "in") for d in (180, 150, 120, 90, 60, 30)]
    rep = report(items)
    assert _flags(rep, "fan@x.example") == {"unanswered_by_you"}
    (c,) = rep.contacts
    started = re.search(r"you started 0 of (\d+) conversations", c.reciprocity_reason)
    assert started and int(started[1]) >= 11  # the five or six answered ones alone would not reach 11


def test_a_lapse_beside_who_always_started_says_both_in_one_sentence():
    rep = report(steady("sam@x.example", 10, 120, 400, first=lambda n: "out"))
    assert _flags(rep, "sam@x.example") == {"lapsed", "you_initiate"}
    (c,) = rep.contacts
    (lapsed,) = [f for f in c.flags if f.check == "lapsed"]
    assert lapsed.why.startswith("You started") and "and now it has gone quiet" in lapsed.why
    assert lapsed.why.count(".") == 1  # one sentence


def test_at_most_one_one_sided_pattern_per_person():
    """They always start and my last messages went unanswered: one pattern, the unanswered one."""
    items = steady("kim@x.example", 14, 40, 360, first=lambda n: "in")
    items += [mail(NOW.timestamp() - d * DAY, "kim@x.example", "out") for d in (30, 20, 10)]
    assert _flags(report(items), "kim@x.example") == {"unanswered_by_them"}


def test_you_always_initiate_is_flagged_and_balanced_is_not():
    rep = report(steady("sam@x.example", 14, 3, 360, first=lambda n: "out") + steady("ben@x.example", 14, 3, 360))
    assert _flags(rep, "sam@x.example") == {"you_initiate"}
    assert _flags(rep, "ben@x.example") == set()


def test_they_initiate_and_unanswered_by_you():
    rep = report(steady("fan@x.example", 14, 3, 360, first=lambda n: "in"))
    assert _flags(rep, "fan@x.example") == {"they_initiate"}
    items = steady("mia@x.example", 20, 120, 500) + [mail(NOW.timestamp() - d * DAY, "mia@x.example", "in") for d in (90, 60, 30)]
    assert "unanswered_by_you" in _flags(report(items), "mia@x.example")


def test_cold_senders_and_crowds_are_not_contacts():
    cold = [mail(NOW.timestamp() - d * DAY, "pitch@sales.example", "in") for d in (90, 60, 30)]
    crowd = [mail(NOW.timestamp() - d * DAY, "cc@big.example", "in", weight=0.075) for d in (50, 20)]
    crowd += [mail(NOW.timestamp() - 19 * DAY, "cc@big.example", "out", weight=0.075)]
    rep = report(cold + crowd)
    assert rep.contacts == ()
    reasons = {n.emails[0]: n.reason for n in rep.not_contacts}
    assert reasons["pitch@sales.example"].startswith("they wrote, you never answered")


def test_addresses_of_one_person_merge_by_name_and_by_override():
    items = exchange(100, "jane.doe@acme.example", name="Doe, Jane") + exchange(50, "jane@home.example.com", name="Jane Doe")
    items += exchange(40, "j.smith@gmail.com") + exchange(30, "jsmith+work@gmail.com")
    items += exchange(20, "bob@old.example") + exchange(10, "robert@new.example")
    rep = report(items, (Person("Bob", ("bob@old.example", "robert@new.example")),))
    emails = sorted(tuple(sorted(c.emails)) for c in rep.contacts)
    assert emails == [("bob@old.example", "robert@new.example"), ("j.smith@gmail.com", "jsmith+work@gmail.com"),
                      ("jane.doe@acme.example", "jane@home.example.com")]


def test_an_ignored_person_never_appears():
    rep = report(steady("x@y.example", 7, 3, 300), (Person(None, ("x@y.example",), ignore=True),))
    assert rep.contacts == () and rep.not_contacts == ()


def test_my_own_addresses_are_never_contacts():
    assert report(steady(ME_WORK, 7, 3, 300)).contacts == ()


def test_a_reply_in_the_same_thread_days_later_joins_the_conversation():
    t = NOW.timestamp() - 30 * DAY
    convs = conversations([mail(t, "a@x", "out", thread="T"), mail(t + 5 * DAY, "a@x", "in", thread="T")])
    assert len(convs) == 1 and convs[0].two_way and convs[0].initiator == "me"
    convs = conversations([mail(t, "a@x", "out", thread="T"), mail(t + 5 * DAY, "a@x", "in", thread="U")])
    assert len(convs) == 2


def test_rhythm_shrinks_toward_the_prior_while_history_is_short():
    short = fit([0, 3 * DAY], "personal")
    long = fit([n * 3 * DAY for n in range(30)], "personal")
    assert short.median_days > 8 and 2.5 < long.median_days < 4


def test_beta_tail_matches_known_values():
    assert abs(beta_tail(1, 1, 0.25) - 0.75) < 1e-12  # uniform
    assert abs(beta_tail(2, 2, 0.5) - 0.5) < 1e-12


def test_human_days():
    assert (human_days(1), human_days(14), human_days(70), human_days(365)) == ("a day", "2 weeks", "2 months", "a year")


def test_a_same_company_colleague_met_weekly_is_professional():
    items = []
    for d in range(5, 300, 7):
        t = NOW.timestamp() - d * DAY
        t -= t % DAY - 9 * 3600  # 09:00 UTC on a weekday-ish spread
        items.append(Interaction(ts=t, channel="meeting", address="nora@work.example", name="Nora", direction="both",
                                 weight=1.5, initiator="me", thread="1on1", recurring=True, hint="work", source="cal"))
    items += exchange(3, "friend@other.example") + exchange(5, "nora@work.example")
    c = next(c for c in report(items).contacts if "nora@work.example" in c.emails)
    assert c.relationship == "professional" and c.confidence > 0.8


# ------------------------------------------------------------------------------ properties

def _life(seed: int) -> list[Interaction]:
    rng = random.Random(seed)
    items = []
    for p in range(rng.randint(1, 6)):
        who = f"p{p}@x{p % 3}.example"
        every, last = rng.choice([7, 14, 30, 90]), rng.choice([2, 20, 60, 200])
        r = rng.random()
        items += steady(who, every, last, rng.choice([200, 400, 700]), first=lambda n, r=r: "out" if (n * r) % 1 < 0.5 else "in")
        items += [mail(NOW.timestamp() - rng.uniform(1, 600) * DAY, who, rng.choice(["in", "out"])) for _ in range(rng.randint(0, 5))]
    return items


def _summary(rep):
    return sorted((c.id, c.relationship, c.expected_gap_days, tuple(sorted(f.pattern or f.check for f in c.flags))) for c in rep.contacts)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000))
def test_rerunning_changes_nothing_and_input_order_does_not_matter(seed):
    items = _life(seed)
    first = _summary(report(items))
    assert _summary(report(items)) == first
    shuffled = items[:]
    random.Random(seed).shuffle(shuffled)
    assert _summary(report(shuffled)) == first


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000))
def test_an_extra_two_way_exchange_never_makes_a_contact_more_lapsed(seed):
    items = _life(seed)
    before = report(items)
    for c in before.contacts:
        extra = exchange(1, c.emails[0], "in")
        after = report(items + extra)
        mine = next(a for a in after.contacts if a.id == c.id)
        was = any(f.check == "lapsed" for f in c.flags)
        now_lapsed = any(f.check == "lapsed" for f in mine.flags)
        assert not (now_lapsed and not was)
        assert not now_lapsed  # contact yesterday: nobody is lapsed


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.lists(st.sampled_from(["news@list.example", "noreply@shop.example", "pitch@cold.example"]), max_size=20))
def test_one_way_noise_never_creates_a_contact(seed, senders):
    items = _life(seed)
    rng = random.Random(seed)
    noise = [mail(NOW.timestamp() - rng.uniform(1, 500) * DAY, s, "in") for s in senders]
    assert {c.id for c in report(items + noise).contacts} == {c.id for c in report(items).contacts}


def test_overrides_set_the_relationship_and_the_rhythm():
    items = steady("x@y.example", 7, 40, 400)  # weekly, silent for 40 days
    plain = next(iter(report(items).contacts))
    assert "lapsed" in {f.check for f in plain.flags}
    set_ = report(items, (Person(None, ("x@y.example",), relationship="professional", cadence_days=30),))
    c = next(iter(set_.contacts))
    assert (c.relationship, c.confidence, c.expected_gap_days) == ("professional", 1.0, 30.0)
    assert c.flags == ()  # 40 days is within twice a 30-day cadence


@given(st.integers(-2 * 10**15, 4 * 10**15).map(lambda us: us / 1e6),  # microseconds, as datetime keeps them
       st.sampled_from(["Europe/Berlin", "America/St_Johns", "Australia/Lord_Howe", "Asia/Kathmandu", "UTC",
                        "America/Sao_Paulo", "Pacific/Chatham"]))
def test_the_fast_local_clock_agrees_with_datetime_across_dst_and_odd_offsets(ts, name):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from daemon.analysis.localtime import LocalClock, clock

    zone = ZoneInfo(name)
    t = datetime.fromtimestamp(ts, zone)
    c = clock(zone)
    day = c.day(ts)
    assert (day, c.hour(ts), LocalClock.weekday(day), c.month(ts)) == (
        t.date().toordinal() - 719163, t.hour, t.weekday(), t.strftime("%Y-%m"))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.floats(0, 1), st.sampled_from([0.0, 0.25, 0.5, 1.0])), min_size=4, max_size=60))
def test_the_hours_model_is_two_means_of_the_shares(shares):
    from daemon.analysis.relationship import HoursModel, two_means_reference

    lo, hi = two_means_reference(shares)
    model = HoursModel.fit(shares)
    assert abs(model.midpoint - (lo + hi) / 2) < 1e-9
    if hi - lo >= 0.3 + 1e-9:
        assert abs(model.half_spread - max((hi - lo) / 2, 0.15)) < 1e-9
    elif hi - lo < 0.3 - 1e-9:
        assert model.half_spread == 0.5


def _meeting(ts: float, who: str, organizer: str, fanout: int = 1, summary_hint: str = "") -> Interaction:
    return Interaction(ts=ts, channel="meeting", address=who, name="", direction="both", weight=3.0,
                       initiator="me" if organizer == "me" else "them", thread=f"ev{ts}", account=ME,
                       fanout=fanout, hint=summary_hint, source="cal", ident=f"ev{ts}{who}")


def test_a_one_off_invitation_from_a_stranger_is_no_contact():
    t = NOW.timestamp() - 30 * DAY
    rep = report([_meeting(t, "host@vendor.example", "them")])
    assert rep.contacts == ()
    (nc,) = rep.not_contacts
    assert "one-off invitation" in nc.reason
    # the same meeting with mail around it, or organised by me, or a second meeting: a contact
    assert len(report([_meeting(t, "host@vendor.example", "them")] + exchange(20, "host@vendor.example")).contacts) == 1
    assert len(report([_meeting(t, "host@vendor.example", "me")]).contacts) == 1
    assert len(report([_meeting(t, "host@vendor.example", "them"), _meeting(t - 40 * DAY, "host@vendor.example", "them")]).contacts) == 1


def test_friends_and_the_professional_network_from_what_separates_them():
    """A friend met over dinners in the evenings, frequent and regular; a mentor met every few
    months over coffee chats and intro calls in office hours: told apart on one account."""
    items = []
    for k in range(12):  # friend: dinners every 3 weeks, evenings
        t = NOW.timestamp() - (20 + 21 * k) * DAY + 19.5 * 3600
        items += [_meeting(t, "kim@mail.example", "them" if k % 2 else "me", summary_hint="social")]
        items += exchange(22 + 21 * k, "kim@mail.example")
    for k in range(5):  # mentor: every 3 months, weekday mornings, "coffee chat" (no hint) and "intro call" (work)
        t = NOW.timestamp() - (30 + 90 * k) * DAY
        t -= t % DAY - 10 * 3600
        while datetime.fromtimestamp(t, ZONE).weekday() >= 5:
            t -= DAY
        items += [_meeting(t, "mentor@mail.example", "me", summary_hint="" if k % 2 else "work")]
        items += [mail(t - 2 * DAY, "mentor@mail.example", "out", thread=f"m{k}"),
                  mail(t - 2 * DAY + 3600, "mentor@mail.example", "in", thread=f"m{k}")]
    rep = analyse(items, Me([ME]), ZONE, NOW)
    kinds = {c.emails[0]: c.relationship for c in rep.contacts}
    assert kinds == {"kim@mail.example": "personal", "mentor@mail.example": "professional"}


def test_an_account_carries_what_its_correspondents_say_or_what_the_user_says():
    """One address for everything, all correspondents at company domains: a work mailbox, so its
    contacts are professional even when written to in the evening; [identity] context overrides."""
    items = []
    for n in range(6):
        items += steady(f"dev{n}@company{n}.example", 20, 5, 300)
    rep = analyse(items, Me([ME]), ZONE, NOW)
    assert {c.relationship for c in rep.contacts} == {"professional"}
    assert any("which of my addresses it went through (toward professional" in s for s in rep.contacts[0].signals)
    told = analyse(items, Me([ME], {ME: "personal"}), ZONE, NOW)
    assert any("which of my addresses it went through (toward personal" in s for s in told.contacts[0].signals)


def test_late_answers_close_a_thread_and_wait_for_nobody():
    """A maintainer answers patches weeks after they came ("applied, thanks"): those answers are no
    unanswered run of mine, and the patches they answer were the other side's starts."""
    items = steady("dev@x.example", 20, 250, 500)
    for k, d in enumerate((200, 150, 100)):
        t = NOW.timestamp() - d * DAY
        items += [mail(t, "dev@x.example", "in", thread=f"patch{k}"), mail(t + 30 * DAY, "dev@x.example", "out", thread=f"patch{k}")]
    rep = report(items)
    assert not _flags(rep, "dev@x.example") & {"unanswered_by_them", "unanswered_by_you"}
    # the same three mails of mine, each in a thread of its own: they wait for an answer
    items = steady("dev@x.example", 20, 250, 500)
    items += [mail(NOW.timestamp() - d * DAY + 30 * DAY, "dev@x.example", "out", thread=f"new{d}") for d in (200, 150, 100)]
    assert "unanswered_by_them" in _flags(report(items), "dev@x.example")


def test_family_ties_may_stay_quiet_longer():
    items = steady("mum@x.example", 10, 38, 400)
    assert _flags(report(items), "mum@x.example") == {"lapsed"}
    family = (Person(None, ("mum@x.example",), relationship="family"),)
    rep = report(items, family)
    assert _flags(rep, "mum@x.example") == set() and rep.contacts[0].relationship == "family"


def test_copies_among_many_are_no_unanswered_messages():
    """My mails that merely copied them (Cc, weight under DIRECT) wait for no answer from them, and
    start nothing; the same mails To them do."""
    items = steady("rev@x.example", 20, 250, 500)
    copies = [mail(NOW.timestamp() - d * DAY, "rev@x.example", "out", weight=0.075) for d in (200, 150, 100, 50)]
    assert _flags(report(items + copies), "rev@x.example") == {"lapsed"}
    direct = [mail(NOW.timestamp() - d * DAY, "rev@x.example", "out") for d in (200, 150, 100, 50)]
    assert _flags(report(items + direct), "rev@x.example") == {"unanswered_by_them"}


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(-3 * 10**9, 10**10), min_size=1, max_size=50))
def test_off_hours_by_hour_of_the_week_agree_with_the_calendar(stamps):
    """Evenings (19-7 h) and weekends, on wall-clock seconds before and after 1970 too."""
    from daemon.analysis.relationship import is_off_hours_reference, off_hours

    assert off_hours(np.array(stamps, dtype=np.int64)).tolist() == [is_off_hours_reference(t) for t in stamps]
