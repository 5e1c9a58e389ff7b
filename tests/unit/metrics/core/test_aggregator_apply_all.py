"""``Aggregator.apply_all`` (a batch, a contact's events merged first) writes exactly what
``apply`` one event at a time writes: the same panes, maxima, live sets and states."""

from __future__ import annotations

import random
from typing import Any

from metrics.config.queues import QueueConfig, QueuesConfig
from metrics.core.aggregator import Aggregator
from metrics.core.contacts import Segment, contribution, wait_maximum
from metrics.events import (
    AgentStateChanged,
    CallbackAttempted,
    ContactEnded,
    ContactHeld,
    ContactOfferDeclined,
    ContactOffered,
    ContactOutcome,
    ContactQueued,
    ContactResumed,
    ContactTransferred,
    Event,
    SurveySubmitted,
    WrapupCompleted,
)
from metrics.store.memory import InMemoryStore
from streams.testing.events import T0

S = 1000
QUEUES = QueuesConfig(queues=(QueueConfig(name="sales"), QueueConfig(name="care")))


def _events(rng: random.Random, n: int) -> list[Event]:
    """`n` events of 6 contacts in 2 queues and 3 agents, at random times, some twice."""
    out: list[Event] = []
    for i in range(n):
        at = T0 + rng.randrange(0, 600) * S
        cid, queue = f"c{rng.randrange(6)}", rng.choice(("sales", "care"))
        channel, agent = rng.choice(("voice", "chat")), f"a{rng.randrange(3)}"
        head = (f"e{i}", at, cid, queue, channel)
        pick = rng.randrange(12)
        event: Event
        if pick == 0:
            event = ContactQueued(*head, rng.choice(("inbound", "outbound")))
        elif pick == 1:
            event = ContactOutcome(*head, "answered", agent)
        elif pick == 2:
            event = ContactOutcome(*head, rng.choice(("abandoned", "callback_requested")))
        elif pick == 3:
            event = WrapupCompleted(*head, 60 * S, 5 * S, 20 * S, agent, rng.choice((None, "x")))
        elif pick == 4:
            event = ContactOffered(*head, agent)
        elif pick == 5:
            event = ContactOfferDeclined(*head, agent, "missed")
        elif pick == 6:
            event = rng.choice((ContactHeld, ContactResumed))(*head, agent)
        elif pick == 7:
            event = ContactTransferred(*head, "blind", "queue", "care", agent)
        elif pick == 8:
            event = ContactEnded(*head, rng.choice(("customer", "agent")), agent)
        elif pick == 9:
            event = CallbackAttempted(*head, rng.choice(("connected", "no_answer")), agent)
        elif pick == 10:
            state = rng.choice(("available", "busy", "not_ready"))
            event = AgentStateChanged(f"e{i}", at, agent, state, (queue,), (channel,))
        else:
            event = SurveySubmitted(f"e{i}", at, queue, channel, "csat", 4, cid, None)
        out.append(event)
        if rng.random() < 0.1:
            out.append(event)  # delivered twice
    return out


def _run(events: list[Event], sizes: list[int], batched: bool) -> InMemoryStore:
    """Apply `events` in batches of `sizes`, loading and flushing through the store."""
    store, aggregator = InMemoryStore(), Aggregator(QUEUES, lateness_ms=3_600 * S)
    start = 0
    for size in sizes:
        part = events[start : start + size]
        start += size
        aggregator.load(store.load_states(aggregator.missing(part)))
        if batched:
            aggregator.apply_all(part)
        else:
            for event in part:
                aggregator.apply(event)
        store.flush(aggregator.drain(), now_ms=T0)
    return store


def _held(store: InMemoryStore) -> dict[str, Any]:
    """What a reader sees: non-zero fields, non-empty live sets, the states' stored form."""

    def nonzero(d: dict[Any, dict[str, int]]) -> dict[Any, dict[str, int]]:
        kept = {k: {f: v for f, v in c.items() if v} for k, c in d.items()}
        return {k: c for k, c in kept.items() if c}

    return {
        "panes": nonzero(store.panes),
        "intervals": nonzero(store.intervals),
        "totals": nonzero(dict(store.totals)),
        "agents": nonzero(dict(store.agent_counts)),
        "scoped": nonzero(store.scoped),
        "members": {k: v for k, v in store.members.items() if v},
        "states": {
            kind: {i: s.to_dict() for i, s in states.items()}
            for kind, states in store.states.items()
        },
    }


def test_a_batch_applied_at_once_writes_what_one_event_at_a_time_writes() -> None:
    for seed in range(40):
        rng = random.Random(seed)
        events = _events(rng, 120)
        sizes = [rng.randrange(1, 40) for _ in range(len(events))]
        one_by_one = _held(_run(events, sizes, batched=False))
        assert _held(_run(events, sizes, batched=True)) == one_by_one, seed
        assert one_by_one["panes"], "the events must add to some pane"


def test_a_contact_queued_and_answered_in_one_batch_counts_once_and_leaves_the_wait_set() -> None:
    events: list[Event] = [
        ContactQueued("q", T0, "c1", "sales", "voice"),
        ContactOutcome("a", T0 + 30 * S, "c1", "sales", "voice", "answered", "a1"),
    ]
    held = _held(_run(events, [2], batched=True))
    pane = held["panes"][(("sales", "voice"), T0)]
    assert pane["queued"] == 1
    assert pane["answered"] == 1
    assert pane["wait_answered_sum_ms"] == 30 * S
    assert ("wait", "sales", "voice") not in held["members"]
    assert held["members"][("handling", "sales", "voice")] == {"c1": T0 + 30 * S}


def test_wait_maximum_is_the_maximum_contribution_records() -> None:
    rules = Aggregator(QUEUES).contact_rules("sales")
    rng = random.Random(7)
    seen = 0
    for _ in range(300):
        seg = Segment()
        for event in _events(rng, 4):
            if isinstance(event, ContactQueued | ContactOutcome | WrapupCompleted):
                seg.merge(event)
        found = wait_maximum(seg, "sales")
        maxes = contribution(seg, rules).maxes
        assert maxes == ({} if found is None else {found[0]: {found[1]: found[2]}})
        seen += found is not None
    assert seen > 20, "some segments must hold a waited-for outcome"
