"""Coalesced changes produced by the core and written by a store in one atomic flush."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Entity", "EntityPaneKey", "PaneKey", "Series", "Update"]

#: (queue, channel)
Series = tuple[str, str]
#: (queue, channel, pane start ms)
PaneKey = tuple[str, str, int]
#: (scope, id): a team ("team", name) or an agent ("agent", agent id), kept apart from series
Entity = tuple[str, str]
#: (scope, id, pane start ms)
EntityPaneKey = tuple[str, str, int]


def _counter_map() -> defaultdict[Any, defaultdict[str, int]]:
    return defaultdict(lambda: defaultdict(int))


@dataclass
class Update:
    """Everything one flush writes; sums add up, maxima merge, states are replaced."""

    #: (queue, channel, pane) -> field -> delta, for SUM_FIELDS and histogram buckets
    sums: defaultdict[PaneKey, defaultdict[str, int]] = field(default_factory=_counter_map)
    #: (queue, channel, pane) -> field -> candidate maximum
    maxes: defaultdict[PaneKey, defaultdict[str, int]] = field(default_factory=_counter_map)
    #: (queue, channel) -> live field (agents_<state>) -> delta
    live: defaultdict[Series, defaultdict[str, int]] = field(default_factory=_counter_map)
    #: (scope, id, pane) -> field -> delta: team and agent panes, their own key space
    scoped: defaultdict[EntityPaneKey, defaultdict[str, int]] = field(default_factory=_counter_map)
    #: (scope, id) -> live field -> delta (a team's agents by state and reason, slots)
    scoped_live: defaultdict[Entity, defaultdict[str, int]] = field(default_factory=_counter_map)
    #: (live set, queue, channel) -> member id -> score ms (a member) or None (left)
    members: defaultdict[tuple[str, str, str], dict[str, int | None]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    #: state kind (see metrics.core.states) -> id -> its state after this update (never changed
    #: once here: a flush thread may be serialising it)
    states: defaultdict[str, dict[str, Any]] = field(default_factory=lambda: defaultdict(dict))
    #: event id -> event time ms, for the dedupe horizon
    seen: dict[str, int] = field(default_factory=dict)
    #: "topic:partition" -> (first offset, last offset) applied in this update
    offsets: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: queue names met for the first time
    new_queues: set[str] = field(default_factory=set)
    #: "topic:partition" -> highest event time ms seen
    event_time: dict[str, int] = field(default_factory=dict)

    def add(self, key: PaneKey, name: str, delta: int) -> None:
        if delta:
            self.sums[key][name] += delta

    def add_max(self, key: PaneKey, name: str, value: int) -> None:
        current = self.maxes[key]
        if name not in current or value > current[name]:
            current[name] = value

    def mark_offset(self, partition: str, offset: int) -> None:
        first, last = self.offsets.get(partition, (offset, offset))
        self.offsets[partition] = (min(first, offset), max(last, offset))

    def is_empty(self) -> bool:
        return not (
            self.sums
            or self.maxes
            or self.live
            or self.scoped
            or self.scoped_live
            or self.members
            or self.states
            or self.seen
            or self.offsets
            or self.new_queues
        )
