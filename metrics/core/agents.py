"""Per-agent state history: live counts by state and time in state per pane (pure).

An agent's state keeps its recent changes, so a change that arrives late (but within the
lateness) is inserted at its own time and the span it splits is re-attributed: time in
state then does not depend on arrival order, as every other figure does not.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from metrics.core.panes import PANE_MS, pane_start
from metrics.events import AgentStateChanged
from metrics.fields import AGENT_TIME_FIELD, COUNTED_AGENT_STATES

__all__ = [
    "MAX_ATTRIBUTED_SPAN_MS",
    "MAX_CHANGES",
    "NO_TEAM",
    "AgentState",
    "Change",
    "Resplit",
    "Span",
    "insert_change",
    "split_by_pane",
]

#: Time in one state beyond this is not spread over panes (a forgotten log-out).
MAX_ATTRIBUTED_SPAN_MS = 12 * 60 * PANE_MS

#: The team of an agent the agents directory does not name (a label value).
NO_TEAM = "none"

#: Most changes one agent's history keeps, whatever the lateness: bounds the stored JSON
#: (about 60 bytes a change) and the work per event; an agent changing state more often
#: than this within the lateness has its oldest changes dropped (then counted stale).
MAX_CHANGES = 32


class Change(NamedTuple):
    """One state change: from `at_ms` the agent is in `state` for these queues and channels.

    It also carries the reason ("" when none), the capacity per channel in effect (the
    event's, else the agents directory's; () when neither gives one) and the agent's team
    ("none" when it has none), so that taking a span back undoes exactly what adding it did.
    Changes order as tuples, by time first; changes at the same millisecond order by their
    content, so which one holds after that millisecond does not depend on arrival order.
    """

    at_ms: int
    state: str
    queues: tuple[str, ...]
    channels: tuple[str, ...]
    reason: str = ""
    capacity: tuple[tuple[str, int], ...] = ()
    team: str = NO_TEAM

    @classmethod
    def of(
        cls,
        event: AgentStateChanged,
        team: str = NO_TEAM,
        default_capacity: tuple[tuple[str, int], ...] = (),
    ) -> Change:
        capacity = event.capacity or default_capacity
        reason = event.reason or ""
        return cls(event.time_ms, event.state, event.queues, event.channels, reason, capacity, team)

    def slots(self, channel: str) -> int:
        """Concurrent contacts of `channel` the agent takes in this change (1 if not given)."""
        for name, count in self.capacity:
            if name == channel:
                return count
        return 1

    def series(self) -> Iterator[tuple[str, str]]:
        for queue in self.queues:
            for channel in self.channels:
                yield queue, channel

    @property
    def counted(self) -> bool:
        return self.state in COUNTED_AGENT_STATES

    @property
    def time_field(self) -> str | None:
        return AGENT_TIME_FIELD.get(self.state)


@dataclass(frozen=True)
class AgentState:
    """An agent's recent changes, oldest first; the last one is its state now.

    The history holds the change in effect at (newest - lateness) and every later one, at
    most MAX_CHANGES: with the default 120 s lateness typically 2 or 3 (8 at most over the
    simulated large-centre day, tests/statistical/test_agent_order.py).
    `complete` is true while no change has been dropped from its front (a new agent), so a
    change older than the first one may still be put before it.
    """

    history: tuple[Change, ...]
    complete: bool = True

    @property
    def latest(self) -> Change:
        return self.history[-1]

    @property
    def state(self) -> str:
        return self.latest.state

    @property
    def since_ms(self) -> int:
        return self.latest.at_ms

    @property
    def queues(self) -> tuple[str, ...]:
        return self.latest.queues

    @property
    def channels(self) -> tuple[str, ...]:
        return self.latest.channels

    def to_dict(self) -> dict[str, Any]:
        """The latest change at the top (the form older versions read), earlier ones in "h".

        Reason ("r"), capacity ("k") and team ("m") are written only when set, so a state
        without them is stored as before.
        """
        latest = self.latest
        data: dict[str, Any] = {
            "s": latest.state,
            "t": latest.at_ms,
            "q": latest.queues,
            "c": latest.channels,
        }
        data.update(_extras(latest))
        data["h"] = [_row(c) for c in self.history[:-1]]
        data["f"] = self.complete
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AgentState:
        """Read every form; the oldest one (no "h") knows only the current state."""
        latest = Change(
            data["t"],
            data["s"],
            tuple(data["q"]),
            tuple(data["c"]),
            data.get("r", ""),
            tuple((ch, n) for ch, n in data.get("k", ())),
            data.get("m", NO_TEAM),
        )
        if "h" not in data:
            return cls((latest,), complete=False)
        earlier = tuple(_change(row) for row in data["h"])
        return cls((*earlier, latest), complete=bool(data.get("f", False)))


def _extras(change: Change) -> dict[str, Any]:
    extras: dict[str, Any] = {}
    if change.reason:
        extras["r"] = change.reason
    if change.capacity:
        extras["k"] = [list(pair) for pair in change.capacity]
    if change.team != NO_TEAM:
        extras["m"] = change.team
    return extras


def _row(change: Change) -> list[Any]:
    """A history row: [t, s, q, c] as before, then reason, capacity, team when any is set."""
    row: list[Any] = [change.at_ms, change.state, change.queues, change.channels]
    if change.reason or change.capacity or change.team != NO_TEAM:
        row += [change.reason, [list(pair) for pair in change.capacity], change.team]
    return row


def _change(row: list[Any]) -> Change:
    t, s, q, c = row[:4]
    if len(row) == 4:
        return Change(t, s, tuple(q), tuple(c))
    reason, capacity, team = row[4:7]
    return Change(t, s, tuple(q), tuple(c), reason, tuple((ch, n) for ch, n in capacity), team)


class Span(NamedTuple):
    """Time [start_ms, end_ms) in `change`'s state, added (sign 1) or taken back (sign -1)."""

    change: Change
    start_ms: int
    end_ms: int
    sign: int


