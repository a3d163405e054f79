"""Maildir and Maildir++ folders on disk.

The root is INBOX; Maildir++ subfolders (".Sent", ".Lists.Python") and plain nested Maildirs
("Sent/cur") are found by walking. Trash, Junk/Spam and Drafts are skipped: none of them is a
conversation that happened.

IDENT  "<folder>/<key>": the file name up to its ":2," flags, so reading a message (a rename that
       changes the flags) is not a change.  ETAG  size, mtime (ns) and inode.  CURSOR  every folder's cur/ and
       new/ mtimes: a delivery, deletion or rename changes them, so an unchanged mailbox costs one
       stat per folder.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from connectors.base import Connector
from connectors.mailparse import header_hash, parse_header_block, read_header_fd
from daemon.errors import SourceError
from daemon.models import MAIL, Delta, Item, Listing, RawRecord

log = logging.getLogger(__name__)

SKIPPED_FOLDERS = frozenset(
    {"trash", "junk", "spam", "drafts", "deleted items", "deleted messages", "bulk mail", "junk e-mail"}
)
SENT_FOLDERS = frozenset({"sent", "sent items", "sent messages", "sent mail", "gesendet", "envoyés"})
# mtimes this close to now may still change within the same clock tick: do not trust them
_SETTLE_SECONDS = 2.0


def folder_is_skipped(folder: str, separator: str = ".") -> bool:
    return folder.rsplit(separator, 1)[-1].strip().lower() in SKIPPED_FOLDERS


def folder_is_sent(folder: str, separator: str = ".") -> bool:
    return folder.rsplit(separator, 1)[-1].strip().lower() in SENT_FOLDERS


def _is_maildir(path: Path) -> bool:
    return (path / "cur").is_dir() or (path / "new").is_dir()


def _etag(st: os.stat_result) -> str:
    """Size, mtime to the nanosecond, and inode: a message rewritten in place within the same
    second (tools that edit headers do this) is still seen; a move from new/ to cur/ or a flag
    change is a rename and keeps all three."""
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"


def _key(filename: str) -> str:
    for sep in (":2,", "!2,"):
        if sep in filename:
            return filename.split(sep, 1)[0]
    return filename


def _still_folders(old: str, new: str) -> frozenset[str]:
    """Folders whose cur/ and new/ mtimes are the same in two cursors (see cursor_now)."""
    try:
        before, now = json.loads(old), json.loads(new)
    except ValueError:
        return frozenset()
    if not isinstance(before, dict):
        return frozenset()
    folders = {key.rsplit("/", 1)[0] for key in now}
    return frozenset(f for f in folders
                     if all(before.get(f"{f}/{sub}") == now.get(f"{f}/{sub}") for sub in ("cur", "new"))
                     and any(f"{f}/{sub}" in before for sub in ("cur", "new")))


class MaildirConnector(Connector):
    parallel_reads = True

    def __init__(self, name: str, root: Path) -> None:
        super().__init__(name)
        self.root = Path(root)
        self._where: dict[str, str] = {}  # ident -> "cur/:2,S": its sub-folder and the flags after its key
        self._dirs: dict[str, str] = {}  # folder -> its directory
        self._unchanged: frozenset[str] = frozenset()  # folders changes_since found standing still

    # -- discovery ----------------------------------------------------------------------------
    def folders(self) -> dict[str, Path]:
        """Folder name -> directory, for every Maildir under the root that is not skipped."""
        if not self.root.is_dir():
            raise SourceError(self.name, f"{self.root} is not a folder", f"check sources.{self.name}.path")
        found: dict[str, Path] = {}
        if _is_maildir(self.root):
            found["INBOX"] = self.root
        for dirpath, dirnames, _ in os.walk(self.root):
            dirnames[:] = sorted(d for d in dirnames if d not in ("cur", "new", "tmp"))
            for d in dirnames:
                p = Path(dirpath) / d
                if not _is_maildir(p):
                    continue
                rel = p.relative_to(self.root).as_posix()
                folder = rel[1:] if rel.startswith(".") and "/" not in rel else rel.replace("/", ".")
                if not folder_is_skipped(folder):
                    found[folder] = p
        return found

    # -- the interface --------------------------------------------------------------------------
    def probe(self) -> str:
        return f"{len(self.folders())} folder(s) to read"

    def cursor_now(self) -> str | None:
        state = {}
        now = time.time()
        for folder, path in self.folders().items():
            for sub in ("cur", "new"):
                try:
                    mtime = (path / sub).stat().st_mtime_ns
                except FileNotFoundError:
                    continue
                if now - mtime / 1e9 < _SETTLE_SECONDS:
                    return None  # too fresh to be trusted as a summary
                state[f"{folder}/{sub}"] = mtime
        return json.dumps(state, sort_keys=True)

    def changes_since(self, cursor: str) -> Delta | None:
        """Nothing to do when no folder's cur/ or new/ moved. Otherwise None, and the listing that
        follows reads only the folders that moved: a folder whose mtimes stand has had no message
        added, removed or renamed, so its stored records stand too."""
        current = self.cursor_now()
        if current is not None and current == cursor:
            return Delta([], [], cursor)
        self._unchanged = _still_folders(cursor, current) if current is not None else frozenset()
        return None

    def list(self) -> Listing:
        items: dict[str, Item] = {}
        self._where = {}
        unreadable = set()
        skipped, self._unchanged = self._unchanged, frozenset()  # good for the listing right after
        folders = self.folders()
        self._dirs = {folder: str(path) for folder, path in folders.items()}
        for folder, path in folders.items():
            if folder in skipped:
                continue
            for sub in ("new", "cur"):
                try:
                    entries = os.scandir(path / sub)  # iterated, not listed: a folder of 650k holds no list of them
                except FileNotFoundError:
                    continue
                except OSError as e:
                    log.warning("source %s: cannot read folder %s: %s", self.name, folder, e.strerror)
                    unreadable.add(folder)
                    continue
                try:
                    with entries:
                        for entry in entries:
                            if entry.name.startswith("."):
                                continue
                            try:
                                st = entry.stat()
                            except FileNotFoundError:
                                continue  # moved between listing and stat: the next sync sees it
                            key = _key(entry.name)
                            ident = f"{folder}/{key}"
                            items[ident] = Item(ident, _etag(st), folder)
                            # where the file is: its sub-folder and the flags after its key (a few
                            # strings shared by all messages), not a path string per message
                            self._where[ident] = sys.intern(f"{sub}/{entry.name[len(key):]}")
                except OSError as e:  # failed halfway through the folder: keep what is stored of it
                    log.warning("source %s: cannot read folder %s: %s", self.name, folder, e.strerror)
                    unreadable.add(folder)
        return Listing(items, frozenset(unreadable), unchanged=skipped & set(folders))

    def _path(self, ident: str) -> str | None:
        where = self._where.get(ident)
        if where is None:
            return None
        folder, key = ident.rsplit("/", 1)
        sub, flags = where.split("/", 1)
        return os.path.join(self._dirs[folder], sub, key + flags)

    def get_multi(self, idents: Sequence[str]) -> Iterator[RawRecord]:
        if not self._where:
            self.list()
        for ident in idents:
            path = self._path(ident)
            if path is None:
                continue
            folder = ident.rsplit("/", 1)[0]
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
                try:
                    st = os.fstat(fd)  # the file read, not a second lookup of its path
                    block = read_header_fd(fd)
                finally:
                    os.close(fd)
            except FileNotFoundError:
                continue
            except OSError as e:
                log.warning("source %s: skipped unreadable message in %s: %s", self.name, folder, e.strerror)
                continue
            etag = _etag(st)
            yield mail_record(ident, etag, folder, block, sent=folder_is_sent(folder))


def mail_record(ident: str, etag: str, folder: str, block: bytes, sent: bool = False,
                labels: tuple[str, ...] = ()) -> RawRecord:
    """A mail RawRecord from a header block; kind "bad" when it has no usable header at all."""
    fields = parse_header_block(block)
    if not fields.get("from") and not fields.get("to"):
        return RawRecord(ident, etag, "bad", {"error": "no From or To header", "hash": header_hash(block)}, folder)
    fields["folder"] = folder
    if sent:
        fields["sent_folder"] = "1"
    if labels:
        fields["labels"] = ",".join(labels)
    return RawRecord(ident, etag, MAIL, fields, folder)
