"""Local calendar fields (day, hour, weekday, month) of epoch seconds in one time zone, fast.

``datetime.fromtimestamp(ts, zone)`` costs about a microsecond and analysis needs it several times
per interaction. A zone's UTC offset only changes at its transitions, and every transition in the
IANA database falls on a quarter hour of UTC (offsets are whole quarter hours, and clocks change on
the local hour or half hour), so the offset is looked up once per quarter hour of time and the
rest is arithmetic. Like ``datetime``, it is exact for timestamps with microsecond precision.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from collections.abc import Iterable
from functools import lru_cache

_QUARTER = 900
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


class LocalClock:
    def __init__(self, zone: tzinfo) -> None:
        self.zone = zone
        self._offsets: dict[int, int] = {}
        self._months: dict[int, str] = {}

    def _offset(self, bucket: int) -> int:
        delta = datetime.fromtimestamp(bucket * _QUARTER, self.zone).utcoffset()
        off = self._offsets[bucket] = int(delta.total_seconds()) if delta else 0
        return off

    def local(self, ts: float) -> float:
        """Seconds since the epoch on the local wall clock."""
        bucket = int(ts // _QUARTER)
        off = self._offsets.get(bucket)
        return ts + (self._offset(bucket) if off is None else off)

    def days(self, stamps: Iterable[float]) -> list[int]:
        """``day`` of many stamps at once (the hot loop of analysis)."""
        offsets, out = self._offsets, []
        for ts in stamps:
            bucket = int(ts // _QUARTER)
            off = offsets.get(bucket)
            out.append(int((ts + (self._offset(bucket) if off is None else off)) // 86400))
        return out

    def day(self, ts: float) -> int:
        """The local date as days since 1970-01-01."""
        return int(self.local(ts) // 86400)

    def hour(self, ts: float) -> int:
        return int(self.local(ts) % 86400 // 3600)

    @staticmethod
    def weekday(day: int) -> int:
        """Monday 0 ... Sunday 6, as date.weekday(); 1970-01-01 was a Thursday."""
        return (day + 3) % 7

    def month(self, ts: float) -> str:
        """"YYYY-MM" of the local date."""
        return self.month_of_day(self.day(ts))

    def month_of_day(self, day: int) -> str:
        m = self._months.get(day)
        if m is None:
            d = date.fromordinal(day + _EPOCH_ORDINAL)
            m = self._months[day] = f"{d.year:04d}-{d.month:02d}"
        return m


@lru_cache(maxsize=8)
def clock(zone: tzinfo) -> LocalClock:
    """One clock per zone, so its caches serve every analysis in the process."""
    return LocalClock(zone)
