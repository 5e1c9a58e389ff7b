"""Shared steps of the real-server pipeline tests: topics, producing, waiting, reading back."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from metrics.core.panes import INTERVAL_MS, PANE_MS
from metrics.core.reads import SeriesData, SeriesRequest
from metrics.core.update import Series
from metrics.store.base import AggregateStore
from streams.settings import Settings
from streams.testing.events import key_of, raw
from tests.servers import create_topics as create_topics_on

PARTITIONS = 4


def settings_for(kafka_bootstrap: str, redis_url: str, **overrides: Any) -> Settings:
    """Settings with unique topics, group and Redis prefix, so tests never share state."""
    tag = uuid.uuid4().hex[:8]
    values: dict[str, Any] = {
        "brokers": kafka_bootstrap,
        "redis_url": redis_url,
        "events_topic": f"events-{tag}",
        "deadletter_topic": f"dead-{tag}",
        "group_id": f"group-{tag}",
        "redis_prefix": f"ccmon-{tag}",
        "worker_metrics_port": 0,
        "flush_interval_ms": 100,
        "topic_partitions": PARTITIONS,
    }
    values.update(overrides)
    return Settings(**values)


async def create_topics(settings: Settings) -> None:
    """The events and dead-letter topics, with leaders, before any client touches them."""
    await create_topics_on(
        settings.brokers,
        {settings.events_topic: PARTITIONS, settings.deadletter_topic: PARTITIONS},
    )


async def produce(
    settings: Settings, values: Iterable[tuple[bytes | None, bytes]]
) -> dict[str, int]:
    """Send (key, value) pairs in order; return the last offset per "topic:partition".

    The offsets come from the broker's acknowledgements rather than ListOffsets, whose
    answers some Kafka-protocol brokers (Tansu) round to record batches.
    """
    producer = AIOKafkaProducer(bootstrap_servers=settings.brokers, linger_ms=5)
    await producer.start()
    try:
        futures = [
            await producer.send(settings.events_topic, value=value, key=key)
            for key, value in values
        ]
        acks = await asyncio.gather(*futures)
    finally:
        await producer.stop()
    last: dict[str, int] = {}
    for ack in acks:
        tp = f"{ack.topic}:{ack.partition}"
        last[tp] = max(last.get(tp, -1), ack.offset)
    return last


def keyed(events: Iterable[dict[str, Any]]) -> list[tuple[bytes | None, bytes]]:
    return [(key_of(e), raw(e)) for e in events]


async def wait_until_applied(
    store: AggregateStore, wanted: dict[str, int], timeout_s: float = 120
) -> None:
    """Poll the store until it has applied up to `wanted` (from `produce`)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await asyncio.to_thread(store.load_offsets) == wanted:
            return
        await asyncio.sleep(0.2)
    got = await asyncio.to_thread(store.load_offsets)
    raise AssertionError(f"not all applied within {timeout_s} s: store {got}, topic {wanted}")


async def read_records(
    brokers: str, topic: str, count: int, timeout_s: float = 30, grace_ms: int = 0
) -> list[Any]:
    """Read `count` records of `topic` from the start; with `grace_ms`, also whatever else
    arrives within that time after them (a duplicate or a stray the test must see)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=brokers,
        auto_offset_reset="earliest",
        group_id=f"reader-{uuid.uuid4().hex[:6]}",
    )
    await consumer.start()
    out: list[Any] = []
    try:
        deadline = time.monotonic() + timeout_s
        while len(out) < count and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                out.extend(records)
        if grace_ms:
            for records in (await consumer.getmany(timeout_ms=grace_ms)).values():
                out.extend(records)
    finally:
        await consumer.stop()
    return out


async def read_dead_letters(settings: Settings, count: int, timeout_s: float = 30) -> list[Any]:
    """Read `count` records of the dead-letter topic from the start."""
    return await read_records(settings.brokers, settings.deadletter_topic, count, timeout_s)


def _nonzero(counters: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in counters.items() if v}


def dump(store: AggregateStore, start_ms: int, end_ms: int) -> dict[Series, dict[str, Any]]:
    """Everything the store holds for [start_ms, end_ms): panes, intervals, live, totals.

    Zero counters are dropped: a field written as 0 and a field never written mean the same.
    """
    panes = tuple(range(start_ms - start_ms % PANE_MS, end_ms, PANE_MS))
    intervals = tuple(range(start_ms - start_ms % INTERVAL_MS, end_ms, INTERVAL_MS))
    series = store.series()
    requests = [SeriesRequest(s, panes, intervals) for s in series]
    data: list[SeriesData] = store.read(requests, end_ms)
    return {
        s: {
            "panes": [_nonzero(p) for p in d.panes],
            "intervals": [_nonzero(i) for i in d.intervals],
            "waiting": d.live.waiting,
            "oldest": d.live.oldest_enqueued_ms,
            "agents": _nonzero(d.live.agents),
            "totals": _nonzero(d.totals),
        }
        for s, d in zip(series, data, strict=True)
    }
