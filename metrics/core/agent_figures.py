"""What an agent's time and state add to the figures: per series, per team, per agent (pure).

A span of time in one change's state adds, per (queue, channel) the change names, its time
in state, its not-ready reason time, and its slot time; per team and per agent it adds the
same once (slots summed over the change's channels). The latest change adds the live
counts. Contact events that name an agent add that agent's (and team's) contact figures.

Slots (occupancy with concurrency, docs/metrics.md): while available, on contact or in
ACW an agent offers `capacity` slots of each channel it serves (1 when not given). Busy
slots on voice come from the agent's own state (on contact or ACW: its one slot is busy).
On the other channels the agent's events cannot tell how many of its slots are in use, so
each handled contact holds one slot for its handle time (talk + hold + ACW), counted when
its wrap-up completes, like handle time itself: order-independent, as every sum is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Literal

from metrics.config.queues import NONE, OTHER, bounded
from metrics.core.agents import Change
from metrics.events import (
    ContactOfferDeclined,
    ContactOffered,
    ContactTransferred,
    WrapupCompleted,
)
from metrics.fields import COUNTED_AGENT_STATES

__all__ = [
    "AGENT_SCOPE",
    "BUSY_STATES",
    "NO_REASON",
    "OTHER_REASON",
    "SLOT_STATES",
    "STATE_BUSY_CHANNELS",
    "TEAM_SCOPE",
    "AgentContactEvent",
    "Scope",
    "contact_deltas",
    "live_deltas",
    "reason_code",
    "reason_codes",
    "reason_field",
    "reason_live_field",
    "span_weights",
]

#: Entity scopes of the scoped sums and live counts (metrics.core.update).
TEAM_SCOPE = "team"
AGENT_SCOPE = "agent"
Scope = Literal["team", "agent"]

#: The reason code of a not-ready change without a reason, and of one not configured.
NO_REASON = NONE
OTHER_REASON = OTHER

#: States in which an agent's slots count as staffed.
SLOT_STATES = frozenset({"available", "on_contact", "after_contact_work"})
#: States in which, on a state-busy channel, the agent's slots count as busy.
BUSY_STATES = frozenset({"on_contact", "after_contact_work"})
#: Channels whose busy slots come from the agent's state (the others: from contacts).
STATE_BUSY_CHANNELS = frozenset({"voice"})

AgentContactEvent = WrapupCompleted | ContactOffered | ContactOfferDeclined | ContactTransferred


def reason_code(reason: str, allowed: frozenset[str]) -> str:
    """The bounded code of a reason: itself if configured, "none" if empty, else "other"."""
    return bounded(reason or None, allowed)


def reason_codes(configured: tuple[str, ...]) -> tuple[str, ...]:
    """Every reason code a figure can carry: the configured ones, other and none."""
    return (*configured, *(c for c in (OTHER_REASON, NO_REASON) if c not in configured))


def reason_field(code: str) -> str:
    """Pane field of not-ready time with this reason code."""
    return f"agent_reason_ms_{code}"


def reason_live_field(code: str) -> str:
    """Live field of not-ready agents with this reason code."""
    return f"agents_reason_{code}"


def _state_weights(change: Change, reasons: frozenset[str]) -> dict[str, int]:
    weights: dict[str, int] = {}
    field = change.time_field
    if field is not None:
        weights[field] = 1
    if change.state == "not_ready":
        weights[reason_field(reason_code(change.reason, reasons))] = 1
    return weights


#: (per (queue, channel), per agent or team) weights or live fields.
_Weights = tuple[list[tuple[tuple[str, str], dict[str, int]]], dict[str, int]]
_CACHE_MAX = 4096
_SPAN_WEIGHTS: dict[tuple[object, ...], _Weights] = {}
_LIVE_DELTAS: dict[tuple[object, ...], _Weights] = {}


def _content(change: Change, reasons: frozenset[str]) -> tuple[object, ...]:
    """What the weights of `change` depend on: not its time, nor its team."""
    return (change.state, change.queues, change.channels, change.reason, change.capacity, reasons)


def _cached(
    cache: dict[tuple[object, ...], _Weights],
    make: Callable[[Change, frozenset[str]], _Weights],
    change: Change,
    reasons: frozenset[str],
) -> _Weights:
    """`make(change, reasons)`, kept in `cache` by the change's content (cleared when full)."""
    key = _content(change, reasons)
    found = cache.get(key)
    if found is None:
        if len(cache) >= _CACHE_MAX:
            cache.clear()
        found = cache[key] = make(change, reasons)
    return found


