"""The routing feed on a real broker and Redis: the compacted snapshot topic and the API.

Events of a scripted queue go through the worker into Redis; the exporter's routing feed
(the same wiring as `ccmon exporter`) publishes the queue's snapshot to the compacted
topic. A consumer reads it back and checks the values.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient, TestServer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from jsonschema import Draft202012Validator
from prometheus_client import CollectorRegistry

from metrics.config.queues import QueueConfig, QueuesConfig
from metrics.web.api import make_app
from streams.exporter import install_routing_feed
from streams.health import WorkerMetrics
from streams.kafka import run_consumer
from streams.settings import Settings
from streams.testing.events import contact, yesterday_ms
from streams.testing.routing_scenario import scenario
from tests.integration.pipeline_helpers import (
    create_topics,
    keyed,
    produce,
    read_records,
    settings_for,
    wait_until_applied,
)

pytestmark = pytest.mark.integration

QUEUES = QueuesConfig(queues=(QueueConfig(name="sales"),))
SCHEMA = orjson.loads(
    (Path(__file__).parents[2] / "streams/schema/routing-snapshot-v1.schema.json").read_bytes()
)


@asynccontextmanager
async def worker(settings: Settings) -> AsyncIterator[None]:
    stop = asyncio.Event()
    store = settings.redis_store()
    task = asyncio.create_task(
        run_consumer(settings, QUEUES, store, WorkerMetrics.create(CollectorRegistry()), stop)
    )
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)


async def read_snapshots(settings: Settings, count: int, timeout_s: float = 30) -> list[Any]:
    """`count` snapshots, plus any unwanted extra published within 1.5 s after them."""
    return await read_records(
        settings.brokers, settings.snapshots_topic, count, timeout_s, grace_ms=1500
    )


async def topic_configs(settings: Settings) -> dict[str, str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.brokers)
    await admin.start()
    try:
        (response,) = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, settings.snapshots_topic)]
        )
        return {e[0]: e[1] for e in response.resources[0][4]}
    finally:
        await admin.close()


async def test_snapshot_topic_carries_the_queue_state(kafka_bootstrap: str, redis_url: str) -> None:
    settings = settings_for(
        kafka_bootstrap,
        redis_url,
        snapshots_topic=f"snapshots-{uuid.uuid4().hex[:8]}",
        routing_refresh_ms=100,
        snapshot_interval_ms=1000,
    )
    await create_topics(settings)
    events, now = scenario(yesterday_ms() + 10 * 3_600_000)
    clock = [now]
    async with worker(settings):
        offsets = await produce(settings, keyed(events))
        await wait_until_applied(settings.redis_store(), offsets)
        store = settings.redis_store()
        registry = CollectorRegistry()
        app = make_app(store, QUEUES, registry, clock_ms=lambda: clock[0])
        install_routing_feed(app, registry, store, QUEUES, settings, clock_ms=lambda: clock[0])
        async with TestClient(TestServer(app)) as client:
            api_body = await (await client.get("/api/v1/routing/queues/sales")).json()
            await asyncio.sleep(0.5)  # several refreshes, nothing changed: nothing more sent
            # The head of the queue is answered one second later.
            clock[0] = now + 1000
            answered = contact("contact.answered", now + 1000, "wait-0")
            offsets |= await produce(settings, keyed([answered]))
            await wait_until_applied(store, offsets)
            records = await read_snapshots(settings, 2)
    assert (await topic_configs(settings)).get("cleanup.policy") == "compact"
    assert [r.key for r in records] == [b"sales", b"sales"]
    first, second = (orjson.loads(r.value) for r in records)
    for value in (first, second):
        Draft202012Validator(SCHEMA).validate(value)
    assert first == api_body  # the topic and the API carry the same document
    voice = first["channels"]["voice"]
    assert first["time"] == api_body["time"]
    assert {k: voice[k] for k in ("contacts_waiting", "agents_available", "agents_staffed")} == {
        "contacts_waiting": 3,
        "agents_available": 1,
        "agents_staffed": 3,
    }
    assert voice["oldest_wait_seconds"] == 60.0
    assert voice["ewt_seconds"] == 97.4
    assert voice["ewt_positions_seconds"] == [0.0, 41.1, 72.3]
    assert (voice["service_level_15m"], voice["abandonment_rate_15m"]) == (0.2222, 0.25)
    assert voice["staffing"]["15m"]["gap_agents"] == 1
    after = second["channels"]["voice"]
    # wait-0 answered after 61 s: two wait, the oldest since 30 s ago (at the new clock: 31 s).
    assert (after["contacts_waiting"], after["oldest_wait_seconds"]) == (2, 31.0)
    assert after["ewt_positions_seconds"] == [0.0, 41.1]
