"""Interval series of any size, planned on the coarsest buckets that hold them (pure).

15- and 30-minute intervals sum 15-minute buckets (kept the panes' retention) and follow
the queue's local :00/:30; hours and days are read from the hourly and daily rollups (kept
the rollup retention), and are UTC hours and UTC days.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from metrics.config.queues import QueueDefaults
from metrics.core.fcr import fcr_status
from metrics.core.panes import (
    DAY_MS,
    HOUR_MS,
    INTERVAL_MS,
    day_start,
    hour_start,
    level_retention_ms,
    local_interval_starts,
)
from metrics.core.views import window_view_into

__all__ = [
    "SIZES",
    "IntervalPlan",
    "interval_fcr",
    "interval_row",
    "interval_rows",
    "plan_intervals",
]

#: Interval sizes the read API takes (its `size` parameter) -> minutes.
SIZES: dict[str, int] = {"15": 15, "30": 30, "60": 60, "1h": 60, "1440": 1440, "1d": 1440}

#: Longest period one request may cover, by size in minutes: a month of 15-minute,
#: 30-minute or hourly intervals, 400 days of days (a year and the same weeks before it).
MAX_SPAN_MS: dict[int, int] = {
    15: 31 * DAY_MS,
    30: 31 * DAY_MS,
    60: 31 * DAY_MS,
    1440: 400 * DAY_MS,
}

#: The bucket level each size is summed from, and the bucket length.
_LEVEL_OF: dict[int, tuple[str, int]] = {
    15: ("p15", INTERVAL_MS),
    30: ("p15", INTERVAL_MS),
    60: ("p60", HOUR_MS),
    1440: ("p1d", DAY_MS),
}


@dataclass(frozen=True)
class IntervalPlan:
    """Which buckets to read for an interval series, and how they make its rows."""

    size_minutes: int
    level: str
    #: the rows' starts, and the buckets read (`per` consecutive buckets make one row)
    starts: tuple[int, ...]
    buckets: tuple[int, ...]
    per: int

    def oldest_kept_ms(self, retention_ms: int, rollup_retention_ms: int, now_ms: int) -> int:
        """The earliest bucket start of this level still kept at `now_ms`."""
        keep = level_retention_ms(self.level, retention_ms, rollup_retention_ms)
        length = _LEVEL_OF[self.size_minutes][1]
        return now_ms - keep - length + 1


def plan_intervals(size_minutes: int, start_ms: int, end_ms: int, zone: ZoneInfo) -> IntervalPlan:
    """The rows of `size_minutes` intervals overlapping [start_ms, end_ms) and their buckets.

    15 and 30 minutes are local-aligned (see local_interval_starts); hours and days are
    UTC-aligned, the buckets the rollups keep.
    """
    level, length = _LEVEL_OF[size_minutes]
    if size_minutes in (15, 30):
        starts = local_interval_starts(start_ms, end_ms, size_minutes, zone)
    else:
        first = hour_start(start_ms) if size_minutes == 60 else day_start(start_ms)
        starts = list(range(first, end_ms, length))
    per = size_minutes * 60_000 // length
    buckets = tuple(s + i * length for s in starts for i in range(per))
    return IntervalPlan(size_minutes, level, tuple(starts), buckets, per)


def interval_rows(
    plan: IntervalPlan, summed: Sequence[dict[str, int]], queue: QueueDefaults, now_ms: int
) -> list[dict[str, Any]]:
    """One entry per interval: its bounds, counts and derived metrics (the window figures);
    `summed` holds each row's counters (its `per` buckets added up, as read_buckets does)."""
    size_ms = plan.size_minutes * 60_000
    return [
        interval_row(start, size_ms, counters, queue, interval_fcr(start + size_ms, queue, now_ms))
        for start, counters in zip(plan.starts, summed, strict=True)
    ]


def interval_fcr(end_ms: int, queue: QueueDefaults, now_ms: int) -> str:
    """Whether the FCR figures of an interval ending at `end_ms` are provisional or final
    at `now_ms`: the one part of a row, besides its counters and queue, that moves with now."""
    return fcr_status(end_ms, now_ms, queue.fcr_horizon_ms)


def interval_row(
    start_ms: int, size_ms: int, counters: dict[str, int], queue: QueueDefaults, fcr: str
) -> dict[str, Any]:
    """One interval's bounds, counts and derived metrics (`fcr`: see interval_fcr)."""
    row = {"start_ms": start_ms, "end_ms": start_ms + size_ms}
    return window_view_into(row, counters, queue, fcr)
