"""The test servers are real: Kafka consumer groups with manual commits, Redis MULTI/EXEC and Lua.

These run against whatever tests/servers picked (env endpoints, testcontainers, or local Tansu
and valkey-server). They use the ``kafka_server``/``redis_server`` fixtures, which no
sub-directory conftest overrides. Known Tansu deviations are pinned with strict xfails, so a
Tansu release that fixes one turns the test red and the note can be dropped.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from redis.asyncio import Redis

from tests.servers import DEFAULT_TOPIC_CONFIGS, create_topic
from tests.servers.kafka_server import KafkaServer
from tests.servers.plugin import TopicFactory

pytestmark = pytest.mark.integration

PARTITIONS = 4
TIMEOUT_S = 30.0
CONSUMER_KW: dict[str, Any] = {
    "enable_auto_commit": False,
    "auto_offset_reset": "earliest",
    "heartbeat_interval_ms": 300,
}


def session_timeout_ms(server: KafkaServer) -> int:
    """Shortest session timeout each broker allows, to keep group (re)joins quick.

    Tansu completes a JoinGroup only after half the session timeout and does not act on
    LeaveGroup, so a member joining just after another left waits ~1.8x the session timeout.
    Apache Kafka refuses less than group.min.session.timeout.ms (6 s by default).
    """
    return 2000 if server.is_tansu else 6000


Record = tuple[int, int, bytes, bytes]  # partition, offset, key, value


async def produce(bootstrap: str, topic: str, items: Iterable[tuple[bytes, bytes]]) -> list[Record]:
    """Send keyed messages (batched, not one by one) and return what the broker acknowledged."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        pairs = list(items)
        futures = [await producer.send(topic, key=k, value=v) for k, v in pairs]
        acks = await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return [(a.partition, a.offset, k, v) for a, (k, v) in zip(acks, pairs, strict=True)]


@asynccontextmanager
async def consumer(server: KafkaServer, *topics: str, **kw: Any) -> AsyncIterator[Any]:
    """A started AIOKafkaConsumer that is always stopped (leaving its group) afterwards."""
    settings = {**CONSUMER_KW, "session_timeout_ms": session_timeout_ms(server), **kw}
    c = AIOKafkaConsumer(*topics, bootstrap_servers=server.bootstrap, **settings)
    await c.start()
    try:
        yield c
    finally:
        await c.stop()


async def consume(c: Any, count: int, timeout_s: float = TIMEOUT_S) -> list[Record]:
    """Fetch until exactly ``count`` records arrived (more is an error); bounded in time."""
    got: list[Record] = []
    async with asyncio.timeout(timeout_s):
        while len(got) < count:
            batches = await c.getmany(timeout_ms=200)
            for records in batches.values():
                got.extend((r.partition, r.offset, r.key, r.value) for r in records)
    assert len(got) == count, f"expected {count} records, got {len(got)}"
    return got


def keyed(count: int) -> list[tuple[bytes, bytes]]:
    """``count`` (key, value) pairs with distinct keys, so they spread over all partitions."""
    return [(f"k{i}".encode(), f"v{i}".encode()) for i in range(count)]


def last_offsets(records: Iterable[Record]) -> dict[int, int]:
    """Highest acknowledged offset per partition."""
    last: dict[int, int] = {}
    for partition, offset, _, _ in records:
        last[partition] = max(last.get(partition, -1), offset)
    return last


async def test_create_topic_helper(kafka_server: KafkaServer, topic_factory: TopicFactory) -> None:
    topic = await topic_factory(PARTITIONS, prefix="create")
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_server.bootstrap)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
        assert described["error_code"] == 0
        assert len(described["partitions"]) == PARTITIONS
        assert all(p["leader"] >= 0 for p in described["partitions"])
        (response,) = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic)]
        )
        entries = {e[0]: e[1] for e in response.resources[0][4]}
        for name, value in DEFAULT_TOPIC_CONFIGS.items():
            assert entries.get(name) == value, (name, entries)
    finally:
        await admin.close()
    with pytest.raises(RuntimeError, match="TopicAlreadyExists"):
        await create_topic(kafka_server.bootstrap, topic, PARTITIONS)
    assert await create_topic(kafka_server.bootstrap, topic, PARTITIONS, exist_ok=True) == topic


