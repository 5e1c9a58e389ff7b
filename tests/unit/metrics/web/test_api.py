"""The JSON read API over the in-memory store, through a real aiohttp server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry

from metrics.config.queues import QueueConfig, QueuesConfig
from metrics.core.aggregator import Aggregator
from metrics.exposition.queues import AggregateCollector
from metrics.store.memory import InMemoryStore
from metrics.web.api import make_app
from streams.decode import decode
from streams.testing.events import T0, contact, raw

S, MIN = 1000, 60_000
NOW = T0 + 12 * 60 * MIN + 5 * MIN  # 12:05 UTC
QUEUES = QueuesConfig(
    queues=(QueueConfig(name="sales", sl_threshold_s=20, time_zone="Asia/Kathmandu"),)
)


@pytest.fixture
async def client() -> AsyncIterator[TestClient[Any, Any]]:
    store = InMemoryStore()
    aggregator = Aggregator(QUEUES)
    events = [
        # 09:00 and 09:20 UTC: two answered contacts in different 15-minute intervals.
        contact("contact.queued", T0 + 9 * 60 * MIN, "a"),
        contact("contact.answered", T0 + 9 * 60 * MIN + 10 * S, "a"),
        contact("contact.queued", T0 + 9 * 60 * MIN + 20 * MIN, "b"),
        contact("contact.answered", T0 + 9 * 60 * MIN + 20 * MIN + 30 * S, "b"),
        # 12:03 UTC, still waiting.
        contact("contact.queued", T0 + 12 * 60 * MIN + 3 * MIN, "w"),
    ]
    for event in events:
        aggregator.apply(decode(raw(event), 1 << 16))
    store.flush(aggregator.drain(), NOW)
    registry = CollectorRegistry()
    registry.register(AggregateCollector(store, QUEUES, clock_ms=lambda: NOW))
    app = make_app(store, QUEUES, registry, clock_ms=lambda: NOW)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


NO_TICKETS = {
    "backlog": {"low": 0, "normal": 0, "high": 0, "urgent": 0},
    "backlog_by_age": {"0-1h": 0, "1-4h": 0, "4-24h": 0, "1-3d": 0, "3-7d": 0, "7d+": 0},
    "oldest_unresolved_age_seconds": None,
    "complaints_unresolved": 0,
    "sla_running_targets": 0,
    "sla_active_breaches": 0,
    "sla_next_breach_seconds": None,
}


async def test_all_queues_live_snapshot(client: TestClient[Any, Any]) -> None:
    body = await (await client.get("/api/v1/queues")).json()
    assert body["queues"] == [
        {
            "queue": "sales",
            "channel": "voice",
            "contacts_waiting": 1,
            "oldest_wait_seconds": 120.0,
            "oldest_enqueued_at": "2026-11-16T12:03:00Z",
            "agents": {"available": 0, "on_contact": 0, "after_contact_work": 0, "not_ready": 0},
            "tickets": NO_TICKETS,
            "service_level_15m": None,
            "abandonment_rate_15m": 0.0,
            "asa_seconds_15m": None,
        }
    ]


async def test_one_queue_with_its_windows(client: TestClient[Any, Any]) -> None:
    body = await (await client.get("/api/v1/queues/sales")).json()
    voice = body["channels"]["voice"]
    assert voice["windows"]["5m"]["queued"] == 1
    today = voice["windows"]["today"]  # Kathmandu midnight = 18:15 UTC the day before
    assert (today["queued"], today["answered"], today["answered_within_t"]) == (3, 2, 1)
    assert today["service_level"] == 0.5
    assert today["asa_seconds"] == 20.0
    assert body["all_channels"]["today"]["answered"] == 2
    assert body["config"]["time_zone"] == "Asia/Kathmandu"


async def test_interval_series_in_15_and_30_minutes(client: TestClient[Any, Any]) -> None:
    url = "/api/v1/queues/sales/intervals"
    q15 = {"size": "15", "from": "2026-11-16T09:00:00Z", "to": "2026-11-16T09:30:00Z"}
    rows = (await (await client.get(url, params=q15)).json())["channels"]["voice"]
    assert [(r["start"], r["answered"], r["asa_seconds"]) for r in rows] == [
        ("2026-11-16T09:00:00Z", 1, 10.0),
        ("2026-11-16T09:15:00Z", 1, 30.0),
    ]
    # 30-minute intervals follow local half hours: Kathmandu's are UTC :15 and :45.
    q30 = {"size": "30", "from": "2026-11-16T08:45:00Z", "to": "2026-11-16T09:45:00Z"}
    rows = (await (await client.get(url, params=q30)).json())["channels"]["voice"]
    assert [(r["start"], r["answered"]) for r in rows] == [
        ("2026-11-16T08:45:00Z", 1),
        ("2026-11-16T09:15:00Z", 1),
    ]
    assert rows[0]["service_level"] == 1.0 and rows[1]["service_level"] == 0.0


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/api/v1/queues/nowhere", 404, "not configured"),
        ("/api/v1/queues/sales/intervals?size=20&from=2026-11-16T00:00:00Z", 400, "15 or 30"),
        ("/api/v1/queues/sales/intervals?size=15", 400, "from is required"),
        ("/api/v1/queues/sales/intervals?from=yesterday", 400, "RFC 3339"),
        (
            "/api/v1/queues/sales/intervals?from=2026-11-16T10:00:00Z&to=2026-11-16T09:00:00Z",
            400,
            "after from",
        ),
        ("/api/v1/queues/sales/intervals?from=2026-01-01T00:00:00Z", 400, "31 days"),
        # Queue names that cannot be queue names: 400, not a failed config lookup (500).
        ("/api/v1/queues/caf%C3%A9", 400, "queue must be"),
        ("/api/v1/queues/" + "q" * 65, 400, "queue must be"),
        ("/api/v1/queues/-sales", 400, "queue must be"),
        ("/api/v1/queues/caf%C3%A9/intervals?from=2026-11-16T00:00:00Z", 400, "queue must be"),
        ("/api/v1/queues/" + "q" * 65 + "/intervals?from=2026-11-16T00:00:00Z", 400, "queue must"),
        ("/api/v1/queues/sales/intervals?from=2026-11-16T00:00:00Z&channel=fax", 400, "channel"),
        ("/api/v1/queues/sales/intervals?size=15.0&from=2026-11-16T00:00:00Z", 400, "15 or 30"),
        ("/api/v1/queues/sales/intervals?size=%EF%BC%91%EF%BC%95&from=x", 400, "15 or 30"),
    ],
)
async def test_bad_requests_get_a_clear_message(
    client: TestClient[Any, Any], path: str, status: int, message: str
) -> None:
    response = await client.get(path)
    assert response.status == status
    assert message in (await response.json())["error"]


async def test_metrics_and_health(client: TestClient[Any, Any]) -> None:
    response = await client.get("/metrics")
    assert response.status == 200
    assert (
        'ccmon_queue_contacts_waiting{channel="voice",queue="sales"} 1.0' in await response.text()
    )
    assert (await (await client.get("/healthz")).json()) == {"store": "up"}


@pytest.mark.parametrize(
    ("param", "value", "message"),
    [
        # Years 0 and 10000 in UTC: 400, not "year 0 is out of range" (500).
        ("from", "0001-01-01T00:00:00+01:00", "is out of range"),
        ("to", "9999-12-31T00:00:00-01:00", "is out of range"),
        # ISO 8601 but not RFC 3339.
        ("from", "2026-W47-1T09:00:00Z", "is not RFC 3339"),
        ("from", "20261116T090000Z", "is not RFC 3339"),
        ("from", "2026-11-16 09:00:00Z", "is not RFC 3339"),
        ("from", "2026-11-16T09:00:00+01:00:30", "is not RFC 3339"),
        ("from", "2026-11-16T09:00:00Z\x00", "is not RFC 3339"),
        ("to", "2026-11-16T24:00:00Z", "is not RFC 3339"),
        ("from", "2026-11-16T09:00:00", "has no UTC offset"),
    ],
)
async def test_interval_times_are_strict_rfc3339(
    client: TestClient[Any, Any], param: str, value: str, message: str
) -> None:
    query = {"from": "2026-11-16T09:00:00Z", "to": "2026-11-16T09:30:00Z"} | {param: value}
    response = await client.get("/api/v1/queues/sales/intervals", params=query)
    assert response.status == 400
    error = (await response.json())["error"]
    assert error.startswith(f"{param} must be RFC 3339 with an offset: {value!r} {message}")


async def test_lower_case_t_and_z_are_rfc3339(client: TestClient[Any, Any]) -> None:
    query = {"size": "15", "from": "2026-11-16t09:00:00z", "to": "2026-11-16T10:15:00+01:00"}
    response = await client.get("/api/v1/queues/sales/intervals", params=query)
    assert response.status == 200
    assert [r["start"] for r in (await response.json())["channels"]["voice"]] == [
        "2026-11-16T09:00:00Z"
    ]


def test_the_15_minute_figures_are_derived_again_only_when_a_pane_object_changes() -> None:
    from metrics.web.api import ReadApi

    api = ReadApi(InMemoryStore(), QueuesConfig(), CollectorRegistry(), lambda: T0)
    quiet: dict[str, int] = {}
    busy = {"queued": 4, "answered": 3, "answered_within_t": 3, "wait_answered_sum_ms": 6000}
    panes = [quiet, busy]
    first = api._figures_15m(("sales", "voice"), panes)
    assert first == {
        "service_level_15m": 1.0,
        "abandonment_rate_15m": 0.0,
        "asa_seconds_15m": 2.0,
    }
    assert api._figures_15m(("sales", "voice"), [quiet, busy]) is first  # shared panes
    changed = dict(busy, answered=4, wait_answered_sum_ms=8000)  # a flush: a new dict
    assert api._figures_15m(("sales", "voice"), [quiet, changed])["service_level_15m"] == 0.75
