"""Mirrored reads on a real server: the same answers as direct reads, fresh after each write."""

from __future__ import annotations

import time
import uuid

import pytest
import redis
from redis.asyncio import Redis

from metrics.core.panes import rolling_panes
from metrics.core.reads import SeriesRequest
from metrics.core.views import snapshot_request, ticket_set_queries
from metrics.store.mirror import SET
from metrics.store.redis import RedisStore
from streams.testing.events import agent, contact, ticket
from streams.testing.measure import update_of
from tests.week import NOW, QUEUES, SCRIPT

pytestmark = pytest.mark.integration

M, S = 60_000, 1000
WALL = int(time.time() * 1000)  # flushes pass the wall clock, as the worker does
VOICE = [
    contact("contact.queued", NOW - 9 * M, "v1", queue="sales"),
    contact("contact.answered", NOW - 9 * M + 12 * S, "v1", queue="sales"),
    contact("contact.queued", NOW - 30 * S, "v2", queue="sales"),
    agent(NOW - 20 * M, "a1", "available", ["sales"]),
]


def stores(url: str) -> tuple[RedisStore, RedisStore]:
    """A writer (as the worker) and a mirrored reader (as the exporter) on one prefix."""
    prefix = f"mirror-{uuid.uuid4().hex[:8]}"
    reader = RedisStore.from_url(url, prefix=prefix)
    reader.mirror_reads()
    return RedisStore.from_url(url, prefix=prefix), reader


def same_reads(writer: RedisStore, reader: RedisStore, at: int) -> None:
    series = writer.series()
    assert reader.series() == series
    requests = [snapshot_request(s, at, QUEUES.get(s[0])) for s in series]
    assert reader.read(requests, at) == writer.read(requests, at)
    assert reader.agent_states() == writer.agent_states()


def test_mirrored_reads_answer_as_direct_reads(redis_url: str) -> None:
    writer, reader = stores(redis_url)
    writer.flush(update_of(SCRIPT + VOICE, QUEUES), WALL)
    for at in (NOW, NOW + 5 * S, NOW + 2 * M, NOW + 26 * 60 * M):  # bounds, panes, TTL move
        same_reads(writer, reader, at)
    (sales,) = reader.read([snapshot_request(("sales", "voice"), NOW, QUEUES.get("sales"))], NOW)
    assert (sales.live.waiting, sales.live.oldest_enqueued_ms) == (1, NOW - 30 * S)
    assert sum(p.get("answered", 0) for p in sales.panes) == 1


def test_every_flush_is_in_the_next_read(redis_url: str) -> None:
    writer, reader = stores(redis_url)
    writer.flush(update_of(VOICE, QUEUES, "events:0"), WALL)
    same_reads(writer, reader, NOW)
    later = [
        [contact("contact.abandoned", NOW - 10 * S, "v2", queue="sales")],
        [ticket("ticket.created", NOW - 2 * M, "t9", queue="support", priority="high")],
        [contact("contact.queued", NOW - 5 * S, "v3", queue="sales", channel="chat")],
        [agent(NOW - 4 * M, "a1", "not_ready", ["sales"])],
    ]
    for partition, events in enumerate(later, start=1):
        writer.flush(update_of(events, QUEUES, f"events:{partition}"), WALL)
        same_reads(writer, reader, NOW)
    request = snapshot_request(("sales", "voice"), NOW, QUEUES.get("sales"))
    (sales,) = reader.read([request], NOW)
    assert sum(p.get("abandoned", 0) for p in sales.panes) == 1
    assert ("sales", "chat") in reader.series()
    a1 = reader.agent_states()["a1"]
    assert (a1.state, a1.since_ms) == ("not_ready", NOW - 4 * M)


def test_a_key_changed_by_hand_is_read_again(redis_url: str) -> None:
    writer, reader = stores(redis_url)
    writer.flush(update_of(VOICE, QUEUES), WALL)
    same_reads(writer, reader, NOW)
    writer.client.delete(writer._series_key("tot", ("sales", "voice")))
    writer.client.zrem(writer._set_key("wait", ("sales", "voice")), "v2")
    same_reads(writer, reader, NOW)
    (sales,) = reader.read([snapshot_request(("sales", "voice"), NOW, QUEUES.get("sales"))], NOW)
    assert (sales.totals, sales.live.waiting) == ({}, 0)


async def test_a_flushed_database_reads_empty(redis_url: str, redis_clean: Redis) -> None:
    writer, reader = stores(redis_url)
    writer.flush(update_of(VOICE, QUEUES), WALL)
    same_reads(writer, reader, NOW)
    await redis_clean.flushdb()
    assert reader.series() == []
    request = snapshot_request(("sales", "voice"), NOW, QUEUES.get("sales"))
    (sales,) = reader.read([request], NOW)
    assert (sales.totals, sales.live.waiting, sales.panes[-1]) == ({}, 0, {})


