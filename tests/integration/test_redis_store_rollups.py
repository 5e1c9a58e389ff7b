"""Hourly and daily rollups on a real Redis and in the twin: the same buckets, written in
the one flush, kept the rollup retention while panes keep theirs; the interval API on
them (a year of days, the same week last year, a month of 30-minute intervals, refusals
past each retention, the clock moved ahead)."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry

from metrics.config.queues import QueueConfig, QueuesConfig
from metrics.core.panes import DAY_MS, HOUR_MS, day_start
from metrics.core.reads import BucketRequest
from metrics.core.update import Update
from metrics.store.memory import InMemoryStore
from metrics.store.redis import RedisStore
from metrics.web.api import make_app
from streams.testing.events import agent, contact
from streams.testing.measure import update_of

pytestmark = pytest.mark.integration

S, MIN, WEEK = 1000, 60_000, 7 * DAY_MS
NOW = int(time.time() * 1000)  # flushes pass the wall clock, as the worker does
TODAY = day_start(NOW)
THIS_WEEK = TODAY - 3 * DAY_MS + 9 * HOUR_MS  # 09:00 UTC three days ago
LAST_YEAR = THIS_WEEK - 52 * WEEK  # the same weekday and hour, 52 weeks back
QUEUES = QueuesConfig(queues=(QueueConfig(name="sales", sl_threshold_s=20),))
RETENTION, ROLLUPS = 8 * DAY_MS, 396 * DAY_MS
SERIES = ("sales", "voice")


def this_week() -> Update:
    """09:00: one answered in 10 s, one abandoned after 40 s; agent a1 on it."""
    return update_of(
        [
            agent(THIS_WEEK, "a1", "available", ["sales"], ["voice"]),
            agent(THIS_WEEK + 10 * S, "a1", "on_contact", ["sales"], ["voice"]),
            contact("contact.queued", THIS_WEEK, "w1"),
            contact("contact.answered", THIS_WEEK + 10 * S, "w1"),
            contact("contact.queued", THIS_WEEK + MIN, "w2"),
            contact("contact.abandoned", THIS_WEEK + MIN + 40 * S, "w2"),
        ],
        QUEUES,
        "events:0",
    )


def last_year() -> Update:
    """The same hour 52 weeks back: one answered in 30 s."""
    return update_of(
        [
            contact("contact.queued", LAST_YEAR, "y1"),
            contact("contact.answered", LAST_YEAR + 30 * S, "y1"),
        ],
        QUEUES,
        "events:1",
    )


@pytest.fixture
def store(redis_url: str) -> RedisStore:
    store = RedisStore.from_url(redis_url, prefix=f"test-{uuid.uuid4().hex[:8]}")
    # the wall clock of this flush, not NOW (taken when the suite was collected, possibly
    # minutes ago): the floor expiry below is a minute past it
    wall = int(time.time() * 1000)
    store.flush(this_week(), wall)
    store.flush(last_year(), wall)
    return store


def twin() -> InMemoryStore:
    memory = InMemoryStore()
    memory.flush(this_week(), NOW)
    memory.flush(last_year(), NOW)
    return memory


def rollups() -> list[BucketRequest]:
    return [
        BucketRequest(SERIES, "p1d", (day_start(THIS_WEEK), day_start(LAST_YEAR))),
        BucketRequest(SERIES, "p60", (THIS_WEEK, LAST_YEAR)),
    ]


def test_rollups_read_the_same_from_redis_and_the_twin(store: RedisStore) -> None:
    found = store.read_buckets(rollups(), NOW)
    assert found == twin().read_buckets(rollups(), NOW)
    days, hours = found
    assert [(d["queued"], d["answered"], d.get("abandoned", 0)) for d in days] == [
        (2, 1, 1),
        (1, 1, 0),
    ]
    assert [h["wait_answered_sum_ms"] for h in hours] == [10_000, 30_000]
    assert days == hours  # one hour of traffic each day


def test_buckets_summed_in_groups_agree_sums_add_and_maxima_take_the_largest(
    redis_url: str,
) -> None:
    update = Update()
    for minute, queued, longest in ((5, 2, 40_000), (20, 3, 90_000), (50, 1, 10_000)):
        key = (*SERIES, THIS_WEEK + minute * MIN)
        update.add(key, "queued", queued)
        update.add_max(key, "wait_answered_max_ms", longest)
    update.mark_offset("events:0", 0)
    redis_store = RedisStore.from_url(redis_url, prefix=f"test-{uuid.uuid4().hex[:8]}")
    memory = InMemoryStore()
    for one in (redis_store, memory):
        one.flush(update, NOW)
    quarters = tuple(THIS_WEEK + i * 15 * MIN for i in range(4))
    halves = [BucketRequest(SERIES, "p15", quarters, per=2)]
    found = redis_store.read_buckets(halves, NOW)
    assert found == memory.read_buckets(halves, NOW)
    assert found == [
        [
            {"queued": 5, "wait_answered_max_ms": 90_000},
            {"queued": 1, "wait_answered_max_ms": 10_000},
        ]
    ]
    whole = [BucketRequest(SERIES, "p15", quarters, per=4)]
    assert redis_store.read_buckets(whole, NOW) == [[{"queued": 6, "wait_answered_max_ms": 90_000}]]


def test_15_minute_intervals_keep_the_pane_retention(store: RedisStore) -> None:
    fifteen = [BucketRequest(SERIES, "p15", (THIS_WEEK, LAST_YEAR))]
    assert store.read_buckets(fifteen, NOW)[0][0]["queued"] == 2
    # a year back, past the pane retention: the twin has none, Redis only for the minute
    # every written key is given (the flush's floor), then it is gone
    assert twin().read_buckets(fifteen, NOW) == [[twin().read_buckets(fifteen, NOW)[0][0], {}]]


def test_each_level_expires_after_its_own_retention(store: RedisStore, redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    key = f"{store.prefix}:{{}}:sales|voice:{{}}".format
    hour, day = THIS_WEEK, day_start(THIS_WEEK)
    assert client.pexpiretime(key("p1", hour)) == hour + MIN + RETENTION
    assert client.pexpiretime(key("p15", hour)) == hour + 15 * MIN + RETENTION
    assert client.pexpiretime(key("p60", hour)) == hour + HOUR_MS + ROLLUPS
    assert client.pexpiretime(key("p1d", day)) == day + DAY_MS + ROLLUPS
    assert (
        client.pexpiretime(key("p1d", day_start(LAST_YEAR))) == day_start(LAST_YEAR) + 397 * DAY_MS
    )
    assert 0 < client.pttl(key("p15", LAST_YEAR)) <= MIN  # the flush's floor only
    # teams and agents keep panes only: their hours expire with the panes, no days
    agent_hours = client.keys(f"{store.prefix}:e60:*:{hour}")
    assert agent_hours and all(
        client.pexpiretime(k) == hour + HOUR_MS + RETENTION for k in agent_hours
    )
    assert client.keys(f"{store.prefix}:e1d:*") == []


def test_the_twin_forgets_rollups_after_the_rollup_retention() -> None:
    memory = twin()
    memory.flush(Update(), day_start(LAST_YEAR) + DAY_MS + ROLLUPS - 1)  # the clock moves on
    days = [BucketRequest(SERIES, "p1d", (day_start(LAST_YEAR), day_start(THIS_WEEK)))]
    kept = memory.read_buckets(days, memory.now_ms)[0]
    assert kept[0]["queued"] == 1 and kept[1]["queued"] == 2
    memory.flush(Update(), day_start(LAST_YEAR) + DAY_MS + ROLLUPS)
    assert memory.read_buckets(days, memory.now_ms)[0][0] == {}


# -- the interval API on the real store -------------------------------------------------


@pytest.fixture
def clock() -> list[int]:
    """The API's 'now' (tests move it ahead)."""
    return [NOW]


