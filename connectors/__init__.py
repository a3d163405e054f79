"""Source connectors: they read metadata from somewhere and return it; they never write the store."""

from __future__ import annotations

from connectors.base import Connector


def build(source) -> Connector:  # source: daemon.config.SourceConfig
    """The connector for one configured source."""
    if source.type == "maildir":
        from connectors.maildir import MaildirConnector

        return MaildirConnector(source.name, source.path)
    if source.type == "mbox":
        from connectors.mbox import MboxConnector

        return MboxConnector(source.name, source.path)
    if source.type == "ics":
        from connectors.ics import IcsConnector

        return IcsConnector(source.name, path=source.path, url=source.url)
    if source.type == "imap":
        from connectors.imap import ImapConnector
        from daemon.secrets import get_password

        password = get_password(source.name, source.username, source.password_command)
        return ImapConnector(source.name, source.host, source.port, source.tls, source.username, password,
                             source.folders, source.ca_file)
    if source.type == "caldav":
        from connectors.caldav import CalDavConnector
        from daemon.secrets import get_password

        password = get_password(source.name, source.username, source.password_command) if source.username else None
        return CalDavConnector(source.name, source.url, source.username, password, source.calendars, source.ca_file)
    raise ValueError(f"unknown source type {source.type!r}")