async def test_consumer_group_manual_commit_and_resume(
    kafka_server: KafkaServer, topic_factory: TopicFactory, unique_topic: Any
) -> None:
    bootstrap = kafka_server.bootstrap
    topic = await topic_factory(PARTITIONS, prefix="roundtrip")
    group = unique_topic("group")
    sent = await produce(
        bootstrap, topic, ((f"agent-{i % 50}".encode(), f"{i}".encode()) for i in range(1000))
    )
    partitions_of_key: dict[bytes, set[int]] = defaultdict(set)
    for partition, _, key, _ in sent:
        partitions_of_key[key].add(partition)
    assert all(len(p) == 1 for p in partitions_of_key.values()), "a key spread over partitions"
    per_partition = Counter(p for p, _, _, _ in sent)
    assert len(per_partition) > 1, "50 keys all hashed to one partition"
    tps = {p: TopicPartition(topic, p) for p in range(PARTITIONS)}

    # 1. Read all 1000 back in the group; commit only the first half of each partition.
    async with consumer(kafka_server, topic, group_id=group) as first:
        got = await consume(first, 1000)
        assert sorted(got) == sorted(sent)
        by_partition: dict[int, list[int]] = defaultdict(list)
        for partition, offset, _, _ in got:
            by_partition[partition].append(offset)
        assert all(offs == sorted(offs) for offs in by_partition.values()), "out of order"
        halves = {p: n // 2 for p, n in per_partition.items()}
        await first.commit({tps[p]: half for p, half in halves.items()})
        for p, half in halves.items():
            assert await first.committed(tps[p]) == half

    # 2. A new member of the same group resumes exactly at the committed offsets.
    rest = sorted(r for r in sent if r[1] >= halves[r[0]])
    async with consumer(kafka_server, topic, group_id=group) as second:
        assert sorted(await consume(second, len(rest))) == rest
        await second.commit()  # current positions = end of each partition
        for p, last in last_offsets(sent).items():
            assert await second.committed(tps[p]) == last + 1

    # 3. After a full commit only new messages arrive.
    more = await produce(bootstrap, topic, ((b"agent-new", f"new-{i}".encode()) for i in range(20)))
    async with consumer(kafka_server, topic, group_id=group) as third:
        assert sorted(await consume(third, 20)) == sorted(more)


async def test_two_consumers_share_partitions_and_rebalance(
    kafka_server: KafkaServer, topic_factory: TopicFactory, unique_topic: Any
) -> None:
    bootstrap = kafka_server.bootstrap
    topic = await topic_factory(PARTITIONS, prefix="rebalance")
    group = unique_topic("group")
    async with (
        consumer(kafka_server, topic, group_id=group) as a,
        consumer(kafka_server, topic, group_id=group) as b,
    ):
        async with asyncio.timeout(TIMEOUT_S):
            while True:
                await asyncio.gather(a.getmany(timeout_ms=100), b.getmany(timeout_ms=100))
                mine, theirs = a.assignment(), b.assignment()
                if mine and theirs and not mine & theirs and len(mine | theirs) == PARTITIONS:
                    break
        sent = await produce(bootstrap, topic, keyed(200))
        got_a: list[Record] = []
        got_b: list[Record] = []
        async with asyncio.timeout(TIMEOUT_S):
            while len(got_a) + len(got_b) < len(sent):
                for c, sink in ((a, got_a), (b, got_b)):
                    for records in (await c.getmany(timeout_ms=100)).values():
                        sink.extend((r.partition, r.offset, r.key, r.value) for r in records)
        assert sorted(got_a + got_b) == sorted(sent)
        assert {r[0] for r in got_a} <= {tp.partition for tp in a.assignment()}
        assert {r[0] for r in got_b} <= {tp.partition for tp in b.assignment()}
        await b.stop()  # leaves the group; a must take over every partition
        started = time.monotonic()
        async with asyncio.timeout(TIMEOUT_S):
            while len(a.assignment()) != PARTITIONS:
                await a.getmany(timeout_ms=100)
        took = time.monotonic() - started
        assert took < TIMEOUT_S, took


async def test_fetch_high_watermark_matches_acks(
    kafka_server: KafkaServer, topic_factory: TopicFactory
) -> None:
    topic = await topic_factory(PARTITIONS, prefix="highwater")
    sent = await produce(kafka_server.bootstrap, topic, keyed(300))
    tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
    async with consumer(kafka_server) as c:
        c.assign(tps)
        await c.seek_to_beginning(*tps)
        await consume(c, len(sent))
        expected = {TopicPartition(topic, p): last + 1 for p, last in last_offsets(sent).items()}
        assert {tp: c.highwater(tp) for tp in expected} == expected


def xfail_on_tansu(request: pytest.FixtureRequest, server: KafkaServer, reason: str) -> None:
    """Pin a known Tansu deviation: strict, so a fixed Tansu makes the test fail loudly."""
    if server.is_tansu:
        request.applymarker(pytest.mark.xfail(strict=True, reason=f"Tansu quirk: {reason}"))


async def test_end_offsets_match_acks(
    kafka_server: KafkaServer, topic_factory: TopicFactory, request: pytest.FixtureRequest
) -> None:
    xfail_on_tansu(
        request,
        kafka_server,
        "ListOffsets(LATEST) answers base offset of the last record batch + 1, not the high "
        "watermark; take lag from consumer.highwater() or from produce acks",
    )
    topic = await topic_factory(PARTITIONS, prefix="endoffsets")
    sent = await produce(kafka_server.bootstrap, topic, keyed(300))
    expected = {TopicPartition(topic, p): last + 1 for p, last in last_offsets(sent).items()}
    async with consumer(kafka_server) as c:
        assert await c.end_offsets(list(expected)) == expected


async def test_latest_reset_skips_existing_records(
    kafka_server: KafkaServer,
    topic_factory: TopicFactory,
    unique_topic: Any,
    request: pytest.FixtureRequest,
) -> None:
    xfail_on_tansu(
        request,
        kafka_server,
        "auto_offset_reset='latest' uses ListOffsets(LATEST), so a new group re-reads most of "
        "the last record batch of each partition",
    )
    topic = await topic_factory(PARTITIONS, prefix="latest")
    await produce(kafka_server.bootstrap, topic, keyed(300))
    async with consumer(
        kafka_server, topic, group_id=unique_topic("group"), auto_offset_reset="latest"
    ) as c:
        async with asyncio.timeout(TIMEOUT_S):
            while len(c.assignment()) != PARTITIONS:
                await c.getmany(timeout_ms=100)
        for tp in c.assignment():  # resolve the "latest" reset before producing more
            await c.position(tp)
        late = [(b"late", f"{i}".encode()) for i in range(5)]
        fresh = await produce(kafka_server.bootstrap, topic, late)
        assert sorted(await consume(c, len(fresh))) == sorted(fresh)


async def test_admin_lists_group_offsets(
    kafka_server: KafkaServer, topic_factory: TopicFactory, unique_topic: Any
) -> None:
    topic = await topic_factory(PARTITIONS, prefix="groupoffsets")
    group = unique_topic("group")
    sent = await produce(kafka_server.bootstrap, topic, keyed(40))
    async with consumer(kafka_server, topic, group_id=group) as c:
        await consume(c, len(sent))
        await c.commit()
    expected = {TopicPartition(topic, p): last + 1 for p, last in last_offsets(sent).items()}
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_server.bootstrap)
    await admin.start()
    try:
        listed = await admin.list_consumer_group_offsets(group, partitions=list(expected))
        assert {tp: meta.offset for tp, meta in listed.items()} == expected
    finally:
        await admin.close()


