import random
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from daemon.jobs import BACKOFF_CAP, JobState, after_failure, after_success, digest_due, digest_period, is_due

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY_8 = (0, time(8, 0))


def test_failures_back_off_exponentially_with_jitter_and_a_cap():
    rng = random.Random(1)
    s = JobState("sync:x")
    waits = []
    for _ in range(12):
        s = after_failure(s, 1000.0, 900.0, "down", rng)
        waits.append(s.next_due - 1000.0)
    assert 0.8 * 900 <= waits[0] <= 1.2 * 900 and 0.8 * 1800 <= waits[1] <= 1.2 * 1800
    assert max(waits) <= 1.2 * BACKOFF_CAP and s.failures == 12
    ok = after_success(s, 2000.0, 900.0)
    assert (ok.failures, ok.next_due, ok.last_error) == (0, 2900.0, None)
    assert not is_due(ok, 2899.0) and is_due(ok, 2900.0)


def test_the_digest_period_starts_on_the_configured_weekday_and_time():
    wed = datetime(2026, 11, 25, 12, 0, tzinfo=BERLIN)
    assert digest_period(wed, BERLIN, *MONDAY_8) == datetime(2026, 11, 23, 8, 0, tzinfo=BERLIN)
    early_monday = datetime(2026, 11, 23, 7, 59, tzinfo=BERLIN)
    assert digest_period(early_monday, BERLIN, *MONDAY_8) == datetime(2026, 11, 16, 8, 0, tzinfo=BERLIN)


def test_a_digest_is_sent_once_per_period_and_caught_up_once_after_sleep():
    monday = datetime(2026, 11, 23, 8, 0, tzinfo=BERLIN)
    period = digest_due(None, monday, BERLIN, *MONDAY_8)
    state = JobState("digest", period=period.isoformat())
    for later in (monday + timedelta(minutes=1), monday + timedelta(days=6, hours=23)):
        assert digest_due(state, later, BERLIN, *MONDAY_8) is None
    # asleep through the next Monday: caught up once on waking on Wednesday, then not again
    wednesday = monday + timedelta(days=9)
    caught = digest_due(state, wednesday, BERLIN, *MONDAY_8)
    assert caught == monday + timedelta(days=7)
    state = JobState("digest", period=caught.isoformat())
    assert digest_due(state, wednesday + timedelta(hours=1), BERLIN, *MONDAY_8) is None


def test_a_clock_jumping_back_never_sends_an_old_period_again():
    state = JobState("digest", period=datetime(2026, 11, 23, 8, 0, tzinfo=BERLIN).isoformat())
    back = datetime(2026, 11, 20, 10, 0, tzinfo=BERLIN)  # the clock went back three days
    assert digest_due(state, back, BERLIN, *MONDAY_8) is None


def test_dst_changes_neither_skip_nor_double_a_digest():
    # Europe/Berlin leaves summer time on Sunday 25 Oct 2026; walk hour by hour over four weeks
    t = datetime(2026, 10, 10, 0, 0, tzinfo=BERLIN)
    state, sent = None, []
    while t < datetime(2026, 11, 7, tzinfo=BERLIN):
        period = digest_due(state, t, BERLIN, *MONDAY_8)
        if period:
            sent.append(period)
            state = JobState("digest", period=period.isoformat())
        t = (t.astimezone(ZoneInfo("UTC")) + timedelta(hours=1)).astimezone(BERLIN)
    assert [p.strftime("%a %d %H:%M") for p in sent] == ["Mon 05 08:00", "Mon 12 08:00", "Mon 19 08:00",
                                                         "Mon 26 08:00", "Mon 02 08:00"]


def test_one_rule_for_every_trigger_a_send_by_the_cli_makes_the_week_done_until_the_next_monday(tmp_path):
    from daemon.delivery import due
    from daemon.store import Store
    from tests.helpers import config

    cfg = config(tmp_path, {})  # Europe/Berlin, the digest on Monday 08:00
    store = Store(cfg.store_path)
    monday = datetime(2026, 11, 23, 8, 0, tzinfo=BERLIN)
    assert due(cfg, store, monday + timedelta(days=6)) == monday  # a Sunday with nothing sent: catch up once
    store.record_digest_send(monday.isoformat(), monday.timestamp(), "digest --send", "me@home.example", "<x@y>")
    for later in (timedelta(hours=1), timedelta(days=6, hours=23)):  # the rest of the week, Sunday included
        assert due(cfg, store, monday + later) is None
    assert due(cfg, store, monday + timedelta(days=7, seconds=1)) == monday + timedelta(days=7)
    store.close()
