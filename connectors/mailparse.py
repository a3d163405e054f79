"""Header-only parsing of RFC 5322 messages, shared by the Maildir, mbox and IMAP connectors.

Reads up to the first blank line and no further; unfolds continuation lines; keeps only the fields
inference needs. Never touches a body. Hand-written because it is the hot path: the standard
library's parsers are several times slower here and ``BytesHeaderParser`` reads the whole file.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from functools import partial
from typing import BinaryIO

from daemon.inference.filters import meeting_hint

# Only what inference needs. Subject is reduced to a hash (for threading by subject), never kept.
ADDRESS_FIELDS = ("from", "to", "cc", "bcc", "reply-to", "sender", "return-path", "x-original-from")
KEPT_FIELDS = frozenset(
    ADDRESS_FIELDS
    + ("date", "message-id", "in-reply-to", "references", "list-id", "list-unsubscribe", "list-post",
       "precedence", "auto-submitted", "x-spam-flag", "x-autoreply", "x-autorespond")
)
_WANTED_FIELDS = KEPT_FIELDS | {"subject"}  # "subject" is read only to be hashed
# Headers that bulk-mailing services add. Their presence is a hint, not proof. Feedback-ID is not
# among them: Fastmail, Tencent and others put it on every user's mail, people's too.
BULK_FIELDS = frozenset(
    ("x-campaign", "x-campaign-id", "x-campaignid", "x-mailchimp-campaign",
     "x-mc-user", "x-mailgun-sid", "x-sg-eid", "x-ses-outgoing", "x-mandrill-user", "x-rpcampaign",
     "list-unsubscribe-post", "x-newsletter", "x-marketoid", "x-sfmc-stack", "x-emarsys-identify",
     "x-listmember", "x-mailer-recptid")
)
# What the IMAP and Gmail connectors ask a server for: every field the header parser reads (the
# kept fields, the subject and the bulk-mailer hints), so that a message fetched from a server
# gives the same record as the same message read from a Maildir or mbox file. Feedback-ID is asked
# for too, though no rule reads it now.
FETCHED_HEADERS = (
    "From", "To", "Cc", "Bcc", "Reply-To", "X-Original-From", "Sender", "Date", "Message-ID", "In-Reply-To",
    "References", "Subject", "List-Id", "List-Unsubscribe", "List-Post", "Precedence", "Auto-Submitted",
    "Return-Path", "X-Spam-Flag", "X-Autoreply", "X-Autorespond", "Feedback-ID", "List-Unsubscribe-Post",
    "X-Campaign", "X-Campaign-Id", "X-CampaignID", "X-Mailchimp-Campaign", "X-MC-User", "X-Mailgun-Sid",
    "X-SG-EID", "X-SES-Outgoing", "X-Mandrill-User", "X-RPCampaign", "X-Newsletter", "X-MarketoID",
    "X-SFMC-Stack", "X-Emarsys-Identify", "X-ListMember", "X-Mailer-RecptId",
)
HEADER_LIMIT = 256 * 1024  # a header block larger than this is cut; hostile input stays bounded
_CHUNK = 8192  # read at once: holds the whole header block of nearly every message
_SUBJECT_PREFIX = re.compile(r"^\s*((re|fwd?|aw|wg|sv|vs|antw|tr|rif)\s*(\[\d+\])?\s*:\s*)+", re.I)


def read_header_block(fh: BinaryIO, limit: int = HEADER_LIMIT) -> bytes:
    """Bytes up to (not including) the first empty line, at most ``limit`` bytes.

    Reads in chunks and looks for the empty line in each, instead of a line at a time: a header
    block is a dozen or more lines, and this is the hot path of a first sync. The file is left
    somewhere after the block."""
    return _read_header(fh.read, limit)


def read_header_fd(fd: int, limit: int = HEADER_LIMIT) -> bytes:
    """``read_header_block`` of an open file descriptor. A Maildir's messages are read this way:
    a Python file object costs more to make than reading a header block does (12 us of 20)."""
    return _read_header(partial(os.read, fd), limit)


def _read_header(read: Callable[[int], bytes], limit: int) -> bytes:
    data = b""
    while True:
        chunk = read(min(_CHUNK, limit + 2 - len(data)))  # +2: room to see an empty line right at the limit
        if not chunk:
            return data[:limit]
        searched_from = max(len(data) - 2, 0)  # an empty line may straddle two chunks
        data += chunk
        end = _blank_line(data, searched_from)
        if end >= 0:
            return data[:min(end, limit)]
        if len(data) >= limit:
            return data[:limit]


def _blank_line(data: bytes, start: int = 0) -> int:
    """Where the first empty line ("\\n" or "\\r\\n" after a line end, or at the start) begins; -1: none."""
    if data[:1] == b"\n" or data[:2] == b"\r\n":
        return 0
    ends = [i + 1 for i in (data.find(b"\n\n", start), data.find(b"\n\r\n", start)) if i >= 0]
    return min(ends) if ends else -1


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

    Also sets "subject_key" and, when a bulk-mailer header is present, "bulk" (its name).
    Only the lines of wanted fields are gathered: most of a block is Received chains and MIME
    fields, which cost a partition and a set lookup each."""
    fields: dict[str, str] = {}
    name = ""
    parts: list[str] | None = None  # the value's lines so far, while the field is a wanted one
    for line in _decode(block).splitlines():
        if line[:1] in (" ", "\t"):  # a continuation of the field before
            if parts is not None:
                parts.append(line.strip())
            continue
        if parts is not None:
            _keep(fields, name, parts)
            parts = None
        field, sep, value = line.partition(":")
        if not sep:
            continue  # an mbox "From " line or garbage: skip it and its continuations
        name = field.rstrip().lower()
        if name in _WANTED_FIELDS:
            parts = [value.strip()]
        elif name in BULK_FIELDS and "bulk" not in fields:
            fields["bulk"] = name
    if parts is not None:
        _keep(fields, name, parts)
    return fields


def _keep(fields: dict[str, str], name: str, parts: list[str]) -> None:
    value = parts[0] if len(parts) == 1 else " ".join(parts)
    if name == "subject":
        fields["subject_key"] = subject_key(value)
        purpose = meeting_hint(value)  # a derived cue ("social" or "work"); the subject is not kept
        if purpose:
            fields["purpose"] = purpose
    elif name not in fields:
        fields[name] = value
    elif name in ADDRESS_FIELDS:
        fields[name] += ", " + value


def header_hash(block: bytes) -> str:
    return hashlib.sha1(block).hexdigest()[:20]
