"""On real mail nobody here wrote, no list, spam or bulk sender becomes a contact.

"Me" is taken to be every recipient in the corpus (and the Enron mailbox owners), so the noise
reaches the analysis addressed to me and has to be kept out by the rules, not by accident."""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from connectors.maildir import MaildirConnector
from connectors.mailparse import parse_header_block, read_header_block
from connectors.mbox import MboxConnector, iter_messages
from daemon.analysis.report import analyse
from daemon.identity import Me, merge_key, parse_address_list
from daemon.inference.email import infer_mail
from tests.helpers import SHARED

CORPUS = SHARED / "corpus" / "mail"
pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"the shared corpus is not at {CORPUS}")


def _headers(path: Path) -> dict[str, str]:
    with open(path, "rb") as fh:
        return parse_header_block(read_header_block(fh))


def test_no_list_spam_or_bulk_sender_becomes_a_contact(tmp_path):
    files = sorted(f for d in ("spamassassin", "enron") for f in (CORPUS / d).rglob("*") if f.is_file())
    box = tmp_path / "mail"
    for n, f in enumerate(files):
        folder = box / ".Sent" if "_sent_mail" in f.parts else box
        (folder / "cur").mkdir(parents=True, exist_ok=True)
        shutil.copy(f, folder / "cur" / f"{n}.c:2,S")
    mbox_blocks = [parse_header_block(b) for f in sorted((CORPUS / "mbox").glob("*.mbox")) for _, b in iter_messages(f)]
    headers = [_headers(f) for f in files] + mbox_blocks
    me = Me(sorted({a for h in headers for field in ("to", "cc") for _, a in parse_address_list(h.get(field))}
                   | {"phillip.allen@enron.com", "john.arnold@enron.com"}))
    noise = set()
    for f, h in zip(files, headers):
        is_spam = "spam" in f.parts
        if is_spam or h.get("list-id") or h.get("list-post") or h.get("precedence", "").lower() in ("bulk", "list"):
            noise |= {merge_key(a) for _, a in parse_address_list(h.get("from"))}
    for h in mbox_blocks:  # list archives: every poster was posting to a list
        noise |= {merge_key(a) for _, a in parse_address_list(h.get("from"))}
    noise -= {merge_key(a) for a in me.addresses}
    assert len(noise) > 30  # 44 distinct list, spam and bulk senders in this corpus

    items = []
    for conn in (MaildirConnector("corpus", box), MboxConnector("lists", CORPUS / "mbox")):
        listing = conn.list()
        for r in conn.get_multi(list(listing.items)):
            if r.kind == "mail":
                items.extend(infer_mail(r, me, conn.name).interactions)
    report = analyse(items, me, timezone.utc, datetime(2030, 1, 1, tzinfo=timezone.utc), window_days=365 * 40)
    contacts = {merge_key(e) for c in report.contacts for e in c.emails}
    assert not contacts & noise, sorted(contacts & noise)