@dataclass(frozen=True)
class Resplit:
    """What inserting one change does: the new state and the spans to add or take back."""

    state: AgentState
    spans: tuple[Span, ...]


def insert_change(old: AgentState | None, change: Change, lateness_ms: int) -> Resplit | None:
    """Put `change` at its time in `old`'s history; None if it is older than the history.

    A change inside the history splits the span of the change before it: that span's time
    is taken back and re-added in two parts, before and from `change`. A change already in
    the history returns `old` unchanged with no spans.
    """
    if old is None:
        return Resplit(AgentState((change,)), ())
    history = old.history
    first, newest = history[0], history[-1].at_ms
    if change.at_ms < first.at_ms and (not old.complete or change.at_ms < newest - lateness_ms):
        return None
    i = bisect_left(history, change)
    if i < len(history) and history[i] == change:
        return Resplit(old, ())
    before = history[i - 1] if i else None
    after = history[i] if i < len(history) else None
    spans: list[Span] = []
    if before is not None and after is not None:
        spans.append(Span(before, before.at_ms, after.at_ms, -1))
    if before is not None:
        spans.append(Span(before, before.at_ms, change.at_ms, 1))
    if after is not None:
        spans.append(Span(change, change.at_ms, after.at_ms, 1))
    grown = (*history[:i], change, *history[i:])
    return Resplit(_pruned(grown, old.complete, lateness_ms), tuple(spans))


def _pruned(history: tuple[Change, ...], complete: bool, lateness_ms: int) -> AgentState:
    """Keep the change in effect at (newest - lateness), every later one, at most MAX_CHANGES."""
    horizon = history[-1].at_ms - lateness_ms
    in_effect = bisect_right(history, horizon, key=_time) - 1
    keep = max(in_effect, len(history) - MAX_CHANGES, 0)
    if keep == 0:
        return AgentState(history, complete)
    return AgentState(history[keep:], complete=False)


def _time(change: Change) -> int:
    return change.at_ms


def split_by_pane(start_ms: int, end_ms: int) -> Iterator[tuple[int, int]]:
    """Yield (pane start, milliseconds inside that pane) covering [start_ms, end_ms)."""
    start_ms = max(start_ms, end_ms - MAX_ATTRIBUTED_SPAN_MS)
    t = start_ms
    while t < end_ms:
        pane = pane_start(t)
        stop = min(end_ms, pane + PANE_MS)
        yield pane, stop - t
        t = stop
