"""`tiekeeper set`: the user's corrections win over inference and are merged with [[people]]."""

from datetime import datetime, timezone

from daemon import corrections, pipeline
from daemon.config import Person, parse
from daemon.corrections import Correction
from daemon.store import Store
from tests.helpers import ME, make_maildir, message

NOW = datetime(2026, 6, 1, 9, tzinfo=timezone.utc)


def test_a_correction_is_kept_as_a_note_and_read_back():
    c = Correction("a@x.example", "family", 30.0, 5.0)
    assert Correction.of("a@x.example", 5.0, c.note()) == c
    assert Correction.of("a@x.example", 5.0, "not json") == Correction("a@x.example", when=5.0)


def test_a_second_set_keeps_what_it_did_not_change():
    first = Correction("a@x.example", "family", None, 1.0)
    second = Correction("a@x.example", None, 14.0, 2.0)
    assert corrections.merge(first, second) == Correction("a@x.example", "family", 14.0, 2.0)


def test_a_correction_changes_the_config_entry_of_that_person_or_adds_one():
    people = (Person("Nora", ("nora@x.example", "n@y.example"), "professional"),)
    out = corrections.apply(people, [Correction("N@y.example", "personal"), Correction("z@x.example", None, 7.0)])
    assert out[0] == Person("Nora", ("nora@x.example", "n@y.example"), "personal", None, origin="tiekeeper set")
    assert out[1] == Person(None, ("z@x.example",), None, 7.0, origin="tiekeeper set")


def test_a_stored_correction_wins_over_inference_and_is_explained(tmp_path):
    start = datetime(2026, 1, 5, 10, tzinfo=timezone.utc)
    msgs = {"INBOX": [], "Sent": []}
    for k in range(8):  # a colleague at a company domain, in office hours: professional by inference
        when = start.replace(day=5 + 3 * k)
        mid = f"<c{k}@corp.example>"
        msgs["INBOX"].append(message("Ada <ada@corp.example>", ME, when, "Review", msgid=mid))
        msgs["Sent"].append(message(ME, "ada@corp.example", when.replace(hour=11), "Re: Review", in_reply_to=mid))
    make_maildir(tmp_path / "mail", msgs)
    config = parse({"identity": {"addresses": [ME]}, "store": {"path": str(tmp_path / "t.db")},
                    "sources": {"mail": {"type": "maildir", "path": str(tmp_path / "mail")}}}, tmp_path / "c.toml")
    store = Store(config.store_path)
    pipeline.sync_all(config, store)
    (before,) = pipeline.report(config, store, NOW).contacts
    store.add_action("ada@corp.example", corrections.KIND, NOW.timestamp(), Correction("ada@corp.example", "family").note())
    (after,) = pipeline.report(config, store, NOW).contacts
    assert after.relationship == "family" != before.relationship
    assert after.told == "tiekeeper set" and after.signals == ("set by you (tiekeeper set)",)
    store.remove_actions("ada@corp.example", corrections.KIND)  # what `set --undo` does
    (undone,) = pipeline.report(config, store, NOW).contacts
    assert undone.relationship == before.relationship and undone.told == ""
