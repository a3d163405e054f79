"""The evaluation harness: its labels are true of its own data, its scorer can fail, and the
product meets its targets on lives over several seeds."""

from __future__ import annotations

import pytest

from bench.eval.life import DAY, NOW, make_life, observed_share
from bench.eval.score import Score, evaluate, score
from daemon.analysis.report import Contact, Flag, Report
from daemon.identity import merge_key, normalize_name

SEEDS = (1, 2, 3)
LABEL_SEEDS = tuple(range(1, 21))  # cheap: no pipeline, so many lives


@pytest.mark.parametrize("seed", LABEL_SEEDS)
def test_the_generators_labels_are_true_of_its_own_data(seed):
    life = make_life(seed)
    now = NOW.timestamp()
    for p in life.people:
        two_way = [m for m in p.moments if m.answered]
        silence = (now - two_way[-1].ts) / DAY
        judgeable = len(two_way) >= 3 and (now - two_way[0].ts) / DAY >= 60
        if "lapsed" in p.labels:
            assert judgeable and silence >= 3 * p.rhythm_days and silence >= 69, p  # 70 days, give or take the hour
        elif judgeable and p.archetype != "thin_history":
            assert silence <= 1.5 * p.rhythm_days + 5, p  # an active tie: within its rhythm
        mine, theirs = observed_share(p)
        total = mine + theirs
        if "you_initiate" in p.labels:
            assert total >= 6 and mine / total >= 0.85, p
        elif "they_initiate" in p.labels:
            assert total >= 6 and theirs / total >= 0.85, p
        elif total >= 6:
            assert 0.3 <= mine / total <= 0.7, p
        tail = [m for m in p.moments if m.ts > two_way[-1].ts]
        for label, starter in (("unanswered_by_them", "me"), ("unanswered_by_you", "them")):
            run = [m for m in tail if m.initiator == starter and not m.answered]
            assert (len(run) >= 3) == (label in p.labels), (label, p)
        if len(p.addresses) > 1:  # a merge the data itself supports: one merge key, or one name
            assert len({merge_key(a) for a in p.addresses}) == 1 or normalize_name(p.name), p


@pytest.mark.parametrize("seed", SEEDS)
def test_no_noise_identity_ever_had_a_direct_two_way_exchange(seed):
    life = make_life(seed)
    noise = {n.address for n in life.noise}
    for folder, _, raw in life.messages:
        if folder != "Sent":
            continue
        headers = raw.split(b"\r\n\r\n", 1)[0].decode()
        recipients = [line for line in headers.splitlines() if line.startswith(("To:", "Cc:"))]
        count = sum(r.count("@") for r in recipients)
        for address in noise:
            if address in "".join(recipients):
                assert count >= 10, f"a direct mail to noise {address}"


def test_the_scorer_can_fail():
    life = make_life(1)
    empty = score(life, Report(NOW, ()))
    assert Score.f1(*empty.lapsed)[2] == 0 and empty.contact_recall[0] == 0
    everyone = tuple(
        Contact(p.key, p.name, tuple(p.addresses), "personal", 0.5, "close", 1, 1, 1, 1, 0.0, 0.0, 0.0, 7.0,
                (Flag("lapsed", "x"), Flag("one_sided", "x", "you_initiate")))
        for p in life.people
    ) + tuple(Contact(n.key, n.key, (n.address,), "personal", 0.5, "close", 1, 1, 1, 1, 0.0, 0.0, 0.0, 7.0, ())
              for n in life.noise)
    loud = score(life, Report(NOW, everyone))
    assert Score.f1(*loud.lapsed)[0] < 0.5 and loud.noise_leak[0] == len(life.noise)
    assert loud.relationship[0] < loud.relationship[1]


@pytest.mark.parametrize("seed", SEEDS)
def test_targets_hold_on_lives_with_a_personal_and_a_work_account(seed):
    s = evaluate(seed)
    assert Score.f1(*s.lapsed)[2] >= 0.9
    assert Score.f1(*s.one_sided)[2] >= 0.85
    assert s.relationship[0] / s.relationship[1] >= 0.9
    assert s.merged[0] / s.merged[1] >= 0.9
    assert s.noise_leak[0] == 0
