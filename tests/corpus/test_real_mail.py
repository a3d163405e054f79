"""A real maintainer's mailbox (../shared/corpus/real-mail: headers of public list mail, as his own
copies and as the list's copies). The labels come from ``realmail_truth``, which reads the headers
with the standard library and the corpus README's definitions, never with tiekeeper's rules."""

from __future__ import annotations

import lzma
from datetime import datetime, timezone
from pathlib import Path

import pytest

from daemon import pipeline
from daemon.config import parse
from daemon.store import Store
from tests.corpus import realmail_truth as truth
from tests.helpers import SHARED

REAL = SHARED / "corpus" / "real-mail"
pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason=f"the real-mail corpus is not at {REAL} (../shared absent)")
AS_OF = datetime(2026, 3, 9, 19, tzinfo=timezone.utc)
VARIANTS = ("direct", "listcopies")


def _me() -> list[str]:
    return (REAL / "belloni-direct" / "me.txt").read_text().split()


def _report(variant: str, tmp: Path) -> dict:
    folder = tmp / variant
    folder.mkdir()
    for f in sorted((REAL / f"belloni-{variant}").glob("*.mbox.xz")):
        (folder / f.name[:-3]).write_bytes(lzma.decompress(f.read_bytes()))
    config = parse({"identity": {"addresses": _me(), "timezone": "Europe/Paris"},
                    "store": {"path": str(tmp / f"{variant}.db")},
                    "sources": {"mail": {"type": "mbox", "path": str(folder)}},
                    "analysis": {"window_days": 1100}}, tmp / "config.toml")
    store = Store(config.store_path)
    try:
        pipeline.sync_all(config, store)
        rep = pipeline.report(config, store, AS_OF)
    finally:
        store.close()
    from daemon.analysis.report import to_json
    return to_json(rep)


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, dict]:
    tmp = tmp_path_factory.mktemp("real-mail")
    return {v: _report(v, tmp) for v in VARIANTS}


@pytest.fixture(scope="module")
def messages() -> list[dict[str, str]]:
    return [h for f in ("INBOX", "Sent", "lists") for h in truth.headers(REAL / "belloni-direct" / f"{f}.mbox.xz")]


def _contacts(report: dict) -> list[dict]:
    return report["contacts"]


def test_the_truth_reader_agrees_with_the_corpus_readme(messages):
    """The independent reader finds the 28 partners the corpus ships."""
    shipped = set((REAL / "partners-3x3.txt").read_text().split())
    assert truth.partners(messages, set(_me())) == shipped


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_two_way_reply_partner_is_a_contact(reports, variant):
    partners = set((REAL / "partners-3x3.txt").read_text().split())
    emails = {e for c in _contacts(reports[variant]) for e in c["emails"]}
    assert sorted(partners - emails) == []


@pytest.mark.parametrize("variant", VARIANTS)
def test_no_robot_list_or_relay_address_is_a_contact(reports, variant, messages):
    names = {}
    for h in messages:
        names.setdefault(truth.address(h.get("from", "")), truth.display_name(h.get("from", "")))
    lists = truth.list_addresses(messages)
    bad = [(c["name"], e) for c in _contacts(reports[variant]) for e in c["emails"]
           if truth.is_machine_or_relay(e, names.get(e, "")) or e in lists]
    assert bad == []


@pytest.mark.parametrize("variant", VARIANTS)
def test_no_contact_holds_two_peoples_relay_addresses(reports, variant):
    assert [c["name"] for c in _contacts(reports[variant]) if sum("+" in e and e.startswith("devnull") for e in c["emails"]) > 1] == []


def test_the_list_copies_keep_nine_in_ten_contacts_and_their_flags(reports):
    direct = {c["emails"][0]: c for c in _contacts(reports["direct"])}
    listed = {e: c for c in _contacts(reports["listcopies"]) for e in c["emails"]}
    kept = [a for a in direct if a in listed]
    assert len(kept) >= 0.9 * len(direct) and direct
    flags = lambda c: sorted(f.get("pattern") or f["kind"] for f in c["flags"])  # noqa: E731
    same = [a for a in kept if flags(direct[a]) == flags(listed[a])]
    assert len(same) >= 0.9 * len(kept)


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_work_mailbox_reads_as_work(reports, variant):
    contacts = _contacts(reports[variant])
    professional = sum(c["relationship"] == "professional" for c in contacts)
    assert professional >= 0.9 * len(contacts)
    assert not {c["tier"] for c in contacts if c["relationship"] != "personal"} & {"inner", "close", "friends", "wider"}


@pytest.mark.parametrize("variant", VARIANTS)
def test_no_contact_carries_contradicting_flags(reports, variant):
    for c in _contacts(reports[variant]):
        kinds = [f.get("pattern") or f["kind"] for f in c["flags"]]
        patterns = [k for k in kinds if k != "lapsed"]
        assert len(patterns) <= 1, (c["name"], kinds)
        assert not ("lapsed" in kinds and any(p.startswith("unanswered") for p in patterns)), (c["name"], kinds)


@pytest.mark.parametrize("variant", VARIANTS)
def test_one_persons_addresses_named_in_the_corpus_readme_are_one_contact(reports, variant):
    """The README's known traps: one person, several addresses (both of which are mailed at once
    in many threads, so that alone must not keep them apart)."""
    owner = {e: c["id"] for c in _contacts(reports[variant]) for e in c["emails"]}
    for pair in (("krzk@kernel.org", "krzysztof.kozlowski@linaro.org"),
                 ("javier.carrasco.cruz@gmail.com", "javier.carrasco@wolfvision.net")):
        assert owner.get(pair[0]) is not None and owner.get(pair[0]) == owner.get(pair[1]), pair