def span_weights(change: Change, reasons: frozenset[str]) -> _Weights:
    """Milliseconds-to-delta weights of a span in `change`'s state.

    Returns (per (queue, channel) weights, per agent / team weights): a span of `ms`
    adds `weight * ms` to each field. Empty when the state is not counted (offline).
    Cached by the change's content (an agent's changes repeat a handful of contents, and a
    change's weights are asked for again by every read): callers must not change what it
    returns.
    """
    return _cached(_SPAN_WEIGHTS, _span_weights, change, reasons)


def _span_weights(change: Change, reasons: frozenset[str]) -> _Weights:
    base = _state_weights(change, reasons)
    if not base:
        return [], {}
    staffed = change.state in SLOT_STATES
    busy = change.state in BUSY_STATES
    entity = dict(base)
    per_channel: dict[str, dict[str, int]] = {}
    for channel in change.channels:
        weights = dict(base)
        if staffed:
            slots = change.slots(channel)
            weights["agent_slots_ms"] = slots
            entity["agent_slots_ms"] = entity.get("agent_slots_ms", 0) + slots
            if busy and channel in STATE_BUSY_CHANNELS:
                weights["agent_busy_slots_ms"] = slots
                entity["agent_busy_slots_ms"] = entity.get("agent_busy_slots_ms", 0) + slots
        per_channel[channel] = weights
    series = [((q, c), per_channel[c]) for q in change.queues for c in change.channels]
    return series, entity


def live_deltas(change: Change, reasons: frozenset[str]) -> _Weights:
    """Live fields the agent adds while `change` is its latest: per series and per team.

    Cached by the change's content, as span_weights: callers must not change what it returns.
    """
    return _cached(_LIVE_DELTAS, _live_deltas, change, reasons)


def _live_deltas(change: Change, reasons: frozenset[str]) -> _Weights:
    if change.state not in COUNTED_AGENT_STATES:
        return [], {}
    base = {f"agents_{change.state}": 1}
    if change.state == "not_ready":
        base[reason_live_field(reason_code(change.reason, reasons))] = 1
    team = dict(base)
    per_channel: dict[str, dict[str, int]] = {}
    for channel in change.channels:
        fields = dict(base)
        if change.state in SLOT_STATES:
            slots = change.slots(channel)
            fields["slots_total"] = slots
            team["slots_total"] = team.get("slots_total", 0) + slots
            if change.state in BUSY_STATES and channel in STATE_BUSY_CHANNELS:
                fields["slots_busy"] = slots
                team["slots_busy"] = team.get("slots_busy", 0) + slots
        per_channel[channel] = fields
    series = [((q, c), per_channel[c]) for q in change.queues for c in change.channels]
    return series, team


def contact_deltas(event: AgentContactEvent) -> Iterator[tuple[str, int]]:
    """The agent's contact figures one contact event adds (it names the agent)."""
    if isinstance(event, WrapupCompleted):
        yield "handled", 1
        yield "talk_ms", event.talk_ms
        yield "hold_ms", event.hold_ms
        yield "acw_ms", event.acw_ms
        if event.channel not in STATE_BUSY_CHANNELS:
            yield "agent_busy_slots_ms", event.talk_ms + event.hold_ms + event.acw_ms
    elif isinstance(event, ContactOffered):
        yield "offers", 1
    elif isinstance(event, ContactOfferDeclined):
        yield f"offers_declined_{event.outcome}", 1
    else:
        yield f"transfers_out_{event.kind}", 1
