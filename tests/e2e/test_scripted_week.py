"""A scripted week of tickets, surveys, self-service and customer contacts, end to end.

Kafka -> worker (re-keys customer contacts by their salted hash through the events topic)
-> Redis -> exporter (/metrics and the read API), against hand-computed figures. The
week ends yesterday (UTC, so Redis expiry times lie in the future); the exporter's clock
is pinned to 17:00 UTC of yesterday ("d6"). Figures are worked out in the comments.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio
import redis
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry

from metrics.core.reads import SeriesRequest
from metrics.exposition.queues import AggregateCollector
from metrics.store.redis import RedisStore
from metrics.web.api import make_app
from streams.testing.events import iso
from tests.e2e.test_scripted_day import label, scrape
from tests.integration.pipeline_helpers import create_topics, keyed, produce, settings_for
from tests.integration.test_worker import worker
from tests.promtool import assert_promtool_accepts
from tests.week import NOW, QUEUES, SALT, SCRIPT, M, d

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


def _all_fcr_contacts(store: RedisStore) -> int:
    series = store.series()
    data = store.read([SeriesRequest(s) for s in series], NOW)
    return sum(x.totals.get("fcr_contacts", 0) for x in data)


async def _until(check: Callable[[], bool], what: str, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await asyncio.to_thread(check):
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"not within {timeout_s} s: {what}")


#: the week's Redis key prefix, kept on the app the tests read
PREFIX = web.AppKey("redis_prefix", str)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def week(kafka_bootstrap: str, redis_url: str) -> AsyncIterator[TestClient[Any, Any]]:
    settings = settings_for(kafka_bootstrap, redis_url, customer_id_salt=SALT)
    await create_topics(settings)
    values = keyed(SCRIPT)
    # Newest first, to show order does not matter.
    wanted = await produce(settings, list(reversed(values)))
    store = RedisStore.from_url(redis_url, prefix=settings.redis_prefix)

    def applied() -> bool:
        got = store.load_offsets()
        return all(got.get(tp, -1) >= last for tp, last in wanted.items())

    async with worker(settings, QUEUES):
        await _until(applied, f"offsets {wanted} applied")
        # Six customer contacts come back through the topic, re-keyed by customer.
        await _until(lambda: _all_fcr_contacts(store) == 6, "6 customer contacts applied")
    registry = CollectorRegistry()
    registry.register(AggregateCollector(store, QUEUES, clock_ms=lambda: NOW))
    app = make_app(store, QUEUES, registry, clock_ms=lambda: NOW)
    app[PREFIX] = settings.redis_prefix
    async with TestClient(TestServer(app)) as client:
        yield client


EMAIL = {"queue": "support", "channel": "email"}
CHAT = {"queue": "support", "channel": "chat"}
VOICE = {"queue": "sales", "channel": "voice"}
TODAY = {"window": "today"}

EXPECTED: list[tuple[str, dict[str, str], float]] = [
    # live ticket state at NOW: T2 (normal, 0.5 h), T3 (urgent, 7 h), T5 (normal, 6 d 7 h)
    ("ccmon_tickets_backlog", EMAIL | {"priority": "normal"}, 2),
    ("ccmon_tickets_backlog", EMAIL | {"priority": "urgent"}, 1),
    ("ccmon_tickets_backlog", EMAIL | {"priority": "low"}, 0),
    ("ccmon_tickets_backlog_by_age", EMAIL | {"age": "0-1h"}, 1),
    ("ccmon_tickets_backlog_by_age", EMAIL | {"age": "4-24h"}, 1),
    ("ccmon_tickets_backlog_by_age", EMAIL | {"age": "3-7d"}, 1),
    ("ccmon_tickets_backlog_by_age", EMAIL | {"age": "1-3d"}, 0),
    ("ccmon_tickets_oldest_unresolved_age_seconds", EMAIL, 6 * 86400 + 7 * 3600),
    ("ccmon_tickets_sla_active_breaches", EMAIL, 1),  # T5's first reply
    ("ccmon_tickets_sla_next_breach_seconds", EMAIL, 16.5 * 3600),  # T2, d7 09:30
    ("ccmon_tickets_complaints_unresolved", EMAIL, 1),
    # today (d6 00:00 - 17:00)
    ("ccmon_tickets_window_created_tickets", EMAIL | TODAY, 3),  # T1 T2 T3
    ("ccmon_tickets_window_solved_tickets", EMAIL | TODAY, 3),  # T1, T4 twice
    ("ccmon_tickets_window_reopened_tickets", EMAIL | TODAY, 1),
    ("ccmon_tickets_window_escalated_tickets", EMAIL | TODAY, 1),
    ("ccmon_tickets_first_response_time_seconds", EMAIL | TODAY, (1800 + 18000) / 2),
    ("ccmon_tickets_response_time_seconds", EMAIL | TODAY, 3600),
    ("ccmon_tickets_resolution_time_seconds", EMAIL | TODAY, (10800 + 104400) / 2),
    ("ccmon_tickets_first_resolution_time_seconds", EMAIL | TODAY, (10800 + 86400) / 2),
    ("ccmon_tickets_resolution_rate_ratio", EMAIL | TODAY, 1.0),
    ("ccmon_tickets_reopen_rate_ratio", EMAIL | TODAY, 1 / 3),
    ("ccmon_tickets_interactions_per_ticket", EMAIL | TODAY, (1 + 3) / 2),
    ("ccmon_tickets_window_sla_met_tickets", EMAIL | TODAY, 3),  # T1 x2, T4 resolution
    ("ccmon_tickets_window_sla_breached_tickets", EMAIL | TODAY, 1),  # T3 first reply
    ("ccmon_tickets_sla_compliance_ratio", EMAIL | TODAY, 0.75),
    ("ccmon_tickets_window_complaints_created_tickets", EMAIL | TODAY, 1),
    ("ccmon_tickets_window_complaints_resolved_tickets", EMAIL | TODAY, 1),
    ("ccmon_tickets_window_complaints_escalated_tickets", EMAIL | TODAY, 1),
    # the whole week
    ("ccmon_tickets_created_total", EMAIL, 6),
    ("ccmon_tickets_solved_total", EMAIL, 4),
    ("ccmon_tickets_reopened_total", EMAIL, 1),
    ("ccmon_tickets_sla_met_total", EMAIL, 6),
    ("ccmon_tickets_sla_breached_total", EMAIL, 1),
    ("ccmon_tickets_first_response_seconds_count", EMAIL, 4),  # T1 T3 T4 TB
    ("ccmon_tickets_first_response_seconds_sum", EMAIL, 1800 + 18000 + 3600 + 3600),
    ("ccmon_tickets_first_response_seconds_bucket", EMAIL | {"le": "1800.0"}, 1),
    ("ccmon_tickets_first_response_seconds_bucket", EMAIL | {"le": "3600.0"}, 3),
    ("ccmon_tickets_first_response_seconds_bucket", EMAIL | {"le": "14400.0"}, 3),
    ("ccmon_tickets_first_response_seconds_bucket", EMAIL | {"le": "28800.0"}, 4),
    ("ccmon_tickets_resolution_seconds_count", EMAIL, 3),  # T1 T4 TB
    ("ccmon_tickets_resolution_seconds_sum", EMAIL, 10800 + 104400 + 7200),
    ("ccmon_tickets_resolution_seconds_bucket", EMAIL | {"le": "7200.0"}, 1),
    ("ccmon_tickets_resolution_seconds_bucket", EMAIL | {"le": "14400.0"}, 2),
    ("ccmon_tickets_resolution_seconds_bucket", EMAIL | {"le": "172800.0"}, 3),
    # surveys
    ("ccmon_cx_csat_ratio", EMAIL | TODAY, 0.7),
    ("ccmon_cx_nps_score", EMAIL | TODAY, 20),
    ("ccmon_cx_ces_score", EMAIL | TODAY, 4),
    ("ccmon_cx_window_survey_responses", EMAIL | TODAY | {"kind": "nps"}, 10),
    ("ccmon_cx_survey_responses_total", EMAIL | {"kind": "ces"}, 3),
    # self-service
    ("ccmon_cx_self_service_usage_ratio", CHAT | TODAY, 0.8),
    ("ccmon_cx_self_service_containment_ratio", CHAT | TODAY, 0.5),
    # FCR and repeats: today holds c3 and c5, both without a repeat (yet: provisional)
    ("ccmon_cx_fcr_ratio", VOICE | TODAY | {"status": "provisional"}, 1.0),
    ("ccmon_cx_repeat_contact_ratio", VOICE | TODAY, 0.0),
    ("ccmon_cx_contacts_per_customer", VOICE | TODAY, 1.0),
    # upsell and cost today: c3 accepted, c5 declined; 2 handled
    ("ccmon_cx_upsell_conversion_ratio", VOICE | TODAY, 0.5),
    ("ccmon_cx_upsell_offer_ratio", VOICE | TODAY, 1.0),
    ("ccmon_queue_cost_per_contact", VOICE | TODAY, 3.6),
]


@pytest.mark.parametrize(
    ("name", "labels", "value"), EXPECTED, ids=[f"{n}{lab}" for n, lab, _ in EXPECTED]
)
async def test_exported_values(
    week: TestClient[Any, Any], name: str, labels: dict[str, str], value: float
) -> None:
    _, samples = await scrape(week)
    assert samples[(name, label(**labels))] == pytest.approx(value, rel=1e-12)


async def test_voice_only_series_get_no_ticket_samples(week: TestClient[Any, Any]) -> None:
    _, samples = await scrape(week)
    assert not any(n.startswith("ccmon_tickets_") and k == label(**VOICE) for n, k in samples)
    # a ratio with an empty denominator is absent, never 0 or NaN
    assert ("ccmon_cx_csat_ratio", label(**VOICE, window="today")) not in samples


async def test_fcr_is_final_once_the_horizon_has_passed(week: TestClient[Any, Any]) -> None:
    def rows_from(start: int, minutes: int) -> Any:
        query = {"size": "15", "from": iso(start), "to": iso(start + minutes * M)}
        return week.get("/api/v1/queues/sales/intervals", params=query)

    early = (await (await rows_from(d(3, 10), 15)).json())["channels"]["voice"][0]
    assert early["cx"]["fcr_status"] == "final"
    assert (early["cx"]["fcr_contacts"], early["cx"]["fcr_resolved"]) == (1, 0)  # c1, repeated
    assert early["cx"]["upsell_conversion_ratio"] == 1.0
    later = (await (await rows_from(d(3, 15), 15)).json())["channels"]["voice"][0]
    assert (later["cx"]["fcr_ratio"], later["cx"]["repeat_contacts"]) == (1.0, 1)  # c2
    assert later["cx"]["fcr_status"] == "final"
    today = (await (await rows_from(d(6, 10), 15)).json())["channels"]["voice"][0]
    assert (today["cx"]["fcr_ratio"], today["cx"]["fcr_status"]) == (1.0, "provisional")
    ticket_row = await (
        await week.get(
            "/api/v1/queues/support/intervals",
            params={"size": "15", "from": iso(d(4, 12)), "to": iso(d(4, 12, 15))},
        )
    ).json()
    switch = ticket_row["channels"]["email"][0]["cx"]
    assert (switch["repeat_contacts"], switch["channel_switches"]) == (1, 1)  # TB after c4


async def test_read_api_shows_the_ticket_backlog(week: TestClient[Any, Any]) -> None:
    body = await (await week.get("/api/v1/queues/support")).json()
    email = body["channels"]["email"]
    assert email["tickets"]["backlog"] == {"low": 0, "normal": 2, "high": 0, "urgent": 1}
    assert email["tickets"]["sla_active_breaches"] == 1
    today = email["windows"]["today"]
    assert today["tickets"]["tickets_created"] == 3
    assert today["tickets"]["sla_compliance"] == 0.75
    assert today["cx"]["csat_ratio"] == 0.7 and today["cx"]["nps_score"] == 20


async def test_raw_customer_ids_are_nowhere(week: TestClient[Any, Any], redis_url: str) -> None:
    text, _ = await scrape(week)
    bodies = [text] + [
        await (await week.get(path)).text()
        for path in ("/api/v1/queues", "/api/v1/queues/sales", "/api/v1/queues/support")
    ]
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    for key in client.scan_iter(count=1000):
        kind = client.type(key)
        if kind == "string":
            bodies.append(key + str(client.get(key)))
        elif kind == "hash":
            bodies.append(key + str(client.hgetall(key)))
        elif kind == "zset":
            bodies.append(key + str(client.zrange(key, 0, -1)))
        else:
            bodies.append(key + str(client.smembers(key)))
    assert len(bodies) > 10
    assert not [b for b in bodies if "cust-" in b]


async def test_promtool_accepts_the_exposition(week: TestClient[Any, Any]) -> None:
    text, _ = await scrape(week)
    assert "ccmon_tickets_backlog" in text and "ccmon_cx_fcr_ratio" in text
    await asyncio.to_thread(assert_promtool_accepts, text)


async def test_customer_states_expire_after_horizon_retention_and_lateness(
    week: TestClient[Any, Any], redis_url: str
) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    prefix = week.app[PREFIX]  # other tests' customers live under their own prefixes
    keys = [k for k in client.scan_iter(match=f"{prefix}:u:*", count=1000)]
    assert len(keys) == 3  # customers A, B and C, under their hashes
    ttl_ms = (86_400 + 8 * 86_400 + 120) * 1000  # 1-day horizon + retention + lateness
    assert all(ttl_ms - 600_000 < client.pttl(k) <= ttl_ms for k in keys)
