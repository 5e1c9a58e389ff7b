"""Rollup levels and interval plans: which buckets a read of each size takes, how long
each level is kept, and how rows are made of them."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from metrics.config.queues import QueueConfig
from metrics.core.formulas import sum_counters
from metrics.core.panes import (
    DAY_MS,
    HOUR_MS,
    INTERVAL_MS,
    PANE_MS,
    buckets_of,
    day_start,
    level_retention_ms,
)
from metrics.core.rollups import SIZES, interval_rows, plan_intervals

UTC = ZoneInfo("UTC")
KATHMANDU = ZoneInfo("Asia/Kathmandu")  # +05:45
D0 = 20_000 * DAY_MS  # a UTC midnight
WEEK = 7 * DAY_MS


def test_a_pane_adds_to_its_utc_hour_and_utc_day() -> None:
    pane = D0 + 23 * HOUR_MS + 59 * PANE_MS
    assert buckets_of(pane) == [
        ("p1", pane, PANE_MS),
        ("p15", D0 + 23 * HOUR_MS + 45 * PANE_MS, INTERVAL_MS),
        ("p60", D0 + 23 * HOUR_MS, HOUR_MS),
        ("p1d", D0, DAY_MS),
    ]
    assert day_start(D0 + DAY_MS - 1) == D0 and day_start(D0 + DAY_MS) == D0 + DAY_MS


@pytest.mark.parametrize(
    ("level", "kept"),
    [("p1", 8), ("p15", 8), ("p60", 396), ("p1d", 396)],
)
def test_rollups_keep_the_rollup_retention_and_panes_their_own(level: str, kept: int) -> None:
    assert level_retention_ms(level, 8 * DAY_MS, 396 * DAY_MS) == kept * DAY_MS


def test_rollups_are_never_kept_less_than_the_panes() -> None:
    assert level_retention_ms("p60", 30 * DAY_MS, 10 * DAY_MS) == 30 * DAY_MS


def test_sizes_and_their_aliases() -> None:
    assert SIZES == {"15": 15, "30": 30, "60": 60, "1h": 60, "1440": 1440, "1d": 1440}


def test_a_month_of_30_minute_intervals_reads_two_15_minute_buckets_each() -> None:
    plan = plan_intervals(30, D0, D0 + 31 * DAY_MS, UTC)
    assert (plan.level, plan.per, len(plan.starts), len(plan.buckets)) == ("p15", 2, 1488, 2976)
    assert plan.buckets[:3] == (D0, D0 + INTERVAL_MS, D0 + 2 * INTERVAL_MS)


def test_30_minute_intervals_follow_the_local_half_hour() -> None:
    plan = plan_intervals(30, D0 + 9 * HOUR_MS, D0 + 10 * HOUR_MS, KATHMANDU)
    half_hours = [D0 + 8 * HOUR_MS + 45 * PANE_MS + i * 30 * PANE_MS for i in range(3)]
    assert list(plan.starts) == half_hours  # 08:45, 09:15, 09:45 UTC overlap 09:00-10:00


def test_hours_and_days_read_one_rollup_each_utc_aligned() -> None:
    hours = plan_intervals(60, D0 + 90 * PANE_MS, D0 + 4 * HOUR_MS, KATHMANDU)
    assert (hours.level, hours.per) == ("p60", 1)
    assert hours.starts == hours.buckets == (D0 + HOUR_MS, D0 + 2 * HOUR_MS, D0 + 3 * HOUR_MS)
    year = plan_intervals(1440, D0 - 364 * DAY_MS + HOUR_MS, D0 + DAY_MS, UTC)
    assert (year.level, year.per, len(year.buckets)) == ("p1d", 1, 365)
    assert year.buckets[0] == D0 - 364 * DAY_MS and year.buckets[-1] == D0


def test_the_same_week_last_year_is_52_weeks_back() -> None:
    this_week = plan_intervals(1440, D0, D0 + WEEK, UTC)
    last_year = plan_intervals(1440, D0 - 52 * WEEK, D0 - 51 * WEEK, UTC)
    assert [s - 52 * WEEK for s in this_week.buckets] == list(last_year.buckets)


def test_the_oldest_bucket_kept_per_level() -> None:
    now = D0 + 12 * HOUR_MS
    fifteen = plan_intervals(15, D0, D0 + HOUR_MS, UTC)
    days = plan_intervals(1440, D0, D0 + DAY_MS, UTC)
    # a bucket is kept while its end plus the retention is in the future
    assert (
        fifteen.oldest_kept_ms(8 * DAY_MS, 396 * DAY_MS, now) == now - 8 * DAY_MS - INTERVAL_MS + 1
    )
    assert days.oldest_kept_ms(8 * DAY_MS, 396 * DAY_MS, now) == now - 397 * DAY_MS + 1


def test_rows_sum_their_buckets_and_derive_the_window_figures() -> None:
    plan = plan_intervals(30, D0, D0 + HOUR_MS, UTC)
    buckets = [
        {"queued": 2, "answered": 1, "answered_within_t": 1, "wait_answered_sum_ms": 10_000},
        {"queued": 1, "answered": 1, "wait_answered_sum_ms": 30_000},
        {},
        {"queued": 1, "abandoned": 1},
    ]
    summed = [sum_counters(buckets[:2]), sum_counters(buckets[2:])]  # as read_buckets sums
    rows = interval_rows(plan, summed, QueueConfig(name="sales"), D0 + 2 * HOUR_MS)
    assert [(r["start_ms"], r["end_ms"], r["queued"], r["answered"]) for r in rows] == [
        (D0, D0 + 30 * PANE_MS, 3, 2),
        (D0 + 30 * PANE_MS, D0 + HOUR_MS, 1, 0),
    ]
    assert rows[0]["asa_seconds"] == 20.0 and rows[0]["service_level"] == 0.5
    assert rows[1]["service_level"] == 0.0 and rows[1]["asa_seconds"] is None