async def test_admin_lists_all_group_offsets_without_partitions(
    kafka_server: KafkaServer,
    topic_factory: TopicFactory,
    unique_topic: Any,
    request: pytest.FixtureRequest,
) -> None:
    xfail_on_tansu(
        request,
        kafka_server,
        "OffsetFetch with topics=null (all partitions) gets a reply aiokafka cannot decode and "
        "the connection is dropped; pass partitions= explicitly",
    )
    topic = await topic_factory(1, prefix="allgroupoffsets")
    group = unique_topic("group")
    await produce(kafka_server.bootstrap, topic, keyed(3))
    async with consumer(kafka_server, topic, group_id=group) as c:
        await consume(c, 3)
        await c.commit()
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_server.bootstrap)
    await admin.start()
    try:
        listed = await admin.list_consumer_group_offsets(group)
        assert {tp: meta.offset for tp, meta in listed.items()} == {TopicPartition(topic, 0): 3}
    finally:
        await admin.close()


async def test_idempotent_producer(
    kafka_server: KafkaServer, topic_factory: TopicFactory, request: pytest.FixtureRequest
) -> None:
    xfail_on_tansu(
        request,
        kafka_server,
        "InitProducerId fails (UnknownError), so enable_idempotence=True producers (Faust "
        "processing_guarantee=exactly_once) cannot start",
    )
    topic = await topic_factory(1, prefix="idempotent")
    producer = AIOKafkaProducer(bootstrap_servers=kafka_server.bootstrap, enable_idempotence=True)
    try:
        async with asyncio.timeout(TIMEOUT_S):
            await producer.start()
            ack = await producer.send_and_wait(topic, b"once", key=b"k")
    finally:
        await producer.stop()
    assert ack.offset == 0


