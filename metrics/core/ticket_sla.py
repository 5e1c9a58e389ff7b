"""Ticket SLA policies and their evaluation from a ticket's history (pure).

Two targets run from ticket creation: ``first_reply`` (fulfilled by the first public
agent reply) and ``resolution`` (fulfilled by a solve). The clock of a target counts
business time of the policy's calendar and stops while the ticket is in a pause status
(pending, on_hold by default) or resolved (solved, closed). A reopen resumes the
resolution target: it is judged on the final solve, and a solve that was reopened
decides nothing. A ticket solved without a public reply stops its first-reply target
(neither met nor breached, no due) until a reopen resumes it.

A target is met if fulfilled at or before its due instant (the earliest instant its
elapsed time reaches the target), breached if after. The policy is the first one matching
the ticket's tier and its priority when the target was fulfilled (the latest priority
while it runs), so a later priority change never rewrites a decided target.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from metrics.core.business_hours import (
    ALWAYS_OPEN,
    BusinessCalendar,
    add_business_time,
    business_time_between,
)
from metrics.events import DEFAULT_PAUSE_STATUSES, RESOLVED_STATUSES

__all__ = [
    "DEFAULT_PAUSE_STATUSES",
    "FIRST_REPLY",
    "Outcome",
    "RESOLUTION",
    "RESOLVED_STATUSES",
    "SLA_TARGETS",
    "SlaPolicy",
    "SlaTicket",
    "TargetState",
    "earliest_due",
    "evaluate_sla",
    "match_policy",
]

FIRST_REPLY = "first_reply"
RESOLUTION = "resolution"
SLA_TARGETS: tuple[str, ...] = (FIRST_REPLY, RESOLUTION)

#: met / breached: decided; running: the clock runs (due set); paused: it does not
#: (due set only when it had already passed before the pause: the breach is certain).
Outcome = Literal["met", "breached", "running", "paused"]


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    """Targets for tickets of some priorities and customer tiers (empty set = any)."""

    first_reply_ms: int | None = None
    resolution_ms: int | None = None
    calendar: BusinessCalendar = ALWAYS_OPEN
    priorities: frozenset[str] = frozenset()
    tiers: frozenset[str] = frozenset()
    pause_statuses: frozenset[str] = DEFAULT_PAUSE_STATUSES

    def matches(self, priority: str, tier: str | None) -> bool:
        return (not self.priorities or priority in self.priorities) and (
            not self.tiers or tier in self.tiers
        )

    def target_ms(self, target: str) -> int | None:
        return self.first_reply_ms if target == FIRST_REPLY else self.resolution_ms


@dataclass(frozen=True, slots=True)
class SlaTicket:
    """The facts SLA evaluation needs; every time is at or after `created_ms`."""

    created_ms: int
    tier: str | None
    #: (time, priority) in time order, the first one at creation
    priorities: tuple[tuple[int, str], ...]
    #: (time, status) in time order after creation (status 'new' before the first)
    statuses: tuple[tuple[int, str], ...]
    first_reply_ms: int | None = None

    def priority_at(self, t_ms: int | None) -> str:
        if t_ms is None:
            return self.priorities[-1][1]
        index = bisect.bisect_right(self.priorities, (t_ms, "\uffff")) - 1
        return self.priorities[max(index, 0)][1]

    def final_solve_ms(self) -> int | None:
        """When the ticket was last solved, if it is resolved now."""
        resolved, solved_at = False, None
        for t, status in self.statuses:
            now = status in RESOLVED_STATUSES
            if now and not resolved:
                solved_at = t
            resolved = now
        return solved_at if resolved else None


@dataclass(frozen=True, slots=True)
class TargetState:
    """One target's outcome; `fulfilled_ms` is set once decided, `due_ms` while undecided."""

    target: str
    outcome: Outcome
    due_ms: int | None = None
    fulfilled_ms: int | None = None


def match_policy(
    policies: Sequence[SlaPolicy], priority: str, tier: str | None
) -> SlaPolicy | None:
    """The first policy matching the priority and tier, or None."""
    return next((p for p in policies if p.matches(priority, tier)), None)


def _running_spans(
    ticket: SlaTicket, pause: frozenset[str], until: int | None
) -> list[tuple[int, int | None]]:
    """[start, end) spans before `until` in which the clock runs; the last may be open."""
    spans: list[tuple[int, int | None]] = []
    since, status = ticket.created_ms, "new"
    for t, new_status in ticket.statuses:
        if until is not None and t >= until:
            break
        if t > since and status not in pause and status not in RESOLVED_STATUSES:
            spans.append((since, t))
        since, status = t, new_status
    if status not in pause and status not in RESOLVED_STATUSES:
        if until is None:
            spans.append((since, None))
        elif until > since:
            spans.append((since, until))
    return spans


def _due(
    calendar: BusinessCalendar, spans: list[tuple[int, int | None]], target_ms: int
) -> int | None:
    """The instant the running spans accumulate `target_ms` of business time, if they do."""
    remaining = target_ms
    for start, end in spans:
        spent = None if end is None else business_time_between(calendar, start, end)
        if spent is None or spent >= remaining:
            return add_business_time(calendar, start, remaining)
        remaining -= spent
    return None


def _evaluate(target: str, policies: Sequence[SlaPolicy], ticket: SlaTicket) -> TargetState | None:
    fulfilled = ticket.first_reply_ms if target == FIRST_REPLY else ticket.final_solve_ms()
    policy = match_policy(policies, ticket.priority_at(fulfilled), ticket.tier)
    goal = None if policy is None else policy.target_ms(target)
    if policy is None or goal is None:
        return None
    spans = _running_spans(ticket, policy.pause_statuses, fulfilled)
    due = _due(policy.calendar, spans, goal)
    if fulfilled is not None:
        met = due is None or fulfilled <= due
        return TargetState(target, "met" if met else "breached", None, fulfilled)
    if target == FIRST_REPLY and ticket.final_solve_ms() is not None:
        return TargetState(target, "paused")  # stopped by a solve: no live breach
    running = bool(spans) and spans[-1][1] is None
    return TargetState(target, "running" if running else "paused", due)


def evaluate_sla(policies: Sequence[SlaPolicy], ticket: SlaTicket) -> tuple[TargetState, ...]:
    """The state of every target the matching policy sets (none without a policy)."""
    states = (_evaluate(target, policies, ticket) for target in SLA_TARGETS)
    return tuple(state for state in states if state is not None)


def earliest_due(states: Sequence[TargetState]) -> int | None:
    """The earliest due instant among undecided targets (the next or oldest breach)."""
    dues = [s.due_ms for s in states if s.fulfilled_ms is None and s.due_ms is not None]
    return min(dues) if dues else None
