"""Long reads on a real Redis re-read only what changed, and stay exact: a late correction
into a past interval, a new field, a hash gone; the same answers as the in-memory twin."""

from __future__ import annotations

import time
import uuid

import pytest
import redis

from metrics.core.panes import DAY_MS, HOUR_MS, day_start
from metrics.core.reads import BucketRequest
from metrics.core.update import Update
from metrics.store.memory import InMemoryStore
from metrics.store.redis import RedisStore

pytestmark = pytest.mark.integration

MIN = 60_000
NOW = int(time.time() * 1000)
START = day_start(NOW) - 2 * DAY_MS + 9 * HOUR_MS  # 09:00 UTC two days ago
SERIES = ("sales", "voice")
#: eight 15-minute intervals from START: four half hours
QUARTERS = tuple(START + i * 15 * MIN for i in range(8))
HALVES = [BucketRequest(SERIES, "p15", QUARTERS, per=2)]


def pane_update(offset: int, pane: int, **sums: int) -> Update:
    update = Update()
    for name, value in sums.items():
        update.add((*SERIES, pane), name, value)
    update.add_max((*SERIES, pane), "wait_answered_max_ms", 1000 * offset)
    update.mark_offset("events:0", offset)
    return update


@pytest.fixture
def stores(redis_url: str) -> tuple[RedisStore, InMemoryStore]:
    """A Redis store and the twin, each given one busy pane in each of the first six
    quarters (the last two stay empty)."""
    store = RedisStore.from_url(redis_url, prefix=f"test-{uuid.uuid4().hex[:8]}")
    twin = InMemoryStore()
    for i, quarter in enumerate(QUARTERS[:6]):
        update = pane_update(i + 1, quarter + MIN, queued=3 + i, answered=2 + i, talk_ms=1000 * i)
        store.flush(update, NOW)
        twin.flush(update, NOW)
    return store, twin


def test_a_second_read_hands_out_the_same_groups(
    stores: tuple[RedisStore, InMemoryStore],
) -> None:
    store, twin = stores
    first = store.read_buckets(HALVES, NOW)
    second = store.read_buckets(HALVES, NOW)
    assert first == second == twin.read_buckets(HALVES, NOW)
    assert [r.get("queued", 0) for r in first[0]] == [3 + 4, 5 + 6, 7 + 8, 0]
    assert [r.get("wait_answered_max_ms") for r in first[0]] == [2000, 4000, 6000, None]
    assert all(a is b for a, b in zip(first[0], second[0], strict=True))


def test_a_late_correction_and_a_new_field_are_read_at_once(
    stores: tuple[RedisStore, InMemoryStore],
) -> None:
    store, twin = stores
    before = store.read_buckets(HALVES, NOW)[0]
    # a late event into the second quarter (first half hour), with a field new to it, and
    # a wait longer than any; the third half hour's last quarter gets its first traffic
    late = pane_update(7, QUARTERS[1] + 2 * MIN, queued=1, abandoned=1)
    late.add_max((*SERIES, QUARTERS[1] + 2 * MIN), "wait_answered_max_ms", 90_000)
    late.add((*SERIES, QUARTERS[7] + MIN), "queued", 2)
    for target in (store, twin):
        target.flush(late, NOW)
    after = store.read_buckets(HALVES, NOW)[0]
    assert after == twin.read_buckets(HALVES, NOW)[0]
    assert after[0] == {
        "queued": 3 + 4 + 1,
        "answered": 2 + 3,
        "talk_ms": 1000,
        "abandoned": 1,
        "wait_answered_max_ms": 90_000,
    }
    assert after[3] == {"queued": 2}
    assert after[1] is before[1] and after[2] is before[2]  # unchanged: not parsed again


def test_a_hash_gone_reads_as_empty(
    stores: tuple[RedisStore, InMemoryStore], redis_url: str
) -> None:
    store, _ = stores
    assert store.read_buckets(HALVES, NOW)[0][1]["queued"] == 5 + 6
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    base = f"{store.prefix}:p15:sales|voice:"
    client.delete(base + str(QUARTERS[2]), base + str(QUARTERS[3]))  # as if expired
    assert store.read_buckets(HALVES, NOW)[0][1] == {}
    client.close()


def test_another_store_reads_the_same_after_its_own_first_read(
    stores: tuple[RedisStore, InMemoryStore], redis_url: str
) -> None:
    store, _ = stores
    other = RedisStore.from_url(redis_url, prefix=store.prefix)
    assert other.read_buckets(HALVES, NOW) == store.read_buckets(HALVES, NOW)
    store.flush(pane_update(9, QUARTERS[0] + MIN, queued=10), NOW)
    assert other.read_buckets(HALVES, NOW)[0][0]["queued"] == 3 + 4 + 10