async def test_redis_multi_exec(redis_clean: Redis) -> None:
    async with redis_clean.pipeline(transaction=True) as pipe:
        pipe.set("calls:waiting", 3)
        pipe.incrby("calls:waiting", 2)
        pipe.hset("queue:billing", mapping={"agents": 4, "sla": "0.8"})
        pipe.hincrby("queue:billing", "agents", -1)
        pipe.zadd("longest", {"call-1": 30.0, "call-2": 95.5})
        pipe.zrevrange("longest", 0, 0, withscores=True)
        pipe.expire("calls:waiting", 60)
        results = await pipe.execute()
    assert results == [True, 5, 2, 3, 2, [(b"call-2", 95.5)], True]
    assert await redis_clean.hgetall("queue:billing") == {b"agents": b"3", b"sla": b"0.8"}
    assert 0 < await redis_clean.ttl("calls:waiting") <= 60


LUA_APPLY = """
local doc = cjson.decode(ARGV[1])
local total = 0
for _, seconds in ipairs(doc.handle_times) do total = total + seconds end
redis.call('HSET', KEYS[1], 'queue', doc.queue, 'handled', #doc.handle_times)
local n = redis.call('HINCRBY', KEYS[1], 'total_handle', total)
return {doc.queue, n, cjson.encode({ok = doc.ok})}
"""


async def test_redis_eval_lua_with_cjson(redis_clean: Redis) -> None:
    payload = json.dumps({"queue": "billing", "handle_times": [30, 45, 60], "ok": True})
    result = await redis_clean.eval(LUA_APPLY, 1, "agg:billing", payload)
    assert result == [b"billing", 135, b'{"ok":true}']
    script = redis_clean.register_script(LUA_APPLY)  # EVALSHA, loading the script on NOSCRIPT
    assert await script(keys=["agg:billing"], args=[payload]) == [b"billing", 270, b'{"ok":true}']
    assert await redis_clean.hgetall("agg:billing") == {
        b"queue": b"billing",
        b"handled": b"3",
        b"total_handle": b"270",
    }
