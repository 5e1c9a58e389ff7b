"""Business-hours calendars and DST-correct business-time arithmetic (pure).

A calendar opens on local wall-clock intervals per weekday, except on holidays. An
interval holds the instants whose local time falls in it: on a spring-forward day an
interval loses the skipped hour, on a fall-back day an interval spanning the repeated
hour gains it. Times are integer epoch milliseconds.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from zoneinfo import ZoneInfo

__all__ = [
    "ALWAYS_OPEN",
    "BusinessCalendar",
    "DAY_MINUTES",
    "add_business_time",
    "business_time_between",
    "open_intervals",
]

DAY_MINUTES = 24 * 60

#: Local minutes of the day [start, end); end may be 1440 (midnight ending the day).
Opening = tuple[int, int]


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """Opening hours per weekday (Monday first) in a time zone, closed on holidays."""

    time_zone: str = "UTC"
    week: tuple[tuple[Opening, ...], ...] = ((), (), (), (), (), (), ())
    holidays: frozenset[dt.date] = frozenset()
    #: Open every instant (calendar hours); week, zone and holidays are then ignored.
    always_open: bool = False

    def __post_init__(self) -> None:
        if self.always_open:
            return
        if len(self.week) != 7:
            raise ValueError("a week has 7 days of opening hours, Monday first")
        for day in self.week:
            last = 0
            for start, end in day:
                if not last <= start < end <= DAY_MINUTES:
                    raise ValueError(f"opening {start}-{end} is not a sorted, disjoint interval")
                last = end
        if not any(self.week):
            raise ValueError("a business calendar must open at least once a week")
        ZoneInfo(self.time_zone)


#: Calendar hours: every instant counts.
ALWAYS_OPEN = BusinessCalendar(always_open=True)


def _epoch_ms(moment: dt.datetime) -> int:
    return round(moment.timestamp() * 1000)


def _gap_end(naive: dt.datetime, zone: ZoneInfo) -> int:
    """The instant a DST gap holding the local time `naive` ends (the clocks jump)."""
    lo = int(naive.replace(tzinfo=zone, fold=1).timestamp())  # before the jump
    hi = int(naive.replace(tzinfo=zone, fold=0).timestamp())  # after it
    lo, hi = min(lo, hi), max(lo, hi)
    before = dt.datetime.fromtimestamp(lo, tz=zone).utcoffset()
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if dt.datetime.fromtimestamp(mid, tz=zone).utcoffset() == before:
            lo = mid
        else:
            hi = mid
    return hi * 1000


def _instant(day: dt.date, minute: int, zone: ZoneInfo, *, latest: bool) -> int:
    """The instant local time reaches `minute` on `day`; `latest` picks the second of two."""
    naive = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minute)
    aware = naive.replace(tzinfo=zone, fold=1 if latest else 0)
    if aware.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None) != naive:
        return _gap_end(naive, zone)
    return _epoch_ms(aware)


@functools.lru_cache(maxsize=4096)
def open_intervals(calendar: BusinessCalendar, day: dt.date) -> tuple[tuple[int, int], ...]:
    """The open [start ms, end ms) intervals of one local day (none on a holiday)."""
    if day in calendar.holidays:
        return ()
    zone = ZoneInfo(calendar.time_zone)
    spans = []
    for start, end in calendar.week[day.weekday()]:
        a = _instant(day, start, zone, latest=False)
        b = _instant(day, end, zone, latest=True)
        if a < b:
            spans.append((a, b))
    return tuple(spans)


def _local_day(calendar: BusinessCalendar, t_ms: int) -> dt.date:
    return dt.datetime.fromtimestamp(t_ms / 1000, tz=ZoneInfo(calendar.time_zone)).date()


def add_business_time(calendar: BusinessCalendar, start_ms: int, duration_ms: int) -> int:
    """The earliest instant at which `duration_ms` of business time has elapsed since start."""
    if calendar.always_open or duration_ms <= 0:
        return start_ms + max(0, duration_ms)
    remaining = duration_ms
    day = _local_day(calendar, start_ms)
    while True:
        for a, b in open_intervals(calendar, day):
            if b <= start_ms:
                continue
            a = max(a, start_ms)
            if remaining <= b - a:
                return a + remaining
            remaining -= b - a
        day += dt.timedelta(days=1)


def business_time_between(calendar: BusinessCalendar, start_ms: int, end_ms: int) -> int:
    """Business time in [start_ms, end_ms), in ms (0 when end is not after start)."""
    if end_ms <= start_ms:
        return 0
    if calendar.always_open:
        return end_ms - start_ms
    total = 0
    day = _local_day(calendar, start_ms)
    last = _local_day(calendar, end_ms)
    while day <= last:
        for a, b in open_intervals(calendar, day):
            total += max(0, min(b, end_ms) - max(a, start_ms))
        day += dt.timedelta(days=1)
    return total
