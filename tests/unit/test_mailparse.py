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
