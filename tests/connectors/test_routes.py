"""One message or event, two routes, one record: what a server hands over (Gmail, IMAP, Google
Calendar) must say what the same data says read from a file (Maildir, ICS). Each test here pins a
cause of a difference between the routes found for issue 16 (same data, same answer); the whole-life
check is tests/system/test_same_answer.py."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from connectors.gmail import GmailConnector
from connectors.google_calendar import event_calendar
from connectors.mailparse import BULK_FIELDS, FETCHED_HEADERS, KEPT_FIELDS, read_header_block
from connectors.maildir import mail_record
from daemon.identity import Me
from daemon.inference.calendar import infer_event, whole_series
from daemon.inference.email import infer_mail
from daemon.models import RawRecord
from tests.helpers import FIXTURES, ME, ME_WORK, NOW, message

# -- mail: every header the file route reads, the servers are asked for ------------------------------
AUTO_REPLY = message("amy@x.example", ME, NOW, subject="Out of office", extra={"X-Autorespond": "yes"})
BULK_PERSON = message("Dana Reyes <dana@shop.example>", ME, NOW, subject="New arrivals",
                      extra={"X-Mailchimp-Campaign": "c-7", "X-SES-Outgoing": "2026.05.04"})
ON_BEHALF = message("Eve <eve@x.example>", ME, NOW, extra={"Sender": "Assistant <pa@x.example>"})
CRAFTED = {"auto_reply": AUTO_REPLY, "bulk_person": BULK_PERSON, "on_behalf": ON_BEHALF}


def test_imap_and_gmail_are_asked_for_every_field_the_header_parser_reads():
    asked = {h.lower() for h in FETCHED_HEADERS}
    assert KEPT_FIELDS | BULK_FIELDS | {"subject"} <= asked
    assert len(asked) == len(FETCHED_HEADERS)  # each once


def _from_file(raw: bytes) -> dict:
    import io

    return mail_record("x", "1", "INBOX", read_header_block(io.BytesIO(raw))).data


def _comparable(data: dict) -> dict:
    """A record's fields without where it was filed, whitespace runs as one space (servers unfold
    and collapse them; the values are the same to every reader)."""
    return {k: " ".join(v.split()) for k, v in data.items() if k not in ("folder", "labels", "sent_folder")}


def _mail_cases() -> dict[str, bytes]:
    return {**{p.name: p.read_bytes() for p in sorted(FIXTURES.glob("*.eml"))}, **CRAFTED}


def test_a_message_through_gmail_gives_the_record_and_the_judgement_a_maildir_gives(google):
    cases = _mail_cases()
    ids = {google.state.add_message(raw, ["INBOX"]): name for name, raw in cases.items()}
    conn = GmailConnector("gmail", ME, google.token_path, google.url, base_delay=0.01)
    got = {ids[r.ident]: r for r in conn.get_multi(list(ids))}
    me = Me([ME, ME_WORK])
    for name, raw in cases.items():
        local = _from_file(raw)
        assert _comparable(got[name].data) == _comparable(local), name
        judged = [infer_mail(RawRecord("x", "1", "mail", data), me) for data in (local, got[name].data)]
        assert judged[0].dropped == judged[1].dropped and judged[0].interactions == judged[1].interactions, name
    # the fields that once made the difference: an automatic reply and a bulk mailer's person-like sender
    assert infer_mail(got["auto_reply"], me).dropped == "automatic reply"
    assert infer_mail(got["bulk_person"], me).dropped.startswith("sent by a bulk mailer")
    assert got["on_behalf"].data["sender"] == "Assistant <pa@x.example>"


def test_a_message_through_imap_gives_the_record_a_maildir_gives(dovecot):
    from tests.connectors.imap_world import append, connector, reset

    reset(dovecot)
    cases = _mail_cases()
    for raw in cases.values():
        append(dovecot, "INBOX", raw)
    with connector(dovecot) as conn:
        records = list(conn.get_multi(list(conn.list().items)))
    by_id = {r.data.get("message-id", "").strip(): r.data for r in records}
    for name, raw in cases.items():
        local = _from_file(raw)
        assert _comparable(by_id[local["message-id"].strip()]) == _comparable(local), name


# -- calendar: the Google connector keeps the instant of a time given by its offset alone --------------
def _meeting_times(ics: str, zone: str = "Europe/Berlin") -> list[float]:
    record = RawRecord("cal|e", "1", "event", {"ics": ics, "uid": "e"})
    start, end = datetime(2026, 1, 1, tzinfo=timezone.utc), datetime(2027, 1, 1, tzinfo=timezone.utc)
    return sorted(i.ts for i in infer_event(record, Me([ME]), ZoneInfo(zone), start, end).interactions)


def test_a_google_time_with_an_offset_and_no_zone_keeps_its_instant():
    # Google leaves timeZone out of most one-off events; the offset alone says when it was
    event = {"id": "e", "start": {"dateTime": "2026-03-05T10:00:00+05:30"}, "end": {"dateTime": "2026-03-05T11:00:00+05:30"},
             "organizer": {"email": "bob@x.example"}, "attendees": [{"email": "bob@x.example", "responseStatus": "accepted"}]}
    instant = datetime(2026, 3, 5, 4, 30, tzinfo=timezone.utc).timestamp()
    for zone in ("Europe/Berlin", "America/New_York"):  # whatever zone the user lives in
        assert _meeting_times(event_calendar(event), zone) == [instant]


def test_an_instance_moved_in_a_series_is_found_when_google_gives_its_original_time_by_offset():
    master = {"id": "s", "iCalUID": "s@google.com", "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=3"],
              "start": {"dateTime": "2026-03-16T10:00:00+01:00", "timeZone": "Europe/Berlin"},
              "end": {"dateTime": "2026-03-16T10:30:00+01:00", "timeZone": "Europe/Berlin"},
              "organizer": {"email": ME}, "attendees": [{"email": "bob@x.example", "responseStatus": "accepted"}]}
    moved = {**master, "id": "s_2", "recurringEventId": "s", "recurrence": None,
             "originalStartTime": {"dateTime": "2026-03-30T10:00:00+02:00"},  # after the switch to summer time
             "start": {"dateTime": "2026-03-31T15:00:00+02:00"}, "end": {"dateTime": "2026-03-31T15:30:00+02:00"}}
    records = [("g", RawRecord(f"c|{e['id']}", "1", "event", {"ics": event_calendar(e), "uid": "s@google.com",
                                                                "series": "c|s"})) for e in (master, moved)]
    (_, merged), = whole_series(records)
    berlin = ZoneInfo("Europe/Berlin")
    assert _meeting_times(merged.data["ics"]) == [datetime(2026, 3, 16, 10, tzinfo=berlin).timestamp(),
                                                  datetime(2026, 3, 23, 10, tzinfo=berlin).timestamp(),
                                                  datetime(2026, 3, 31, 15, tzinfo=berlin).timestamp()]