@pytest.fixture
async def client(store: RedisStore, clock: list[int]) -> AsyncIterator[TestClient[Any, Any]]:
    app = make_app(store, QUEUES, CollectorRegistry(), clock_ms=lambda: clock[0])
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


def iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000))


async def rows(client: TestClient[Any, Any], size: str, start: int, end: int) -> Any:
    url = "/api/v1/queues/sales/intervals"
    response = await client.get(url, params={"size": size, "from": iso(start), "to": iso(end)})
    body = await response.json()
    return response.status, body["channels"]["voice"] if response.status == 200 else body


async def test_this_week_against_the_same_week_last_year(client: TestClient[Any, Any]) -> None:
    week = TODAY - 6 * DAY_MS
    status, now_rows = await rows(client, "1d", week, TODAY + DAY_MS)
    assert status == 200 and len(now_rows) == 7
    status, then_rows = await rows(client, "1d", week - 52 * WEEK, TODAY + DAY_MS - 52 * WEEK)
    assert status == 200 and len(then_rows) == 7
    pairs = [(a["queued"], b["queued"]) for a, b in zip(now_rows, then_rows, strict=True)]
    assert pairs == [(0, 0)] * 3 + [(2, 1)] + [(0, 0)] * 3
    day_now, day_then = now_rows[3], then_rows[3]
    assert day_now["start"] == iso(day_start(THIS_WEEK)) and day_now["end"] == iso(
        day_start(THIS_WEEK) + DAY_MS
    )
    assert (day_now["service_level"], day_now["asa_seconds"]) == (0.5, 10.0)
    assert (day_then["service_level"], day_then["asa_seconds"]) == (0.0, 30.0)


