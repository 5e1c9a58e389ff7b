"""The contact figures of the agents' view through the real worker, broker and Redis:
a scripted hour, sent shuffled and twice, read back in the API and in /metrics."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from metrics.config.queues import QueueConfig, QueuesConfig
from metrics.exposition.queues import AggregateCollector
from metrics.store.redis import RedisStore
from metrics.web.api import make_app
from streams.health import WorkerMetrics
from streams.kafka import run_consumer
from streams.settings import Settings
from streams.testing.events import contact, envelope, wrapup, yesterday_ms
from tests.integration.pipeline_helpers import (
    create_topics,
    keyed,
    produce,
    settings_for,
    wait_until_applied,
)

pytestmark = pytest.mark.integration

S, MIN, HOUR = 1000, 60_000, 3_600_000
DAY = yesterday_ms()  # Redis keeps the panes: their expiry (event time + retention) is ahead
NOW = DAY + 10 * HOUR  # the exporter's clock: 10:00 UTC on that day


QUEUES = QueuesConfig(
    queues=(QueueConfig(name="sales"), QueueConfig(name="support")),
    wrapup_codes=("sale", "no_sale"),
)


def at(minutes: float) -> int:
    return DAY + 9 * HOUR + round(minutes * MIN)


def transfer(minutes: float, contact_id: str, kind: str, to: str) -> dict[str, Any]:
    data = {"contact_id": contact_id, "queue": "sales", "channel": "voice"}
    return envelope(
        "contact.transferred", at(minutes), data | {"kind": kind, "target": "queue", "to": to}
    )


HOUR_OF_SALES = [
    # c1: missed by a1, answered by a2, held twice, the customer hangs up on hold
    contact("contact.queued", at(0), "c1"),
    contact("contact.offered", at(0.1), "c1", agent_id="a1"),
    contact("contact.offer_declined", at(0.25), "c1", agent_id="a1", outcome="missed"),
    contact("contact.offered", at(0.3), "c1", agent_id="a2"),
    contact("contact.answered", at(0.4), "c1", agent_id="a2"),
    contact("contact.held", at(2), "c1"),
    contact("contact.resumed", at(3), "c1"),
    contact("contact.held", at(4), "c1"),
    contact("contact.ended", at(5), "c1", disconnected_by="customer"),
    contact(
        "contact.wrapup_completed", at(6), "c1", talk_s=200, hold_s=90, acw_s=60, wrapup_code="sale"
    ),
    # c2: outbound, blind-transferred to support, which answers and ends it
    contact("contact.queued", at(1), "c2", direction="outbound"),
    contact("contact.answered", at(1.5), "c2", direction="outbound"),
    transfer(3, "c2", "blind", "support"),
    contact(
        "contact.wrapup_completed", at(4), "c2", talk_s=60, hold_s=0, acw_s=30, wrapup_code="upsell"
    ),
    contact("contact.queued", at(3.1), "c2", queue="support"),
    contact("contact.answered", at(3.5), "c2", queue="support"),
    contact("contact.ended", at(8), "c2", queue="support", disconnected_by="agent"),
    wrapup(at(9), "c2", talk=270, hold=0, acw=60, queue="support"),
    # c3: answered at 09:52, still in progress at 10:00
    contact("contact.queued", at(50), "c3"),
    contact("contact.answered", at(52), "c3"),
    # c4: a callback requested at 09:11, one unanswered attempt: still waiting
    contact("contact.queued", at(10), "c4"),
    contact("contact.callback_requested", at(11), "c4"),
    contact("contact.callback_attempted", at(20), "c4", outcome="no_answer"),
    # c5: a callback contact offered twice, rejected and timed out, then abandoned
    contact("contact.queued", at(12), "c5", direction="callback"),
    contact("contact.offered", at(12.1), "c5", agent_id="a1"),
    contact("contact.offer_declined", at(12.2), "c5", agent_id="a1", outcome="rejected"),
    contact("contact.offered", at(12.3), "c5", agent_id="a2"),
    contact("contact.offer_declined", at(12.4), "c5", agent_id="a2", outcome="timed_out"),
    contact("contact.abandoned", at(13), "c5"),
]


@asynccontextmanager
async def worker(settings: Settings, store: RedisStore) -> AsyncIterator[None]:
    """Run the batch consumer in this process until the block ends."""
    stop = asyncio.Event()
    metrics = WorkerMetrics.create(CollectorRegistry())
    task = asyncio.create_task(run_consumer(settings, QUEUES, store, metrics, stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)


@pytest.fixture
async def client(kafka_bootstrap: str, redis_url: str) -> AsyncIterator[TestClient[Any, Any]]:
    """The hour through the worker (shuffled, every event twice), then the exporter app."""
    settings = settings_for(kafka_bootstrap, redis_url)
    await create_topics(settings)
    sent = [*HOUR_OF_SALES, *HOUR_OF_SALES]
    random.Random(7).shuffle(sent)
    store = settings.redis_store(QUEUES)
    async with worker(settings, store):
        await wait_until_applied(store, await produce(settings, keyed(sent)))
    registry = CollectorRegistry()
    registry.register(AggregateCollector(store, QUEUES, clock_ms=lambda: NOW))
    app = make_app(store, QUEUES, registry, lambda: NOW)
    async with TestClient(TestServer(app)) as found:
        yield found


async def test_the_queue_api_and_metrics_carry_the_exact_contact_figures(
    client: TestClient[Any, Any],
) -> None:
    response = await client.get("/api/v1/queues/sales")
    assert response.status == 200, await response.text()
    voice = (await response.json())["channels"]["voice"]
    assert {k: voice[k] for k in LIVE} == {
        "contacts_in_progress": 1,  # c3
        "longest_in_progress_seconds": 480.0,  # since 09:52
        "callbacks_waiting": 1,  # c4
        "oldest_callback_wait_seconds": 2940.0,  # since 09:11
    }
    today = voice["windows"]["today"]
    assert {k: today[k] for k in SALES_TODAY} == SALES_TODAY
    assert voice["windows"]["15m"]["offers"] == 0  # 09:45-10:00 has none

    support = (await (await client.get("/api/v1/queues/support")).json())["channels"]["voice"]
    figures = {k: support["windows"]["today"][k] for k in ("transfers_in", "disconnect_agent")}
    assert figures == {"transfers_in": 1, "disconnect_agent": 1}
    assert support["contacts_in_progress"] == 0

    text = await (await client.get("/metrics")).text()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name.startswith("ccmon_queue_")
    }

    def sample(name: str, queue: str = "sales", **labels: str) -> float | None:
        key = {"queue": queue, "channel": "voice", **labels}
        return samples.get((name, tuple(sorted(key.items()))))

    assert sample("ccmon_queue_contacts_in_progress") == 1
    assert sample("ccmon_queue_longest_in_progress_seconds") == 480
    assert sample("ccmon_queue_callbacks_waiting") == 1
    assert sample("ccmon_queue_oldest_callback_wait_seconds") == 2940
    today_w = {"window": "today"}
    assert sample("ccmon_queue_offers_contacts", **today_w) == 4
    assert sample("ccmon_queue_agent_non_response_ratio", **today_w) == 0.75
    for outcome in ("missed", "rejected", "timed_out"):
        assert sample("ccmon_queue_offers_declined_contacts", **today_w, outcome=outcome) == 1
    assert sample("ccmon_queue_holds_contacts", **today_w) == 2
    assert sample("ccmon_queue_hold_abandons_contacts", **today_w) == 1
    transfers = "ccmon_queue_transfers_contacts"
    assert sample(transfers, **today_w, direction="out", kind="blind") == 1
    assert sample(transfers, "support", **today_w, direction="in", kind="blind") == 1
    assert sample(transfers, "support", **today_w, direction="in", kind="consult") == 0
    assert sample("ccmon_queue_disconnects_contacts", **today_w, side="customer") == 1
    by_direction = "ccmon_queue_contacts_by_direction_contacts"
    assert [sample(by_direction, **today_w, direction=d) for d in DIRECTIONS] == [3, 1, 1]
    attempts = "ccmon_queue_callback_attempts_contacts"
    assert sample(attempts, **today_w, outcome="no_answer") == 1
    codes = [sample("ccmon_queue_wrapup_contacts", **today_w, code=c) for c in CODES]
    assert codes == [0, 1, 1]  # no_sale, other (upsell), sale


LIVE = (
    "contacts_in_progress",
    "longest_in_progress_seconds",
    "callbacks_waiting",
    "oldest_callback_wait_seconds",
)
DIRECTIONS = ("inbound", "outbound", "callback")
CODES = ("no_sale", "other", "sale")
SALES_TODAY = {
    "queued": 5,
    "queued_inbound": 3,  # c1 c3 c4
    "queued_outbound": 1,
    "queued_callback": 1,
    "offers": 4,
    "offers_declined_missed": 1,
    "offers_declined_rejected": 1,
    "offers_declined_timed_out": 1,
    "offers_declined": 3,
    "agent_non_response_rate": 0.75,
    "holds": 2,
    "hold_abandons": 1,
    "transfers_out_blind": 1,
    "transfers_out_consult": 0,
    "transfers_in": 0,
    "disconnect_customer": 1,
    "disconnect_agent": 0,
    "callback_attempts_no_answer": 1,
    "callback_attempts_connected": 0,
    "wrapup_codes": {"other": 1, "sale": 1},
    "handled": 2,
}
