"""The batch consumer on a real broker and Redis: bad input, duplicates, replays."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import orjson
import pytest
from prometheus_client import CollectorRegistry

from metrics.config.queues import QueueConfig, QueuesConfig
from metrics.store.memory import InMemoryStore
from metrics.store.redis import RedisStore
from streams.consume import Pipeline
from streams.health import WorkerMetrics
from streams.kafka import run_consumer
from streams.outbox import InMemoryOutbox
from streams.settings import Settings
from streams.testing.events import contact, raw, yesterday_ms
from tests.integration.pipeline_helpers import (
    create_topics,
    dump,
    keyed,
    produce,
    read_dead_letters,
    settings_for,
    wait_until_applied,
)
from tests.traffic import messy_stream

pytestmark = pytest.mark.integration

T0 = yesterday_ms() + 9 * 3_600_000
QUEUES = QueuesConfig(queues=(QueueConfig(name="sales"), QueueConfig(name="support")))


def store_for(settings: Settings, queues: QueuesConfig = QUEUES) -> RedisStore:
    return settings.redis_store(queues)


@asynccontextmanager
async def worker(
    settings: Settings, queues: QueuesConfig = QUEUES
) -> AsyncIterator[CollectorRegistry]:
    """Run the batch consumer in this process until the block ends."""
    registry = CollectorRegistry()
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_consumer(
            settings, queues, store_for(settings, queues), WorkerMetrics.create(registry), stop
        )
    )
    try:
        yield registry
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)


async def lag_samples(registry: CollectorRegistry, partitions: int) -> dict[str, float]:
    """Consumer lag per partition once the worker has reported it (every few seconds)."""
    for _ in range(150):
        samples = {
            s.labels["partition"]: s.value
            for metric in registry.collect()
            if metric.name == "ccmon_consumer_lag_messages"
            for s in metric.samples
        }
        if len(samples) == partitions and not any(samples.values()):
            return samples
        await asyncio.sleep(0.1)
    return samples


async def expected_of(
    values: list[tuple[bytes | None, bytes]], queues: QueuesConfig = QUEUES
) -> InMemoryStore:
    """The aggregates of one clean pass through the in-memory twin, over `queues`."""
    store = InMemoryStore()

    async def commit(_: dict[str, int]) -> None:
        return None

    pipeline = Pipeline(
        Settings(),
        queues,
        store,
        InMemoryOutbox(),
        WorkerMetrics.create(CollectorRegistry()),
        commit,
    )

    class Rec:
        def __init__(self, offset: int, key: bytes | None, value: bytes) -> None:
            self.topic, self.partition, self.offset, self.key, self.value = (
                "t",
                0,
                offset,
                key,
                value,
            )

    await pipeline.process([Rec(i, k, v) for i, (k, v) in enumerate(values)])
    await pipeline.flush_all()
    return store


@pytest.fixture
def make_settings(kafka_bootstrap: str, redis_url: str) -> Callable[..., Settings]:
    return lambda **kw: settings_for(kafka_bootstrap, redis_url, **kw)


async def test_bad_input_goes_to_the_dead_letter_topic_and_valid_events_are_kept(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(max_event_bytes=4096)
    await create_topics(settings)
    bad = [
        (b"k1", b"{not json"),
        (b"k2", raw(contact("contact.exploded", T0, "c9"))),
        (
            b"k3",
            orjson.dumps({"id": "x", "type": "contact.queued", "time": "2026-01-01T00:00:00Z"}),
        ),
        (b"k4", raw(contact("contact.queued", T0, "c9", note="x" * 5000))),
    ]
    good = keyed(
        [
            contact("contact.queued", T0, "c1"),
            contact("contact.answered", T0 + 15_000, "c1"),
            contact("contact.queued", T0 + 1_000, "c2", queue="support", channel="chat"),
        ]
    )
    wanted = await produce(settings, good[:1] + bad + good[1:])
    store = store_for(settings)
    async with worker(settings) as registry:
        await wait_until_applied(store, wanted)
    letters = await read_dead_letters(settings, len(bad))
    by_value = {r.value: dict(r.headers) for r in letters}
    assert set(by_value) == {value for _, value in bad}
    reasons = {by_value[value][b"ccmon.reason".decode()] for _, value in bad}
    assert reasons == {b"malformed_json", b"unknown_type", b"missing_field", b"too_large"}
    for headers in by_value.values():
        assert headers["ccmon.source.topic"] == settings.events_topic.encode()
        assert int(headers["ccmon.source.offset"]) >= 0
    for reason in ("malformed_json", "unknown_type", "missing_field", "too_large"):
        assert registry.get_sample_value("ccmon_events_rejected_total", {"reason": reason}) == 1
    got = dump(store, T0 - 60_000, T0 + 3_600_000)
    assert got[("sales", "voice")]["totals"]["answered_within_t"] == 1
    assert got[("support", "chat")]["waiting"] == 1


async def test_every_event_delivered_twice_gives_the_clean_aggregates(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings()
    await create_topics(settings)
    values = keyed(messy_stream(T0, contacts=400, seed=3))
    wanted = await produce(settings, [v for v in values for _ in (0, 1)])
    store = store_for(settings)
    async with worker(settings) as registry:
        await wait_until_applied(store, wanted)
        lags = await lag_samples(registry, len(wanted))
    assert lags == dict.fromkeys(wanted, 0.0)  # consumed to the end of every partition
    assert registry.get_sample_value("ccmon_event_time_lag_seconds") > 0
    expected = await expected_of(values)
    assert dump(store, T0, T0 + 4 * 3_600_000) == dump(expected, T0, T0 + 4 * 3_600_000)
    assert registry.get_sample_value("ccmon_events_duplicate_total") >= len(values) * 0.9


async def test_replaying_the_whole_topic_changes_nothing(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings()
    await create_topics(settings)
    values = keyed(messy_stream(T0, contacts=300, seed=4))
    wanted = await produce(settings, values)
    store = store_for(settings)
    async with worker(settings):
        await wait_until_applied(store, wanted)
    first = dump(store, T0, T0 + 4 * 3_600_000)
    # A new consumer group starts from offset 0: the store's offset fence skips it all.
    replay = settings.model_copy(update={"group_id": f"replay-{uuid.uuid4().hex[:6]}"})
    async with worker(replay) as registry:
        await wait_until_applied(store, wanted)
        await asyncio.sleep(0.5)
    assert dump(store, T0, T0 + 4 * 3_600_000) == first
    assert first == dump(await expected_of(values), T0, T0 + 4 * 3_600_000)
    assert registry.get_sample_value("ccmon_events_applied_total") == 0
