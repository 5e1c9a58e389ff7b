"""The in-memory twin of the store port, for unit tests and dry runs."""

from __future__ import annotations

import contextlib
import uuid
from collections import defaultdict
from dataclasses import dataclass, field, fields
from typing import Any

from metrics.core.agent_figures import AGENT_SCOPE
from metrics.core.agents import AgentState
from metrics.core.formulas import sum_counters
from metrics.core.panes import (
    HOUR_MS,
    INTERVAL_MS,
    LEVELS,
    PANE_MS,
    buckets_of,
    level_retention_ms,
)
from metrics.core.reads import BucketRequest, Live, SeriesData, SeriesRequest, SetQuery, SetStats
from metrics.core.update import Entity, Series, Update
from metrics.fields import MAX_FIELDS
from metrics.store.base import WAIT_SET, FencedError, StoreLostError

__all__ = ["InMemoryStore"]


#: the fields that are settings, not data (kept by `lose`)
_SETTINGS = ("retention_ms", "rollup_retention_ms", "dedupe_horizon_ms", "state_ttl_ms")
_LENGTHS = dict(LEVELS)


@dataclass
class InMemoryStore:
    """A dict-backed AggregateStore with the same semantics, minus durability."""

    retention_ms: int = 8 * 24 * 3600 * 1000
    #: hourly and daily rollups are kept this long (13 months by default)
    rollup_retention_ms: int = 396 * 24 * 3600 * 1000
    dedupe_horizon_ms: int = 24 * 3600 * 1000
    state_ttl_ms: int = 24 * 3600 * 1000
    panes: dict[tuple[Series, int], dict[str, int]] = field(default_factory=dict)
    intervals: dict[tuple[Series, int], dict[str, int]] = field(default_factory=dict)
    hours: dict[tuple[Series, int], dict[str, int]] = field(default_factory=dict)
    days: dict[tuple[Series, int], dict[str, int]] = field(default_factory=dict)
    totals: defaultdict[Series, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    agent_counts: defaultdict[Series, dict[str, int]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    #: team and agent panes by level ("p1", "p15", "p60"; agents have no "p1") and live
    scoped: dict[tuple[str, Entity, int], dict[str, int]] = field(default_factory=dict)
    scoped_counts: defaultdict[Entity, dict[str, int]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    members: defaultdict[tuple[str, str, str], dict[str, int]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    states: defaultdict[str, dict[str, Any]] = field(default_factory=lambda: defaultdict(dict))
    offsets: dict[str, int] = field(default_factory=dict)
    seen_ids: dict[str, int] = field(default_factory=dict)
    queues: set[str] = field(default_factory=set)
    times: dict[str, int] = field(default_factory=dict)
    now_ms: int = 0
    #: the generation marker the store holds, and the one this client claimed
    marker: str | None = None
    claimed: str | None = None

    def claim_generation(self) -> str:
        if self.marker is None:
            self.marker = uuid.uuid4().hex
        self.claimed = self.marker
        return self.marker

    def holds_generation(self) -> bool:
        return self.claimed is None or self.marker == self.claimed

    def lose(self) -> None:
        """Forget every write, as a Redis restarted without persistence does; the client's
        claimed generation (not part of the store) is kept."""
        claimed = self.claimed
        for spec in fields(self):
            if spec.name not in _SETTINGS:
                setattr(self, spec.name, type(self)().__dict__[spec.name])
        self.claimed = claimed

    def flush(self, update: Update, now_ms: int) -> None:
        if not self.holds_generation():
            raise StoreLostError(f"store holds generation {self.marker}, not {self.claimed}")
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
        for (scope, ident, pane), deltas in update.scoped.items():
            for level, start, _ in buckets_of(pane):
                if level == "p1d" or (level == "p1" and scope == AGENT_SCOPE):
                    continue
                target = self.scoped.setdefault((level, (scope, ident), start), {})
                for name, delta in deltas.items():
                    if delta:
                        target[name] = target.get(name, 0) + delta
        for entity, deltas in update.scoped_live.items():
            counts = self.scoped_counts[entity]
            for name, delta in deltas.items():
                if delta:
                    counts[name] = counts.get(name, 0) + delta
        for key, changes in update.members.items():
            for member, score in changes.items():
                if score is None:
                    self.members[key].pop(member, None)
                else:
                    self.members[key][member] = score
        for kind, states in update.states.items():
            self.states[kind].update(states)
        self.seen_ids.update(update.seen)
        self.queues |= update.new_queues
        for partition, t in update.event_time.items():
            self.times[partition] = max(self.times.get(partition, t), t)

    def _buckets(self, series: Series, pane: int) -> list[dict[str, int]]:
        levels = {"p1": self.panes, "p15": self.intervals, "p60": self.hours, "p1d": self.days}
        return [
            levels[level].setdefault((series, start), {}) for level, start, _ in buckets_of(pane)
        ]

    def load_offsets(self) -> dict[str, int]:
        return dict(self.offsets)

    def load_states(self, wanted: dict[str, set[str]]) -> dict[str, dict[str, Any]]:
        return {kind: {i: self.states[kind].get(i) for i in ids} for kind, ids in wanted.items()}

    def seen(self, events: dict[str, int]) -> set[str]:
        return {
            i
            for i, t in events.items()
            if i in self.seen_ids and self.now_ms - t < self.dedupe_horizon_ms
        }

    def known_queues(self) -> set[str]:
        return set(self.queues)

    def reading(self) -> contextlib.nullcontext[None]:
        return contextlib.nullcontext()

    def series(self) -> list[Series]:
        found = {s for s, _ in self.panes} | set(self.agent_counts)
        found |= {(q, c) for (_, q, c), members in self.members.items() if members}
        return sorted(found)

    def _alive(self, start_ms: int, length_ms: int, level: str = "p1") -> bool:
        keep = level_retention_ms(level, self.retention_ms, self.rollup_retention_ms)
        return start_ms + length_ms + keep > self.now_ms

    def read_buckets(
        self, requests: list[BucketRequest], now_ms: int
    ) -> list[list[dict[str, int]]]:
        levels = {"p1": self.panes, "p15": self.intervals, "p60": self.hours, "p1d": self.days}
        out = []
        for req in requests:
            kept, length = levels[req.level], _LENGTHS[req.level]
            found = [
                kept.get((req.series, s), {}) if self._alive(s, length, req.level) else {}
                for s in req.starts
            ]
            out.append(
                [sum_counters(found[i : i + req.per]) for i in range(0, len(found), req.per)]
            )
        return out

    def read(self, requests: list[SeriesRequest], now_ms: int) -> list[SeriesData]:
        out = []
        for req in requests:
            s = req.series
            floor = now_ms - self.state_ttl_ms
            wait = self.members.get((WAIT_SET, *s), {})
            waiting = {c: t for c, t in wait.items() if t >= floor}
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
                        dict(self.hours.get((s, h), {})) if self._alive(h, HOUR_MS, "p60") else {}
                        for h in req.hours
                    ],
                    live=Live(
                        waiting=len(waiting),
                        oldest_enqueued_ms=min(waiting.values()) if waiting else None,
                        agents=dict(self.agent_counts.get(s, {})),
                        sets={q.name: self._set_stats(s, q) for q in req.sets},
                    ),
                    totals={k: v for k, v in self.totals.get(s, {}).items() if k not in MAX_FIELDS},
                )
            )
        return out

    def _set_stats(self, series: Series, query: SetQuery) -> SetStats:
        scores = list(self.members.get((query.name, *series), {}).values())
        after = query.next_from
        return SetStats(
            count=len(scores),
            min_score=min(scores, default=None),
            below=tuple(sum(1 for v in scores if v < b) for b in query.bounds),
            next_score=None
            if after is None
            else min((v for v in scores if v >= after), default=None),
        )

    def read_scoped(self, requests: list[SeriesRequest], now_ms: int) -> list[SeriesData]:
        def level(name: str, entity: Entity, starts: tuple[int, ...], size: int) -> list[Any]:
            return [
                dict(self.scoped.get((name, entity, s), {})) if self._alive(s, size) else {}
                for s in starts
            ]

        return [
            SeriesData(
                panes=level("p1", req.series, req.panes, PANE_MS),
                intervals=level("p15", req.series, req.intervals, INTERVAL_MS),
                hours=level("p60", req.series, req.hours, HOUR_MS),
                live=Live(agents=dict(self.scoped_counts.get(req.series, {}))),
                totals={},
            )
            for req in requests
        ]

    def entities(self, scope: str) -> list[str]:
        return sorted(ident for s, ident in self.scoped_counts if s == scope)

    def agent_states(self, agent_ids: set[str] | None = None) -> dict[str, AgentState]:
        stored = self.states.get("agent", {})
        wanted = stored.keys() if agent_ids is None else agent_ids & stored.keys()
        return {i: stored[i] for i in sorted(wanted) if stored[i] is not None}

    def set_members(
        self, name: str, series: list[Series], now_ms: int
    ) -> dict[Series, dict[str, int]]:
        floor = now_ms - self.state_ttl_ms
        return {
            s: {m: t for m, t in self.members.get((name, *s), {}).items() if t >= floor}
            for s in series
        }

    def event_times(self) -> dict[str, int]:
        return dict(self.times)

    def ping(self) -> bool:
        return True
