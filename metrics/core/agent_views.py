"""What the agent and team reads show: live entries, figures, open states up to now (pure).

An agent's current state has no end yet, so no pane holds its time: a read adds the open
span, from the latest change to now, pane by pane (`open_panes`), to the panes it read.
Time in state and occupancy then count an open state up to now.

An agent's current contacts come from the contacts' side: the members of each series'
``handling`` live set and their stored states, which name who holds each one
(`Segment.holder`). Contact events are keyed by contact and agent events by agent, so
no one worker could keep a per-agent list; reading the sets costs one range read per
series and one state read per contact in progress, on a read, never on the hot path.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from metrics.config.agents import AgentsDirectory
from metrics.config.queues import QueuesConfig
from metrics.core.agent_figures import (
    reason_code,
    reason_codes,
    reason_field,
    span_weights,
)
from metrics.core.agents import MAX_ATTRIBUTED_SPAN_MS, NO_TEAM, AgentState, split_by_pane
from metrics.core.contacts import ContactState
from metrics.core.formulas import ratio, sum_counters
from metrics.core.panes import (
    PANE_MS,
    ROLLING_WINDOWS,
    interval_start,
    pane_start,
    today_start,
)
from metrics.core.update import Series
from metrics.events import DECLINE_OUTCOMES, TRANSFER_KINDS
from metrics.fields import AGENT_TIME_FIELD

__all__ = [
    "AgentContact",
    "AgentInfo",
    "Panes",
    "Windows",
    "add_panes",
    "agent_figures",
    "capacity_of",
    "contacts_by_agent",
    "directory_capacity",
    "directory_infos",
    "directory_teams",
    "live_entry",
    "occupancy",
    "open_panes",
    "open_series_windows",
    "open_totals",
    "open_windows",
    "queue_bounds",
    "window_bounds",
    "within",
]

#: pane start ms -> field -> amount
Panes = dict[int, dict[str, int]]


@dataclass(frozen=True)
class AgentInfo:
    """What the agents directory says of one agent (metrics/config/agents.py)."""

    name: str | None = None
    team: str | None = None
    queues: tuple[str, ...] = ()
    capacity: tuple[tuple[str, int], ...] = ()


def directory_infos(directory: AgentsDirectory) -> dict[str, AgentInfo]:
    """The agents directory as the read side uses it, by agent id."""
    return {
        agent_id: AgentInfo(e.name, e.team, e.queues, e.capacity_pairs)
        for agent_id, e in directory.agents.items()
    }


def directory_teams(directory: AgentsDirectory) -> dict[str, str]:
    """agent id -> team, for Aggregator(agent_teams=...)."""
    return {i: e.team for i, e in directory.agents.items() if e.team is not None}


def directory_capacity(directory: AgentsDirectory) -> dict[str, tuple[tuple[str, int], ...]]:
    """agent id -> default capacity, for Aggregator(agent_capacity=...)."""
    return {i: e.capacity_pairs for i, e in directory.agents.items() if e.capacity}


def open_panes(
    state: AgentState, now_ms: int, reasons: frozenset[str]
) -> tuple[dict[Series, Panes], Panes]:
    """The open span's figures, per (queue, channel) and for the agent (and its team)."""
    latest = state.latest
    per_series, per_entity = span_weights(latest, reasons)
    series: dict[Series, Panes] = {}
    entity: Panes = {}
    if not per_entity:
        return series, entity
    for pane, ms in split_by_pane(latest.at_ms, now_ms):
        entity[pane] = {name: weight * ms for name, weight in per_entity.items()}
        for key, weights in per_series:
            series.setdefault(key, {})[pane] = {name: w * ms for name, w in weights.items()}
    return series, entity


def open_windows(
    state: AgentState, now_ms: int, reasons: frozenset[str], bounds: Mapping[str, tuple[int, int]]
) -> tuple[dict[Series, dict[str, dict[str, int]]], dict[str, dict[str, int]]]:
    """The open span's figures inside each window: per (queue, channel) and for the agent.

    The same as summing `open_panes` over each window's panes, without making the panes.
    """
    latest = state.latest
    per_series, per_entity = span_weights(latest, reasons)
    series: dict[Series, dict[str, dict[str, int]]] = {}
    entity: dict[str, dict[str, int]] = {}
    if not per_entity:
        return series, entity
    begin = max(latest.at_ms, now_ms - MAX_ATTRIBUTED_SPAN_MS)
    for label, (start, end) in bounds.items():
        ms = min(now_ms, end) - max(begin, start)
        if ms <= 0:
            continue
        entity[label] = {name: weight * ms for name, weight in per_entity.items()}
        for key, weights in per_series:
            series.setdefault(key, {})[label] = {n: w * ms for n, w in weights.items()}
    return series, entity


