"""Pane and window edges, time-zone day boundaries (DST included), and the watermark."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from metrics.core.panes import (
    Watermark,
    cover,
    interval_start,
    local_interval_starts,
    pane_start,
    rolling_panes,
    today_start,
)


def ms(text: str) -> int:
    return round(dt.datetime.fromisoformat(text).timestamp() * 1000)


@pytest.mark.parametrize(
    ("t", "expected"),
    [
        ("2026-11-16T10:00:00.000+00:00", "2026-11-16T10:00:00+00:00"),
        ("2026-11-16T10:00:59.999+00:00", "2026-11-16T10:00:00+00:00"),
        ("2026-11-16T10:01:00.000+00:00", "2026-11-16T10:01:00+00:00"),
    ],
)
def test_pane_start_edges(t: str, expected: str) -> None:
    assert pane_start(ms(t)) == ms(expected)


@pytest.mark.parametrize(
    ("t", "expected"),
    [
        ("2026-11-16T10:14:59.999+00:00", "2026-11-16T10:00:00+00:00"),
        ("2026-11-16T10:15:00.000+00:00", "2026-11-16T10:15:00+00:00"),
    ],
)
def test_interval_start_edges(t: str, expected: str) -> None:
    assert interval_start(ms(t)) == ms(expected)


def test_rolling_window_is_current_minute_and_the_ones_before() -> None:
    now = ms("2026-11-16T10:04:30+00:00")
    assert rolling_panes(now, 5) == [ms(f"2026-11-16T10:0{m}:00+00:00") for m in range(5)]


@pytest.mark.parametrize(
    ("now", "zone", "reset", "expected"),
    [
        # Plain UTC midnight.
        ("2026-11-16T10:00:00+00:00", "UTC", "00:00", "2026-11-16T00:00:00+00:00"),
        # Exactly at the reset instant, today starts now.
        ("2026-11-16T00:00:00+00:00", "UTC", "00:00", "2026-11-16T00:00:00+00:00"),
        # Before the reset time, today began yesterday.
        ("2026-11-16T05:00:00+00:00", "UTC", "06:00", "2026-11-15T06:00:00+00:00"),
        # New York is UTC-5 in November: 03:00 UTC is still the previous local day.
        ("2026-11-16T03:00:00+00:00", "America/New_York", "00:00", "2026-11-15T00:00:00-05:00"),
        # Berlin after the spring DST change (UTC+2): local midnight is 22:00 UTC.
        ("2026-03-29T21:59:00+00:00", "Europe/Berlin", "00:00", "2026-03-29T00:00:00+01:00"),
        ("2026-03-29T22:00:00+00:00", "Europe/Berlin", "00:00", "2026-03-30T00:00:00+02:00"),
        # Kathmandu is UTC+05:45.
        ("2026-11-16T00:00:00+00:00", "Asia/Kathmandu", "00:00", "2026-11-16T00:00:00+05:45"),
        # A reset at 02:30 on the spring-forward night (a gap in New York) lands after the gap.
        ("2026-03-08T12:00:00+00:00", "America/New_York", "02:30", "2026-03-08T03:30:00-04:00"),
    ],
)
def test_today_start_in_the_queue_time_zone(now: str, zone: str, reset: str, expected: str) -> None:
    got = today_start(ms(now), ZoneInfo(zone), dt.time.fromisoformat(reset))
    assert got == ms(expected)


def test_today_on_a_23_hour_day_is_23_hours_long() -> None:
    zone = ZoneInfo("Europe/Berlin")
    end_of_day = ms("2026-03-29T23:59:59+02:00")
    start = today_start(end_of_day, zone, dt.time(0, 0))
    assert end_of_day + 1000 - start == 23 * 3_600_000


def test_30_minute_intervals_align_to_local_half_hours() -> None:
    zone = ZoneInfo("Asia/Kathmandu")  # +05:45: local :00/:30 are UTC :15/:45
    start = ms("2026-11-16T10:00:00+05:45")
    starts = local_interval_starts(start, start + 3_600_000, 30, zone)
    assert starts == [ms("2026-11-16T10:00:00+05:45"), ms("2026-11-16T10:30:00+05:45")]


def test_30_minute_intervals_start_on_the_half_hour_at_or_before_from() -> None:
    zone = ZoneInfo("UTC")
    starts = local_interval_starts(
        ms("2026-11-16T10:20:00+00:00"), ms("2026-11-16T11:00:00+00:00"), 30, zone
    )
    assert starts == [ms("2026-11-16T10:00:00+00:00"), ms("2026-11-16T10:30:00+00:00")]


def test_interval_size_must_be_15_or_30() -> None:
    with pytest.raises(ValueError, match="15 or 30"):
        local_interval_starts(0, 1, 20, ZoneInfo("UTC"))


@pytest.mark.parametrize(
    ("seen", "wall", "expected"),
    [
        # (event ms, wall ms at which it was seen) ..., wall now, watermark
        ([(100_000, 100_000)], 100_000, 100_000 - 60_000),
        # Idle for 30 s: the watermark advances with the wall clock.
        ([(100_000, 100_000)], 130_000, 130_000 - 60_000),
        # An older event does not move it back.
        ([(100_000, 100_000), (50_000, 100_500)], 100_500, 100_500 - 60_000),
        # A newer event resets the idle clock.
        ([(100_000, 100_000), (200_000, 110_000)], 110_000, 140_000),
    ],
)
def test_watermark(seen: list[tuple[int, int]], wall: int, expected: int) -> None:
    mark = Watermark(lateness_ms=60_000)
    assert mark.value(wall) is None
    for event_ms, wall_ms in seen:
        mark.observe(event_ms, wall_ms)
    assert mark.value(wall) == expected
    assert mark.is_late(expected - 1, wall)
    assert not mark.is_late(expected, wall)


@pytest.mark.parametrize(
    ("start", "end", "intervals", "hours"),
    [
        # 09:45 -> 12:30: one quarter, two whole hours, two quarters.
        ("09:45", "12:30", ["09:45", "12:00", "12:15"], ["10:00", "11:00"]),
        ("10:00", "11:00", [], ["10:00"]),
        ("10:00", "10:45", ["10:00", "10:15", "10:30"], []),
        ("10:15", "10:15", [], []),
    ],
)
def test_cover_uses_whole_hours_where_it_can(
    start: str, end: str, intervals: list[str], hours: list[str]
) -> None:
    def at(hhmm: str) -> int:
        return ms(f"2026-11-16T{hhmm}:00+00:00")

    assert cover(at(start), at(end)) == ([at(t) for t in intervals], [at(t) for t in hours])
