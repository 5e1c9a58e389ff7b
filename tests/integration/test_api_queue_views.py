"""GET /api/v1/queues/{queue} on a mirrored Redis store keeps each series' window views
while its panes are unchanged: the answers stay the bytes a plain store gives, fresh after
every flush and as open agent states count up to now."""

from __future__ import annotations

import time
import uuid
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry

import metrics.web.api as api_module
from metrics.config.queues import QueuesConfig
from metrics.core.views import windows_of
from metrics.store.redis import RedisStore
from metrics.web.api import make_app
from streams.testing.events import agent, contact, iso, yesterday_ms
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
PATHS = ("/api/v1/queues/sales", "/api/v1/queues/support")


def _first_day(queue: str = "sales") -> list[dict[str, Any]]:
    return [
        contact("contact.queued", NOW - 6 * M, f"{queue}-c1", queue=queue),
        contact("contact.answered", NOW - 6 * M + 10_000, f"{queue}-c1", queue=queue),
        contact("contact.queued", NOW - 4 * M, f"{queue}-c2", queue=queue, channel="chat"),
        contact("contact.queued", NOW - 3 * M, f"{queue}-c3", queue=queue),
    ]


class _Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> int:
        return self.now


async def test_kept_views_are_the_plain_stores_bytes_and_follow_flushes(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = f"views-{uuid.uuid4().hex[:8]}"
    writer = RedisStore.from_url(redis_url, prefix=prefix)
    events = _first_day() + _first_day("support")
    events.append(agent(NOW - 5 * M, "a1", "available", ["sales"]))
    writer.flush(update_of(events, QUEUES), wall())
    derived: list[int] = []

    def counted(data: Any) -> dict[str, dict[str, int]]:
        derived.append(1)
        return windows_of(data)

    monkeypatch.setattr(api_module, "windows_of", counted)
    mirrored = RedisStore.from_url(redis_url, prefix=prefix)
    mirrored.mirror_reads()
    plain = RedisStore.from_url(redis_url, prefix=prefix)
    clock = _Clock()
    fast = make_app(mirrored, QUEUES, CollectorRegistry(), clock)
    slow = make_app(plain, QUEUES, CollectorRegistry(), clock)
    async with TestClient(TestServer(fast)) as client, TestClient(TestServer(slow)) as base:

        async def read(path: str) -> dict[str, Any]:
            got, want = await client.get(path), await base.get(path)
            assert (got.status, want.status) == (200, 200)
            body = await got.read()
            assert body == await want.read()
            found: dict[str, Any] = orjson.loads(body)
            return found

        for path in PATHS:
            await read(path)
        derived.clear()
        first = {path: await read(path) for path in PATHS}  # kept: nothing derived again
        assert len(derived) == 4  # the plain store's reads only (2 queues x 2 channels)
        voice = first[PATHS[0]]["channels"]["voice"]["windows"]["15m"]
        assert (voice["queued"], voice["answered"]) == (2, 1)
        assert first[PATHS[0]]["all_channels"]["15m"]["queued"] == 3

        more = [contact("contact.queued", NOW - 1 * M, "sales-c4", queue="sales")]
        writer.flush(update_of(more, QUEUES, "events:1"), wall())
        derived.clear()
        after = {path: await read(path) for path in PATHS}
        voice = after[PATHS[0]]["channels"]["voice"]["windows"]["15m"]
        assert voice["queued"] == 3  # the flush is in the next read
        assert after[PATHS[0]]["all_channels"]["15m"]["queued"] == 4
        assert after[PATHS[1]] == first[PATHS[1]]  # the other queue: kept, unchanged
        assert len(derived) == 4 + 1  # the plain store's, and sales voice's on the mirror

        clock.now = NOW + M  # the open agent state counts up to the new now
        later = await read(PATHS[0])
        assert later["generated_at"] == iso(NOW + M).replace(".000Z", "Z")
        # a1's open available span is in sales' windows (occupancy 0), none in support's
        assert later["channels"]["voice"]["windows"]["15m"]["occupancy"] == 0.0
        assert after[PATHS[1]]["channels"]["voice"]["windows"]["15m"]["occupancy"] is None
