"""RedisStore on a real three-primary Redis Cluster: with a key tag (docs/cluster.md) every key
of a flush is in one hash slot, the flush script declares them all, and the figures read back
are the single server's; per-partition tags spread over the primaries and sum to the whole."""

from __future__ import annotations

import time
import uuid
from typing import cast

import pytest
import redis
from redis.cluster import RedisCluster

from metrics.config.queues import QueueConfig, QueuesConfig
from metrics.core.reads import SeriesRequest
from metrics.core.update import Update
from metrics.fields import MAX_FIELDS
from metrics.store.base import FencedError
from metrics.store.redis import RedisStore
from streams.testing.events import agent, contact, wrapup, yesterday_ms
from streams.testing.measure import update_of

pytestmark = pytest.mark.integration

S, MIN = 1000, 60_000
T0 = yesterday_ms()
NOW = int(time.time() * 1000)
READ_AT = T0 + 30 * MIN
QUEUES = QueuesConfig(queues=(QueueConfig(name="sales"),))
CONTACTS = [
    contact("contact.queued", T0 + 10 * S, "c1"),
    contact("contact.answered", T0 + 30 * S, "c1"),
    contact("contact.queued", T0 + 20 * S, "c2"),
    contact("contact.abandoned", T0 + 24 * S, "c2"),
    contact("contact.queued", T0 + 16 * MIN, "c3"),
    contact("contact.queued", T0 + 17 * MIN, "c4", channel="chat"),
    wrapup(T0 + 3 * MIN, "c1", talk=61.5, hold=0, acw=10),
]
AGENTS = [
    agent(T0, "a1", "available", ["sales"], ["voice", "chat"]),
    agent(T0 + 90 * S, "a1", "on_contact", ["sales"], ["voice", "chat"]),
]
EVENTS = CONTACTS + AGENTS


def requests() -> list[SeriesRequest]:
    panes = tuple(T0 + i * MIN for i in range(30))
    intervals = (T0, T0 + 15 * MIN)
    return [
        SeriesRequest(("sales", "voice"), panes, intervals),
        SeriesRequest(("sales", "chat"), panes, intervals),
    ]


def first_update() -> Update:
    """Every event as one flush, from a worker that had never met queue sales (the worker
    adds the queues it meets and the ids it applied: the core leaves them out)."""
    update = update_of(EVENTS, QUEUES)
    update.new_queues.add("sales")
    update.seen.update({str(e["id"]): T0 for e in EVENTS})
    return update


def on_cluster(client: RedisCluster, prefix: str, tag: str) -> RedisStore:
    # RedisCluster is not a redis.Redis, but answers every call the store makes
    return RedisStore(cast(redis.Redis, client), prefix=prefix, key_tag=tag)


@pytest.fixture
def prefix() -> str:
    return f"test-{uuid.uuid4().hex[:8]}"


def test_a_tagged_store_on_the_cluster_reads_what_a_single_server_does(
    redis_cluster_clean: RedisCluster, redis_url: str, prefix: str
) -> None:
    single = RedisStore.from_url(redis_url, prefix=prefix)
    tagged = on_cluster(redis_cluster_clean, prefix, "p0")
    for store in (single, tagged):
        store.claim_generation()
        store.flush(first_update(), NOW)
    assert tagged.read(requests(), READ_AT) == single.read(requests(), READ_AT)
    voice = tagged.read(requests(), READ_AT)[0]
    assert voice.intervals[0]["queued"] == 2 and voice.intervals[1]["queued"] == 1
    assert voice.live.waiting == 1 and voice.live.oldest_enqueued_ms == T0 + 16 * MIN
    assert voice.totals["talk_ms"] == 61_500
    assert tagged.series() == single.series() == [("sales", "chat"), ("sales", "voice")]
    assert tagged.known_queues() == single.known_queues() == {"sales"}
    assert tagged.load_offsets() == single.load_offsets() == {"events:0": len(EVENTS) - 1}
    assert tagged.event_times() == single.event_times()
    assert tagged.agent_states() == single.agent_states()
    assert set(tagged.agent_states()) == {"a1"}
    wanted = {"contact": {"c1", "c2", "nobody"}, "agent": {"a1"}}
    assert tagged.load_states(wanted) == single.load_states(wanted)
    first = str(EVENTS[0]["id"])
    assert tagged.seen({first: T0, "never": T0}) == {first}
    assert single.seen({first: T0, "never": T0}) == {first}
    assert tagged.holds_generation()