def test_a_lost_tracking_connection_starts_afresh(redis_url: str) -> None:
    writer, reader = stores(redis_url)
    writer.flush(update_of(VOICE, QUEUES, "events:0"), WALL)
    same_reads(writer, reader, NOW)
    admin = redis.Redis.from_url(redis_url, decode_responses=True)
    tracking = [c for c in admin.client_list() if "t" in c["flags"]]
    assert tracking  # the mirror's connection
    for client in tracking:
        admin.client_kill_filter(_id=client["id"])
    writer.flush(update_of(VOICE[2:3] + VOICE[:1], QUEUES, "events:1"), WALL)
    writer.flush(
        update_of([contact("contact.abandoned", NOW - 9 * S, "v2", queue="sales")], QUEUES, "e:2"),
        WALL,
    )
    same_reads(writer, reader, NOW)
    same_reads(writer, reader, NOW)  # and tracking again from then on
    writer.flush(update_of(VOICE[1:2], QUEUES, "events:3"), WALL)
    same_reads(writer, reader, NOW)


def test_reads_of_other_panes_and_forgotten_keys_stay_exact(redis_url: str) -> None:
    writer, reader = stores(redis_url)
    assert reader._mirror is not None
    reader._mirror._SWEEP_S = 0.0  # forget unused keys at every read
    writer.flush(update_of(VOICE, QUEUES, "events:0"), WALL)
    series = writer.series()
    recent = [
        SeriesRequest(s, tuple(rolling_panes(NOW, 15)), sets=ticket_set_queries(NOW))
        for s in series
    ]
    for round_ in range(1, 8):  # scrape-like and API-like reads in turn, writes between
        same_reads(writer, reader, NOW + round_ * S)
        assert reader.read(recent, NOW) == writer.read(recent, NOW)
        event = contact("contact.queued", NOW - round_ * S, f"w{round_}", queue="sales")
        writer.flush(update_of([event], QUEUES, f"events:{round_}"), WALL)
    assert reader.read(recent, NOW) == writer.read(recent, NOW)
    (sales,) = reader.read(recent[-1:], NOW)
    assert sales.live.waiting == 8  # v2 and w1..w7


def test_without_client_tracking_every_read_is_a_fresh_one(redis_url: str) -> None:
    admin = redis.Redis.from_url(redis_url, decode_responses=True)
    user = f"no-tracking-{uuid.uuid4().hex[:6]}"
    admin.acl_setuser(
        user, enabled=True, passwords=["+pw"], keys=["*"], commands=["+@all", "-client"]
    )
    try:
        writer, _ = stores(redis_url)
        host = redis_url.split("//", 1)[1]
        reader = RedisStore.from_url(f"redis://{user}:pw@{host}", prefix=writer.prefix)
        reader.mirror_reads()
        writer.flush(update_of(VOICE, QUEUES, "events:0"), WALL)
        same_reads(writer, reader, NOW)
        assert reader._tracking is not None and reader._tracking._client is None
        later = contact("contact.queued", NOW - 3 * S, "v5", queue="sales")
        writer.flush(update_of([later], QUEUES, "events:1"), WALL)
        same_reads(writer, reader, NOW)
        request = snapshot_request(("sales", "voice"), NOW, QUEUES.get("sales"))
        assert reader.read([request], NOW)[0].live.waiting == 2
    finally:
        admin.acl_deluser(user)


def pings(client: redis.Redis) -> int:
    stats = client.info("commandstats").get("cmdstat_ping", {})
    return int(stats.get("calls", 0))


def test_reads_that_waited_behind_another_ones_ping_share_it_and_stay_fresh(
    redis_url: str,
) -> None:
    """A read that began before another read's PING was sent needs no PING of its own
    (every write finished before it began was announced before that PING's reply); one
    that began after a write sends its own and sees the write."""
    writer, reader = stores(redis_url)
    writer.flush(update_of(VOICE, QUEUES, "events:0"), WALL)
    assert reader.series() == [("sales", "voice")]  # tracking on
    mirror = reader._mirror
    assert mirror is not None
    key = reader._key("series", "all")
    waited = time.monotonic()  # this read began, then waited for the lock
    before = pings(writer.client)
    assert reader.series() == [("sales", "voice")]  # another read: its own PING
    with mirror.lock:
        shared = mirror.refresh({SET: [key]}, waited)[key]
    assert pings(writer.client) - before == 1
    assert shared == {"sales|voice"}
    writer.flush(update_of(later_chat(), QUEUES, "events:1"), WALL)
    began = time.monotonic()
    with mirror.lock:
        fresh = mirror.refresh({SET: [key]}, began)[key]
    assert pings(writer.client) - before == 2
    assert fresh == {"sales|voice", "sales|chat"}


def later_chat() -> list[dict[str, object]]:
    return [contact("contact.queued", NOW - 5 * S, "v9", queue="sales", channel="chat")]


def test_the_reads_of_one_reading_block_check_the_servers_changes_once(redis_url: str) -> None:
    writer, reader = stores(redis_url)
    writer.flush(update_of(VOICE, QUEUES, "events:0"), WALL)
    request = snapshot_request(("sales", "voice"), NOW, QUEUES.get("sales"))
    reader.series()  # tracking on
    before = pings(writer.client)
    with reader.reading():
        assert reader.series() == [("sales", "voice")]
        (sales,) = reader.read([request], NOW)
        assert set(reader.agent_states()) == {"a1"}
    assert pings(writer.client) - before == 1
    assert sales.live.waiting == 1
    writer.flush(update_of(later_chat(), QUEUES, "events:1"), WALL)
    with reader.reading():  # a new block: the write before it is in
        assert ("sales", "chat") in reader.series()
    assert pings(writer.client) - before == 2
