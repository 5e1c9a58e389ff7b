"""Interval rows as JSON, rendered again only when their counters change.

A month of 30-minute intervals is 1,488 rows of about 2.7 kB each; building and rendering
them was a third of the read. Past intervals rarely change, so each row is kept as a rendered
JSON fragment beside a copy of the counters and the FCR status it was made from, and reused
while both are equal (a dict comparison, far cheaper than the row) and the queue's settings
are the same. Exact by construction: a late correction changes the counters, hence the row.
Bounded: the oldest rows are dropped past `kept`.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from metrics.config.queues import QueueDefaults
from metrics.core.rollups import IntervalPlan, interval_fcr, interval_row
from metrics.core.update import Series
from metrics.routing.snapshot import iso

__all__ = ["IntervalRows", "minute_iso"]


@dataclass(frozen=True, slots=True)
class _Rendered:
    """One row's JSON and what it was made from (a copy: callers' dicts may be shared)."""

    counters: dict[str, int]
    queue: QueueDefaults
    fcr: str
    json: orjson.Fragment


def _stamp(ms: int, made: dict[int, str | None]) -> str | None:
    """iso(ms), each bound made once per render (a row's end is the next one's start)."""
    text = made.get(ms)
    if text is None:
        text = made[ms] = minute_iso(ms)
    return text


def minute_iso(ms: int) -> str | None:
    """iso(ms), faster for a whole minute (every interval bound): the day's date made once."""
    if ms % 60_000:
        return iso(ms)
    day, minute = divmod(ms // 60_000, 1440)
    return f"{_date_text(day)}T{minute // 60:02d}:{minute % 60:02d}:00Z"


@functools.lru_cache(maxsize=1024)
def _date_text(day: int) -> str:
    """The UTC date of day number `day` since the epoch, as RFC 3339 (YYYY-MM-DD)."""
    return (_EPOCH + dt.timedelta(days=day)).isoformat()


_EPOCH = dt.date(1970, 1, 1)


class IntervalRows:
    """Rendered interval rows by (series, size, start); safe to share between threads."""

    def __init__(self, kept: int = 4096) -> None:
        #: at most this many rows are kept (4,096: a month of 15-minute intervals of one
        #: series or of 30-minute intervals of two; about 3.8 kB a row, 16 MB)
        self.kept = kept
        self._rows: dict[tuple[Series, int, int], _Rendered] = {}
        #: the queue settings each series' rows were last made with: a request's equal
        #: settings are replaced by these, so a row's are checked by identity
        self._queues: dict[Series, QueueDefaults] = {}
        self._lock = threading.Lock()

    def render(
        self,
        series: Series,
        plan: IntervalPlan,
        summed: Sequence[dict[str, int]],
        queue: QueueDefaults,
        now_ms: int,
    ) -> list[orjson.Fragment]:
        """The JSON of each row of `plan` (see interval_row), with its RFC 3339 `start`
        and `end`; `summed` holds each row's counters, as read_buckets returns them."""
        rows = self._rows
        with self._lock:
            known = self._queues.get(series)
            if known is not None and (known is queue or known == queue):
                queue = known
            else:  # new settings: the series' rows are made again
                self._queues[series] = queue
        size_ms = plan.size_minutes * 60_000
        out = []
        stamps: dict[int, str | None] = {}  # a row's end is the next one's start
        for start, counters in zip(plan.starts, summed, strict=True):
            fcr = interval_fcr(start + size_ms, queue, now_ms)
            key = (series, size_ms, start)
            kept = rows.get(key)
            if (
                kept is None
                or kept.queue is not queue
                or kept.fcr != fcr
                or kept.counters != counters
            ):
                row = interval_row(start, size_ms, counters, queue, fcr)
                row["start"], row["end"] = _stamp(start, stamps), _stamp(start + size_ms, stamps)
                body = orjson.dumps(row, option=orjson.OPT_NON_STR_KEYS)
                # a copy: orjson's own bytes keep its growth buffer (16 kB for a 2.7 kB row)
                fragment = orjson.Fragment(memoryview(body).tobytes())
                kept = _Rendered(dict(counters), queue, fcr, fragment)
                with self._lock:
                    if len(rows) >= self.kept and key not in rows:
                        del rows[next(iter(rows))]
                    rows[key] = kept
            out.append(kept.json)
        return out
