"""The local SQLite store."""

from daemon.store.db import SourceState, Store

__all__ = ["Store", "SourceState"]
