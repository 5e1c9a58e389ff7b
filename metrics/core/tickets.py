"""Per-ticket state and what one ticket contributes to the panes and live sets (pure).

TicketState keeps every fact by event id (the creation by earliest time, then id), so
merging is commutative and idempotent: any order and any duplicates give the same state,
and the aggregates follow as contribution(new) - contribution(old).

Until ticket.created arrives nothing is known (no queue, channel, priority): the ticket
contributes nothing. Facts timed before the creation count as happening at it. The
status timeline is the status changes plus every ticket.reopened (as 'open'), in (time,
event id) order; a solve is a step into solved/closed, a reopen a step out of them.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

from metrics.config.tickets import FirstReplyFrom
from metrics.core.contribution import Contribution
from metrics.core.panes import pane_start
from metrics.core.ticket_fields import bucket_field
from metrics.core.ticket_rules import TicketRules
from metrics.core.ticket_sla import RESOLVED_STATUSES, SlaTicket, earliest_due, evaluate_sla
from metrics.events import (
    TicketCreated,
    TicketEscalated,
    TicketEvent,
    TicketReopened,
    TicketReplied,
    TicketStatusChanged,
)

__all__ = ["COMPLAINT_TAG", "TicketState", "ticket_contribution", "ticket_contribution_of"]

#: The tag that makes a ticket a complaint.
COMPLAINT_TAG = "complaint"

#: (time, event id, queue, channel, priority, customer tier, tags)
Created = tuple[int, str, str, str, str, str | None, tuple[str, ...]]


def _keep_min(facts: dict[str, Any], key: str, value: Any) -> None:
    """Store a fact by event id; a conflicting redelivery keeps the smaller, in any order."""
    if key not in facts or value < facts[key]:
        facts[key] = value


@dataclass(slots=True)
class TicketState:
    """Every fact known about one ticket; replaced, never changed, once published."""

    created: Created | None = None
    #: event id -> (time, by an agent, public)
    replies: dict[str, tuple[int, bool, bool]] = field(default_factory=dict)
    #: event id -> (time, status)
    statuses: dict[str, tuple[int, str]] = field(default_factory=dict)
    #: event id -> time
    reopens: dict[str, int] = field(default_factory=dict)
    escalations: dict[str, int] = field(default_factory=dict)
    #: event id -> (time, priority)
    priorities: dict[str, tuple[int, str]] = field(default_factory=dict)
    #: memo of ticket_contribution(self); dropped by copy()
    contrib: Contribution | None = field(default=None, compare=False, repr=False)

    def merge(self, event: TicketEvent) -> None:
        t = event.time_ms
        if isinstance(event, TicketCreated):
            candidate: Created = (
                t,
                event.id,
                event.queue,
                event.channel,
                event.priority,
                event.customer_tier,
                tuple(event.tags),
            )
            if self.created is None or candidate < self.created:
                self.created = candidate
        elif isinstance(event, TicketReplied):
            _keep_min(self.replies, event.id, (t, event.author == "agent", event.public))
        elif isinstance(event, TicketStatusChanged):
            _keep_min(self.statuses, event.id, (t, event.status))
        elif isinstance(event, TicketReopened):
            _keep_min(self.reopens, event.id, t)
        elif isinstance(event, TicketEscalated):
            _keep_min(self.escalations, event.id, t)
        else:
            _keep_min(self.priorities, event.id, (t, event.priority))

    def copy(self) -> TicketState:
        return TicketState(
            self.created,
            dict(self.replies),
            dict(self.statuses),
            dict(self.reopens),
            dict(self.escalations),
            dict(self.priorities),
        )

    def to_dict(self) -> dict[str, Any]:
        """A compact JSON-ready form; empty parts are left out."""
        out: dict[str, Any] = {}
        if self.created is not None:
            out["c"] = [*self.created[:6], list(self.created[6])]
        if self.replies:
            out["r"] = {k: [t, int(a), int(p)] for k, (t, a, p) in self.replies.items()}
        for name, facts in (("s", self.statuses), ("p", self.priorities)):
            if facts:
                out[name] = {k: list(v) for k, v in facts.items()}
        for name, times in (("o", self.reopens), ("e", self.escalations)):
            if times:
                out[name] = dict(times)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TicketState:
        c = data.get("c")
        return cls(
            None if c is None else (c[0], c[1], c[2], c[3], c[4], c[5], tuple(c[6])),
            {k: (v[0], bool(v[1]), bool(v[2])) for k, v in data.get("r", {}).items()},
            {k: (v[0], v[1]) for k, v in data.get("s", {}).items()},
            dict(data.get("o", {})),
            dict(data.get("e", {})),
            {k: (v[0], v[1]) for k, v in data.get("p", {}).items()},
        )

    def priority(self) -> str | None:
        """The priority now: the creation's, then the latest priority change."""
        if self.created is None:
            return None
        changes = sorted((max(t, self.created[0]), k, p) for k, (t, p) in self.priorities.items())
        return changes[-1][2] if changes else self.created[4]


def _sla_ticket(state: TicketState, created: Created, first_reply: int | None) -> SlaTicket:
    t0 = created[0]
    changes = sorted((max(t, t0), k, p) for k, (t, p) in state.priorities.items())
    return SlaTicket(
        created_ms=t0,
        tier=created[5],
        priorities=((t0, created[4]), *((t, p) for t, _, p in changes)),
        statuses=tuple((t, s) for t, _, s in _timeline(state, t0)),
        first_reply_ms=first_reply,
    )


