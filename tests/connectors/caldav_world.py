"""Helpers that put events into the test Radicale through CalDAV itself."""

from __future__ import annotations

import caldav

from connectors.caldav import CalDavConnector


def client(server) -> caldav.DAVClient:
    return caldav.DAVClient(url=server.url, username=server.user, password=server.password)


def reset(server, names: tuple[str, ...] = ("Personal",)) -> dict[str, caldav.Calendar]:
    principal = client(server).principal()
    for cal in principal.calendars():
        cal.delete()
    return {n: principal.make_calendar(name=n, cal_id=n.lower()) for n in names}


def connector(server, name: str = "src", **kwargs) -> CalDavConnector:
    return CalDavConnector(name, server.url, server.user, kwargs.pop("password", server.password), **kwargs)


def load_sample_calendar(cal: caldav.Calendar) -> None:
    """The bundled sample calendar, one calendar object resource per event, as a CalDAV client stores it."""
    from icalendar import Calendar

    from tests.helpers import REPO

    source = Calendar.from_ical((REPO / "sample" / "calendar.ics").read_bytes())
    for ev in source.walk("VEVENT"):
        one = Calendar()
        one.add("VERSION", "2.0")
        one.add("PRODID", "-//test//EN")
        one.add_component(ev)
        cal.save_event(one.to_ical().decode())
