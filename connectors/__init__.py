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
    if source.type == "gmail":
        from connectors import google_api
        from connectors.gmail import GmailConnector

        per_second = (source.quota_units_per_minute / 60 if source.quota_units_per_minute
                      else google_api.QUOTA_PRESETS[source.quota])
        return GmailConnector(source.name, source.account, source.token_file, source.api_endpoint,
                              google_api.Quota(per_second, google_api.GMAIL_COSTS))
    if source.type == "google_calendar":
        from connectors.google_calendar import GoogleCalendarConnector

        return GoogleCalendarConnector(source.name, source.account, source.calendars or ("primary",),
                                       source.token_file, source.api_endpoint)
    raise ValueError(f"unknown source type {source.type!r}")


def followup_target(config):  # config: daemon.config.Config
    """Where follow-ups are pushed besides the file: a CalDAV or Google calendar of their own, or None."""
    f = config.followups
    if f.caldav:
        from connectors.caldav_publish import CalDavFollowups

        return CalDavFollowups(build(config.source(f.caldav)), f.calendar)
    if f.google:
        from connectors import google_api
        from connectors.google_calendar import GoogleCalendarConnector
        from connectors.google_publish import GoogleFollowups

        s = config.source(f.google)
        return GoogleFollowups(GoogleCalendarConnector(s.name, s.account, ("primary",), s.token_file, s.api_endpoint,
                                                       scopes=(google_api.CALENDAR_READ_SCOPE,
                                                               google_api.CALENDAR_WRITE_SCOPE)), f.calendar)
    return None
