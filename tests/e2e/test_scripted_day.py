"""A scripted day for two queues, end to end on real servers, against hand-computed figures.

Kafka -> batch consumer -> Redis -> exporter (/metrics and the read API over HTTP).
The day is yesterday (UTC) so that Redis expiry times lie in the future; the exporter's
clock is pinned to 17:00 UTC of that day.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from metrics.config.queues import QueueConfig, QueuesConfig, SlFormula
from metrics.exposition.queues import AggregateCollector
from metrics.store.redis import RedisStore
from metrics.web.api import make_app
from streams.testing.events import agent, contact, iso, wrapup, yesterday_ms
from tests.integration.pipeline_helpers import (
    create_topics,
    keyed,
    produce,
    settings_for,
    wait_until_applied,
)
from tests.integration.test_worker import worker
from tests.promtool import assert_promtool_accepts

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

DAY = yesterday_ms()
H, M, S = 3_600_000, 60_000, 1000
NOW = DAY + 17 * H
QUEUES = QueuesConfig(
    queues=(
        QueueConfig(name="sales", sl_threshold_s=20, short_abandon_s=5, sl_target=0.8),
        QueueConfig(
            name="support",
            channels=("chat",),
            sl_threshold_s=30,
            sl_formula=SlFormula.ANSWERED_ONLY,
            time_zone="America/New_York",
        ),
    )
)


def at(hour: int, minute: int, second: int = 0) -> int:
    return DAY + hour * H + minute * M + second * S


def sales(kind: str, t: int, cid: str, **extra: Any) -> dict[str, Any]:
    return contact(kind, t, cid, "sales", "voice", **extra)


def support(kind: str, t: int, cid: str) -> dict[str, Any]:
    return contact(kind, t, cid, "support", "chat")


SCRIPT = [
    sales("contact.queued", at(8, 0), "c1"),
    sales("contact.answered", at(8, 0, 15), "c1"),  # 15 s, within 20 s
    wrapup(at(8, 5, 15), "c1", talk=240, hold=30, acw=30),  # handle 300 s
    sales("contact.queued", at(8, 1), "c2"),
    sales("contact.abandoned", at(8, 1, 3), "c2"),  # 3 s: short abandon
    sales("contact.queued", at(8, 2), "c3"),
    sales("contact.answered", at(8, 2, 45), "c3"),  # 45 s: outside
    wrapup(at(8, 10), "c3", talk=400, hold=0, acw=60),  # handle 460 s
    sales("contact.queued", at(8, 3), "c4"),
    sales("contact.abandoned", at(8, 3, 50), "c4"),  # 50 s
    sales("contact.queued", at(8, 4), "c5"),
    sales("contact.callback_requested", at(8, 4, 20), "c5"),
    sales("contact.queued", at(16, 50), "c6"),
    sales("contact.answered", at(16, 50, 10), "c6"),  # 10 s
    sales("contact.queued", at(16, 55), "c7"),  # still waiting at 17:00
    sales("contact.queued", at(16, 56), "c8"),
    sales("contact.flowed_out", at(16, 58), "c8", reason="voicemail"),
    agent(at(16, 0), "a1", "available", ["sales"]),
    agent(at(16, 50, 10), "a1", "on_contact", ["sales"]),
    agent(at(16, 58), "a1", "after_contact_work", ["sales"]),
    agent(at(16, 30), "a2", "not_ready", ["sales"]),
    # support runs on New York time: its day starts at 05:00 UTC.
    support("contact.queued", at(4, 0), "s1"),  # the previous local day
    support("contact.answered", at(4, 0, 20), "s1"),
    support("contact.queued", at(6, 0), "s2"),
    support("contact.answered", at(6, 1), "s2"),  # 60 s
    support("contact.queued", at(16, 0), "s3"),
    support("contact.answered", at(16, 0, 25), "s3"),  # 25 s, within 30 s
]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def exporter(kafka_bootstrap: str, redis_url: str) -> AsyncIterator[TestClient[Any, Any]]:
    settings = settings_for(kafka_bootstrap, redis_url)
    await create_topics(settings)
    # Out of order on purpose: the last half first.
    values = keyed(SCRIPT)
    wanted = await produce(settings, values[len(values) // 2 :] + values[: len(values) // 2])
    store = RedisStore.from_url(redis_url, prefix=settings.redis_prefix)
    async with worker(settings, QUEUES):
        await wait_until_applied(store, wanted)
    registry = CollectorRegistry()
    registry.register(AggregateCollector(store, QUEUES, clock_ms=lambda: NOW))
    app = make_app(store, QUEUES, registry, clock_ms=lambda: NOW)
    async with TestClient(TestServer(app)) as client:
        yield client


async def scrape(
    client: TestClient[Any, Any],
) -> tuple[str, dict[tuple[str, frozenset[tuple[str, str]]], float]]:
    text = await (await client.get("/metrics")).text()
    samples = {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    return text, samples


def label(**labels: str) -> frozenset[tuple[str, str]]:
    return frozenset(labels.items())


SALES = {"queue": "sales", "channel": "voice"}
SUPPORT = {"queue": "support", "channel": "chat"}

EXPECTED: list[tuple[str, dict[str, str], float]] = [
    # live, at 17:00
    ("ccmon_queue_contacts_waiting", SALES, 1),
    ("ccmon_queue_oldest_wait_seconds", SALES, 300),
    ("ccmon_queue_oldest_enqueued_timestamp_seconds", SALES, at(16, 55) / 1000),
    ("ccmon_queue_agents", SALES | {"state": "available"}, 0),
    ("ccmon_queue_agents", SALES | {"state": "after_contact_work"}, 1),
    ("ccmon_queue_agents", SALES | {"state": "not_ready"}, 1),
    ("ccmon_queue_contacts_waiting", SUPPORT, 0),
    # sales, rolling 60 minutes = panes 16:01 .. 17:00
    ("ccmon_queue_window_queued_contacts", SALES | {"window": "60m"}, 3),
    ("ccmon_queue_window_answered_contacts", SALES | {"window": "60m"}, 1),
    ("ccmon_queue_window_flowed_out_contacts", SALES | {"window": "60m"}, 1),
    ("ccmon_queue_service_level_ratio", SALES | {"window": "60m"}, 1.0),
    ("ccmon_queue_answer_rate_ratio", SALES | {"window": "60m"}, 1 / 3),
    ("ccmon_queue_asa_seconds", SALES | {"window": "60m"}, 10),
    ("ccmon_queue_max_wait_seconds", SALES | {"window": "60m"}, 10),
    # a1: available 16:01-16:50:10 (2950 s in the window), on contact 16:50:10-16:58 (470 s),
    # in ACW since 16:58: the open state counts up to now, 120 s
    ("ccmon_queue_occupancy_ratio", SALES | {"window": "60m"}, (470 + 120) / (2950 + 590)),
    ("ccmon_queue_window_queued_contacts", SALES | {"window": "5m"}, 1),  # 16:56..17:00: c8
    ("ccmon_queue_window_queued_contacts", SALES | {"window": "15m"}, 3),
    # sales, today (from 00:00 UTC)
    ("ccmon_queue_window_queued_contacts", SALES | {"window": "today"}, 8),
    ("ccmon_queue_window_answered_contacts", SALES | {"window": "today"}, 3),
    ("ccmon_queue_window_answered_within_threshold_contacts", SALES | {"window": "today"}, 2),
    ("ccmon_queue_window_abandoned_contacts", SALES | {"window": "today"}, 2),
    ("ccmon_queue_window_short_abandoned_contacts", SALES | {"window": "today"}, 1),
    ("ccmon_queue_window_callbacks_contacts", SALES | {"window": "today"}, 1),
    ("ccmon_queue_window_handled_contacts", SALES | {"window": "today"}, 2),
    ("ccmon_queue_service_level_ratio", SALES | {"window": "today"}, 0.5),  # 2 / (3 + 2 - 1)
    ("ccmon_queue_abandonment_rate_ratio", SALES | {"window": "today"}, 1 / 7),  # (2-1)/(8-1)
    ("ccmon_queue_asa_seconds", SALES | {"window": "today"}, 70 / 3),
    ("ccmon_queue_average_abandon_time_seconds", SALES | {"window": "today"}, 26.5),
    ("ccmon_queue_max_wait_seconds", SALES | {"window": "today"}, 50),
    ("ccmon_queue_aht_seconds", SALES | {"window": "today"}, 380),
    ("ccmon_queue_average_talk_seconds", SALES | {"window": "today"}, 320),
    ("ccmon_queue_average_hold_seconds", SALES | {"window": "today"}, 15),
    ("ccmon_queue_average_acw_seconds", SALES | {"window": "today"}, 45),
    # sales counters and histogram
    ("ccmon_queue_queued_contacts_total", SALES, 8),
    ("ccmon_queue_answered_contacts_total", SALES, 3),
    ("ccmon_queue_short_abandoned_contacts_total", SALES, 1),
    ("ccmon_queue_flowed_out_contacts_total", SALES, 1),
    ("ccmon_queue_talk_seconds_total", SALES, 640),
    ("ccmon_queue_answer_wait_seconds_bucket", SALES | {"le": "15.0"}, 2),
    ("ccmon_queue_answer_wait_seconds_bucket", SALES | {"le": "20.0"}, 2),
    ("ccmon_queue_answer_wait_seconds_bucket", SALES | {"le": "45.0"}, 3),
    ("ccmon_queue_answer_wait_seconds_count", SALES, 3),
    ("ccmon_queue_answer_wait_seconds_sum", SALES, 70),
    ("ccmon_queue_abandon_wait_seconds_bucket", SALES | {"le": "5.0"}, 1),
    ("ccmon_queue_service_level_target_ratio", {"queue": "sales"}, 0.8),
    ("ccmon_queue_service_level_threshold_seconds", {"queue": "support"}, 30),
    # support: New York day from 05:00 UTC holds s2 and s3; answered_only formula
    ("ccmon_queue_window_queued_contacts", SUPPORT | {"window": "today"}, 2),
    ("ccmon_queue_service_level_ratio", SUPPORT | {"window": "today"}, 0.5),
    ("ccmon_queue_asa_seconds", SUPPORT | {"window": "today"}, 42.5),
    ("ccmon_queue_queued_contacts_total", SUPPORT, 3),
]


@pytest.mark.parametrize(
    ("name", "labels", "value"), EXPECTED, ids=[f"{n}{lab}" for n, lab, _ in EXPECTED]
)
async def test_exported_values(
    exporter: TestClient[Any, Any], name: str, labels: dict[str, str], value: float
) -> None:
    _, samples = await scrape(exporter)
    assert samples[(name, label(**labels))] == pytest.approx(value, rel=1e-12)


async def test_empty_windows_export_no_ratio(exporter: TestClient[Any, Any]) -> None:
    _, samples = await scrape(exporter)
    key = label(**SUPPORT, window="60m")
    assert samples[("ccmon_queue_window_queued_contacts", key)] == 0
    assert ("ccmon_queue_service_level_ratio", key) not in samples
    assert ("ccmon_queue_asa_seconds", key) not in samples


async def test_promtool_accepts_the_exposition(exporter: TestClient[Any, Any]) -> None:
    text, _ = await scrape(exporter)
    await asyncio.to_thread(assert_promtool_accepts, text)


async def test_read_api_answers_match(exporter: TestClient[Any, Any]) -> None:
    every = await (await exporter.get("/api/v1/queues")).json()
    rows = {(r["queue"], r["channel"]): r for r in every["queues"]}
    assert rows[("sales", "voice")]["contacts_waiting"] == 1
    assert rows[("sales", "voice")]["oldest_wait_seconds"] == 300
    one = await (await exporter.get("/api/v1/queues/sales")).json()
    today = one["channels"]["voice"]["windows"]["today"]
    assert (today["queued"], today["service_level"], today["aht_seconds"]) == (8, 0.5, 380)
    assert one["channels"]["voice"]["agents"] == {
        "available": 0,
        "on_contact": 0,
        "after_contact_work": 1,
        "not_ready": 1,
    }
    params = {"size": "30", "from": iso(at(8, 0)), "to": iso(at(9, 0))}
    series = await (await exporter.get("/api/v1/queues/sales/intervals", params=params)).json()
    first, second = series["channels"]["voice"]
    assert (first["queued"], first["answered"], first["abandoned"], first["callbacks"]) == (
        5,
        2,
        2,
        1,
    )
    assert first["service_level"] == pytest.approx(1 / 3)  # 1 / (2 + 2 - 1)
    assert first["aht_seconds"] == 380
    assert second["queued"] == 0 and second["service_level"] is None
    support_day = await (
        await exporter.get(
            "/api/v1/queues/support/intervals",
            params={"size": "15", "from": iso(at(6, 0)), "to": iso(at(6, 15))},
        )
    ).json()
    assert support_day["channels"]["chat"][0]["asa_seconds"] == 60
