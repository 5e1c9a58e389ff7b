"""Per-agent state machine: live counts by state and time in state per pane (pure)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from metrics.core.panes import PANE_MS, pane_start
from metrics.events import AgentStateChanged
from metrics.fields import AGENT_TIME_FIELD, COUNTED_AGENT_STATES

__all__ = ["MAX_ATTRIBUTED_SPAN_MS", "AgentState", "split_by_pane"]

#: Time in one state beyond this is not spread over panes (a forgotten log-out).
MAX_ATTRIBUTED_SPAN_MS = 12 * 60 * PANE_MS


@dataclass(frozen=True)
class AgentState:
    """An agent's current state, since when, and which (queue, channel) pairs it serves."""

    state: str
    since_ms: int
    queues: tuple[str, ...]
    channels: tuple[str, ...]

    @classmethod
    def of(cls, event: AgentStateChanged) -> AgentState:
        return cls(event.state, event.time_ms, event.queues, event.channels)

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

    def to_dict(self) -> dict[str, Any]:
        return {"s": self.state, "t": self.since_ms, "q": self.queues, "c": self.channels}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AgentState:
        return cls(data["s"], data["t"], tuple(data["q"]), tuple(data["c"]))


def split_by_pane(start_ms: int, end_ms: int) -> Iterator[tuple[int, int]]:
    """Yield (pane start, milliseconds inside that pane) covering [start_ms, end_ms)."""
    start_ms = max(start_ms, end_ms - MAX_ATTRIBUTED_SPAN_MS)
    t = start_ms
    while t < end_ms:
        pane = pane_start(t)
        stop = min(end_ms, pane + PANE_MS)
        yield pane, stop - t
        t = stop
