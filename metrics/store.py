"""The aggregate store port, and its in-memory twin for unit tests and dry runs."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Protocol

from metrics.agents import AgentState
from metrics.contacts import ContactState
from metrics.fields import MAX_FIELDS
from metrics.panes import HOUR_MS, INTERVAL_MS, PANE_MS, buckets_of
from metrics.update import Series, Update

__all__ = [
    "AggregateStore",
    "FencedError",
    "InMemoryStore",
    "Live",
    "SeriesData",
    "SeriesRequest",
    "StoreError",
]


class StoreError(Exception):
    """The store could not be read or written; retriable once it is reachable again."""

    retriable = True


class FencedError(StoreError):
    """A flush carried offsets at or below ones already applied: another worker owns them."""

    retriable = False


@dataclass(frozen=True)
class Live:
    """Live state of one (queue, channel)."""

    waiting: int = 0
    oldest_enqueued_ms: int | None = None
    agents: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class SeriesRequest:
    """Which panes, 15-minute intervals and hours of one series to read."""

    series: Series
    panes: tuple[int, ...] = ()
    intervals: tuple[int, ...] = ()
    hours: tuple[int, ...] = ()


@dataclass(frozen=True)
class SeriesData:
    """What was read for one SeriesRequest, in the order asked."""

    panes: list[dict[str, int]]
    intervals: list[dict[str, int]]
    hours: list[dict[str, int]]
    live: Live
    totals: dict[str, int]


class AggregateStore(Protocol):
    """Where panes, live state, entity states and applied offsets are kept."""

    def flush(self, update: Update, now_ms: int) -> None:
        """Write `update` atomically, fenced by its offsets; raise FencedError if stale."""

    def load_offsets(self) -> dict[str, int]:
        """Last applied offset per "topic:partition"."""

    def load_states(
        self, contacts: set[str], agents: set[str]
    ) -> tuple[dict[str, ContactState | None], dict[str, AgentState | None]]:
        """Stored states of these contacts and agents (None where there is none)."""

    def seen(self, events: dict[str, int]) -> set[str]:
        """Which of these event ids (id -> event time ms) were applied within the horizon."""

    def known_queues(self) -> set[str]:
        """Queue names met so far."""

    def series(self) -> list[Series]:
        """All (queue, channel) pairs that have data."""

    def read(self, requests: list[SeriesRequest], now_ms: int) -> list[SeriesData]:
        """Read panes, intervals, live state and totals for many series at once.

        Contacts that have waited longer than the state TTL at `now_ms` are not counted as
        waiting: their outcome event was lost, and they must not hold up oldest-wait alerts.
        """

    def event_times(self) -> dict[str, int]:
        """Highest event time applied per "topic:partition"."""

    def ping(self) -> bool:
        """True when the store answers."""


@dataclass
class InMemoryStore:
    """A dict-backed AggregateStore with the same semantics, minus durability."""

    retention_ms: int = 8 * 24 * 3600 * 1000
    dedupe_horizon_ms: int = 24 * 3600 * 1000
    state_ttl_ms: int = 24 * 3600 * 1000
    panes: dict[tuple[Series, int], dict[str, int]] = field(default_factory=dict)
    intervals: dict[tuple[Series, int], dict[str, int]] = field(default_factory=dict)
    hours: dict[tuple[Series, int], dict[str, int]] = field(default_factory=dict)
    totals: defaultdict[Series, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    agent_counts: defaultdict[Series, dict[str, int]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    waiting: defaultdict[Series, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    contacts: dict[str, ContactState] = field(default_factory=dict)
    agents: dict[str, AgentState] = field(default_factory=dict)
    offsets: dict[str, int] = field(default_factory=dict)
    seen_ids: dict[str, int] = field(default_factory=dict)
    queues: set[str] = field(default_factory=set)
    times: dict[str, int] = field(default_factory=dict)
    now_ms: int = 0

    def flush(self, update: Update, now_ms: int) -> None:
        for partition, (first, _) in update.offsets.items():
            if self.offsets.get(partition, -1) >= first:
                raise FencedError(f"{partition}: offset {first} already applied")
        self.now_ms = now_ms
        for partition, (_, last) in update.offsets.items():
            self.offsets[partition] = last
        for (queue, channel, pane), deltas in update.sums.items():
            series = (queue, channel)
            for target in [*self._buckets(series, pane), self.totals[series]]:
                for name, delta in deltas.items():
                    if delta:  # as HINCRBY: a zero delta writes nothing
                        target[name] = target.get(name, 0) + delta
        for (queue, channel, pane), maxima in update.maxes.items():
            for target in self._buckets((queue, channel), pane):
                for name, value in maxima.items():
                    target[name] = max(target.get(name, value), value)
        for series, deltas in update.live.items():
            counts = self.agent_counts[series]
            for name, delta in deltas.items():
                if delta:
                    counts[name] = counts.get(name, 0) + delta
        for series, members in update.waiting.items():
            for member, score in members.items():
                if score is None:
                    self.waiting[series].pop(member, None)
                else:
                    self.waiting[series][member] = score
        self.contacts.update(update.contacts)
        self.agents.update(update.agents)
        self.seen_ids.update(update.seen)
        self.queues |= update.new_queues
        for partition, t in update.event_time.items():
            self.times[partition] = max(self.times.get(partition, t), t)

    def _buckets(self, series: Series, pane: int) -> list[dict[str, int]]:
        levels = {"p1": self.panes, "p15": self.intervals, "p60": self.hours}
        return [
            levels[level].setdefault((series, start), {}) for level, start, _ in buckets_of(pane)
        ]

    def load_offsets(self) -> dict[str, int]:
        return dict(self.offsets)

    def load_states(
        self, contacts: set[str], agents: set[str]
    ) -> tuple[dict[str, ContactState | None], dict[str, AgentState | None]]:
        return (
            {c: self.contacts.get(c) for c in contacts},
            {a: self.agents.get(a) for a in agents},
        )

    def seen(self, events: dict[str, int]) -> set[str]:
        return {
            i
            for i, t in events.items()
            if i in self.seen_ids and self.now_ms - t < self.dedupe_horizon_ms
        }

    def known_queues(self) -> set[str]:
        return set(self.queues)

    def series(self) -> list[Series]:
        found = {s for s, _ in self.panes} | set(self.agent_counts) | set(self.waiting)
        return sorted(found)

    def _alive(self, start_ms: int, length_ms: int) -> bool:
        return start_ms + length_ms + self.retention_ms > self.now_ms

    def read(self, requests: list[SeriesRequest], now_ms: int) -> list[SeriesData]:
        out = []
        for req in requests:
            s = req.series
            floor = now_ms - self.state_ttl_ms
            waiting = {c: t for c, t in self.waiting.get(s, {}).items() if t >= floor}
            out.append(
                SeriesData(
                    panes=[
                        dict(self.panes.get((s, p), {})) if self._alive(p, PANE_MS) else {}
                        for p in req.panes
                    ],
                    intervals=[
                        dict(self.intervals.get((s, i), {})) if self._alive(i, INTERVAL_MS) else {}
                        for i in req.intervals
                    ],
                    hours=[
                        dict(self.hours.get((s, h), {})) if self._alive(h, HOUR_MS) else {}
                        for h in req.hours
                    ],
                    live=Live(
                        waiting=len(waiting),
                        oldest_enqueued_ms=min(waiting.values()) if waiting else None,
                        agents=dict(self.agent_counts.get(s, {})),
                    ),
                    totals={k: v for k, v in self.totals.get(s, {}).items() if k not in MAX_FIELDS},
                )
            )
        return out

    def event_times(self) -> dict[str, int]:
        return dict(self.times)

    def ping(self) -> bool:
        return True
