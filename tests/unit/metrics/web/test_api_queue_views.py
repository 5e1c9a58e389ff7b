"""The one-queue read keeps window views only for a store that hands out the same lists:
over the in-memory store (it copies every read) the answers stay fresh and nothing is kept."""

from __future__ import annotations

import asyncio

import orjson
from aiohttp.test_utils import make_mocked_request
from prometheus_client import CollectorRegistry

from metrics.config.queues import QueuesConfig
from metrics.store.memory import InMemoryStore
from metrics.web.api import ReadApi
from streams.testing.events import T0, contact
from streams.testing.measure import update_of

MIN = 60_000
NOW = T0 + 30 * MIN
QUEUES = QueuesConfig()
NAMES = [f"q{i}" for i in range(3)]


def _events(count: int, tag: str) -> list[dict[str, object]]:
    return [
        contact("contact.queued", NOW - (5 + i) * MIN, f"{q}-{tag}-{i}", queue=q)
        for q in NAMES
        for i in range(count)
    ]


async def _queued_15m(api: ReadApi, name: str) -> int:
    request = make_mocked_request("GET", f"/api/v1/queues/{name}", match_info={"queue": name})
    response = await api.queue(request)
    body = response.body
    assert isinstance(body, bytes)
    found: int = orjson.loads(body)["channels"]["voice"]["windows"]["15m"]["queued"]
    return found


def test_a_copying_store_gets_fresh_answers_and_keeps_no_views() -> None:
    store = InMemoryStore()
    store.flush(update_of(_events(2, "a"), QUEUES), NOW)
    api = ReadApi(store, QUEUES, CollectorRegistry(), lambda: NOW)

    async def reads() -> list[int]:
        return [await _queued_15m(api, name) for name in NAMES * 30]

    assert set(asyncio.run(reads())) == {2}
    store.flush(update_of(_events(3, "b"), QUEUES, "events:1"), NOW)
    assert set(asyncio.run(reads())) == {5}  # 2 + 3: never a kept, stale view
    assert api._windows == {}  # 180 reads, no hit: past len(series) + 64 misses, none kept
