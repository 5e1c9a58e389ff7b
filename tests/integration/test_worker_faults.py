"""The worker under load and bad input on a real broker and Redis: it pauses, never stops.

Each test runs the batch consumer with a small outbox (so fetching pauses while dead
letters and forwarded records are produced), then compares the aggregates with one clean
pass through the in-memory twin and counts the dead-letter topic.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import time
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client import CollectorRegistry

from metrics.clock import wall_ms
from metrics.config.queues import QueuesConfig
from metrics.store.memory import InMemoryStore
from metrics.store.redis import RedisStore
from streams.consume import Pipeline
from streams.health import WorkerMetrics
from streams.outbox import InMemoryOutbox
from streams.settings import Settings
from streams.testing.events import contact, outcome, raw, yesterday_ms
from tests.integration.pipeline_helpers import (
    PARTITIONS,
    create_topics,
    dump,
    keyed,
    read_records,
    settings_for,
)
from tests.integration.test_worker import QUEUES, worker
from tests.servers import create_topics as create_topics_on
from tests.traffic import messy_stream

pytestmark = pytest.mark.integration

DAY = 86_400_000
T0 = yesterday_ms() + 8 * 3_600_000
SALT = "a-salt-of-sixteen+"
#: A small outbox, so every test here goes through paused fetching.
SMALL_OUTBOX = {"outbox_max_records": 500, "max_batch": 2000}

Values = list[tuple[bytes | None, bytes]]


class _Rec:
    def __init__(self, offset: int, key: bytes | None, value: bytes) -> None:
        self.topic, self.partition, self.offset, self.key, self.value = "t", 0, offset, key, value


async def clean_pass(
    settings: Settings, values: Values, queues: QueuesConfig = QUEUES
) -> tuple[InMemoryStore, InMemoryOutbox]:
    """One pass through the in-memory twin with the worker's settings; records it forwards
    (customer contacts) are consumed after, as they come back through the events topic."""
    store, outbox = InMemoryStore(), InMemoryOutbox()

    async def commit(_: dict[str, int]) -> None:
        return None

    metrics = WorkerMetrics.create(CollectorRegistry())
    pipeline = Pipeline(settings, queues, store, outbox, metrics, commit)
    await pipeline.process([_Rec(i, k, v) for i, (k, v) in enumerate(values)])
    await pipeline.flush_all()
    back = [_Rec(len(values) + i, k, v) for i, (k, v) in enumerate(outbox.forwarded)]
    await pipeline.process(back)
    await pipeline.flush_all()
    return store, outbox


async def produce_all(settings: Settings, values: Values, max_request: int = 1 << 20) -> int:
    """Send every (key, value) as fast as the producer takes them; return how many."""
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.brokers,
        linger_ms=5,
        max_batch_size=256 << 10,
        max_request_size=max_request,
    )
    await producer.start()
    try:
        futures = [await producer.send(settings.events_topic, value=v, key=k) for k, v in values]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return len(values)


async def wait_until_count(store: RedisStore, records: int, timeout_s: float = 120) -> None:
    """Until the store has applied `records` records in all (offsets + 1, summed)."""
    deadline = time.monotonic() + timeout_s
    got = 0
    while time.monotonic() < deadline:
        got = sum(o + 1 for o in (await asyncio.to_thread(store.load_offsets)).values())
        if got >= records:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{got} of {records} records applied within {timeout_s} s")


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


@pytest.fixture
def make_settings(kafka_bootstrap: str, redis_url: str) -> Callable[..., Settings]:
    return lambda **kw: settings_for(kafka_bootstrap, redis_url, **{**SMALL_OUTBOX, **kw})


async def run_to_the_end(
    settings: Settings, values: Values, expected_records: int
) -> tuple[RedisStore, CollectorRegistry, list[Any]]:
    """Produce `values`, run the worker until `expected_records` are applied (the values
    plus what it forwards), and read the dead-letter topic."""
    await create_topics(settings)
    await produce_all(settings, values)
    store = settings.redis_store(QUEUES)
    async with worker(settings) as registry:
        await wait_until_count(store, expected_records)
    rejected = sum(
        s.value
        for m in registry.collect()
        if m.name == "ccmon_events_rejected"
        for s in m.samples
        if s.name == "ccmon_events_rejected_total"
    )
    letters = await read_records(
        settings.brokers, settings.deadletter_topic, int(rejected), grace_ms=1000
    )
    return store, registry, letters


def malformed(count: int, seed: int) -> Values:
    rng = random.Random(seed)
    return [
        (f"bad-{i}".encode(), b'{"id": "x%d", "type' % rng.randrange(10**9)) for i in range(count)
    ]


async def test_a_burst_of_malformed_records_before_a_valid_day_pauses_and_reaches_the_end(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings()
    bad = malformed(20_000, seed=5)
    good = keyed(messy_stream(T0, contacts=2000, seed=21))
    values = bad + good
    store, registry, letters = await run_to_the_end(settings, values, len(values))
    expected, clean = await clean_pass(settings, values)
    span = (T0, T0 + DAY)
    assert dump(store, *span) == dump(expected, *span)
    assert len(letters) == len(clean.letters) == 20_000
    assert {r.value for r in letters} == {v for _, v in bad}
    assert sample(registry, "ccmon_events_rejected_total", reason="malformed_json") == 20_000
    assert sample(registry, "ccmon_fetch_pauses_total") >= 1
    assert sample(registry, "ccmon_outbox_undeliverable_total", kind="deadletter") == 0


def fuzzed_mix(count: int, seed: int, now_ms: int) -> Values:
    """Valid events mixed with every kind of bad record, in a seeded random order."""
    rng = random.Random(seed)
    good = keyed(messy_stream(T0, contacts=count // 4, seed=seed))
    out: Values = []
    for i, (key, value) in enumerate(good):
        out.append((key, value))
        roll = rng.random()
        if roll < 0.15:
            out.append((None, value[: rng.randrange(1, len(value))]))  # cut short
        elif roll < 0.25:
            out.append((b"x", bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))))
        elif roll < 0.3:
            event = orjson.loads(value)
            event["type"] = "contact.exploded"
            out.append((key, orjson.dumps(event)))
        elif roll < 0.33:
            out.append((key, raw(contact("contact.queued", T0, f"big{i}", note="x" * 70_000))))
        elif roll < 0.36:
            future = now_ms + rng.choice([3600_000, 20 * DAY])
            out.append((key, raw(contact("contact.queued", future, f"f{i}"))))
        elif roll < 0.38:
            out.append((key, b""))
    return out


async def test_a_fuzzed_mix_applies_every_valid_event_once_and_dead_letters_the_rest_once(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings()
    values = fuzzed_mix(8000, seed=33, now_ms=wall_ms())
    store, registry, letters = await run_to_the_end(settings, values, len(values))
    expected, clean = await clean_pass(settings, values)
    span = (T0, T0 + DAY)
    assert dump(store, *span) == dump(expected, *span)
    assert len(clean.letters) > 1000
    assert len(letters) == len(clean.letters)
    got = sorted((dict(r.headers)["ccmon.reason"].decode(), r.value) for r in letters)
    assert got == sorted((d.reason, d.value) for d in clean.letters)
    assert sample(registry, "ccmon_events_rejected_total", reason="too_early") > 0


def backlog(days: int, contacts: int) -> Values:
    """`days` of messy traffic ending yesterday, each handled contact with an outcome
    naming one of a few hundred customers (so repeat contacts happen)."""
    rng = random.Random(days)
    out: Values = []
    start = yesterday_ms() - (days - 1) * DAY + 8 * 3_600_000
    for day in range(days):
        events = messy_stream(start + day * DAY, contacts=contacts, seed=100 + day)
        for event in list(events):
            if event["type"] == "contact.answered" and rng.random() < 0.6:
                data = event["data"]
                out_time = rng.randrange(60_000, 600_000)
                events.append(
                    outcome(
                        _ms(event["time"]) + out_time,
                        data["contact_id"],
                        rng.random() < 0.7,
                        data["queue"],
                        data["channel"],
                        customer_id=f"cust-{rng.randrange(300)}",
                    )
                )
        out += keyed(events)
    return out


def _ms(iso_time: str) -> int:
    return int(dt.datetime.fromisoformat(iso_time).timestamp() * 1000)


async def test_a_multi_day_backlog_with_the_salt_set_catches_up_exactly(
    make_settings: Callable[..., Settings],
) -> None:
    days = 4
    settings = make_settings(customer_id_salt=SALT)
    values = backlog(days, contacts=1500)
    expected, clean = await clean_pass(settings, values)
    forwarded = len(clean.forwarded)
    assert forwarded > 1000
    store, registry, letters = await run_to_the_end(settings, values, len(values) + forwarded)
    span = (yesterday_ms() - (days - 1) * DAY, yesterday_ms() + DAY)
    assert dump(store, *span) == dump(expected, *span)
    assert sample(registry, "ccmon_customer_contacts_total", outcome="forwarded") == forwarded
    assert letters == [] and clean.letters == []


async def test_future_dated_and_huge_records_before_a_day_leave_the_day_exact(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings()
    future = raw(contact("contact.queued", wall_ms() + 2 * DAY, "from-the-future"))
    huge = [bytes([65 + n % 26]) * size for n, size in enumerate((1_500_000, 10_000_000))]
    good = keyed(messy_stream(T0, contacts=1500, seed=8))
    # All on one key, so they share a partition with the day that follows.
    values: Values = [(b"k", future), (b"k", huge[0]), (b"k", huge[1]), *good]
    # Apache Kafka takes 1 MB records unless the topic says more (Tansu takes any size).
    big = {"max.message.bytes": str(16 << 20)}
    await create_topics_on(settings.brokers, {settings.events_topic: PARTITIONS}, configs=big)
    await create_topics_on(settings.brokers, {settings.deadletter_topic: PARTITIONS})
    await produce_all(settings, values, max_request=16 << 20)
    store = settings.redis_store(QUEUES)
    async with worker(settings) as registry:
        await wait_until_count(store, len(values))
    letters = await read_records(settings.brokers, settings.deadletter_topic, 3, grace_ms=1000)
    expected, _ = await clean_pass(settings, values)
    span = (T0, T0 + DAY)
    assert dump(store, *span) == dump(expected, *span)
    by_reason = sorted(letters, key=lambda r: (dict(r.headers)["ccmon.reason"], r.offset))
    reasons = [dict(r.headers)["ccmon.reason"] for r in by_reason]
    assert reasons == [b"too_early", b"too_large", b"too_large"]
    early = by_reason[0]
    assert early.value == future
    assert "ccmon.truncated.kept" not in dict(early.headers)
    large = sorted(by_reason[1:], key=lambda r: int(dict(r.headers)["ccmon.source.offset"]))
    for original, letter in zip(huge, large, strict=True):
        headers = dict(letter.headers)
        assert headers["ccmon.source.size"] == str(len(original)).encode()
        assert headers["ccmon.truncated.kept"] == b"65536"
        assert headers["ccmon.source.topic"] == settings.events_topic.encode()
        assert letter.value == original[:65536]
    assert sample(registry, "ccmon_events_rejected_total", reason="too_early") == 1
    assert sample(registry, "ccmon_events_rejected_total", reason="too_large") == 2
    assert sample(registry, "ccmon_events_late_total", reason="too_late") == 0


async def test_a_dead_letter_that_cannot_be_produced_is_counted_and_skipped(
    make_settings: Callable[..., Settings],
) -> None:
    # A prefix larger than the request limit: even the shortened dead letter cannot go.
    settings = make_settings(producer_max_request_bytes=32_768, deadletter_prefix_bytes=40_000)
    good = keyed(messy_stream(T0, contacts=500, seed=9))
    values: Values = [(b"k", b"[" * 100_000), *good, (b"k", b"not json")]
    await create_topics(settings)
    await produce_all(settings, values)
    store = settings.redis_store(QUEUES)
    async with worker(settings) as registry:
        await wait_until_count(store, len(values))
    letters = await read_records(settings.brokers, settings.deadletter_topic, 1, grace_ms=1000)
    expected, _ = await clean_pass(settings, values)
    span = (T0, T0 + DAY)
    assert dump(store, *span) == dump(expected, *span)
    assert [r.value for r in letters] == [b"not json"]
    assert sample(registry, "ccmon_outbox_undeliverable_total", kind="deadletter") == 1
    assert sample(registry, "ccmon_events_rejected_total", reason="too_large") == 1
