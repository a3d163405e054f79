"""Local calendar fields (day, hour, weekday, month) of epoch seconds in one time zone, fast.

``datetime.fromtimestamp(ts, zone)`` costs about a microsecond and analysis needs it several times
per interaction. A zone's UTC offset only changes at its transitions, and every transition in the
IANA database falls on a quarter hour of UTC (offsets are whole quarter hours, and clocks change on
the local hour or half hour), so the offset is looked up once per quarter hour of time (for whole
arrays of stamps, once per day, and per hour and quarter only around a transition) and the rest
is arithmetic. Like ``datetime``, it is exact for timestamps with microsecond precision.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from functools import lru_cache

import numpy as np

from daemon.analysis.table import distinct

_QUARTER = 900
_PER_DAY = 86400 // _QUARTER
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


class LocalClock:
    def __init__(self, zone: tzinfo) -> None:
        self.zone = zone
        self._offsets: dict[int, int] = {}
        self._months: dict[int, str] = {}
        self._dates: dict[int, str] = {}
        self._table: tuple[int, np.ndarray] = (0, np.zeros(0))  # offsets of a span of quarters, from the first
        self._listed: tuple[int, list[float]] = (0, [])  # the same as a list, for one stamp at a time (made when asked)

    def _offset(self, bucket: int) -> int:
        delta = datetime.fromtimestamp(bucket * _QUARTER, self.zone).utcoffset()
        off = self._offsets[bucket] = int(delta.total_seconds()) if delta else 0
        return off

    def local(self, ts: float) -> float:
        """Seconds since the epoch on the local wall clock."""
        bucket = int(ts // _QUARTER)
        off: float | None = self._offsets.get(bucket)
        if off is None:
            first, offsets = self._listed  # the span ``locals`` looked up, if it holds this quarter
            if not first <= bucket < first + len(offsets):
                table_first, table = self._table  # (a newer span)
                if table_first <= bucket < table_first + len(table):
                    first, offsets = self._listed = table_first, table.tolist()
            off = offsets[bucket - first] if first <= bucket < first + len(offsets) else self._offset(bucket)
        return ts + off

    def locals(self, stamps: np.ndarray) -> np.ndarray:
        """``local`` of a whole array of stamps."""
        if not len(stamps):
            return stamps.astype(np.float64)
        buckets = _quarters(stamps)
        lo, hi = int(buckets.min()), int(buckets.max())
        if hi - lo > 4 * len(stamps) + 100_000:  # sparse over a long span: look up only the quarters in use
            used = distinct(buckets)
            offsets = np.array([self._offset_of(b) for b in used.tolist()], dtype=np.float64)
            return stamps + offsets[np.searchsorted(used, buckets)]
        first, table = self._table
        if lo < first or hi >= first + len(table):  # not cached yet: cache this span, joined to the last if near
            if len(table) and max(hi, first + len(table)) - min(lo, first) <= hi - lo + len(table) + 100_000:
                lo, hi = min(lo, first), max(hi, first + len(table) - 1)
            self._table = first, table = lo, self._span(lo, hi)
        return stamps + table[buckets - first]

    def _span(self, lo: int, hi: int) -> np.ndarray:
        """The offsets of quarters ``lo`` to ``hi``. They are looked up at each UTC day's start;
        hour by hour only in a day that ends on another offset than it began, and quarter by
        quarter only in such an hour. No zone's offset lasts less than a day (the shortest in the
        tz database last weeks; a test reads every zone's transitions), and none changes twice
        within an hour."""
        start = lo - lo % _PER_DAY
        days = self._looked_up(range(start, hi + _PER_DAY + 1, _PER_DAY))
        table = np.repeat(days[:-1], _PER_DAY)
        for d in np.flatnonzero(days[1:] != days[:-1]).tolist():
            day_start = start + d * _PER_DAY
            hours = self._looked_up(range(day_start, day_start + _PER_DAY + 1, 4))
            table[d * _PER_DAY:(d + 1) * _PER_DAY] = np.repeat(hours[:-1], 4)
            for h in np.flatnonzero(hours[1:] != hours[:-1]).tolist():
                first = d * _PER_DAY + 4 * h
                table[first:first + 4] = self._looked_up(range(start + first, start + first + 4))
        return table[lo - start:hi - start + 1]

    def _looked_up(self, buckets: range) -> np.ndarray:
        return np.array([self._offset_of(b) for b in buckets], dtype=np.float64)

    def _offset_of(self, bucket: int) -> int:
        off = self._offsets.get(bucket)
        return self._offset(bucket) if off is None else off

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

    def date_text(self, ts: float) -> str:
        """The local date for people, "3 Dec 2026" (``strftime("%-d %b %Y")``), made once per day."""
        day = self.day(ts)
        text = self._dates.get(day)
        if text is None:
            text = self._dates[day] = date.fromordinal(day + _EPOCH_ORDINAL).strftime("%-d %b %Y")
        return text

    def month_of_day(self, day: int) -> str:
        m = self._months.get(day)
        if m is None:
            d = date.fromordinal(day + _EPOCH_ORDINAL)
            m = self._months[day] = f"{d.year:04d}-{d.month:02d}"
        return m


def _quarters(stamps: np.ndarray) -> np.ndarray:
    """``np.floor_divide(stamps, _QUARTER)`` as integers, in a quarter of its time. The rounded
    quotient never reaches the next whole number from below: the float nearest below a multiple of
    900 is more than half a step of the quotient away from it. That holds for stamps to the
    microsecond, far beyond any date (up to about 10**16 s; the year 9999 is 2.5 * 10**11 s), and a
    test holds it near multiples."""
    return np.floor(stamps / _QUARTER).astype(np.int64)


@lru_cache(maxsize=8)
def clock(zone: tzinfo) -> LocalClock:
    """One clock per zone, so its caches serve every analysis in the process."""
    return LocalClock(zone)