#: window label -> field -> amount
Windows = dict[str, dict[str, int]]


def open_totals(
    states: Iterable[AgentState],
    now_ms: int,
    reasons: frozenset[str],
    bounds_of: Callable[[str], Mapping[str, tuple[int, int]]],
    team_bounds: Mapping[str, tuple[int, int]] | None = None,
) -> tuple[dict[Series, Windows], dict[str, Windows]]:
    """Every agent's open span inside each window: summed per (queue, channel) it serves
    (`bounds_of(queue)`: the queue's windows, "today" in its own time zone) and, with
    `team_bounds`, per team. Equal to adding up `open_windows` of each agent."""
    per_series_out: dict[Series, Windows] = {}
    per_team_out: dict[str, Windows] = {}
    for state in states:
        latest = state.latest
        per_series, per_entity = span_weights(latest, reasons)
        if not per_entity:
            continue
        begin = max(latest.at_ms, now_ms - MAX_ATTRIBUTED_SPAN_MS)
        if team_bounds is not None:
            spans = _overlaps(begin, now_ms, team_bounds)
            _accumulate(per_team_out.setdefault(latest.team, {}), per_entity, spans)
        groups: dict[int, tuple[Mapping[str, tuple[int, int]], set[str]]] = {}
        for queue in latest.queues:
            bounds = bounds_of(queue)
            groups.setdefault(id(bounds), (bounds, set()))[1].add(queue)
        for bounds, queues in groups.values():
            spans = _overlaps(begin, now_ms, bounds)
            for key, weights in per_series:
                if key[0] in queues:
                    _accumulate(per_series_out.setdefault(key, {}), weights, spans)
    return per_series_out, per_team_out


def open_series_windows(
    states: Iterable[AgentState],
    now_ms: int,
    reasons: frozenset[str],
    bounds_of: Callable[[str], Mapping[str, tuple[int, int]]],
) -> dict[Series, Windows]:
    """open_totals per (queue, channel) only."""
    return open_totals(states, now_ms, reasons, bounds_of)[0]


def _overlaps(
    begin: int, now_ms: int, bounds: Mapping[str, tuple[int, int]]
) -> list[tuple[str, int]]:
    """(window, milliseconds of [begin, now) inside it) for the windows it overlaps."""
    found = []
    for label, (start, end) in bounds.items():
        ms = min(now_ms, end) - max(begin, start)
        if ms > 0:
            found.append((label, ms))
    return found


def _accumulate(into: Windows, weights: Mapping[str, int], spans: list[tuple[str, int]]) -> None:
    for label, ms in spans:
        target = into.setdefault(label, {})
        for name, weight in weights.items():
            target[name] = target.get(name, 0) + weight * ms


def window_bounds(now_ms: int, zone: ZoneInfo, reset: dt.time) -> dict[str, tuple[int, int]]:
    """[start, end) of each window as metrics.core.views.windows_of sums it."""
    current = pane_start(now_ms)
    bounds = {
        label: (current - (minutes - 1) * PANE_MS, current + PANE_MS)
        for label, minutes in ROLLING_WINDOWS.items()
    }
    bounds["today"] = (interval_start(today_start(now_ms, zone, reset)), current + PANE_MS)
    return bounds


def add_panes(into: Panes, more: Panes) -> None:
    """Add `more` to `into`, field by field."""
    for pane, fields in more.items():
        target = into.setdefault(pane, {})
        for name, amount in fields.items():
            target[name] = target.get(name, 0) + amount


def within(panes: Panes, start_ms: int, end_ms: int) -> dict[str, int]:
    """The sum of the panes that start in [start_ms, end_ms)."""
    return sum_counters(fields for pane, fields in panes.items() if start_ms <= pane < end_ms)


def occupancy(counters: Mapping[str, int]) -> float | None:
    """Busy slot-time / staffed slot-time (docs/metrics.md); None without staffed time."""
    return ratio(counters.get("agent_busy_slots_ms", 0), counters.get("agent_slots_ms", 0))


