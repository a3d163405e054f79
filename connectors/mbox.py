"""mbox files: one file, or a folder of them.

Each file is scanned once, as bytes (``mailbox.mbox`` is slow and fails on a non-ASCII envelope
"From " line). A message starts at a "From " line at the start of the file or after an empty line.

IDENT  "<file>:<hash of the header block>" (plus "#n" when one file repeats a header block), so
       appending to or rewriting a file leaves the other messages' idents as they were.
ETAG   the header hash.  CURSOR  every file's size and mtime.  SCOPE  the file.
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path

from connectors.base import Connector
from connectors.files import find_files, stat_cursor
from connectors.maildir import folder_is_sent, mail_record
from connectors.mailparse import HEADER_LIMIT, header_hash, read_header_block
from daemon.models import Delta, Item, Listing, RawRecord

log = logging.getLogger(__name__)
_READ = 1 << 20


def iter_messages(path: Path) -> Iterator[tuple[int, bytes]]:
    """(offset, header block) for each message in an mbox file, reading it once."""
    with open(path, "rb") as fh:
        offset = 0
        previous_blank = True
        in_header = False
        header: list[bytes] = []
        header_size = 0
        start = 0
        for line in fh:
            if previous_blank and line.startswith(b"From "):
                if in_header or header:
                    yield start, b"".join(header)
                start, header, header_size, in_header = offset, [], 0, True
            elif in_header:
                if line in (b"\n", b"\r\n"):
                    in_header = False
                elif header_size < HEADER_LIMIT:
                    header.append(line[: HEADER_LIMIT - header_size])
                    header_size += len(header[-1])
            previous_blank = line in (b"\n", b"\r\n")
            offset += len(line)
        if in_header or header:
            yield start, b"".join(header)


class MboxConnector(Connector):
    parallel_reads = True

    def __init__(self, name: str, path: Path) -> None:
        super().__init__(name)
        self.path = Path(path)
        self._offsets: dict[str, int] = {}  # ident -> where its message starts (its file is in the ident)

    def files(self) -> dict[str, Path]:
        return find_files(self.name, self.path, _looks_like_mbox)

    def probe(self) -> str:
        return f"{len(self.files())} mbox file(s) to read"

    def cursor_now(self) -> str | None:
        return stat_cursor(self.files())

    def changes_since(self, cursor: str) -> Delta | None:
        return Delta([], [], cursor) if self.cursor_now() == cursor else None

    def list(self) -> Listing:
        items: dict[str, Item] = {}
        unreadable = set()
        self._offsets = {}
        for rel, p in self.files().items():
            try:
                for offset, block in iter_messages(p):
                    h = header_hash(block)
                    ident = f"{rel}:{h}"
                    n = 1
                    while ident in items:
                        n += 1
                        ident = f"{rel}:{h}#{n}"
                    items[ident] = Item(ident, h, rel)
                    self._offsets[ident] = offset
            except OSError as e:
                log.warning("source %s: skipped unreadable mbox file %s: %s", self.name, rel, e.strerror)
                unreadable.add(rel)
        return Listing(items, frozenset(unreadable))

    def _places(self, idents: Sequence[str]) -> dict[str, Sequence[tuple[int, str]]]:
        """file -> (offset, ident) of each message named, files in the order first named, each
        file's messages in the order they are in it (one pass over each file)."""
        if not self._offsets:
            self.list()
        wanted: dict[str, builtins.list[tuple[int, str]]] = {}
        for ident in idents:
            if ident in self._offsets:
                rel = ident.rsplit(":", 1)[0]  # "<file>:<hash>[#n]"; the hash has no colon
                wanted.setdefault(rel, []).append((self._offsets[ident], ident))
        return {rel: sorted(places) for rel, places in wanted.items()}

    def read_order(self, idents: Sequence[str]) -> Sequence[str]:
        return [ident for places in self._places(idents).values() for _, ident in places]

    def get_multi(self, idents: Sequence[str]) -> Iterator[RawRecord]:
        wanted = self._places(idents)
        files = self.files()
        for rel, places in wanted.items():
            sent = folder_is_sent(Path(rel).stem, "/")
            try:
                with open(files[rel], "rb") as fh:
                    for offset, ident in places:
                        fh.seek(offset)
                        fh.readline()  # the envelope "From " line
                        block = read_header_block(fh)
                        yield mail_record(ident, header_hash(block), rel, block, sent=sent)
            except (OSError, KeyError) as e:
                log.warning("source %s: mbox file %s changed while reading (%s); it is read again next time",
                            self.name, rel, e)


def _looks_like_mbox(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(5) == b"From "
    except OSError:
        return False