def test_every_key_of_a_tagged_flush_is_in_one_slot(
    redis_cluster_clean: RedisCluster, redis_url: str, prefix: str
) -> None:
    client = redis_cluster_clean
    single = RedisStore.from_url(redis_url, prefix=prefix)
    single.flush(first_update(), NOW)
    on_cluster(client, prefix, "p3").flush(first_update(), NOW)
    keys = sorted(client.scan_iter(match=f"{prefix}:*", target_nodes=RedisCluster.PRIMARIES))
    assert {client.keyslot(key) for key in keys} == {client.keyslot("{p3}")}
    assert {client.get_node_from_key(key).name for key in keys} == {
        client.get_node_from_key("{p3}").name
    }
    # the same keys as on a single server, the tag after the prefix
    plain = sorted(single.client.scan_iter(match=f"{prefix}:*"))
    assert [key.replace(f"{prefix}:{{p3}}:", f"{prefix}:", 1) for key in keys] == plain
    assert len(keys) > 20


def test_a_stale_flush_is_fenced_on_the_cluster_and_changes_nothing(
    redis_cluster_clean: RedisCluster, prefix: str
) -> None:
    store = on_cluster(redis_cluster_clean, prefix, "p1")
    store.flush(update_of(EVENTS, QUEUES), NOW)
    before = store.read(requests(), READ_AT)
    with pytest.raises(FencedError):
        store.flush(update_of(EVENTS[:2], QUEUES), NOW)
    assert store.read(requests(), READ_AT) == before


def _tags_on_two_primaries(client: RedisCluster) -> tuple[str, str]:
    """Two partition tags whose slots two different primaries serve."""
    first = "p0"
    home = client.get_node_from_key("{p0}").name
    other = next(
        f"p{i}" for i in range(1, 64) if client.get_node_from_key(f"{{p{i}}}").name != home
    )
    return first, other


def test_per_partition_stores_spread_over_primaries_and_sum_to_the_whole(
    redis_cluster_clean: RedisCluster, redis_url: str, prefix: str
) -> None:
    """Contacts keyed to two partitions, each partition's flush under its own tag: the pane
    counters of the two sum to those of one store that saw every event."""
    client = redis_cluster_clean
    tag_a, tag_b = _tags_on_two_primaries(client)
    part_a = [e for e in CONTACTS if e["data"]["contact_id"] in ("c1", "c3")]
    part_b = [e for e in CONTACTS if e["data"]["contact_id"] not in ("c1", "c3")]
    store_a = on_cluster(client, prefix, tag_a)
    store_b = on_cluster(client, prefix, tag_b)
    store_a.flush(update_of(part_a, QUEUES, "events:0"), NOW)
    store_b.flush(update_of(part_b, QUEUES, "events:1"), NOW)
    whole = RedisStore.from_url(redis_url, prefix=prefix)
    whole.flush(update_of(CONTACTS, QUEUES), NOW)

    nodes = {client.get_node_from_key(f"{{{tag}}}").name for tag in (tag_a, tag_b)}
    assert len(nodes) == 2
    a, b = store_a.read(requests(), READ_AT), store_b.read(requests(), READ_AT)
    for got_a, got_b, want in zip(a, b, whole.read(requests(), READ_AT), strict=True):
        for i, interval in enumerate(want.intervals):
            fields = set(interval) | set(got_a.intervals[i]) | set(got_b.intervals[i])
            summed = {
                f: got_a.intervals[i].get(f, 0) + got_b.intervals[i].get(f, 0)
                for f in fields
                if f not in MAX_FIELDS  # maxima merge by max, not by sum
            }
            assert summed == {f: v for f, v in interval.items() if f in summed}
        assert got_a.live.waiting + got_b.live.waiting == want.live.waiting
    assert whole.read(requests(), READ_AT)[0].intervals[0]["queued"] == 2
    assert a[0].intervals[0]["queued"] == 1 and b[0].intervals[0]["queued"] == 1


def test_a_store_refuses_a_tag_with_braces() -> None:
    client = cast(redis.Redis, redis.Redis())  # never connects: refused before any call
    with pytest.raises(ValueError, match="key_tag"):
        RedisStore(client, key_tag="p{1}")
    assert RedisStore(client, key_tag="p1").prefix == "ccmon:{p1}"
    assert RedisStore(client).prefix == "ccmon"
