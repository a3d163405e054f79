"""IMAP (RFC 3501) through imapclient: header fields only, never bodies, never marking mail read.

Folders come from the server (LIST with its own separator and SPECIAL-USE flags, RFC 6154). Trash,
Junk, Drafts and Gmail's "All Mail" (which repeats every other folder) are skipped, as are
folders that cannot be selected. Every folder is opened read-only (EXAMINE) and headers are
fetched with BODY.PEEK[HEADER.FIELDS (...)] in batches, so \\Seen is never set.

IDENT  "<folder>/<UIDVALIDITY>/<UID>". A message's headers never change (RFC 3501: a UID names one
       immutable message), so the ETAG is constant and the UID diff finds new and expunged mail.
       When the server renumbers a folder (a new UIDVALIDITY), every ident of that folder changes;
       the sync replaces the old records in one pass, so no interaction is counted twice.
CURSOR every folder's UIDVALIDITY, UIDNEXT and MESSAGES (and HIGHESTMODSEQ where CONDSTORE is
       offered), from one STATUS per folder: an unchanged mailbox costs a STATUS round trip per
       folder and nothing else. When a folder changed, new mail is what lies from the old UIDNEXT
       on, and expunged mail is what QRESYNC reports VANISHED since the old HIGHESTMODSEQ; flag
       changes (which move only HIGHESTMODSEQ) fetch nothing, since headers are immutable.
"""

from __future__ import annotations

import json
import logging
import re
import ssl
from collections.abc import Iterator, Sequence
from pathlib import Path

import imapclient
from imapclient.exceptions import IMAPClientError, LoginError

from connectors import neterror
from connectors.base import Connector
from connectors.maildir import folder_is_sent, folder_is_skipped, mail_record
from connectors.mailparse import FETCHED_HEADERS
from daemon.errors import AuthError, SourceError
from daemon.models import Delta, Item, Listing, RawRecord

log = logging.getLogger(__name__)

FIELDS = " ".join(FETCHED_HEADERS).upper()
FETCH = f"BODY.PEEK[HEADER.FIELDS ({FIELDS})]".encode()
FETCHED = f"BODY[HEADER.FIELDS ({FIELDS})]".encode()
BATCH = 500
TIMEOUT = 60
_UID = re.compile(rb"\bUID (\d+)")
_SKIP_FLAGS = {b"\\Trash", b"\\Junk", b"\\Drafts", b"\\All", b"\\Noselect", b"\\NonExistent"}


