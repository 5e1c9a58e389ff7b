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


def ticket_contribution(state: TicketState, rules: TicketRules) -> Contribution:
    """Pane counters, maxima and live sets of one ticket (see metrics/core/ticket_fields.py)."""
    out = Contribution()
    if state.created is None:
        return out
    created = state.created
    t0, _, queue, channel, _, _, tags = created
    complaint = COMPLAINT_TAG in tags

    def at(t: int, name: str, amount: int = 1) -> None:
        out.add((queue, channel, pane_start(t)), name, amount)

    at(t0, "tickets_created")
    if complaint:
        at(t0, "complaints_created")

    resolved, solves = False, []
    for t, _, status in _timeline(state, t0):
        now = status in RESOLVED_STATUSES
        if now and not resolved:
            solves.append(t)
            at(t, "tickets_solved")
        elif resolved and not now:
            at(t, "tickets_reopened")
        resolved = now
    if solves:
        at(solves[0], "ticket_first_resolution_count")
        at(solves[0], "ticket_first_resolution_sum_ms", solves[0] - t0)

    public = sorted((max(t, t0), k, agent) for k, (t, agent, pub) in state.replies.items() if pub)
    agent_times = [t for t, _, agent in public if agent]
    customer_times = [t for t, _, agent in public if not agent]

    if resolved:
        final = solves[-1]
        took = final - t0
        at(final, "ticket_full_resolution_count")
        at(final, "ticket_full_resolution_sum_ms", took)
        at(final, bucket_field("resolution", took))
        at(final, "ticket_solved_public_replies", sum(1 for t, _, _ in public if t <= final))
        if complaint:
            at(final, "complaints_resolved")

    if state.escalations:
        first = max(min(state.escalations.values()), t0)
        at(first, "tickets_escalated")
        if complaint:
            at(first, "complaints_escalated")

    start = t0
    if rules.first_reply_from == FirstReplyFrom.CUSTOMER_MESSAGE and customer_times:
        start = customer_times[0]
    index = bisect.bisect_left(agent_times, start)
    first_reply = agent_times[index] if index < len(agent_times) else None
    if first_reply is not None:
        took = first_reply - start
        at(first_reply, "ticket_first_response_count")
        at(first_reply, "ticket_first_response_sum_ms", took)
        at(first_reply, bucket_field("first_response", took))

    for message in customer_times:
        index = bisect.bisect_left(agent_times, message)
        if index < len(agent_times):
            reply = agent_times[index]
            at(reply, "ticket_response_count")
            at(reply, "ticket_response_sum_ms", reply - message)

    sla_first_reply = agent_times[0] if agent_times else None
    targets = evaluate_sla(rules.policies, _sla_ticket(state, created, sla_first_reply))
    for target in targets:
        if target.fulfilled_ms is not None:
            at(target.fulfilled_ms, f"ticket_sla_{target.target}_{target.outcome}")
    due = earliest_due(targets)
    if due is not None:
        out.members[("sla_due", queue, channel)] = due

    if not resolved:
        out.members[(f"backlog:{state.priority()}", queue, channel)] = t0
        if complaint:
            out.members[("complaints", queue, channel)] = t0
    return out


def ticket_contribution_of(state: TicketState, rules: TicketRules) -> Contribution:
    """ticket_contribution(state, rules), computed once per published state."""
    if state.contrib is None:
        state.contrib = ticket_contribution(state, rules)
    return state.contrib
