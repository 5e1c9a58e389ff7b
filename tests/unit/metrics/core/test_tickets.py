"""One ticket's contribution: every counter at its own time, live sets, any order, duplicates."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from typing import Any, Literal

import pytest

from metrics.config.tickets import FirstReplyFrom
from metrics.core.contribution import Contribution, apply_change
from metrics.core.ticket_rules import TicketRules
from metrics.core.ticket_sla import SlaPolicy
from metrics.core.tickets import TicketState, ticket_contribution, ticket_contribution_of
from metrics.core.update import Update
from metrics.events import (
    TicketCreated,
    TicketEscalated,
    TicketEvent,
    TicketPriorityChanged,
    TicketReopened,
    TicketReplied,
    TicketStatusChanged,
)

M, H = 60_000, 3_600_000
T = round(dt.datetime(2026, 5, 18, tzinfo=dt.UTC).timestamp() * 1000)
Q, CH = "support", "email"
NONE = TicketRules()
SLA = TicketRules(
    (SlaPolicy(first_reply_ms=H, resolution_ms=24 * H, tiers=frozenset({"enterprise"})),)
)
FROM_CUSTOMER = TicketRules((), FirstReplyFrom.CUSTOMER_MESSAGE)


def created(
    at: int = 0, priority: str = "normal", tags: tuple[str, ...] = (), tier: str = "enterprise"
) -> TicketCreated:
    return TicketCreated(f"c{at}", T + at, "t1", Q, CH, priority, "cust", tier, tags)


def reply(
    at: int, author: Literal["agent", "customer"] = "agent", public: bool = True
) -> TicketReplied:
    return TicketReplied(f"r{at}{author}", T + at, "t1", Q, CH, author, public)


def status(at: int, value: str) -> TicketStatusChanged:
    return TicketStatusChanged(f"s{at}{value}", T + at, "t1", Q, CH, value)


def reopened(at: int) -> TicketReopened:
    return TicketReopened(f"o{at}", T + at, "t1", Q, CH)


def escalated(at: int) -> TicketEscalated:
    return TicketEscalated(f"e{at}", T + at, "t1", Q, CH)


def priority(at: int, value: str) -> TicketPriorityChanged:
    return TicketPriorityChanged(f"p{at}", T + at, "t1", Q, CH, value)


def state_of(events: list[TicketEvent]) -> TicketState:
    state = TicketState()
    for event in events:
        state.merge(event)
    return state


def panes(c: Contribution) -> dict[int, dict[str, int]]:
    """Sums by pane offset from T in minutes, zero amounts left out (as in Redis)."""
    out: dict[int, dict[str, int]] = {}
    for (queue, channel, pane), fields in c.sums.items():
        assert (queue, channel) == (Q, CH)
        kept = {k: v for k, v in fields.items() if v}
        if kept:
            out[(pane - T) // M] = kept
    return out


def members(c: Contribution) -> dict[str, int]:
    return {name: score - T for (name, _, _), score in c.members.items()}


CREATED = {"tickets_created": 1}


@pytest.mark.parametrize(
    ("events", "rules", "expected_panes", "expected_members"),
    [
        # Nothing is known before ticket.created.
        ([reply(5 * M), status(H, "solved")], NONE, {}, {}),
        ([created()], NONE, {0: CREATED}, {"backlog:normal": 0}),
        # Priority follows ticket.priority_changed by event time.
        (
            [created(), priority(10 * M, "urgent"), priority(5 * M, "high")],
            NONE,
            {0: CREATED},
            {"backlog:urgent": 0},
        ),
        # Complaint, escalated twice: the ticket is escalated once, at the first.
        (
            [created(tags=("complaint", "vip")), escalated(20 * M), escalated(10 * M)],
            NONE,
            {
                0: {**CREATED, "complaints_created": 1},
                10: {"tickets_escalated": 1, "complaints_escalated": 1},
            },
            {"backlog:normal": 0, "complaints": 0},
        ),
        # First response at 30 min; an internal note before it does not count.
        (
            [created(), reply(5 * M, public=False), reply(30 * M)],
            NONE,
            {
                0: CREATED,
                30: {
                    "ticket_first_response_count": 1,
                    "ticket_first_response_sum_ms": 30 * M,
                    "ticket_hist_first_response_le_1800000": 1,
                },
            },
            {"backlog:normal": 0},
        ),
        # Two customer messages answered by one reply: two responses (20 + 10 min).
        (
            [created(), reply(10 * M, "customer"), reply(20 * M, "customer"), reply(30 * M)],
            NONE,
            {
                0: CREATED,
                30: {
                    "ticket_first_response_count": 1,
                    "ticket_first_response_sum_ms": 30 * M,
                    "ticket_hist_first_response_le_1800000": 1,
                    "ticket_response_count": 2,
                    "ticket_response_sum_ms": 30 * M,
                },
            },
            {"backlog:normal": 0},
        ),
        # First response from the first customer message (the configurable variant).
        (
            [created(), reply(10 * M, "customer"), reply(30 * M)],
            FROM_CUSTOMER,
            {
                0: CREATED,
                30: {
                    "ticket_first_response_count": 1,
                    "ticket_first_response_sum_ms": 20 * M,
                    "ticket_hist_first_response_le_1800000": 1,
                    "ticket_response_count": 1,
                    "ticket_response_sum_ms": 20 * M,
                },
            },
            {"backlog:normal": 0},
        ),
        # Solved in 2 h with 3 public replies (1 agent, 2 customer); solved -> closed is
        # not a second solve; a complaint is resolved then.
        (
            [
                created(tags=("complaint",)),
                reply(0, "customer"),
                reply(90 * M),
                reply(100 * M, "customer"),
                reply(110 * M, public=False),
                status(2 * H, "solved"),
                status(50 * H, "closed"),
            ],
            NONE,
            {
                0: {**CREATED, "complaints_created": 1},
                90: {
                    "ticket_first_response_count": 1,
                    "ticket_first_response_sum_ms": 90 * M,
                    "ticket_hist_first_response_le_7200000": 1,
                    "ticket_response_count": 1,
                    "ticket_response_sum_ms": 90 * M,
                },
                120: {
                    "tickets_solved": 1,
                    "ticket_first_resolution_count": 1,
                    "ticket_first_resolution_sum_ms": 2 * H,
                    "ticket_full_resolution_count": 1,
                    "ticket_full_resolution_sum_ms": 2 * H,
                    "ticket_hist_resolution_le_7200000": 1,
                    "ticket_solved_public_replies": 3,
                    "complaints_resolved": 1,
                },
            },
            {},
        ),
        # Reopened and not solved again: the full resolution is withdrawn, back in backlog.
        (
            [created(), status(2 * H, "solved"), reopened(3 * H)],
            NONE,
            {
                0: CREATED,
                120: {
                    "tickets_solved": 1,
                    "ticket_first_resolution_count": 1,
                    "ticket_first_resolution_sum_ms": 2 * H,
                },
                180: {"tickets_reopened": 1},
            },
            {"backlog:normal": 0},
        ),
        # ... and solved again at 5 h: full resolution at the final solve.
        (
            [
                created(),
                status(2 * H, "solved"),
                reopened(3 * H),
                status(3 * H, "open"),  # the helpdesk also reports the status: one reopen
                status(5 * H, "solved"),
            ],
            NONE,
            {
                0: CREATED,
                120: {
                    "tickets_solved": 1,
                    "ticket_first_resolution_count": 1,
                    "ticket_first_resolution_sum_ms": 2 * H,
                },
                180: {"tickets_reopened": 1},
                300: {
                    "tickets_solved": 1,
                    "ticket_full_resolution_count": 1,
                    "ticket_full_resolution_sum_ms": 5 * H,
                    "ticket_hist_resolution_le_28800000": 1,
                },
            },
            {},
        ),
        # Facts timed before the creation count at it.
        (
            [created(), status(-5 * M, "solved")],
            NONE,
            {
                0: {
                    **CREATED,
                    "tickets_solved": 1,
                    "ticket_first_resolution_count": 1,
                    "ticket_full_resolution_count": 1,
                    "ticket_hist_resolution_le_60000": 1,
                }
            },
            {},
        ),
        # SLA: first reply met at 30 min; resolution runs, due in 24 h.
        (
            [created(), reply(30 * M)],
            SLA,
            {
                0: CREATED,
                30: {
                    "ticket_first_response_count": 1,
                    "ticket_first_response_sum_ms": 30 * M,
                    "ticket_hist_first_response_le_1800000": 1,
                    "ticket_sla_first_reply_met": 1,
                },
            },
            {"backlog:normal": 0, "sla_due": 24 * H},
        ),
        # SLA paused 10 -> 40 min: the earliest due (first reply) moves to 1 h 30.
        (
            [created(), status(10 * M, "pending"), status(40 * M, "open")],
            SLA,
            {0: CREATED},
            {"backlog:normal": 0, "sla_due": 90 * M},
        ),
        # Pending now: no running target, no due.
        ([created(), status(10 * M, "pending")], SLA, {0: CREATED}, {"backlog:normal": 0}),
        # Reply after 2 h breaches; solved in 5 h meets the resolution target.
        (
            [created(), reply(2 * H), status(5 * H, "solved")],
            SLA,
            {
                0: CREATED,
                120: {
                    "ticket_first_response_count": 1,
                    "ticket_first_response_sum_ms": 2 * H,
                    "ticket_hist_first_response_le_7200000": 1,
                    "ticket_sla_first_reply_breached": 1,
                },
                300: {
                    "tickets_solved": 1,
                    "ticket_first_resolution_count": 1,
                    "ticket_first_resolution_sum_ms": 5 * H,
                    "ticket_full_resolution_count": 1,
                    "ticket_full_resolution_sum_ms": 5 * H,
                    "ticket_hist_resolution_le_28800000": 1,
                    "ticket_solved_public_replies": 1,
                    "ticket_sla_resolution_met": 1,
                },
            },
            {},
        ),
        # No matching policy (free tier): no SLA counters and no due.
        (
            [created(tier="free"), reply(2 * H)],
            SLA,
            {
                0: CREATED,
                120: {
                    "ticket_first_response_count": 1,
                    "ticket_first_response_sum_ms": 2 * H,
                    "ticket_hist_first_response_le_7200000": 1,
                },
            },
            {"backlog:normal": 0},
        ),
    ],
)
def test_contribution(
    events: list[TicketEvent],
    rules: TicketRules,
    expected_panes: dict[int, dict[str, int]],
    expected_members: dict[str, int],
) -> None:
    out = ticket_contribution(state_of(events), rules)
    assert panes(out) == expected_panes
    assert members(out) == expected_members


def test_tickets_keep_no_maxima() -> None:
    # A maximum cannot be withdrawn (a reopen withdraws a full resolution), so none is kept.
    out = ticket_contribution(state_of([created(), reply(30 * M), status(2 * H, "solved")]), NONE)
    assert out.maxes == {}


SCRIPT: list[TicketEvent] = [
    created(tags=("complaint",)),
    reply(5 * M, "customer"),
    status(10 * M, "pending"),
    status(40 * M, "open"),
    reply(50 * M),
    status(2 * H, "solved"),
    reopened(3 * H),
    status(5 * H, "solved"),
]


def test_any_order_and_duplicates_give_the_same_contribution() -> None:
    expected = ticket_contribution(state_of(SCRIPT), SLA)
    for order in itertools.permutations(SCRIPT[:7]):
        events = [*order, SCRIPT[7], order[0]]  # the first of each order again
        assert ticket_contribution(state_of(events), SLA) == expected


def test_stepwise_diffs_add_up_to_the_final_contribution() -> None:
    """Applying new - old after every event (late, reordered, duplicated) ends in the
    contribution of the whole history: the withdrawn full resolution leaves nothing."""
    update = Update()
    state: TicketState | None = None
    for event in [SCRIPT[6], *SCRIPT[:3], SCRIPT[7], SCRIPT[5], SCRIPT[3], SCRIPT[4], SCRIPT[5]]:
        new = state.copy() if state is not None else TicketState()
        new.merge(event)
        before = ticket_contribution_of(state, SLA) if state is not None else None
        apply_change(update, "t1", before, ticket_contribution_of(new, SLA))
        state = new
    final = ticket_contribution(state_of(SCRIPT), SLA)
    summed = {k: {f: v for f, v in fs.items() if v} for k, fs in update.sums.items()}
    assert {k: v for k, v in summed.items() if v} == {
        k: {f: v for f, v in fs.items() if v} for k, fs in final.sums.items()
    }
    # Every live set the ticket was in was left: it is resolved now.
    assert all(score is None for m in update.members.values() for score in m.values())


@pytest.mark.parametrize("events", [[], SCRIPT, [reply(5 * M, "customer")], SCRIPT[:4]])
def test_json_round_trip(events: list[TicketEvent]) -> None:
    state = state_of(events)
    data: dict[str, Any] = json.loads(json.dumps(state.to_dict()))
    assert TicketState.from_dict(data) == state


def test_a_redelivery_with_other_content_keeps_one_answer_in_any_order() -> None:
    a = TicketStatusChanged("same-id", T + M, "t1", Q, CH, "open")
    b = TicketStatusChanged("same-id", T + M, "t1", Q, CH, "pending")
    assert state_of([a, b]) == state_of([b, a])
