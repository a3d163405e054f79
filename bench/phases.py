"""Where a first Maildir sync's time goes, measured inside ``sync_source`` itself.

Shared by bench/scale.py and bench/realmail.py. Nothing is imported from ``daemon`` or
``connectors`` until the function runs, so bench/realmail.py can time another tree's code (the one
its Python imports) with this file.
"""

from __future__ import annotations

import inspect
import time
from pathlib import Path


def timed_first_sync(maildir: Path, me: list[str], db: Path, source: str = "bench") -> tuple[int, dict[str, float]]:
    """A first sync of ``maildir`` into a new store at ``db``, with the connector's listing and
    reading and the inference timed as they run; the rest is storing (and the sync's bookkeeping).
    Read in one process, so the parts are CPU per message; a real sync reads on every core.
    Returns the records fetched and the seconds of each part."""
    from connectors.maildir import MaildirConnector
    from daemon.identity import Me
    from daemon.ingest import sync_source
    from daemon.pipeline import mail_deriver
    from daemon.store import Store

    seconds = dict.fromkeys(("list", "read and parse", "infer"), 0.0)

    class Timed(MaildirConnector):
        def list(self):
            t = time.perf_counter()
            listing = super().list()
            seconds["list"] += time.perf_counter() - t
            return listing

        def get_multi(self, idents):
            records = super().get_multi(idents)
            while True:
                t = time.perf_counter()
                record = next(records, None)
                seconds["read and parse"] += time.perf_counter() - t
                if record is None:
                    return
                yield record

    deriver = mail_deriver(Me(me))

    def timed_deriver(source_name, record):
        t = time.perf_counter()
        derived = deriver(source_name, record)
        seconds["infer"] += time.perf_counter() - t
        return derived

    store = Store(db)
    t = time.perf_counter()
    # in this process (workers=1, in trees that have workers): the parts are timed here, and a
    # worker's clock would not be
    one = {"workers": 1} if "workers" in inspect.signature(sync_source).parameters else {}
    result = sync_source(store, Timed(source, maildir), "maildir", derive=timed_deriver, **one)
    seconds["store and the rest"] = time.perf_counter() - t - sum(seconds.values())
    store.close()
    return result.fetched, seconds