class ImapConnector(Connector):
    def __init__(self, name: str, host: str, port: int, tls: str, username: str, password: str,
                 folders: tuple[str, ...] | None = None, ca_file: Path | None = None) -> None:
        super().__init__(name)
        self.host, self.port, self.tls, self.username = host, port, tls, username
        self._password = password
        self.wanted = folders
        self.ca_file = ca_file
        self._client: imapclient.IMAPClient | None = None
        self._folders: dict[str, bool] | None = None  # folder -> is a Sent folder
        self._qresync = False

    # -- connection ---------------------------------------------------------------------------------
    def _context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context()  # verifies the certificate and the host name
        if self.ca_file:
            ctx.load_verify_locations(cafile=str(self.ca_file))
        return ctx

    def client(self) -> imapclient.IMAPClient:
        if self._client is not None:
            return self._client
        where = f"{self.host}:{self.port}"
        try:
            c = imapclient.IMAPClient(self.host, port=self.port, ssl=self.tls == "ssl",
                                      ssl_context=self._context() if self.tls == "ssl" else None, timeout=TIMEOUT)
            if self.tls == "starttls":
                c.starttls(self._context())
            c.login(self.username, self._password)
            # QRESYNC (RFC 7162) must be enabled before any SELECT; it lets the fast path learn
            # which messages were expunged without listing every UID.
            self._qresync = c.has_capability("QRESYNC") and _enabled(c, "QRESYNC")
        except LoginError:
            raise AuthError(self.name, f"{where} refused the username or password",
                            f"store the right one with `tiekeeper auth password {self.name}` or fix password_command") from None
        except (ssl.SSLError, OSError, TimeoutError, IMAPClientError) as e:
            clean = neterror.describe(e, where, f"sources.{self.name}.ca_file", f"sources.{self.name}.host, port and tls")
            if clean:
                raise SourceError(self.name, clean[0], f"{clean[1]}; retried on the next sync") from None
            raise SourceError(self.name, f"cannot talk to {where}: {_first_line(e)}",
                              "check host, port and tls; retried later") from None
        self._client = c
        return c

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.logout()
            except (IMAPClientError, OSError):
                pass
            self._client = None

    def _call(self, what: str, fn, *args, **kwargs):
        """Run one IMAP command, turning a dropped connection or a protocol error into SourceError."""
        try:
            return fn(*args, **kwargs)
        except (TimeoutError, IMAPClientError, OSError, ssl.SSLError) as e:
            self._client = None
            clean = neterror.describe(e, f"{self.host}:{self.port}", f"sources.{self.name}.ca_file",
                                      f"sources.{self.name}.host, port and tls")
            raise SourceError(self.name, f"{what} failed: {clean[0] if clean else _first_line(e)}",
                              "the connection is retried on the next sync; what was stored is kept") from None

    # -- folders ------------------------------------------------------------------------------------
    def folders(self) -> dict[str, bool]:
        if self._folders is not None:
            return self._folders
        c = self.client()
        found: dict[str, bool] = {}
        for flags, delimiter, name in self._call("LIST", c.list_folders):
            sep = delimiter.decode() if isinstance(delimiter, bytes) else (delimiter or "/")
            if self.wanted is not None:
                if name in self.wanted:
                    found[name] = b"\\Sent" in flags or folder_is_sent(name, sep)
                continue
            if set(flags) & _SKIP_FLAGS or folder_is_skipped(name, sep):
                continue
            found[name] = b"\\Sent" in flags or folder_is_sent(name, sep)
        if self.wanted is not None:
            missing = sorted(set(self.wanted) - set(found))
            if missing:
                raise SourceError(self.name, f"no folder named {', '.join(missing)} on the server",
                                  f"folders there: {', '.join(n for _, _, n in c.list_folders())}")
        self._folders = found
        return found

    def probe(self) -> str:
        return f"logged in to {self.host}:{self.port}, {len(self.folders())} folder(s) to read"

    def cursor_now(self) -> str | None:
        c = self.client()
        items = [b"UIDVALIDITY", b"UIDNEXT", b"MESSAGES"]
        if c.has_capability("CONDSTORE"):
            items.append(b"HIGHESTMODSEQ")
        state = {}
        for folder in self.folders():
            st = self._call(f"STATUS {folder}", c.folder_status, folder, items)
            state[folder] = {k.decode(): v for k, v in st.items()}
        return json.dumps(state, sort_keys=True)

    def changes_since(self, cursor: str) -> Delta | None:
        """What changed, folder by folder, without listing every UID: new mail is everything from
        the stored UIDNEXT on (one UID SEARCH per folder that grew); expunged mail comes from
        QRESYNC's VANISHED (RFC 7162) since the stored HIGHESTMODSEQ. A folder that is new, gone
        or renumbered, expunges on a server without QRESYNC, or counts that do not add up, fall
        back to the full listing (None)."""
        now_text = self.cursor_now()
        if now_text == cursor:
            return Delta([], [], cursor)
        if now_text is None:
            return None
        try:
            old, now = json.loads(cursor), json.loads(now_text)
        except ValueError:
            return None
        if not isinstance(old, dict) or not isinstance(now, dict) or set(old) != set(now):
            return None
        upserts: list[RawRecord] = []
        vanished: list[str] = []
        for folder, st in now.items():
            was = old[folder]
            if st == was:
                continue
            change = self._folder_change(folder, was, st)
            if change is None:
                return None
            new_uids, gone_uids = change
            # _folder_change left the folder selected: fetch the new mail now, not after another EXAMINE
            upserts += self._records(self.client(), folder, st["UIDVALIDITY"], new_uids) if new_uids else []
            vanished += [f"{folder}/{st['UIDVALIDITY']}/{u}" for u in gone_uids]
        return Delta(upserts, vanished, now_text)

    def _folder_change(self, folder: str, was: dict, st: dict) -> tuple[list[int], list[int]] | None:
        """(UIDs added, UIDs expunged) of one folder between two STATUS answers, or None."""
        keys = ("UIDVALIDITY", "UIDNEXT", "MESSAGES")
        if any(not isinstance(was.get(k), int) for k in keys) or was["UIDVALIDITY"] != st["UIDVALIDITY"]:
            return None
        c = self.client()
        info = self._call(f"EXAMINE {folder}", c.select_folder, folder, readonly=True)
        if info[b"UIDVALIDITY"] != st["UIDVALIDITY"]:
            return None
        start, end = was["UIDNEXT"], st["UIDNEXT"]
        # "n:*" always matches the highest UID, even below n (RFC 3501 6.4.8): filter.
        added = [u for u in self._call(f"SEARCH {folder}", c.search, ["UID", f"{start}:*"]) if start <= u < end]
        expunged = was["MESSAGES"] + len(added) - st["MESSAGES"]
        if expunged < 0:
            return None  # mail came or went between STATUS and SEARCH: list afresh
        if expunged == 0:
            return added, []
        gone = self._vanished(folder, start, was.get("HIGHESTMODSEQ"))
        if gone is None or len(gone) < expunged:
            return None
        return added, gone

    def _vanished(self, folder: str, uidnext: int, modseq: int | None) -> list[int] | None:
        """UIDs below ``uidnext`` expunged since ``modseq`` (QRESYNC: UID FETCH ... (CHANGEDSINCE
        modseq VANISHED), answered by "* VANISHED (EARLIER) uid-set"), or None without QRESYNC."""
        if not self._qresync or not isinstance(modseq, int) or uidnext <= 1:
            return None
        imap = self.client()._imap
        imap.untagged_responses.pop("VANISHED", None)
        typ, _ = self._call(f"FETCH {folder}", imap.uid, "FETCH", f"1:{uidnext - 1}", "(UID)",
                            f"(CHANGEDSINCE {modseq} VANISHED)")
        if typ != "OK":
            return None
        gone: list[int] = []
        try:
            for line in imap.untagged_responses.pop("VANISHED", []):
                text = line.decode("ascii", "replace").replace("(EARLIER)", "").strip()
                gone += [u for u in _parse_uid_set(text) if u < uidnext]
        except ValueError:
            return None  # not a UID set: list afresh
        return gone

    def list(self) -> Listing:
        c = self.client()
        items: dict[str, Item] = {}
        for folder in self.folders():
            info = self._call(f"EXAMINE {folder}", c.select_folder, folder, readonly=True)
            validity = info[b"UIDVALIDITY"]
            for uid in self._call(f"SEARCH {folder}", c.search, "ALL"):
                ident = f"{folder}/{validity}/{uid}"
                items[ident] = Item(ident, "1", folder)
        return Listing(items)

    def get_multi(self, idents: Sequence[str]) -> Iterator[RawRecord]:
        c = self.client()
        by_folder: dict[tuple[str, int], list[int]] = {}
        for ident in idents:
            folder, validity_text, uid = ident.rsplit("/", 2)
            by_folder.setdefault((folder, int(validity_text)), []).append(int(uid))
        for (folder, validity), uids in by_folder.items():
            info = self._call(f"EXAMINE {folder}", c.select_folder, folder, readonly=True)
            if info[b"UIDVALIDITY"] != validity:
                continue  # renumbered since listing: the next sync lists it afresh
            yield from self._records(c, folder, validity, uids)

    def _records(self, c: imapclient.IMAPClient, folder: str, validity: int, uids: Sequence[int]) -> Iterator[RawRecord]:
        """The messages ``uids`` of ``folder``, which must be the selected folder, in batches."""
        sent = self.folders().get(folder, False)
        for start in range(0, len(uids), BATCH):
            for uid, block in self._header_blocks(c, folder, uids[start:start + BATCH]):
                yield mail_record(f"{folder}/{validity}/{uid}", "1", folder, block, sent=sent)

    def _header_blocks(self, c: imapclient.IMAPClient, folder: str, uids: Sequence[int]) -> Iterator[tuple[int, bytes]]:
        """(UID, header block) for each message of the selected folder.

        imapclient's general response parser took about 45 % of the client's time in a full sync
        (a profile of bench/imap.py), so this one command goes through the imaplib connection
        under it (``_imap``). Its answer has a fixed shape (RFC 3501 7.4.2): per message one
        literal, the header block, with the UID before or after it. A message answered in any other
        shape (a quoted string instead of a literal, say) is fetched again through imapclient's
        parser, so an odd server costs speed, never a message.
        """
        typ, data = self._call(f"FETCH {folder}", c._imap.uid, "FETCH", _uid_set(uids), f"({FETCH.decode()})")
        if typ != "OK":
            raise SourceError(self.name, f"FETCH {folder} failed: {typ} {(data or [b''])[0]!r}",
                              "retried on the next sync; what was stored is kept")
        found = parse_header_fetch(data or [], set(uids))
        yield from found.items()
        rest = [u for u in uids if u not in found]
        if rest:
            for uid, item in self._call(f"FETCH {folder}", c.fetch, rest, [FETCH]).items():
                yield uid, item.get(FETCHED) or item.get(FETCH) or b""


