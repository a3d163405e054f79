#!/usr/bin/python3
"""Validate an .ics with libical (the C library behind GNOME/Evolution), as its own tools do.
Adapted from shared/recipes/libical-check.py. Needs Debian's `python3-gi gir1.2-ical-3.0` and runs
with the system /usr/bin/python3 (the GObject bindings are not in a venv).
Usage: libical_check.py FILE.ics -> prints each problem libical reports; exit 1 if any, 3 if libical
is missing. `restriction_check()` applies RFC 5546's iTIP rules when the calendar has a METHOD."""
import sys

try:
    import gi

    gi.require_version("ICalGLib", "3.0")
    from gi.repository import ICalGLib
except (ImportError, ValueError) as e:
    print(f"libical is not available: {e}")
    sys.exit(3)

comp = ICalGLib.Component.new_from_string(open(sys.argv[1], encoding="utf-8").read())
if comp is None:
    print("libical could not parse the file")
    sys.exit(1)
ICalGLib.restriction_check(comp)
problems = []


def walk(c):
    p = c.get_first_property(ICalGLib.PropertyKind.XLICERROR_PROPERTY)
    while p is not None:
        problems.append(f"{c.isa()}: {p.get_xlicerror()}")
        p = c.get_next_property(ICalGLib.PropertyKind.XLICERROR_PROPERTY)
    sub = c.get_first_component(ICalGLib.ComponentKind.ANY_COMPONENT)
    while sub is not None:
        walk(sub)
        sub = c.get_next_component(ICalGLib.ComponentKind.ANY_COMPONENT)


walk(comp)
for line in problems:
    print(line)
sys.exit(1 if problems else 0)