def agent_figures(counters: Mapping[str, int], configured: tuple[str, ...]) -> dict[str, Any]:
    """An agent's (or team's) figures of one period, from its summed counters."""
    get = counters.get
    handled = get("handled", 0)
    handle_ms = get("talk_ms", 0) + get("hold_ms", 0) + get("acw_ms", 0)
    aht = ratio(handle_ms, handled)
    return {
        "handled": handled,
        "talk_seconds": get("talk_ms", 0) / 1000,
        "hold_seconds": get("hold_ms", 0) / 1000,
        "acw_seconds": get("acw_ms", 0) / 1000,
        "aht_seconds": None if aht is None else aht / 1000,
        "state_seconds": {s: get(f, 0) / 1000 for s, f in AGENT_TIME_FIELD.items()},
        "reason_seconds": {
            code: get(reason_field(code), 0) / 1000 for code in reason_codes(configured)
        },
        "occupancy": occupancy(counters),
        "offers": get("offers", 0),
        "offers_declined": sum(get(f"offers_declined_{o}", 0) for o in DECLINE_OUTCOMES),
        "transfers": sum(get(f"transfers_out_{k}", 0) for k in TRANSFER_KINDS),
    }


def capacity_of(state: AgentState, info: AgentInfo | None) -> dict[str, int]:
    """Concurrent contacts per channel the agent takes now (1 for a channel not given)."""
    latest = state.latest
    given = dict(latest.capacity or (info.capacity if info is not None else ()))
    return {channel: given.get(channel, 1) for channel in latest.channels}


#: One current contact of an agent: contact_id, queue, channel, seconds so far
AgentContact = dict[str, Any]


def contacts_by_agent(
    members: Mapping[Series, Mapping[str, int]],
    states: Mapping[str, ContactState | None],
    now_ms: int,
) -> dict[str, list[AgentContact]]:
    """Agent id -> the contacts it handles now, longest first (then by contact id).

    `members` are the ``handling`` live set of each series, `states` the contacts' stored
    states. A contact counts for the agent its segment names (`Segment.holder`), for the
    seconds since that agent got it; one whose state is gone or names no agent is in no
    agent's list (it still counts in the queue's contacts in progress).
    """
    found: dict[str, list[tuple[int, str, str, str]]] = {}
    for (queue, channel), ids in members.items():
        for contact_id in ids:
            state = states.get(contact_id)
            segment = state.segments.get(queue) if state is not None else None
            holder = segment.holder() if segment is not None else None
            if holder is not None:
                found.setdefault(holder[0], []).append((holder[1], contact_id, queue, channel))
    return {
        agent_id: [
            {
                "contact_id": contact_id,
                "queue": queue,
                "channel": channel,
                "seconds": max(0, now_ms - since) / 1000,
            }
            for since, contact_id, queue, channel in sorted(rows)
        ]
        for agent_id, rows in found.items()
    }


def live_entry(
    agent_id: str,
    state: AgentState,
    info: AgentInfo | None,
    now_ms: int,
    configured: frozenset[str],
    contacts: Iterable[AgentContact] = (),
) -> dict[str, Any]:
    """One agent in GET /api/v1/agents: state, reason, seconds in state, its contacts now
    (`contacts_by_agent`), queues, capacity."""
    latest = state.latest
    reason = None
    if latest.state == "not_ready" and latest.reason:
        reason = reason_code(latest.reason, configured)  # a bounded code, as in /metrics
    team = latest.team if latest.team != NO_TEAM else None
    return {
        "agent_id": agent_id,
        "name": info.name if info is not None else None,
        "team": team if team is not None else (info.team if info is not None else None),
        "state": latest.state,
        "reason": reason,
        "state_seconds": max(0, now_ms - latest.at_ms) / 1000,
        "contacts": list(contacts),
        "queues": list(latest.queues),
        "capacity": capacity_of(state, info),
    }


def queue_bounds(
    queues: QueuesConfig, now_ms: int
) -> Callable[[str], Mapping[str, tuple[int, int]]]:
    """bounds_of for open_series_windows: each queue's window bounds at `now_ms`, worked
    out once per time zone and daily reset."""
    known: dict[tuple[str, str], dict[str, tuple[int, int]]] = {}
    by_queue: dict[str, dict[str, tuple[int, int]]] = {}

    def bounds_of(queue: str) -> Mapping[str, tuple[int, int]]:
        found = by_queue.get(queue)
        if found is None:
            cfg = queues.get(queue)
            key = (cfg.time_zone, cfg.daily_reset)
            if key not in known:
                known[key] = window_bounds(now_ms, cfg.zone, cfg.reset_time)
            found = by_queue[queue] = known[key]
        return found

    return bounds_of
