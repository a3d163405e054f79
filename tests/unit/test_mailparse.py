import io
import os

from connectors.mailparse import parse_header_block, read_header_block, subject_key
from tests.helpers import FIXTURES


def test_reads_headers_only_and_stops_at_the_blank_line():
    raw = (FIXTURES / "mail_rfc2047_name_reply.eml").read_bytes()
    block = read_header_block(io.BytesIO(raw))
    assert b"never stored" not in block
    fields = parse_header_block(block)
    assert fields["in-reply-to"] == "<m1@home.example>"
    assert fields["references"] == "<m0@home.example> <m1@home.example>"  # unfolded
    assert "subject" not in fields and len(fields["subject_key"]) == 12


def test_folded_recipients_are_unfolded():
    fields = parse_header_block((FIXTURES / "mail_folded_recipients_outbound.eml").read_bytes())
    assert "carol@acme.example" in fields["to"] and "\n" not in fields["to"]


def test_subject_key_ignores_reply_prefixes_and_case():
    assert subject_key("Re: AW: Fwd: Plans") == subject_key("plans")
    assert subject_key("") == ""


def test_bulk_mailer_headers_are_noted_but_feedback_id_is_not_one():
    fields = parse_header_block(b"From: a@b.example\nX-Campaign: 123:abc\nTo: me@x.example\n")
    assert fields["bulk"] == "x-campaign"
    # Fastmail, Tencent and others put Feedback-ID on every user's mail: no bulk mark by itself
    assert "bulk" not in parse_header_block(b"From: a@b.example\nFeedback-ID: 123:abc\nTo: me@x.example\n")


def test_a_huge_header_line_is_bounded():
    raw = b"From: a@b.example\nX-Junk: " + b"x" * (10 * 1024 * 1024) + b"\n\nbody"
    block = read_header_block(io.BytesIO(raw))
    assert len(block) <= 256 * 1024
    assert parse_header_block(block)["from"] == "a@b.example"


def test_latin1_headers_do_not_crash():
    fields = parse_header_block("From: J\xfcrgen <j@example.de>\n".encode("latin-1"))
    assert fields["from"].endswith("<j@example.de>")


def test_imap_header_fetch_is_read_with_the_uid_before_or_after_the_literal():
    from connectors.imap import _uid_set, parse_header_fetch

    data = [
        (b"1 (UID 7 BODY[HEADER.FIELDS (FROM TO)] {20}", b"From: a@x.example\r\n\r\n"), b")",
        (b"2 (BODY[HEADER.FIELDS (FROM TO)] {20}", b"From: b@x.example\r\n\r\n"), b" UID 9)",  # UID after
        b"3 (FLAGS (\\Seen) UID 11)",  # an unsolicited flag change: no literal, not asked for
        b'4 (UID 12 BODY[HEADER.FIELDS (FROM TO)] "")',  # no literal: left for the slow path
    ]
    assert parse_header_fetch(data, {7, 9, 12}) == {7: b"From: a@x.example\r\n\r\n", 9: b"From: b@x.example\r\n\r\n"}
    assert _uid_set([5, 1, 2, 3, 9, 10, 12]) == "1:3,5,9:10,12"


# -- the fast reader and parser against plain line-by-line oracles -----------------------------------
def _read_by_lines(raw: bytes, limit: int) -> bytes:
    """The definition: whole lines up to the first empty one, then cut to ``limit`` bytes."""
    lines = []
    for line in io.BytesIO(raw):
        if line in (b"\n", b"\r\n"):
            break
        lines.append(line)
    return b"".join(lines)[:limit]


def _parse_by_lines(block: bytes) -> dict[str, str]:
    from connectors.mailparse import ADDRESS_FIELDS, BULK_FIELDS, KEPT_FIELDS, _decode
    from daemon.inference.filters import meeting_hint

    fields: dict[str, str] = {}
    current: list = []  # [name, parts]
    for line in _decode(block).splitlines() + ["END:"]:
        if line[:1] in (" ", "\t"):
            if current:
                current[1].append(line)
            continue
        if current:
            name, value = current[0], " ".join(p.strip() for p in current[1])
            if name in KEPT_FIELDS:
                if name in fields and name in ADDRESS_FIELDS:
                    fields[name] += ", " + value
                else:
                    fields.setdefault(name, value)
            elif name == "subject":
                fields["subject_key"] = subject_key(value)
                if meeting_hint(value):
                    fields["purpose"] = meeting_hint(value)
            elif name in BULK_FIELDS and "bulk" not in fields:
                fields["bulk"] = name
        field, sep, value = line.partition(":")
        current = [field.strip().lower(), [value]] if sep and field.strip() and " " not in field.strip() else []
    return fields


def _random_message(rng) -> bytes:
    eol = rng.choice([b"\r\n", b"\n"])
    names = [b"From", b"To", b"cc", b"CC ", b"Subject", b"Date", b"Message-ID", b"References", b"Received",
             b"List-Id", b"Feedback-ID", b"X-Junk", b"From me@x Mon 1 Jan 2026 10:00:00", b"Reply-To"]
    lines = []
    for _ in range(rng.randint(0, 14)):
        if rng.random() < 0.1:
            lines.append(b"garbage without a colon")
        value = b"".join(rng.choice([b"a@b.example", b" ", b"\t", b"Bob <b@c.example>", b",", b"\xc3\xa9", b"\xe9", b":"])
                         for _ in range(rng.randint(0, 6)))
        lines.append(rng.choice(names) + b":" + value)
        for _ in range(rng.choice([0, 0, 1, 3])):
            lines.append(rng.choice([b" ", b"\t", b"   "]) + value)
    body = rng.choice([b"", b"body" * rng.randint(0, 3000)])
    return eol.join(lines) + eol + rng.choice([eol, b""]) + body


def test_the_chunked_reader_and_the_parser_agree_with_line_by_line_reading(monkeypatch):
    import random

    from connectors import mailparse

    rng = random.Random(11)
    messages = [_random_message(rng) for _ in range(1000)]
    messages += [p.read_bytes() for p in sorted(FIXTURES.glob("*.eml"))]
    for chunk in (1, 2, 3, 7, 8192):  # small chunks put the empty line across chunk boundaries
        monkeypatch.setattr(mailparse, "_CHUNK", chunk)
        for raw in messages[:: 1 if chunk in (3, 8192) else 10]:
            for limit in (5, 64, mailparse.HEADER_LIMIT):
                assert read_header_block(io.BytesIO(raw), limit) == _read_by_lines(raw, limit), (chunk, limit, raw[:200])
        for raw in messages[:: 1 if chunk == 8192 else 25]:  # the file descriptor reader (Maildir's)
            read_end, write_end = os.pipe()
            os.write(write_end, raw)
            os.close(write_end)
            try:
                assert mailparse.read_header_fd(read_end) == _read_by_lines(raw, mailparse.HEADER_LIMIT), (chunk, raw[:200])
            finally:
                os.close(read_end)
    for raw in messages:
        block = _read_by_lines(raw, mailparse.HEADER_LIMIT)
        assert parse_header_block(block) == _parse_by_lines(block), block


def test_a_subject_leaves_only_its_purpose_behind():
    fields = parse_header_block(b"From: a@b.example\nTo: me@x.example\nSubject: Intro call with Dana\n")
    assert fields["purpose"] == "work" and "Dana" not in repr(fields)
    assert parse_header_block(b"From: a@b.example\nSubject: Birthday dinner on Friday\n")["purpose"] == "social"
    assert "purpose" not in parse_header_block(b"From: a@b.example\nSubject: Coffee?\n")  # coffee decides nothing alone
