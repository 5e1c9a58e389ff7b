"""Typed events of contract v1, as the core sees them after decoding at the edge."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "AgentStateChanged",
    "ContactEvent",
    "ContactOutcome",
    "ContactQueued",
    "Event",
    "OUTCOME_KINDS",
    "WrapupCompleted",
]

#: Terminal outcomes of a queue visit, in tie-break order for equal times.
OUTCOME_KINDS: tuple[str, ...] = ("answered", "abandoned", "flowed_out", "callback_requested")


@dataclass(frozen=True, slots=True)
class ContactQueued:
    """contact.queued: the contact entered `queue`."""

    id: str
    time_ms: int
    contact_id: str
    queue: str
    channel: str


@dataclass(frozen=True, slots=True)
class ContactOutcome:
    """contact.answered / abandoned / flowed_out / callback_requested: it left the queue."""

    id: str
    time_ms: int
    contact_id: str
    queue: str
    channel: str
    kind: Literal["answered", "abandoned", "flowed_out", "callback_requested"]
    agent_id: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class WrapupCompleted:
    """contact.wrapup_completed: an agent finished the contact; handle time lands here."""

    id: str
    time_ms: int
    contact_id: str
    queue: str
    channel: str
    talk_ms: int
    hold_ms: int
    acw_ms: int
    agent_id: str | None = None


@dataclass(frozen=True, slots=True)
class AgentStateChanged:
    """agent.state_changed: the agent is now in `state` for the (queue, channel) pairs given."""

    id: str
    time_ms: int
    agent_id: str
    state: str
    queues: tuple[str, ...]
    channels: tuple[str, ...]


ContactEvent = ContactQueued | ContactOutcome | WrapupCompleted
Event = ContactQueued | ContactOutcome | WrapupCompleted | AgentStateChanged
