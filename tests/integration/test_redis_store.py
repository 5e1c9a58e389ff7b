"""The Redis adapter on a real server: same answers as the in-memory twin, fenced, expiring."""

from __future__ import annotations

import time
import uuid

import pytest
import redis

from metrics.config.queues import QueueConfig, QueuesConfig
from metrics.core.reads import SeriesRequest
from metrics.core.update import Update
from metrics.store.base import FencedError, StoreLostError
from metrics.store.memory import InMemoryStore
from metrics.store.redis import RedisStore
from streams.testing.events import agent, contact, wrapup, yesterday_ms
from streams.testing.measure import update_of

pytestmark = pytest.mark.integration

S, MIN = 1000, 60_000
T0 = yesterday_ms()
NOW = int(time.time() * 1000)  # flushes pass the wall clock, as the worker does
READ_AT = T0 + 30 * MIN  # reads look at the data's own day
QUEUES = QueuesConfig(queues=(QueueConfig(name="sales"),))
EVENTS = [
    contact("contact.queued", T0 + 10 * S, "c1"),
    contact("contact.answered", T0 + 30 * S, "c1"),
    contact("contact.queued", T0 + 20 * S, "c2"),
    contact("contact.abandoned", T0 + 24 * S, "c2"),
    contact("contact.queued", T0 + 16 * MIN, "c3"),
    contact("contact.queued", T0 + 17 * MIN, "c4", channel="chat"),
    wrapup(T0 + 3 * MIN, "c1", talk=61.5, hold=0, acw=10),
    agent(T0, "a1", "available", ["sales"], ["voice", "chat"]),
    agent(T0 + 90 * S, "a1", "on_contact", ["sales"], ["voice", "chat"]),
]


@pytest.fixture
def store(redis_url: str) -> RedisStore:
    return RedisStore.from_url(redis_url, prefix=f"test-{uuid.uuid4().hex[:8]}")


def requests() -> list[SeriesRequest]:
    panes = tuple(T0 + i * MIN for i in range(30))
    intervals = (T0, T0 + 15 * MIN)
    return [
        SeriesRequest(("sales", "voice"), panes, intervals),
        SeriesRequest(("sales", "chat"), panes, intervals),
    ]


def test_redis_answers_like_the_in_memory_twin(store: RedisStore) -> None:
    twin = InMemoryStore()
    store.flush(update_of(EVENTS, QUEUES), NOW)
    twin.flush(update_of(EVENTS, QUEUES), NOW)
    assert store.read(requests(), READ_AT) == twin.read(requests(), READ_AT)
    assert store.series() == twin.series() == [("sales", "chat"), ("sales", "voice")]
    voice = store.read(requests(), READ_AT)[0]
    assert voice.intervals[0]["queued"] == 2 and voice.intervals[1]["queued"] == 1
    assert voice.live.waiting == 1 and voice.live.oldest_enqueued_ms == T0 + 16 * MIN
    assert voice.live.agents == {"agents_on_contact": 1, "slots_total": 1, "slots_busy": 1}
    assert voice.totals["talk_ms"] == 61_500


def test_states_offsets_and_seen_ids_round_trip(store: RedisStore) -> None:
    update = update_of(EVENTS, QUEUES)
    store.flush(update, NOW)
    found = store.load_states({"contact": {"c1", "nobody"}, "agent": {"a1"}})
    contacts, agents = found["contact"], found["agent"]
    assert contacts["nobody"] is None
    assert contacts["c1"] is not None and contacts["c1"].segments["sales"].outcome == "answered"
    assert agents["a1"] is not None and agents["a1"].state == "on_contact"
    assert store.load_offsets() == {"events:0": len(EVENTS) - 1}
    first_id = str(EVENTS[0]["id"])
    update.seen[first_id] = T0
    store.flush(Update(seen={first_id: T0}), NOW)
    assert store.seen({first_id: T0, "never-seen": T0}) == {first_id}


