"""An agent's contacts now: who holds each contact being handled, from its segment.

Each table case runs in every order of its events and with every event twice (shuffled),
through the aggregator into the in-memory store; the agents' lists are read as the API
reads them (the "handling" set of each series, then the members' stored states).
"""

from __future__ import annotations

import itertools
import random
from typing import Any

import orjson
import pytest

from metrics.config.queues import QueueConfig, QueuesConfig
from metrics.core.agent_views import contacts_by_agent
from metrics.core.aggregator import Aggregator
from metrics.core.contacts import HANDLING_SET, ContactState, Segment
from metrics.events import (
    ContactEnded,
    ContactOutcome,
    ContactQueued,
    ContactTransferred,
    Event,
    WrapupCompleted,
)
from metrics.store.memory import InMemoryStore
from streams.testing.events import T0

S = 1000
NOW = T0 + 600 * S
QUEUES = QueuesConfig(queues=(QueueConfig(name="sales"), QueueConfig(name="support")))


def _base(eid: str, at: float, c: str, q: str, ch: str) -> dict[str, Any]:
    return {"id": eid, "time_ms": T0 + round(at * S), "contact_id": c, "queue": q, "channel": ch}


def queued(eid: str, at: float, c: str = "c1", q: str = "sales", ch: str = "voice") -> Event:
    return ContactQueued(**_base(eid, at, c, q, ch))


def answered(
    eid: str, at: float, agent: str | None, c: str = "c1", q: str = "sales", ch: str = "voice"
) -> Event:
    return ContactOutcome(**_base(eid, at, c, q, ch), kind="answered", agent_id=agent)


def transferred(eid: str, at: float, kind: Any, target: Any, to: str | None) -> Event:
    return ContactTransferred(
        **_base(eid, at, "c1", "sales", "voice"), kind=kind, target=target, to=to
    )


def wrapped(eid: str, at: float) -> Event:
    return WrapupCompleted(**_base(eid, at, "c1", "sales", "voice"), talk_ms=1, hold_ms=0, acw_ms=0)


def ended(eid: str, at: float) -> Event:
    return ContactEnded(**_base(eid, at, "c1", "sales", "voice"), disconnected_by="customer")


def row(c: str, since_s: float, q: str = "sales", ch: str = "voice") -> dict[str, Any]:
    return {"contact_id": c, "queue": q, "channel": ch, "seconds": (NOW - T0) / S - since_s}


#: (name, events, agent id -> its contacts at NOW)
CASES: list[tuple[str, list[Event], dict[str, list[dict[str, Any]]]]] = [
    ("answered", [queued("q", 0), answered("a", 10, "a1")], {"a1": [row("c1", 10)]}),
    ("answered, no queued", [answered("a", 10, "a1")], {"a1": [row("c1", 10)]}),
    ("wrapped up", [queued("q", 0), answered("a", 10, "a1"), wrapped("w", 90)], {}),
    ("ended", [queued("q", 0), answered("a", 10, "a1"), ended("e", 90)], {}),
    ("no agent named", [queued("q", 0), answered("a", 10, None)], {}),
    (
        "the earliest answer wins",
        [queued("q", 0), answered("a2", 12, "a2"), answered("a1", 10, "a1")],
        {"a1": [row("c1", 10)]},
    ),
    (
        "equal answers: the lowest agent id",
        [queued("q", 0), answered("x", 10, "a2"), answered("y", 10, "a1"), answered("z", 10, None)],
        {"a1": [row("c1", 10)]},
    ),
    (
        "a consult transfer to an agent moves it",
        [queued("q", 0), answered("a", 10, "a1"), transferred("t", 60, "consult", "agent", "a2")],
        {"a2": [row("c1", 60)]},
    ),
    (
        "the latest transfer to an agent",
        [
            answered("a", 10, "a1"),
            transferred("t1", 60, "conference", "agent", "a2"),
            transferred("t2", 90, "consult", "agent", "a3"),
            transferred("t3", 95, "consult", "queue", "support"),
        ],
        {"a3": [row("c1", 90)]},
    ),
    (
        "a blind transfer releases it",
        [queued("q", 0), answered("a", 10, "a1"), transferred("t", 60, "blind", "agent", "a2")],
        {},
    ),
    (
        "a transfer to a queue or outside keeps it",
        [
            answered("a", 10, "a1"),
            transferred("t1", 60, "consult", "queue", "support"),
            transferred("t2", 70, "conference", "external", None),
            transferred("t3", 80, "consult", "agent", None),
        ],
        {"a1": [row("c1", 10)]},
    ),
    (
        "several contacts: longest first, then by contact id",
        [
            answered("a1", 30, "a1", c="c1", ch="chat"),
            answered("a2", 5, "a1", c="c2", q="support", ch="chat"),
            answered("a3", 30, "a1", c="c0", ch="chat"),
            answered("a4", 40, "a2", c="c3"),
        ],
        {
            "a1": [
                row("c2", 5, "support", "chat"),
                row("c0", 30, ch="chat"),
                row("c1", 30, ch="chat"),
            ],
            "a2": [row("c3", 40)],
        },
    ),
]


def agents_contacts(events: list[Event]) -> dict[str, list[dict[str, Any]]]:
    """Apply events one at a time (states loaded and flushed each time); read as the API."""
    store = InMemoryStore()
    aggregator = Aggregator(QUEUES)
    for event in events:
        aggregator.load(store.load_states(aggregator.missing([event])))
        aggregator.apply(event)
        store.flush(aggregator.drain(), now_ms=T0)
        aggregator.forget()
    members = store.set_members(HANDLING_SET, store.series(), NOW)
    ids = {c for found in members.values() for c in found}
    states = store.load_states({"contact": ids}).get("contact", {})
    return contacts_by_agent(members, states, NOW)


@pytest.mark.parametrize(("events", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_every_order_and_duplicates_give_the_same_contacts(
    events: list[Event], expected: dict[str, list[dict[str, Any]]]
) -> None:
    orders = list(itertools.permutations(events))
    for order in random.Random(1).sample(orders, min(len(orders), 24)):
        assert agents_contacts(list(order)) == expected, order
    for seed in range(4):
        twice = [*events, *events]
        random.Random(seed).shuffle(twice)
        assert agents_contacts(twice) == expected


def test_the_answering_agent_round_trips_and_old_states_load() -> None:
    seg = Segment()
    for event in (queued("q", 0), answered("a", 10, "a1")):
        seg.merge(event)
    stored = orjson.loads(orjson.dumps(ContactState({"sales": seg}).to_dict()))
    assert stored["sales"][6] == {"g": "a1"}  # the agent only: no Activity made of it
    loaded = ContactState.from_dict(stored).segments["sales"]
    assert (loaded, loaded.activity, loaded.holder()) == (seg, None, ("a1", T0 + 10 * S))
    old = ContactState.from_dict({"sales": [T0, "voice", "answered", T0 + 10 * S, "voice", {}]})
    assert old.segments["sales"].agent_id is None
    assert old.segments["sales"].holder() is None  # handled, by no agent we know of


def test_a_contact_whose_state_is_gone_is_in_no_agents_list() -> None:
    members = {("sales", "voice"): {"gone": T0}}
    assert contacts_by_agent(members, {"gone": None}, NOW) == {}
