"""Business-time arithmetic: weekends, holidays, start outside hours, DST change days."""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest

from metrics.core.business_hours import (
    ALWAYS_OPEN,
    BusinessCalendar,
    add_business_time,
    business_time_between,
    open_intervals,
)

BERLIN = ZoneInfo("Europe/Berlin")
H = 3_600_000
NINE_TO_FIVE = ((9 * 60, 17 * 60),)
WEEKDAYS_ONLY = (NINE_TO_FIVE,) * 5 + ((), ())
#: 09:00-17:00 Mon-Fri in Berlin; Whit Monday 2026-05-25 is a holiday.
OFFICE = BusinessCalendar("Europe/Berlin", WEEKDAYS_ONLY, frozenset({dt.date(2026, 5, 25)}))
#: Two shifts a day with a lunch break, every day, in New York.
SHIFTS = BusinessCalendar("America/New_York", (((8 * 60, 12 * 60), (13 * 60, 17 * 60)),) * 7)
#: Every local hour of every day, in Berlin (a DST day has 23 or 25 of them).
LOCAL_DAYS = BusinessCalendar("Europe/Berlin", (((0, 24 * 60),),) * 7)


def at(*parts: int, zone: ZoneInfo = BERLIN) -> int:
    """Epoch ms of a local wall-clock time (never inside a DST gap here)."""
    return round(dt.datetime(*parts, tzinfo=zone).timestamp() * 1000)


NY = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("calendar", "start", "duration", "expected"),
    [
        # Friday 16:00 + 4 business hours, Monday a holiday -> Tuesday 12:00.
        (OFFICE, at(2026, 5, 22, 16), 4 * H, at(2026, 5, 26, 12)),
        # The same without the holiday -> Monday 12:00.
        (
            BusinessCalendar("Europe/Berlin", WEEKDAYS_ONLY),
            at(2026, 5, 22, 16),
            4 * H,
            at(2026, 5, 25, 12),
        ),
        # Inside hours, same day.
        (OFFICE, at(2026, 5, 19, 10), 3 * H, at(2026, 5, 19, 13)),
        # Ending exactly at closing time stays on that day (17:00, not 09:00 next day).
        (OFFICE, at(2026, 5, 19, 9), 8 * H, at(2026, 5, 19, 17)),
        # Starting before opening: the clock starts at 09:00.
        (OFFICE, at(2026, 5, 19, 7), H, at(2026, 5, 19, 10)),
        # Starting after closing: the next morning.
        (OFFICE, at(2026, 5, 19, 20), H, at(2026, 5, 20, 10)),
        # Starting on a Saturday: Monday morning.
        (OFFICE, at(2026, 5, 16, 11), 30 * 60_000, at(2026, 5, 18, 9, 30)),
        # 16 business hours = two full days: Thursday 09:00 -> Friday 17:00.
        (OFFICE, at(2026, 5, 21, 9), 16 * H, at(2026, 5, 22, 17)),
        # Zero duration: the start itself, even outside hours.
        (OFFICE, at(2026, 5, 16, 11), 0, at(2026, 5, 16, 11)),
        # Lunch break skipped: 11:00 + 2 h -> 14:00.
        (SHIFTS, at(2026, 6, 1, 11, zone=NY), 2 * H, at(2026, 6, 1, 14, zone=NY)),
        # Calendar hours: plain addition.
        (ALWAYS_OPEN, at(2026, 5, 22, 16), 4 * H, at(2026, 5, 22, 20)),
        # Spring forward (Berlin, Sunday 2026-03-29): Friday 16:00 + 4 h -> Monday 12:00 CEST.
        (OFFICE, at(2026, 3, 27, 16), 4 * H, at(2026, 3, 30, 12)),
        # A day of local hours has 23 hours on spring-forward day ...
        (LOCAL_DAYS, at(2026, 3, 29), 23 * H, at(2026, 3, 30)),
        # ... and 25 on fall-back day (2026-10-25).
        (LOCAL_DAYS, at(2026, 10, 25), 25 * H, at(2026, 10, 26)),
        # Across the New York spring-forward night (2026-03-08), shifts keep local times.
        (SHIFTS, at(2026, 3, 7, 16, zone=NY), 2 * H, at(2026, 3, 8, 9, zone=NY)),
    ],
)
def test_add_business_time(
    calendar: BusinessCalendar, start: int, duration: int, expected: int
) -> None:
    assert add_business_time(calendar, start, duration) == expected


@pytest.mark.parametrize(
    ("calendar", "start", "end", "expected"),
    [
        (OFFICE, at(2026, 5, 22, 16), at(2026, 5, 26, 12), 4 * H),
        (OFFICE, at(2026, 5, 19, 10), at(2026, 5, 19, 13), 3 * H),
        # A whole week with the holiday: 4 days of 8 hours.
        (OFFICE, at(2026, 5, 24), at(2026, 5, 31), 32 * H),
        # Entirely outside hours.
        (OFFICE, at(2026, 5, 23, 8), at(2026, 5, 24, 20), 0),
        (OFFICE, at(2026, 5, 19, 18), at(2026, 5, 19, 23), 0),
        # End before start, and an empty range.
        (OFFICE, at(2026, 5, 19, 12), at(2026, 5, 19, 10), 0),
        (OFFICE, at(2026, 5, 19, 12), at(2026, 5, 19, 12), 0),
        (SHIFTS, at(2026, 6, 1, 7, zone=NY), at(2026, 6, 1, 18, zone=NY), 8 * H),
        (ALWAYS_OPEN, at(2026, 5, 22, 16), at(2026, 5, 26, 12), 92 * H),
        (LOCAL_DAYS, at(2026, 3, 29), at(2026, 3, 30), 23 * H),
        (LOCAL_DAYS, at(2026, 10, 25), at(2026, 10, 26), 25 * H),
        (LOCAL_DAYS, at(2026, 3, 28), at(2026, 4, 4), (7 * 24 - 1) * H),
    ],
)
def test_business_time_between(
    calendar: BusinessCalendar, start: int, end: int, expected: int
) -> None:
    assert business_time_between(calendar, start, end) == expected


