"""Header-only parsing of RFC 5322 messages, shared by the Maildir, mbox and IMAP connectors.

Reads up to the first blank line and no further; unfolds continuation lines; keeps only the fields
inference needs. Never touches a body. Hand-written because it is the hot path: the standard
library's parsers are several times slower here and ``BytesHeaderParser`` reads the whole file.
"""

from __future__ import annotations

import hashlib
import re
from typing import BinaryIO

# Only what inference needs. Subject is reduced to a hash (for threading by subject), never kept.
ADDRESS_FIELDS = ("from", "to", "cc", "bcc", "reply-to", "sender", "return-path")
KEPT_FIELDS = frozenset(
    ADDRESS_FIELDS
    + ("date", "message-id", "in-reply-to", "references", "list-id", "list-unsubscribe", "list-post",
       "precedence", "auto-submitted", "x-spam-flag", "x-autoreply", "x-autorespond")
)
# Headers that bulk-mailing services add. Their presence is a hint, not proof.
BULK_FIELDS = frozenset(
    ("feedback-id", "x-campaign", "x-campaign-id", "x-campaignid", "x-mailchimp-campaign",
     "x-mc-user", "x-mailgun-sid", "x-sg-eid", "x-ses-outgoing", "x-mandrill-user", "x-rpcampaign",
     "list-unsubscribe-post", "x-newsletter", "x-marketoid", "x-sfmc-stack", "x-emarsys-identify",
     "x-listmember", "x-mailer-recptid")
)
# What the IMAP and Gmail connectors ask a server for: the kept fields and a few bulk-mailer hints.
FETCHED_HEADERS = (
    "From", "To", "Cc", "Bcc", "Date", "Message-ID", "In-Reply-To", "References", "Subject", "List-Id",
    "List-Unsubscribe", "List-Post", "Precedence", "Auto-Submitted", "Return-Path", "X-Spam-Flag",
    "X-Autoreply", "Feedback-ID", "List-Unsubscribe-Post",
)
HEADER_LIMIT = 256 * 1024  # a header block larger than this is cut; hostile input stays bounded
_SUBJECT_PREFIX = re.compile(r"^\s*((re|fwd?|aw|wg|sv|vs|antw|tr|rif)\s*(\[\d+\])?\s*:\s*)+", re.I)


def read_header_block(fh: BinaryIO, limit: int = HEADER_LIMIT) -> bytes:
    """Bytes up to (not including) the first empty line, at most ``limit`` bytes."""
    lines = []
    size = 0
    while size < limit:
        line = fh.readline(limit - size)
        if not line or line in (b"\n", b"\r\n"):
            break
        lines.append(line)
        size += len(line)
    return b"".join(lines)


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def subject_key(subject: str) -> str:
    """A short hash of the subject without Re:/Fwd: prefixes: threads by subject, keeps no text."""
    s = " ".join(_SUBJECT_PREFIX.sub("", subject).casefold().split())
    return hashlib.sha1(s.encode("utf-8", "replace")).hexdigest()[:12] if s else ""


def parse_header_block(block: bytes) -> dict[str, str]:
    """The kept fields of a header block as strings; repeated fields are joined with ", ".

    Also sets "subject_key" and, when a bulk-mailer header is present, "bulk" (its name)."""
    fields: dict[str, str] = {}
    name = ""
    parts: list[str] = []

    def flush() -> None:
        if name in KEPT_FIELDS:
            value = " ".join(p.strip() for p in parts)
            if name in fields and name in ADDRESS_FIELDS:
                fields[name] += ", " + value
            else:
                fields.setdefault(name, value)
        elif name == "subject":
            fields["subject_key"] = subject_key(" ".join(p.strip() for p in parts))
        elif name in BULK_FIELDS and "bulk" not in fields:
            fields["bulk"] = name

    for line in _decode(block).splitlines():
        if line[:1] in (" ", "\t"):
            if name:
                parts.append(line)
            continue
        if name:
            flush()
        field, sep, value = line.partition(":")
        if not sep or " " in field.strip() or not field:
            name = ""  # an mbox "From " line or garbage: skip it
            continue
        name, parts = field.strip().lower(), [value]
    if name:
        flush()
    return fields


def header_hash(block: bytes) -> str:
    return hashlib.sha1(block).hexdigest()[:20]