async def test_a_year_of_days_and_a_day_of_hours(client: TestClient[Any, Any]) -> None:
    status, year = await rows(client, "1440", TODAY - 370 * DAY_MS, TODAY + DAY_MS)
    assert status == 200 and len(year) == 371
    assert sum(r["queued"] for r in year) == 3 and sum(r["answered"] for r in year) == 2
    status, hours = await rows(client, "1h", day_start(LAST_YEAR), day_start(LAST_YEAR) + DAY_MS)
    assert status == 200 and len(hours) == 24
    assert [(r["start"], r["answered"]) for r in hours if r["queued"]] == [(iso(LAST_YEAR), 1)]


async def test_30_minute_intervals_inside_and_beyond_the_pane_retention(
    client: TestClient[Any, Any], clock: list[int]
) -> None:
    status, month = await rows(client, "30", TODAY - 7 * DAY_MS, TODAY + DAY_MS)
    assert status == 200 and len(month) == 8 * 48
    assert [(r["start"], r["queued"]) for r in month if r["queued"]] == [(iso(THIS_WEEK), 2)]
    status, body = await rows(client, "30", LAST_YEAR, LAST_YEAR + HOUR_MS)
    assert status == 400
    assert body["error"].startswith(
        "15- and 30-minute intervals are kept 8 days (CCMON_RETENTION_S)"
    )
    clock[0] = NOW + 30 * DAY_MS  # the clock moves ahead: this week's half hours are too old
    status, body = await rows(client, "30", THIS_WEEK, THIS_WEEK + HOUR_MS)
    assert status == 400 and "size=60 or size=1440" in body["error"]
    status, hours = await rows(client, "60", THIS_WEEK, THIS_WEEK + HOUR_MS)
    assert status == 200 and [r["queued"] for r in hours] == [2]


async def test_past_the_rollup_retention_and_too_long_a_period(
    client: TestClient[Any, Any], clock: list[int]
) -> None:
    status, body = await rows(client, "1d", TODAY - 400 * DAY_MS, TODAY - 399 * DAY_MS)
    assert status == 400
    assert body["error"] == (
        "hourly and daily rollups are kept 396 days (CCMON_ROLLUP_RETENTION_S): from is older"
    )
    status, body = await rows(client, "1d", TODAY - 390 * DAY_MS, TODAY + 11 * DAY_MS)
    assert status == 400 and body["error"] == "at most 400 days per request of size 1440"
    clock[0] = day_start(THIS_WEEK) + DAY_MS + ROLLUPS  # 13 months on: this week is gone too
    status, body = await rows(client, "1d", day_start(THIS_WEEK), day_start(THIS_WEEK) + DAY_MS)
    assert status == 400 and "396 days" in body["error"]