def _enabled(c: imapclient.IMAPClient, capability: str) -> bool:
    """ENABLE an extension (RFC 5161); a server that refuses it just goes without."""
    try:
        return capability.encode() in (c.enable(capability) or [])
    except IMAPClientError:
        log.debug("the server refused ENABLE %s", capability)
        return False


def parse_header_fetch(data: list, wanted: set[int]) -> dict[int, bytes]:
    """UID -> header block from imaplib's FETCH data: (text before the literal, literal) tuples,
    each followed by the text after its literal, where the UID may stand instead. Unsolicited
    FETCH responses (flag changes of other messages) carry no literal and are passed over."""
    found: dict[int, bytes] = {}
    literal: bytes | None = None  # a literal whose UID may come after it
    for part in data:
        if isinstance(part, tuple):
            m = _UID.search(part[0])
            literal = None if m else part[1]
            if m and int(m[1]) in wanted:
                found[int(m[1])] = part[1]
        elif literal is not None:
            m = _UID.search(part or b"")
            if m and int(m[1]) in wanted:
                found[int(m[1])] = literal
            literal = None
    return found


def _parse_uid_set(text: str, limit: int = 10_000_000) -> list[int]:
    """An IMAP UID set ("41,43:116") as a list; a range wider than ``limit`` is refused (empty)."""
    out: list[int] = []
    for part in filter(None, text.split(",")):
        lo, _, hi = part.partition(":")
        a, b = sorted((int(lo), int(hi or lo)))
        if b - a > limit:
            return []
        out.extend(range(a, b + 1))
    return out


def _uid_set(uids: Sequence[int]) -> str:
    """An IMAP sequence set with runs folded into ranges: 1,2,3,7 -> "1:3,7"."""
    out, ordered = [], sorted(uids)
    start = prev = ordered[0]
    for u in ordered[1:]:
        if u != prev + 1:
            out.append(f"{start}:{prev}" if prev != start else str(start))
            start = u
        prev = u
    out.append(f"{start}:{prev}" if prev != start else str(start))
    return ",".join(out)


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0][:200] if text else type(e).__name__
