"""Business-hours calendars and DST-correct business-time arithmetic (pure).

A calendar opens on local wall-clock intervals per weekday, except on holidays. An
interval holds exactly the instants whose local time falls in it: on a spring-forward day
it loses the skipped hour, on a fall-back day it holds both runs of the repeated hour.
Times are integer epoch milliseconds.
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


def _ms(offset: dt.timedelta | None) -> int:
    return 0 if offset is None else offset // dt.timedelta(milliseconds=1)


def _offset_ms(zone: ZoneInfo, t_ms: int) -> int:
    """The zone's UTC offset at the instant `t_ms`."""
    return _ms(dt.datetime.fromtimestamp(t_ms // 1000, tz=zone).utcoffset())


def _transition(zone: ZoneInfo, lo: int, hi: int) -> int:
    """The first instant (s) in (lo, hi] whose UTC offset differs from lo's."""
    before = _offset_ms(zone, lo)
    while hi - lo > 1000:
        mid = (lo + hi) // 2000 * 1000
        if mid <= lo:
            break
        lo, hi = (mid, hi) if _offset_ms(zone, mid) == before else (lo, mid)
    return hi


def _spans(day: dt.date, start: int, end: int, zone: ZoneInfo) -> list[tuple[int, int]]:
    """[a, b) instants whose local time on `day` lies in [start, end) minutes.

    At most one UTC offset change is assumed within one day's interval: before it local =
    utc + o1, after it local = utc + o2, so each side is one plain range.
    """
    midnight = dt.datetime.combine(day, dt.time())
    s_naive = midnight + dt.timedelta(minutes=start)
    e_naive = midnight + dt.timedelta(minutes=end)
    s_local = round(s_naive.replace(tzinfo=dt.UTC).timestamp() * 1000)
    e_local = round(e_naive.replace(tzinfo=dt.UTC).timestamp() * 1000)
    offsets = [
        _ms(naive.replace(tzinfo=zone, fold=fold).utcoffset())
        for naive in (s_naive, e_naive)
        for fold in (0, 1)
    ]
    lo, hi = s_local - max(offsets), e_local - min(offsets)
    o1, o2 = _offset_ms(zone, lo), _offset_ms(zone, hi)
    if o1 == o2:
        return [(s_local - o1, e_local - o1)]
    jump = _transition(zone, lo, hi)
    spans = []
    if s_local - o1 < min(e_local - o1, jump):
        spans.append((s_local - o1, min(e_local - o1, jump)))
    if max(s_local - o2, jump) < e_local - o2:
        b = (max(s_local - o2, jump), e_local - o2)
        if spans and spans[-1][1] == b[0]:
            b = (spans.pop()[0], b[1])
        spans.append(b)
    return spans


@functools.lru_cache(maxsize=4096)
def open_intervals(calendar: BusinessCalendar, day: dt.date) -> tuple[tuple[int, int], ...]:
    """The open [start ms, end ms) intervals of one local day (none on a holiday)."""
    if day in calendar.holidays:
        return ()
    zone = ZoneInfo(calendar.time_zone)
    return tuple(
        span
        for start, end in calendar.week[day.weekday()]
        for span in _spans(day, start, end, zone)
    )


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
