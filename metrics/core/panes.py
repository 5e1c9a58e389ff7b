"""Pane, interval and window arithmetic, and the per-partition watermark (pure).

Times are integer epoch milliseconds in UTC. Facts land in 1-minute panes; 15-minute
intervals are kept beside them so that long views (today, interval series) read few keys,
and hourly and daily rollups (UTC hours and days) are kept longest, for a year of history.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

__all__ = [
    "DAY_MS",
    "HOUR_MS",
    "INTERVAL_MS",
    "LEVELS",
    "PANE_MS",
    "ROLLING_WINDOWS",
    "ROLLUP_LEVELS",
    "Watermark",
    "buckets_of",
    "cover",
    "day_start",
    "hour_start",
    "level_retention_ms",
    "interval_start",
    "local_interval_starts",
    "pane_start",
    "rolling_panes",
    "today_start",
]

PANE_MS = 60_000
INTERVAL_MS = 15 * PANE_MS
HOUR_MS = 60 * PANE_MS
DAY_MS = 24 * HOUR_MS

#: Rolling windows exposed everywhere, by label: number of 1-minute panes.
ROLLING_WINDOWS: dict[str, int] = {"5m": 5, "15m": 15, "60m": 60}


def pane_start(t_ms: int) -> int:
    """Start of the 1-minute pane holding `t_ms`."""
    return t_ms - t_ms % PANE_MS


def interval_start(t_ms: int) -> int:
    """Start of the 15-minute interval holding `t_ms` (UTC-aligned, so local-aligned too)."""
    return t_ms - t_ms % INTERVAL_MS


def hour_start(t_ms: int) -> int:
    """Start of the UTC hour holding `t_ms` (hours only shorten long reads, like 'today')."""
    return t_ms - t_ms % HOUR_MS


def day_start(t_ms: int) -> int:
    """Start of the UTC day holding `t_ms` (daily rollups are UTC days, whatever the zone)."""
    return t_ms - t_ms % DAY_MS


#: The bucket levels every fact is added to: (name, length ms). Reads pick the coarsest
#: that fits: panes for rolling windows, intervals and hours for long periods, days for
#: a year.
LEVELS: tuple[tuple[str, int], ...] = (
    ("p1", PANE_MS),
    ("p15", INTERVAL_MS),
    ("p60", HOUR_MS),
    ("p1d", DAY_MS),
)

#: The levels kept for the rollup retention (13 months by default) instead of the panes'.
ROLLUP_LEVELS = frozenset({"p60", "p1d"})


def level_retention_ms(level: str, retention_ms: int, rollup_retention_ms: int) -> int:
    """How long a bucket of `level` is kept after it ends: rollups the longer of the two
    retentions (hours also serve 'today', so never less than the panes), the rest the
    panes' retention."""
    if level in ROLLUP_LEVELS:
        return max(retention_ms, rollup_retention_ms)
    return retention_ms


def buckets_of(pane_ms: int) -> list[tuple[str, int, int]]:
    """(level, bucket start, bucket length) of every level holding the pane at `pane_ms`."""
    return [(level, pane_ms - pane_ms % length, length) for level, length in LEVELS]


def cover(start_ms: int, end_ms: int) -> tuple[list[int], list[int]]:
    """Fewest 15-minute intervals and whole UTC hours covering [start_ms, end_ms).

    `start_ms` is a 15-minute boundary; returns (interval starts, hour starts).
    """
    intervals: list[int] = []
    hours: list[int] = []
    t = start_ms
    while t < end_ms:
        if t % HOUR_MS == 0 and t + HOUR_MS <= end_ms:
            hours.append(t)
            t += HOUR_MS
        else:
            intervals.append(t)
            t += INTERVAL_MS
    return intervals, hours


def rolling_panes(now_ms: int, minutes: int) -> list[int]:
    """Pane starts of a rolling window: the current minute and the `minutes - 1` before it."""
    current = pane_start(now_ms)
    return [current - i * PANE_MS for i in range(minutes - 1, -1, -1)]


def _epoch_ms(moment: dt.datetime) -> int:
    return round(moment.timestamp() * 1000)


def today_start(now_ms: int, zone: ZoneInfo, reset: dt.time) -> int:
    """Start of the queue's 'today': the latest local reset time at or before `now_ms`.

    On a DST change the local day may be 23 or 25 hours long; a reset time that does not
    exist locally (inside a spring-forward gap) resolves to the instant after the gap.
    """
    local_now = dt.datetime.fromtimestamp(now_ms / 1000, tz=zone)
    for days_back in (0, 1, 2):
        day = local_now.date() - dt.timedelta(days=days_back)
        candidate = dt.datetime.combine(day, reset, tzinfo=zone)
        # Normalise non-existent local times (DST gaps) through UTC and back.
        start = _epoch_ms(candidate.astimezone(dt.UTC))
        if start <= now_ms:
            return start
    raise AssertionError("unreachable: a reset time exists within two days")


def local_interval_starts(
    start_ms: int, end_ms: int, size_minutes: int, zone: ZoneInfo
) -> list[int]:
    """Starts of the `size_minutes` intervals (15 or 30) in [start_ms, end_ms), local-aligned.

    30-minute intervals start on local :00 and :30, which is not always UTC-aligned
    (e.g. Asia/Kathmandu, +05:45), so the alignment is done in local time.
    """
    if size_minutes not in (15, 30):
        raise ValueError("interval size must be 15 or 30 minutes")
    step = size_minutes * PANE_MS
    first = interval_start(start_ms)
    if size_minutes == 30:
        local = dt.datetime.fromtimestamp(first / 1000, tz=zone)
        if local.minute % 30:
            first -= INTERVAL_MS
    return list(range(first, end_ms, step))


@dataclass
class Watermark:
    """Event-time progress of one partition.

    watermark = highest event time seen - allowed lateness, advanced further by the wall
    clock time elapsed since that event was seen, so an idle partition still rolls over.
    """

    lateness_ms: int
    max_event_ms: int | None = None
    seen_at_wall_ms: int = 0

    def observe(self, event_ms: int, wall_ms: int) -> None:
        if self.max_event_ms is None or event_ms > self.max_event_ms:
            self.max_event_ms = event_ms
            self.seen_at_wall_ms = wall_ms

    def value(self, wall_ms: int) -> int | None:
        """The watermark at wall time `wall_ms`, or None before any event."""
        if self.max_event_ms is None:
            return None
        idle = max(0, wall_ms - self.seen_at_wall_ms)
        return self.max_event_ms - self.lateness_ms + idle

    def is_late(self, event_ms: int, wall_ms: int) -> bool:
        mark = self.value(wall_ms)
        return mark is not None and event_ms < mark
