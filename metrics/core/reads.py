"""What a read asks of the store and what it gets back: plain data, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field

from metrics.core.update import Series

__all__ = ["BucketRequest", "Live", "SeriesData", "SeriesRequest", "SetQuery", "SetStats"]


@dataclass(frozen=True)
class SetQuery:
    """Read one live set of a series: its size, lowest score and counts below bounds."""

    name: str
    #: report how many members score strictly below each bound (ms), e.g. age buckets
    bounds: tuple[int, ...] = ()
    #: report the lowest score at or above this (e.g. the next due time after now)
    next_from: int | None = None


@dataclass(frozen=True)
class SetStats:
    """What a SetQuery found."""

    count: int = 0
    min_score: int | None = None
    below: tuple[int, ...] = ()
    next_score: int | None = None


@dataclass(frozen=True)
class Live:
    """Live state of one (queue, channel)."""

    waiting: int = 0
    oldest_enqueued_ms: int | None = None
    agents: dict[str, int] = field(default_factory=dict)
    #: set name -> stats, for the SetQuery list of the request
    sets: dict[str, SetStats] = field(default_factory=dict)


@dataclass(frozen=True)
class SeriesRequest:
    """Which panes, 15-minute intervals, hours and live sets of one series to read."""

    series: Series
    panes: tuple[int, ...] = ()
    intervals: tuple[int, ...] = ()
    hours: tuple[int, ...] = ()
    sets: tuple[SetQuery, ...] = ()


@dataclass(frozen=True)
class SeriesData:
    """What was read for one SeriesRequest, in the order asked."""

    panes: list[dict[str, int]]
    intervals: list[dict[str, int]]
    hours: list[dict[str, int]]
    live: Live
    totals: dict[str, int]


@dataclass(frozen=True)
class BucketRequest:
    """Buckets of one level of one series (e.g. a year of "p1d" days), for long reads:
    no live state, no totals; a bucket past its level's retention reads as empty."""

    series: Series
    #: one of metrics.core.panes.LEVELS' names
    level: str
    starts: tuple[int, ...]
    #: sum each `per` consecutive buckets into one (e.g. two 15-minute intervals into a
    #: half hour): the store may do it where the data is, and answers len(starts) // per
    per: int = 1