def _timeline(state: TicketState, t0: int) -> list[tuple[int, str, str]]:
    """(time, event id, status) of status changes and reopens, in order."""
    steps = [(max(t, t0), k, s) for k, (t, s) in state.statuses.items()]
    steps += [(max(t, t0), k, "open") for k, t in state.reopens.items()]
    return sorted(steps)


class _Panes:
    """Adds one ticket's counts to the pane of the time they happened in."""

    __slots__ = ("channel", "out", "queue")

    def __init__(self, out: Contribution, queue: str, channel: str) -> None:
        self.out, self.queue, self.channel = out, queue, channel

    def at(self, t: int, name: str, amount: int = 1) -> None:
        self.out.add((self.queue, self.channel, pane_start(t)), name, amount)


def ticket_contribution(state: TicketState, rules: TicketRules) -> Contribution:
    """Pane counters, maxima and live sets of one ticket (see metrics/core/ticket_fields.py)."""
    out = Contribution()
    if state.created is None:
        return out
    created = state.created
    t0, _, queue, channel, _, _, tags = created
    complaint = COMPLAINT_TAG in tags
    panes = _Panes(out, queue, channel)
    panes.at(t0, "tickets_created")
    if complaint:
        panes.at(t0, "complaints_created")
    resolved, solves = _add_solves(panes, state, t0)
    public = sorted((max(t, t0), k, agent) for k, (t, agent, pub) in state.replies.items() if pub)
    agent_times = [t for t, _, agent in public if agent]
    customer_times = [t for t, _, agent in public if not agent]
    if resolved:
        _add_full_resolution(panes, t0, solves[-1], public, complaint)
    if state.escalations:
        first = max(min(state.escalations.values()), t0)
        panes.at(first, "tickets_escalated")
        if complaint:
            panes.at(first, "complaints_escalated")
    _add_first_response(panes, rules, t0, agent_times, customer_times)
    _add_responses(panes, agent_times, customer_times)
    _add_sla(panes, rules, state, created, agent_times[0] if agent_times else None)
    if not resolved:
        out.members[(f"backlog:{state.priority()}", queue, channel)] = t0
        if complaint:
            out.members[("complaints", queue, channel)] = t0
    return out


def _add_solves(panes: _Panes, state: TicketState, t0: int) -> tuple[bool, list[int]]:
    """Count solves and reopens along the status timeline, and the first resolution.

    Returns whether the ticket is resolved now and the times of its solves.
    """
    resolved, solves = False, []
    for t, _, status in _timeline(state, t0):
        now = status in RESOLVED_STATUSES
        if now and not resolved:
            solves.append(t)
            panes.at(t, "tickets_solved")
        elif resolved and not now:
            panes.at(t, "tickets_reopened")
        resolved = now
    if solves:
        panes.at(solves[0], "ticket_first_resolution_count")
        panes.at(solves[0], "ticket_first_resolution_sum_ms", solves[0] - t0)
    return resolved, solves


def _add_full_resolution(
    panes: _Panes, t0: int, final: int, public: list[tuple[int, str, bool]], complaint: bool
) -> None:
    """Count a resolved ticket's full resolution at its final solve."""
    took = final - t0
    panes.at(final, "ticket_full_resolution_count")
    panes.at(final, "ticket_full_resolution_sum_ms", took)
    panes.at(final, bucket_field("resolution", took))
    panes.at(final, "ticket_solved_public_replies", sum(1 for t, _, _ in public if t <= final))
    if complaint:
        panes.at(final, "complaints_resolved")


def _add_first_response(
    panes: _Panes, rules: TicketRules, t0: int, agent_times: list[int], customer_times: list[int]
) -> None:
    """Count the first public agent reply after the creation (or first customer message)."""
    start = t0
    if rules.first_reply_from == FirstReplyFrom.CUSTOMER_MESSAGE and customer_times:
        start = customer_times[0]
    index = bisect.bisect_left(agent_times, start)
    first_reply = agent_times[index] if index < len(agent_times) else None
    if first_reply is not None:
        took = first_reply - start
        panes.at(first_reply, "ticket_first_response_count")
        panes.at(first_reply, "ticket_first_response_sum_ms", took)
        panes.at(first_reply, bucket_field("first_response", took))


def _add_responses(panes: _Panes, agent_times: list[int], customer_times: list[int]) -> None:
    """Count, for each public customer message, the next public agent reply."""
    for message in customer_times:
        index = bisect.bisect_left(agent_times, message)
        if index < len(agent_times):
            reply = agent_times[index]
            panes.at(reply, "ticket_response_count")
            panes.at(reply, "ticket_response_sum_ms", reply - message)


def _add_sla(
    panes: _Panes,
    rules: TicketRules,
    state: TicketState,
    created: Created,
    first_reply: int | None,
) -> None:
    """Count fulfilled SLA targets by outcome; keep the ticket in sla_due while one runs."""
    targets = evaluate_sla(rules.policies, _sla_ticket(state, created, first_reply))
    for target in targets:
        if target.fulfilled_ms is not None:
            panes.at(target.fulfilled_ms, f"ticket_sla_{target.target}_{target.outcome}")
    due = earliest_due(targets)
    if due is not None:
        panes.out.members[("sla_due", panes.queue, panes.channel)] = due


def ticket_contribution_of(state: TicketState, rules: TicketRules) -> Contribution:
    """ticket_contribution(state, rules), computed once per published state."""
    if state.contrib is None:
        state.contrib = ticket_contribution(state, rules)
    return state.contrib
