"""The exporter's one-queue read on a real Redis: its own mirror, the same answers, fresh."""

from __future__ import annotations

import asyncio
import time
import uuid

import orjson
import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry

from metrics.config.queues import QueuesConfig
from metrics.store.redis import RedisStore
from metrics.web.api import make_app
from streams.exporter import exporter_app
from streams.settings import Settings
from streams.testing.events import contact, yesterday_ms
from streams.testing.measure import update_of

pytestmark = pytest.mark.integration

M = 60_000
#: yesterday 10:00 UTC: the panes' expiry (their end + the retention) is in the future
NOW = yesterday_ms() + 600 * M


def wall() -> int:
    """The wall clock a flush passes, as the worker does (read at each flush: a flush dated
    minutes ago would expire what it writes)."""
    return int(time.time() * 1000)


QUEUES = QueuesConfig()
PATH = "/api/v1/queues/sales"


def _settings(redis_url: str) -> Settings:
    prefix = f"roles-{uuid.uuid4().hex[:8]}"
    return Settings(redis_url=redis_url, redis_prefix=prefix, publish_snapshots=False)


async def test_the_one_queue_read_neither_waits_for_the_other_mirror_nor_changes(
    redis_url: str,
) -> None:
    settings = _settings(redis_url)
    writer = settings.redis_store()
    writer.flush(update_of([contact("contact.queued", NOW - 5 * M, "c1")], QUEUES), wall())
    store = settings.redis_store()
    app = exporter_app(store, QUEUES, settings, clock_ms=lambda: NOW, role="api")
    # The wiring before the split: one mirrored store for every read.
    shared = settings.redis_store()
    shared.mirror_reads()
    before = make_app(shared, QUEUES, CollectorRegistry(), lambda: NOW)
    async with TestClient(TestServer(app)) as client, TestClient(TestServer(before)) as old:

        async def both() -> tuple[bytes, bytes]:
            new = await client.get(PATH)
            was = await old.get(PATH)
            assert (new.status, was.status) == (200, 200)
            return await new.read(), await was.read()

        body, expected = await both()
        assert body == expected
        assert orjson.loads(body)["channels"]["voice"]["contacts_waiting"] == 1
        assert (await client.get("/api/v1/queues")).status == 200  # fills the other mirror
        mirror = store._mirror  # the mirror of the all-queues read and the agents API
        assert mirror is not None
        with mirror.lock:  # as while an all-queues read reads every key
            # A read through that mirror would wait here for ever: bounded, to fail instead.
            answer = await asyncio.wait_for(client.get(PATH), timeout=30)
            assert answer.status == 200
            assert await answer.read() == body
        events = [contact("contact.queued", NOW - 2 * M, "c2")]
        writer.flush(update_of(events, QUEUES, "events:1"), wall())  # seen by the next read
        body, expected = await both()
        assert body == expected
        assert orjson.loads(body)["channels"]["voice"]["contacts_waiting"] == 2


def test_only_a_redis_store_gets_a_second_mirror(redis_url: str) -> None:
    settings = _settings(redis_url)
    store = settings.redis_store()
    exporter_app(store, QUEUES, settings, clock_ms=lambda: NOW, role="metrics")
    assert isinstance(store, RedisStore)
    assert store._mirror is not None  # the scrape's reads are mirrored, in every role
