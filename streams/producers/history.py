"""Loading history: re-time offsets and the retention check before sending (pure).

The worker dead-letters an event older than its retention (`too_late`), so a history
file that reaches further back than `CCMON_RETENTION_S` would load as zeros. Replay and
import check the file's oldest event first and refuse with the command that opens a
backfill (`CCMON_BACKFILL_S`, see streams/settings.py). Re-timing by whole days or weeks
keeps a history's intervals (and, by weeks, its weekdays) lined up.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "DAY_MS",
    "MARGIN_MS",
    "RETIME_MODES",
    "RetimeMode",
    "Span",
    "ahead_ms",
    "backfill_days",
    "early_refusal",
    "refusal",
    "retime_offset",
]

DAY_MS = 86_400_000
#: Headroom for the time a load takes: an event this close to the retention edge when
#: sent could be past it when the worker reads it.
MARGIN_MS = 3_600_000
RetimeMode = Literal["none", "first", "days", "weeks"]
#: --retime values: the first event now (bare --retime), or whole days / weeks
RETIME_MODES: tuple[str, ...] = ("first", "days", "weeks")
_UNIT_MS = {"days": DAY_MS, "weeks": 7 * DAY_MS}
_RETIME = re.compile(r" --retime(?= |$)(?: (?:first|days|weeks)(?= |$))?")


@dataclass(frozen=True)
class Span:
    """Event times of a file: the first (in file order), oldest and newest, and the count."""

    first_ms: int
    oldest_ms: int
    newest_ms: int
    count: int

    @classmethod
    def of(cls, times: list[int]) -> Span | None:
        """The span of `times` in file order; None when there are none."""
        if not times:
            return None
        return cls(times[0], min(times), max(times), len(times))


def retime_offset(mode: RetimeMode, span: Span, now_ms: int) -> int:
    """How far to move every event: 'first' puts the first event at now; 'days' / 'weeks'
    move by the most whole days / weeks that keep the newest event at or before now."""
    if mode == "none":
        return 0
    if mode == "first":
        return now_ms - span.first_ms
    unit = _UNIT_MS[mode]
    return math.floor((now_ms - span.newest_ms) / unit) * unit


def oldest_admitted_ms(span: Span, now_ms: int, retention_s: int, lateness_s: int) -> int:
    """The oldest event time the worker still takes while this span arrives (less the
    margin): behind the later of now and the span's watermark by the retention."""
    watermark = max(now_ms, span.newest_ms - lateness_s * 1000)
    return watermark - retention_s * 1000 + MARGIN_MS


def backfill_days(span: Span, now_ms: int) -> int:
    """Whole days of CCMON_BACKFILL_S that take the span's oldest event (with the margin)."""
    return max(1, math.ceil((now_ms - span.oldest_ms + MARGIN_MS) / DAY_MS))


def _iso(ms: int) -> str:
    moment = dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).replace(microsecond=0)
    return moment.isoformat().replace("+00:00", "Z")


def refusal(command: str, span: Span, now_ms: int, retention_s: int, lateness_s: int) -> str | None:
    """Why the worker would drop part of the span, and the commands that load it; None
    when every event is inside the retention. `command` is the command line as typed
    (without the leading `ccmon`)."""
    if span.oldest_ms >= oldest_admitted_ms(span, now_ms, retention_s, lateness_s):
        return None
    days = backfill_days(span, now_ms)
    backfill = f"CCMON_BACKFILL_S={days * 86_400}"
    age = (now_ms - span.oldest_ms) / DAY_MS
    return (
        f"the oldest event ({_iso(span.oldest_ms)}, {age:.1f} days ago) is older than the "
        f"worker's retention (CCMON_RETENTION_S={retention_s}, {retention_s / 86_400:g} days): "
        "the worker would dead-letter it as too_late and the API would answer nulls.\n"
        f"Load it with a backfill of {days} days (the worker and this command need the same "
        "setting):\n"
        f"  {backfill} ccmon worker\n"
        f"  {backfill} ccmon {command}"
        + (
            ""
            if "--retime" in command
            else f"\nor move it to recent days: ccmon {command} --retime weeks"
        )
    )


def ahead_ms(span: Span, offset_ms: int, now_ms: int, speed: float | None) -> int:
    """How far the shifted events get ahead of the wall clock when they are sent: paced
    from the first event (file order) at `speed`, or all at once (None)."""

    def ahead(t: int) -> float:
        sent = 0.0 if speed is None else max(0.0, (t - span.first_ms) / speed)
        return t + offset_ms - now_ms - sent

    return round(max(ahead(span.oldest_ms), ahead(span.first_ms), ahead(span.newest_ms)))


def early_refusal(
    command: str, span: Span, offset_ms: int, now_ms: int, speed: float | None, max_future_s: int
) -> str | None:
    """Why the worker would drop events sent ahead of its clock (too_early), or None."""
    ahead = ahead_ms(span, offset_ms, now_ms, speed)
    if ahead <= max_future_s * 1000:
        return None
    return (
        f"events would reach the worker up to {ahead / 60_000:,.0f} minutes ahead of its clock, "
        f"more than CCMON_MAX_FUTURE_S ({max_future_s}): it would dead-letter them as "
        f"too_early. Send them as they happen (--speed 1 with --retime), or keep them in "
        f"the past: ccmon {_RETIME.sub('', command)} --retime days"
    )
