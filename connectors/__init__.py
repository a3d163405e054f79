"""Source connectors: they read metadata from somewhere and return it; they never write the store.

Which connector a source gets, and everything else that depends on its type, is in
``connectors.registry``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.base import Connector, FollowupCalendar

if TYPE_CHECKING:
    from connectors.registry import SourceConfig
    from daemon.config import Config


def build(source: SourceConfig) -> Connector:
    """The connector for one configured source."""
    return source.connector()


def followup_target(config: Config) -> FollowupCalendar | None:
    """Where follow-ups are pushed besides the file: a CalDAV or Google calendar of their own, or None."""
    f = config.followups
    name = f.caldav or f.google
    return config.source(name).followups(f.calendar) if name else None
