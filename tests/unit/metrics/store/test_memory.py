"""The in-memory twin of the store port: fenced flushes, dedupe, live sets and expiry."""

from __future__ import annotations

import pytest

from metrics.config.queues import QueueConfig, QueuesConfig
from metrics.core.reads import SeriesRequest
from metrics.core.update import Update
from metrics.errors import CcmonError
from metrics.store.base import FencedError, StoreError, StoreLostError
from metrics.store.memory import InMemoryStore
from streams.testing.events import T0, contact
from streams.testing.measure import update_of

S, MIN = 1000, 60_000
QUEUES = QueuesConfig(queues=(QueueConfig(name="sales"),))


EVENTS = [
    contact("contact.queued", T0 + 10 * S, "c1", event_id="e1"),
    contact("contact.answered", T0 + 30 * S, "c1", event_id="e2"),
    contact("contact.queued", T0 + 50 * S, "c2", event_id="e3"),
]


def test_a_flush_is_read_back_per_pane_with_the_live_wait_set() -> None:
    store = InMemoryStore()
    store.flush(update_of(EVENTS, QUEUES), T0 + MIN)
    (data,) = store.read([SeriesRequest(("sales", "voice"), (T0,))], T0 + MIN)
    assert data.panes[0]["queued"] == 2
    assert data.panes[0]["answered"] == 1
    assert data.live.waiting == 1
    assert data.live.oldest_enqueued_ms == T0 + 50 * S
    assert store.series() == [("sales", "voice")]
    assert store.load_offsets() == {"events:0": 2}


def test_a_second_flush_of_the_same_offsets_is_fenced() -> None:
    store = InMemoryStore()
    store.flush(update_of(EVENTS, QUEUES), T0 + MIN)
    with pytest.raises(FencedError) as caught:
        store.flush(update_of(EVENTS, QUEUES), T0 + MIN)
    assert isinstance(caught.value, StoreError) and isinstance(caught.value, CcmonError)
    assert caught.value.retriable is False
    (data,) = store.read([SeriesRequest(("sales", "voice"), (T0,))], T0 + MIN)
    assert data.panes[0]["queued"] == 2  # nothing applied twice


def test_applied_event_ids_are_seen_within_the_dedupe_horizon() -> None:
    store = InMemoryStore(dedupe_horizon_ms=60 * MIN)
    update = update_of(EVENTS, QUEUES)
    update.seen.update({"e1": T0 + 10 * S, "e3": T0 + 50 * S})  # as the pipeline marks them
    store.flush(update, T0 + MIN)
    assert store.seen({"e1": T0 + 10 * S, "e3": T0 + 50 * S, "e9": T0}) == {"e1", "e3"}
    later = Update()
    later.mark_offset("events:0", 3)
    store.flush(later, T0 + 60 * MIN + 30 * S)  # e1 is now past the hour, e3 not yet
    assert store.seen({"e1": T0 + 10 * S, "e3": T0 + 50 * S}) == {"e3"}


def test_a_contact_waiting_longer_than_the_state_ttl_is_not_counted_waiting() -> None:
    store = InMemoryStore(state_ttl_ms=10 * MIN)
    store.flush(update_of(EVENTS, QUEUES), T0 + MIN)
    request = [SeriesRequest(("sales", "voice"))]
    assert store.read(request, T0 + 5 * MIN)[0].live.waiting == 1
    assert store.read(request, T0 + 50 * S + 11 * MIN)[0].live.waiting == 0


def test_a_twin_that_lost_its_data_refuses_flushes_until_the_new_generation_is_claimed() -> None:
    store = InMemoryStore()
    first = store.claim_generation()
    store.flush(update_of(EVENTS, QUEUES), T0 + MIN)
    store.lose()
    assert (store.offsets, store.panes, store.marker) == ({}, {}, None)
    assert not store.holds_generation()
    with pytest.raises(StoreLostError):
        store.flush(update_of(EVENTS, QUEUES), T0 + MIN)
    assert store.panes == {}
    assert store.claim_generation() != first
    store.flush(update_of(EVENTS, QUEUES), T0 + MIN)
    assert store.load_offsets() == {"events:0": 2}


def test_an_unclaimed_twin_is_never_checked() -> None:
    store = InMemoryStore()
    store.lose()
    assert store.holds_generation()
    store.flush(update_of(EVENTS, QUEUES), T0 + MIN)
    assert store.load_offsets() == {"events:0": 2}
