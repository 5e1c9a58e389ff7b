"""Windows read from panes: rolling, today and interval series, as plain dicts (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from metrics.fields import COUNTED_AGENT_STATES, SUM_FIELDS
from metrics.formulas import derive, sum_counters
from metrics.panes import (
    INTERVAL_MS,
    ROLLING_WINDOWS,
    cover,
    interval_start,
    local_interval_starts,
    rolling_panes,
    today_start,
)
from metrics.queue_config import QueueDefaults
from metrics.store import Live, SeriesData, SeriesRequest
from metrics.update import Series

__all__ = [
    "COUNT_FIELDS",
    "WINDOWS",
    "interval_request",
    "interval_series",
    "live_view",
    "snapshot_request",
    "window_view",
    "windows_of",
]

#: Counts shown for every window beside the derived metrics (the non-duration counters).
COUNT_FIELDS: tuple[str, ...] = tuple(f for f in SUM_FIELDS if not f.endswith("_ms"))

#: Every window a snapshot carries: the rolling ones and today.
WINDOWS: tuple[str, ...] = (*ROLLING_WINDOWS, "today")


def snapshot_request(series: Series, now_ms: int, queue: QueueDefaults) -> SeriesRequest:
    """Panes for the longest rolling window; today as whole hours and 15-minute intervals."""
    longest = max(ROLLING_WINDOWS.values())
    start = today_start(now_ms, queue.zone, queue.reset_time)
    intervals, hours = cover(interval_start(start), interval_start(now_ms) + INTERVAL_MS)
    return SeriesRequest(
        series, tuple(rolling_panes(now_ms, longest)), tuple(intervals), tuple(hours)
    )


def window_view(counters: dict[str, int], queue: QueueDefaults) -> dict[str, Any]:
    """Counts and derived metrics of one window."""
    view: dict[str, Any] = {name: counters.get(name, 0) for name in COUNT_FIELDS}
    view.update(derive(counters, queue))
    return view


def windows_of(data: SeriesData) -> dict[str, dict[str, int]]:
    """Summed counters per window label, from a snapshot_request's data."""
    out = {
        label: sum_counters(data.panes[len(data.panes) - minutes :])
        for label, minutes in ROLLING_WINDOWS.items()
    }
    out["today"] = sum_counters([*data.intervals, *data.hours])
    return out


def live_view(live: Live, now_ms: int) -> dict[str, Any]:
    """Contacts waiting, oldest wait and agents by state, right now."""
    oldest = live.oldest_enqueued_ms
    return {
        "contacts_waiting": live.waiting,
        "oldest_wait_seconds": None if oldest is None else max(0, now_ms - oldest) / 1000,
        "oldest_enqueued_ms": oldest,
        "agents": {state: live.agents.get(f"agents_{state}", 0) for state in COUNTED_AGENT_STATES},
    }


def interval_request(
    series: Series, start_ms: int, end_ms: int, size_minutes: int, queue: QueueDefaults
) -> tuple[SeriesRequest, list[int]]:
    """The 15-minute intervals to read for a series of `size_minutes` intervals."""
    starts = local_interval_starts(start_ms, end_ms, size_minutes, queue.zone)
    fifteen = [s + i * INTERVAL_MS for s in starts for i in range(size_minutes // 15)]
    return SeriesRequest(series, intervals=tuple(fifteen)), starts


def interval_series(
    starts: Sequence[int], size_minutes: int, data: SeriesData, queue: QueueDefaults
) -> list[dict[str, Any]]:
    """One entry per interval: its bounds, counts and derived metrics."""
    per = size_minutes // 15
    rows = []
    for i, start in enumerate(starts):
        counters = sum_counters(data.intervals[i * per : (i + 1) * per])
        rows.append(
            {"start_ms": start, "end_ms": start + size_minutes * 60_000}
            | window_view(counters, queue)
        )
    return rows