def test_a_flush_at_or_below_the_applied_offset_is_fenced_and_changes_nothing(
    store: RedisStore,
) -> None:
    store.flush(update_of(EVENTS, QUEUES), NOW)
    before = store.read(requests(), READ_AT)
    stale = update_of(EVENTS[:2], QUEUES)  # offsets 0..1, already applied
    with pytest.raises(FencedError):
        store.flush(stale, NOW)
    assert store.read(requests(), READ_AT) == before


def test_panes_expire_after_the_retention(store: RedisStore, redis_url: str) -> None:
    retention = 8 * 24 * 60 * MIN
    store.flush(update_of(EVENTS, QUEUES), NOW)
    client = redis.Redis.from_url(redis_url)
    pane_key = f"{store.prefix}:p1:sales|voice:{T0}"
    expire_at = client.pexpiretime(pane_key)
    assert expire_at == T0 + MIN + retention
    assert client.pexpiretime(f"{store.prefix}:tot:sales|voice") == -1  # counters never expire
    assert client.pttl(f"{store.prefix}:c:c1") > 0


def test_unreachable_redis_is_reported_as_down() -> None:
    down = RedisStore.from_url("redis://127.0.0.1:1/0")
    assert down.ping() is False


def test_contacts_waiting_longer_than_the_state_ttl_are_not_counted(store: RedisStore) -> None:
    store.flush(update_of(EVENTS, QUEUES), NOW)
    day_later = T0 + 16 * MIN + 24 * 60 * MIN
    assert store.read(requests(), day_later)[0].live.waiting == 1
    stale = store.read(requests(), day_later + 1)[0].live
    assert (stale.waiting, stale.oldest_enqueued_ms) == (0, None)


def _keys(store: RedisStore) -> list[str]:
    return sorted(store.client.scan_iter(f"{store.prefix}:*"))


def test_a_store_that_lost_its_data_refuses_the_next_flush_and_writes_nothing(
    store: RedisStore,
) -> None:
    first = store.claim_generation()
    store.flush(update_of(EVENTS[:3], QUEUES), NOW)
    store.client.delete(*_keys(store))  # what a restart without persistence leaves
    assert not store.holds_generation()
    later = update_of(EVENTS[3:], QUEUES)
    later.offsets = {"events:0": (3, 8)}
    with pytest.raises(StoreLostError, match="LOST"):
        store.flush(later, NOW)
    assert _keys(store) == []
    second = store.claim_generation()
    assert second != first
    store.flush(later, NOW)
    assert store.holds_generation()
    assert store.load_offsets() == {"events:0": 8}


def test_workers_on_one_store_share_its_generation(store: RedisStore) -> None:
    other = RedisStore(store.client, prefix=store.prefix)
    assert store.claim_generation() == other.claim_generation()
    assert store.holds_generation() and other.holds_generation()


def test_a_store_never_claimed_is_not_checked(store: RedisStore) -> None:
    store.flush(update_of(EVENTS, QUEUES), NOW)
    store.client.delete(*_keys(store))
    assert store.holds_generation()
    store.flush(update_of(EVENTS, QUEUES), NOW)
    assert store.load_offsets() == {"events:0": len(EVENTS) - 1}


def test_events_ahead_of_the_clock_trim_no_contact_a_read_now_still_counts(
    store: RedisStore,
) -> None:
    ttl = store.state_ttl_ms
    # c1 has waited just under the TTL; an event in the same flush runs 2 minutes ahead.
    events = [
        contact("contact.queued", NOW - ttl + MIN, "c1"),
        contact("contact.queued", NOW + 2 * MIN, "c2"),
    ]
    update = update_of(events, QUEUES)
    update.event_time = {"events:0": NOW + 2 * MIN}  # as the worker's admission records it
    twin = InMemoryStore()
    store.flush(update, NOW)
    twin.flush(update, NOW)
    request = [SeriesRequest(("sales", "voice"), ())]
    assert store.read(request, NOW)[0].live.waiting == twin.read(request, NOW)[0].live.waiting == 2
