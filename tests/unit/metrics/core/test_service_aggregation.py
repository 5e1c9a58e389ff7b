"""Tickets, customers, surveys and self-service through the aggregator (any order)."""

from __future__ import annotations

import itertools
import random

import pytest

from metrics.events import (
    ContactResolution,
    CustomerContacted,
    Event,
    TicketCreated,
    TicketEvent,
)
from streams.decode import decode
from streams.rekey import customer_contact_record
from streams.testing.events import raw
from tests.unit.metrics.core.test_aggregator import aggregate_with, state_of
from tests.week import CUSTOMER_CONTACTS, QUEUES, SALT, SELF_SERVICE, SURVEYS, TICKETS


def typed(events: list[dict[str, object]]) -> list[Event]:
    return [decode(raw(e), 1 << 20) for e in events]


def forwarded(events: list[Event]) -> list[Event]:
    """The customer.contact events the worker would forward for `events`."""
    out: list[Event] = []
    for event in events:
        if isinstance(event, ContactResolution | TicketCreated):
            record = customer_contact_record(event, SALT.encode())
            if record is not None:
                out.append(decode(record[1], 1 << 20))
    return out


SOURCES = typed(TICKETS + SURVEYS + SELF_SERVICE + CUSTOMER_CONTACTS)
WEEK = SOURCES + forwarded(SOURCES)
#: events whose state makes a redelivery harmless (surveys are deduped by id upstream)
STATEFUL = [e for e in WEEK if isinstance(e, CustomerContacted | TicketEvent)]


def test_the_week_forwards_six_customer_contacts_without_raw_ids() -> None:
    contacts = [e for e in WEEK if isinstance(e, CustomerContacted)]
    assert len(contacts) == 6
    assert {len(e.customer) for e in contacts} == {32}
    assert not any("cust-" in e.customer for e in contacts)


@pytest.mark.parametrize("seed", range(6))
def test_any_order_gives_the_clean_aggregates(seed: int) -> None:
    shuffled = WEEK[:]
    random.Random(seed).shuffle(shuffled)
    clean = state_of(aggregate_with(QUEUES, WEEK))
    assert state_of(aggregate_with(QUEUES, shuffled, chunk=1 + seed)) == clean
    assert clean["members"]  # backlog, SLA due and complaint sets are there


@pytest.mark.parametrize("chunk", [1, 4, 1000])
def test_every_ticket_and_customer_event_twice_gives_the_clean_aggregates(chunk: int) -> None:
    doubled = list(itertools.chain.from_iterable((e, e) for e in STATEFUL))
    assert state_of(aggregate_with(QUEUES, doubled, chunk)) == state_of(
        aggregate_with(QUEUES, STATEFUL)
    )
