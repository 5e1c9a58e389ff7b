"""The one key function: every event type keyed as docs/events.md says."""

from __future__ import annotations

from typing import Any

import pytest

from streams.decode import EVENT_TYPES
from streams.producers.keys import event_key
from streams.testing.events import (
    agent,
    contact,
    envelope,
    key_of,
    outcome,
    selfservice,
    survey,
    ticket,
)

T = 1_794_816_000_000
#: contact() takes the event type as `kind`, so a transfer's `kind` goes in as raw data.
TRANSFER = {"contact_id": "c1", "queue": "q", "channel": "voice", "kind": "blind"}

CASES: list[tuple[dict[str, Any], str]] = [
    (contact("contact.queued", T, "c1"), "c1"),
    (contact("contact.answered", T, "c1", agent_id="a9"), "c1"),
    (contact("contact.abandoned", T, "c1"), "c1"),
    (contact("contact.flowed_out", T, "c1"), "c1"),
    (contact("contact.callback_requested", T, "c1"), "c1"),
    (
        contact("contact.wrapup_completed", T, "c1", talk_s=1, hold_s=0, acw_s=0, agent_id="a9"),
        "c1",
    ),
    # The agents' view (issue 11): keyed by the contact, never by the agent they name.
    (contact("contact.offered", T, "c1", agent_id="a9"), "c1"),
    (contact("contact.offer_declined", T, "c1", agent_id="a9", outcome="missed"), "c1"),
    (contact("contact.held", T, "c1", agent_id="a9"), "c1"),
    (contact("contact.resumed", T, "c1", agent_id="a9"), "c1"),
    (envelope("contact.transferred", T, {**TRANSFER, "target": "agent", "to": "a8"}), "c1"),
    (contact("contact.ended", T, "c1", disconnected_by="agent", agent_id="a9"), "c1"),
    (contact("contact.callback_attempted", T, "c1", outcome="failed", agent_id="a9"), "c1"),
    (outcome(T, "c1", True, customer_id="cust-5"), "c1"),
    (agent(T, "a7", "available", ["sales"]), "a7"),
    (ticket("ticket.created", T, "t1", customer_id="cust-5"), "t1"),
    # The bug this function fixes: an agent's reply was keyed by the agent.
    (ticket("ticket.replied", T, "t1", agent_id="a9"), "t1"),
    (ticket("ticket.replied", T, "t1", author="customer"), "t1"),
    (ticket("ticket.status_changed", T, "t1", status="solved"), "t1"),
    (ticket("ticket.reopened", T, "t1"), "t1"),
    (ticket("ticket.escalated", T, "t1"), "t1"),
    (ticket("ticket.priority_changed", T, "t1", priority="high"), "t1"),
    (survey(T, "csat", 5, contact_id="c1"), "c1"),
    (survey(T, "nps", 9, ticket_id="t1"), "t1"),
    (survey(T, "ces", 2, contact_id="c1", ticket_id="t1"), "c1"),
    (selfservice(T, "s1", "started"), "s1"),
    (
        envelope(
            "customer.contact",
            T,
            {"customer": "h:ab", "contact": "c1", "queue": "q", "channel": "voice"},
        ),
        "h:ab",
    ),
]


@pytest.mark.parametrize(("event", "key"), CASES, ids=[e["type"] for e, _ in CASES])
def test_every_type_is_keyed_by_its_entity(event: dict[str, Any], key: str) -> None:
    assert event_key(event) == key
    assert key_of(event) == key.encode()  # the tests' helper is the same function


def test_the_table_covers_every_event_type() -> None:
    assert {e["type"] for e, _ in CASES} == set(EVENT_TYPES)


@pytest.mark.parametrize(
    ("event", "key"),
    [
        (envelope("survey.submitted", T, {"queue": "q", "kind": "csat", "score": 4}, "e1"), "e1"),
        (envelope("contact.queued", T, {"queue": "q"}, "e2"), "e2"),
        (envelope("exploded", T, {"contact_id": "c1"}, "e3"), "e3"),
        ({"id": "e4", "type": "ticket.created", "data": "not an object"}, "e4"),
        ({"type": 7}, ""),
    ],
)
def test_events_without_their_key_field_are_keyed_by_event_id(
    event: dict[str, Any], key: str
) -> None:
    assert event_key(event) == key
