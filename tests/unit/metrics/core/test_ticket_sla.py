"""Ticket SLA evaluation: met/breached at the boundary, pauses, reopens, business hours."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from metrics.core.business_hours import BusinessCalendar
from metrics.core.ticket_sla import (
    Outcome,
    SlaPolicy,
    SlaTicket,
    TargetState,
    earliest_due,
    evaluate_sla,
)

M, H = 60_000, 3_600_000
T = round(dt.datetime(2026, 5, 18, tzinfo=dt.UTC).timestamp() * 1000)  # a Monday, 00:00 UTC
BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = BusinessCalendar("Europe/Berlin", (((540, 1020),),) * 5 + ((), ()))


def berlin(*parts: int) -> int:
    return round(dt.datetime(*parts, tzinfo=BERLIN).timestamp() * 1000)


ENTERPRISE = SlaPolicy(first_reply_ms=H, resolution_ms=24 * H, tiers=frozenset({"enterprise"}))
FREE = SlaPolicy(resolution_ms=72 * H, tiers=frozenset({"free"}))
POLICIES = (ENTERPRISE, FREE)


def ticket(
    statuses: tuple[tuple[int, str], ...] = (),
    first_reply: int | None = None,
    tier: str | None = "enterprise",
    priorities: tuple[tuple[int, str], ...] = ((T, "normal"),),
    created: int = T,
) -> SlaTicket:
    return SlaTicket(created, tier, priorities, statuses, first_reply)


def fr(outcome: Outcome, due: int | None = None, done: int | None = None) -> TargetState:
    return TargetState("first_reply", outcome, due, done)


def res(outcome: Outcome, due: int | None = None, done: int | None = None) -> TargetState:
    return TargetState("resolution", outcome, due, done)


@pytest.mark.parametrize(
    ("policies", "case", "expected"),
    [
        # No policy, or none matching the tier: no targets.
        ((), ticket(), ()),
        (POLICIES, ticket(tier="basic"), ()),
        (POLICIES, ticket(tier=None), ()),
        # Fresh ticket: both clocks run from creation.
        (POLICIES, ticket(), (fr("running", T + H), res("running", T + 24 * H))),
        # Free tier: only a resolution target.
        (POLICIES, ticket(tier="free"), (res("running", T + 72 * H),)),
        # Due is inclusive: a reply exactly at the due instant is met, 1 ms later breached.
        (
            POLICIES,
            ticket(first_reply=T + H),
            (
                fr("met", None, T + H),
                res("running", T + 24 * H),
            ),
        ),
        (
            POLICIES,
            ticket(first_reply=T + H + 1),
            (
                fr("breached", None, T + H + 1),
                res("running", T + 24 * H),
            ),
        ),
        # Pending 10 -> 40 min pauses both clocks: due 30 min later.
        (
            POLICIES,
            ticket(((T + 10 * M, "pending"), (T + 40 * M, "open"))),
            (fr("running", T + 90 * M), res("running", T + 24 * H + 30 * M)),
        ),
        # The pause lets a reply at 1h20 meet the 1h target.
        (
            POLICIES,
            ticket(((T + 10 * M, "pending"), (T + 40 * M, "open")), first_reply=T + 80 * M),
            (fr("met", None, T + 80 * M), res("running", T + 24 * H + 30 * M)),
        ),
        # Paused now: no due ...
        (POLICIES, ticket(((T + 10 * M, "on_hold"),)), (fr("paused"), res("paused"))),
        # ... unless it was already overdue before the pause: the breach is certain.
        (POLICIES, ticket(((T + 2 * H, "pending"),)), (fr("paused", T + H), res("paused"))),
        # Solved in 5 h with a reply: both met.
        (
            POLICIES,
            ticket(((T + 5 * H, "solved"),), first_reply=T + 30 * M),
            (fr("met", None, T + 30 * M), res("met", None, T + 5 * H)),
        ),
        # solved -> closed is not a second solve.
        (
            POLICIES,
            ticket(((T + 5 * H, "solved"), (T + 50 * H, "closed")), first_reply=T),
            (fr("met", None, T), res("met", None, T + 5 * H)),
        ),
        # Reopened and not solved again: the resolution clock resumes (solved time
        # does not count): 5 h spent, 19 h left from the reopen at 30 h.
        (
            POLICIES,
            ticket(((T + 5 * H, "solved"), (T + 30 * H, "open")), first_reply=T),
            (fr("met", None, T), res("running", T + 49 * H)),
        ),
        # Solved again at 40 h: 15 h of clock time, judged on the final solve -> met.
        (
            POLICIES,
            ticket(
                ((T + 5 * H, "solved"), (T + 30 * H, "open"), (T + 40 * H, "solved")),
                first_reply=T,
            ),
            (fr("met", None, T), res("met", None, T + 40 * H)),
        ),
        # Solved late: breached.
        (
            POLICIES,
            ticket(((T + 25 * H, "solved"),), first_reply=T),
            (fr("met", None, T), res("breached", None, T + 25 * H)),
        ),
        # Solved without a public reply: the first-reply clock stops, nothing decided and
        # no due (a resolved ticket is no live breach) ...
        (
            POLICIES,
            ticket(((T + 2 * H, "solved"),)),
            (fr("paused"), res("met", None, T + 2 * H)),
        ),
        # ... until a reopen resumes it (overdue since 1 h).
        (
            POLICIES,
            ticket(((T + 2 * H, "solved"), (T + 3 * H, "open"))),
            (fr("running", T + H), res("running", T + 25 * H)),
        ),
        (POLICIES, ticket(((T + 30 * M, "solved"),)), (fr("paused"), res("met", None, T + 30 * M))),
    ],
)
def test_targets(
    policies: tuple[SlaPolicy, ...], case: SlaTicket, expected: tuple[TargetState, ...]
) -> None:
    assert evaluate_sla(policies, case) == expected


URGENT = SlaPolicy(first_reply_ms=H, priorities=frozenset({"urgent", "high"}))
NORMAL = SlaPolicy(first_reply_ms=4 * H)


@pytest.mark.parametrize(
    ("priorities", "first_reply", "expected"),
    [
        (((T, "normal"),), None, fr("running", T + 4 * H)),
        # Raised to urgent while running: the urgent target applies (from creation).
        (((T, "normal"), (T + 30 * M, "urgent")), None, fr("running", T + H)),
        (((T, "normal"), (T + 30 * M, "urgent")), T + 2 * H, fr("breached", None, T + 2 * H)),
        # Raised after the reply: the decided target keeps the policy it was judged on.
        (((T, "normal"), (T + 3 * H, "urgent")), T + 2 * H, fr("met", None, T + 2 * H)),
        # Lowered before the reply.
        (((T, "urgent"), (T + 30 * M, "low")), T + 2 * H, fr("met", None, T + 2 * H)),
    ],
)
def test_priority_picks_the_policy(
    priorities: tuple[tuple[int, str], ...], first_reply: int | None, expected: TargetState
) -> None:
    case = ticket(priorities=priorities, first_reply=first_reply, tier=None)
    assert evaluate_sla((URGENT, NORMAL), case) == (expected,)


BUSINESS = SlaPolicy(first_reply_ms=H, resolution_ms=8 * H, calendar=OFFICE)


@pytest.mark.parametrize(
    ("created", "statuses", "first_reply", "expected"),
    [
        # Created on Saturday: the clocks start Monday 09:00.
        (
            berlin(2026, 5, 16, 11),
            (),
            None,
            (fr("running", berlin(2026, 5, 18, 10)), res("running", berlin(2026, 5, 18, 17))),
        ),
        # Friday 15:00, 8 business hours -> Monday 15:00 ...
        (
            berlin(2026, 5, 15, 15),
            (),
            berlin(2026, 5, 15, 15, 30),
            (fr("met", None, berlin(2026, 5, 15, 15, 30)), res("running", berlin(2026, 5, 18, 15))),
        ),
        # ... paused Friday 16:00 over the weekend to Monday 11:00: the 3 paused business
        # hours (Fri 16-17, Mon 9-11) move it to Tuesday 10:00.
        (
            berlin(2026, 5, 15, 15),
            ((berlin(2026, 5, 15, 16), "pending"), (berlin(2026, 5, 18, 11), "open")),
            berlin(2026, 5, 15, 15, 30),
            (fr("met", None, berlin(2026, 5, 15, 15, 30)), res("running", berlin(2026, 5, 19, 10))),
        ),
        # A reply on Saturday after a Friday 16:30 creation: due was Monday 09:30 -> met.
        (
            berlin(2026, 5, 15, 16, 30),
            (),
            berlin(2026, 5, 16, 10),
            (fr("met", None, berlin(2026, 5, 16, 10)), res("running", berlin(2026, 5, 18, 16, 30))),
        ),
    ],
)
def test_business_hours_targets(
    created: int,
    statuses: tuple[tuple[int, str], ...],
    first_reply: int | None,
    expected: tuple[TargetState, ...],
) -> None:
    case = ticket(statuses, first_reply, None, ((created, "normal"),), created)
    assert evaluate_sla((BUSINESS,), case) == expected


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ((), None),
        ((fr("running", 5), res("running", 3)), 3),
        ((fr("met", None, 1), res("running", 9)), 9),
        ((fr("paused"), res("paused", 4)), 4),
        ((fr("paused"), res("breached", None, 2)), None),
    ],
)
def test_earliest_due(states: tuple[TargetState, ...], expected: int | None) -> None:
    assert earliest_due(states) == expected


def test_custom_pause_statuses() -> None:
    """A policy that does not pause on pending keeps its clock running."""
    strict = SlaPolicy(first_reply_ms=H, pause_statuses=frozenset({"on_hold"}))
    case = ticket(((T + 10 * M, "pending"),), tier=None)
    assert evaluate_sla((strict,), case) == (fr("running", T + H),)