UTC_MS = ZoneInfo("UTC")


@pytest.mark.parametrize(
    ("opening", "day", "expected_utc"),
    [
        # 02:30-05:00 on spring-forward day: 02:30 does not exist, so it opens at the jump
        # (03:00 CEST = 01:00 UTC).
        ((150, 300), dt.date(2026, 3, 29), ((2026, 3, 29, 1), (2026, 3, 29, 3))),
        # 02:00-03:00 on fall-back day holds the repeated hour: 2 hours.
        ((120, 180), dt.date(2026, 10, 25), ((2026, 10, 25, 0), (2026, 10, 25, 2))),
        # An ordinary day.
        ((540, 1020), dt.date(2026, 5, 19), ((2026, 5, 19, 7), (2026, 5, 19, 15))),
    ],
)
def test_open_intervals_on_dst_days(
    opening: tuple[int, int],
    day: dt.date,
    expected_utc: tuple[tuple[int, int, int, int], tuple[int, int, int, int]],
) -> None:
    calendar = BusinessCalendar("Europe/Berlin", ((opening,),) * 7)
    start, end = (at(*parts, zone=UTC_MS) for parts in expected_utc)
    assert open_intervals(calendar, day) == ((start, end),)


def test_an_interval_inside_the_repeated_hour_opens_twice() -> None:
    """02:30-02:45 on fall-back day happens once in summer time and once in winter time."""
    calendar = BusinessCalendar("Europe/Berlin", (((150, 165),),) * 7)
    assert open_intervals(calendar, dt.date(2026, 10, 25)) == (
        (at(2026, 10, 25, 0, 30, zone=UTC_MS), at(2026, 10, 25, 0, 45, zone=UTC_MS)),
        (at(2026, 10, 25, 1, 30, zone=UTC_MS), at(2026, 10, 25, 1, 45, zone=UTC_MS)),
    )


def _minute_oracle(calendar: BusinessCalendar, start: int, end: int) -> int:
    """Business time counted minute by minute from each minute's local wall-clock time."""
    zone, total = ZoneInfo(calendar.time_zone), 0
    for t in range(start, end, 60_000):
        local = dt.datetime.fromtimestamp(t / 1000, tz=zone)
        minute = local.hour * 60 + local.minute
        if local.date() not in calendar.holidays and any(
            a <= minute < b for a, b in calendar.week[local.weekday()]
        ):
            total += 60_000
    return total


@pytest.mark.parametrize(
    ("zone", "seed"),
    [
        ("Europe/Berlin", 1),
        ("America/New_York", 2),
        ("Australia/Sydney", 3),
        ("America/Santiago", 4),  # DST changes at local midnight
        ("Asia/Kathmandu", 5),  # +05:45
    ],
)
def test_random_calendars_agree_with_a_minute_by_minute_count(zone: str, seed: int) -> None:
    """Random quarter-hour openings around 2026's DST changes, checked against an oracle."""
    rng = random.Random(seed)
    for _ in range(6):
        week = []
        for _day in range(7):
            cuts = sorted(rng.sample(range(97), 2 * rng.choice((0, 1, 2))))
            week.append(tuple((cuts[i] * 15, cuts[i + 1] * 15) for i in range(0, len(cuts), 2)))
        week[0] = week[0] or ((540, 1020),)
        calendar = BusinessCalendar(zone, tuple(week), frozenset({dt.date(2026, 3, 9)}))
        for month, day in ((3, 6), (4, 2), (9, 4), (10, 23)):
            start = at(2026, month, day, zone=UTC_MS) + rng.randrange(0, 3 * 1440) * 60_000
            end = start + rng.randrange(0, 4 * 1440) * 60_000
            assert business_time_between(calendar, start, end) == _minute_oracle(
                calendar, start, end
            )
            duration = rng.randrange(0, 20 * 60) * 60_000
            due = add_business_time(calendar, start, duration)
            assert business_time_between(calendar, start, due) == duration


def test_holidays_have_no_hours() -> None:
    assert open_intervals(OFFICE, dt.date(2026, 5, 25)) == ()


@pytest.mark.parametrize(
    "week",
    [
        ((),) * 7,  # never open: add_business_time could not end
        ((),) * 6,  # not a week
        (((600, 540),),) * 7,  # backwards
        (((540, 720), (700, 800)),) * 7,  # overlapping
        (((0, 1500),),) * 7,  # past midnight
    ],
)
def test_bad_calendars_are_rejected(week: tuple[tuple[tuple[int, int], ...], ...]) -> None:
    with pytest.raises(ValueError):
        BusinessCalendar("UTC", week)


@pytest.mark.parametrize(
    ("start", "duration"),
    [(at(2026, 5, 22, 16), 4 * H), (at(2026, 3, 27, 12), 20 * H), (at(2026, 10, 23, 8), 9 * H)],
)
def test_adding_then_measuring_gives_the_duration_back(start: int, duration: int) -> None:
    end = add_business_time(OFFICE, start, duration)
    assert business_time_between(OFFICE, start, end) == duration
