import io

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


def test_bulk_mailer_headers_are_noted():
    fields = parse_header_block(b"From: a@b.example\nFeedback-ID: 123:abc\nTo: me@x.example\n")
    assert fields["bulk"] == "feedback-id"


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
