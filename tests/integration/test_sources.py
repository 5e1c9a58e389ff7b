"""Vendor payloads end to end: mapped by the source mappers, produced to the real broker
keyed as the contract says, consumed by a real worker, and counted in the real Redis.

Each vendor's fixture (tests/fixtures/sources/) is a small queue day whose figures are
worked out by hand below. The vendors' dates are moved to yesterday, 10:00 UTC, first
(an event older than the retention would be dead-lettered as too late).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from aiokafka import AIOKafkaProducer

from metrics.config.queues import QueueConfig, QueuesConfig
from metrics.rfc3339 import parse_ms
from streams.producers.connect.deadletters import KafkaDeadLetters
from streams.producers.connect.kafka_topic import TopicBridge
from streams.producers.keys import event_key
from streams.producers.sinks import KafkaSink
from streams.sources.amazon_connect import AmazonConnect
from streams.sources.base import Mapped
from streams.sources.common import rfc3339
from streams.sources.genesys import GenesysCloud
from streams.sources.twilio import TwilioTaskRouter
from streams.sources.zendesk import Zendesk
from streams.testing.events import yesterday_ms
from tests.integration.pipeline_helpers import (
    create_topics,
    dump,
    keyed,
    produce,
    read_records,
    settings_for,
    wait_until_applied,
)
from tests.integration.test_worker import store_for, worker
from tests.servers import create_topics as create_topics_on

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).parents[1] / "fixtures" / "sources"
START_MS = yesterday_ms() + 10 * 3_600_000
GENESYS_QUEUE = "fd6c8d3c-1b2a-4c5e-9f00-1a2b3c4d5e6f"


def _mapped(vendor: str) -> list[Mapped]:
    """What the vendor's fixture payloads map to, one Mapped per request body."""
    folder = FIXTURES / vendor
    if vendor == "twilio":
        mapper = TwilioTaskRouter("token")
        callbacks = json.loads((folder / "callbacks.json").read_text())
        return [mapper.map(urlencode(c).encode(), {}) for c in callbacks]
    if vendor == "amazon_connect":
        return [AmazonConnect("key").map((folder / "flow.json").read_bytes(), {})]
    if vendor == "genesys":
        notes = json.loads((folder / "notifications.json").read_text())
        genesys = GenesysCloud("key", agent_queues=[GENESYS_QUEUE])
        return [genesys.map(json.dumps(n).encode(), {}) for n in notes]
    notes = json.loads((folder / "ticket-events.json").read_text())
    return [Zendesk("secret").map(json.dumps(n).encode(), {}) for n in notes]


def moved(events: list[dict[str, Any]], start_ms: int) -> list[dict[str, Any]]:
    """The events with every time moved by the same amount, the earliest to start_ms."""
    delta = start_ms - min(parse_ms(e["time"]) for e in events)
    return [{**e, "time": rfc3339(parse_ms(e["time"]) + delta)} for e in events]


# The hand-worked figures of each fixture, per (queue, channel): the store's totals
# and the agents by state now, with their concurrency slots (one each, no capacity given;
# busy voice slots follow the agent's state, busy chat slots the contacts in progress).
# Waits are from the contact's queue entry.
VOICE_AGENT_ON_CONTACT = {"agents_on_contact": 1, "slots_total": 1, "slots_busy": 1}
EXPECTED: dict[str, dict[tuple[str, str], dict[str, Any]]] = {
    # WT1 queued 10:00:00, answered 10:00:15 (wait 15 s); WT2 queued 10:00:10, canceled
    # 10:01:10 (an abandon after 60 s). The worker went Available, then Busy.
    "twilio": {
        ("Sales_Queue", "voice"): {
            "queued": 2,
            "answered": 1,
            "abandoned": 1,
            "wait_answered_sum_ms": 15_000,
            "wait_abandoned_sum_ms": 60_000,
            "agents": VOICE_AGENT_ON_CONTACT,
        }
    },
    # c-1 voice queued 10:00:00, answered 10:00:20 (20 s); c-2 voice queued 10:00:30,
    # disconnected in queue 10:01:30 (60 s); c-3 chat queued 10:00:40, answered 10:00:45.
    # The agent (voice and chat) is on a contact since 10:00:20.
    "amazon_connect": {
        ("q-sales", "voice"): {
            "queued": 2,
            "answered": 1,
            "abandoned": 1,
            "wait_answered_sum_ms": 20_000,
            "wait_abandoned_sum_ms": 60_000,
            "agents": VOICE_AGENT_ON_CONTACT,
        },
        ("q-sales", "chat"): {
            "queued": 1,
            "answered": 1,
            "abandoned": 0,
            "wait_answered_sum_ms": 5_000,
            "wait_abandoned_sum_ms": 0,
            "agents": {"agents_on_contact": 1, "slots_total": 1},
        },
    },
    # Conversation 1 (sent twice, counted once) queued 10:00:00, agent connected
    # 10:00:12; conversation 2 queued 10:00:05, the customer hung up 10:00:50 (45 s).
    "genesys": {
        (GENESYS_QUEUE, "voice"): {
            "queued": 2,
            "answered": 1,
            "abandoned": 1,
            "wait_answered_sum_ms": 12_000,
            "wait_abandoned_sum_ms": 45_000,
            "agents": VOICE_AGENT_ON_CONTACT,
        }
    },
}
#: Zendesk: one ticket, high priority, by web form (email): created 10:00, first agent
#: reply 10:10 (600 s), solved 10:15 (900 s after it was created), reopened 10:20.
ZENDESK = {
    "tickets_created": 1,
    "ticket_first_response_count": 1,
    "ticket_first_response_sum_ms": 600_000,
    "tickets_solved": 1,
    "ticket_first_resolution_count": 1,
    "ticket_first_resolution_sum_ms": 900_000,
    "tickets_reopened": 1,
}

VENDORS = ["twilio", "amazon_connect", "genesys", "zendesk"]


def _queues(vendor: str) -> QueuesConfig:
    names = {"twilio": "Sales_Queue", "amazon_connect": "q-sales", "genesys": GENESYS_QUEUE}
    return QueuesConfig(queues=(QueueConfig(name=names.get(vendor, "360001234567")),))


def _figures(got: dict[Any, dict[str, Any]], keys: tuple[str, ...]) -> dict[Any, dict[str, Any]]:
    out = {}
    for series, data in got.items():
        totals = data["totals"]
        row: dict[str, Any] = {k: totals.get(k, 0) for k in keys}
        if "agents" in keys:
            row["agents"] = data["agents"]
        out[series] = row
    return out


@pytest.mark.parametrize("vendor", VENDORS)
async def test_vendor_payloads_become_the_expected_figures(
    kafka_bootstrap: str, redis_url: str, vendor: str
) -> None:
    mapped = _mapped(vendor)
    events = moved([e for m in mapped for e in m.events], START_MS)
    assert events and all(u.reason == "ignored_event" for m in mapped for u in m.unmapped)
    settings = settings_for(kafka_bootstrap, redis_url)
    await create_topics(settings)
    queues = _queues(vendor)
    wanted = await produce(settings, keyed(events))
    store = store_for(settings, queues)
    async with worker(settings, queues):
        await wait_until_applied(store, wanted)
    got = await asyncio.to_thread(dump, store, START_MS - 3_600_000, START_MS + 3_600_000)
    if vendor == "zendesk":
        [(series, data)] = got.items()
        assert series == ("360001234567", "email")
        assert {k: data["totals"].get(k, 0) for k in ZENDESK} == ZENDESK
    else:
        expected = EXPECTED[vendor]
        keys = tuple(k for k in next(iter(expected.values())) if k != "agents") + ("agents",)
        assert _figures(got, keys) == expected


async def test_amazon_connect_records_read_from_a_kafka_topic(
    kafka_bootstrap: str, redis_url: str
) -> None:
    """TopicBridge: the flow's records in a topic become the same events, keyed by the
    contract, and the records ccmon does not count reach the dead-letter topic."""
    settings = settings_for(kafka_bootstrap, redis_url)
    source_topic = f"connect-{settings.group_id}"
    await create_topics(settings)
    await create_topics_on(settings.brokers, {source_topic: 1})
    records = json.loads((FIXTURES / "amazon_connect" / "flow.json").read_text())
    producer = AIOKafkaProducer(bootstrap_servers=settings.brokers)
    await producer.start()
    try:
        for record in records:
            await producer.send_and_wait(source_topic, json.dumps(record).encode())
    finally:
        await producer.stop()
    dead = KafkaDeadLetters(settings)
    bridge = TopicBridge(settings, source_topic, "amazon-connect", KafkaSink(settings), dead)
    stop = asyncio.Event()
    await bridge.sink.start()
    await dead.start()
    task = asyncio.create_task(bridge.run(stop))
    try:
        for _ in range(300):
            if bridge.consumed == len(records):
                break
            await asyncio.sleep(0.1)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await bridge.sink.close()
        await dead.close()
    expected = AmazonConnect("key").map(
        (FIXTURES / "amazon_connect" / "flow.json").read_bytes(), {}
    )
    got = await read_records(settings.brokers, settings.events_topic, len(expected.events))
    by_id = {json.loads(r.value)["id"]: r for r in got}
    assert sorted(by_id) == sorted(e["id"] for e in expected.events)
    for event in expected.events:
        record = by_id[event["id"]]
        assert json.loads(record.value) == event
        assert record.key.decode() == event_key(event)
    letters = await read_records(settings.brokers, settings.deadletter_topic, 2)
    assert sorted(dict(r.headers)["ccmon.reason"] for r in letters) == [
        b"ignored_event",
        b"ignored_event",
    ]
    assert {dict(r.headers)["ccmon.source.origin"] for r in letters} == {
        f"kafka://{source_topic}".encode()
    }
    assert (bridge.consumed, bridge.sent) == (10, 8)


async def test_ccmon_connect_kafka_reads_the_topic_and_writes_the_mapped_events(
    kafka_bootstrap: str, redis_url: str, tmp_path: Path
) -> None:
    """The command a user runs: `ccmon connect kafka --topic T --source amazon-connect`."""
    settings = settings_for(kafka_bootstrap, redis_url)
    source_topic = f"connect-cli-{settings.group_id}"
    await create_topics_on(settings.brokers, {source_topic: 1})
    records = json.loads((FIXTURES / "amazon_connect" / "flow.json").read_text())
    producer = AIOKafkaProducer(bootstrap_servers=settings.brokers)
    await producer.start()
    try:
        for record in records:
            await producer.send_and_wait(source_topic, json.dumps(record).encode())
    finally:
        await producer.stop()
    expected = AmazonConnect("key").map(
        (FIXTURES / "amazon_connect" / "flow.json").read_bytes(), {}
    )
    out = tmp_path / "events.jsonl"
    env = dict(os.environ, CCMON_BROKERS=settings.brokers, CCMON_GROUP_ID=settings.group_id)
    command = [sys.executable, "-m", "streams.cli", "connect", "kafka", "--topic", source_topic]
    proc = await asyncio.create_subprocess_exec(
        *command, "--out", str(out), env=env, stderr=asyncio.subprocess.PIPE
    )
    try:
        for _ in range(300):
            lines = out.read_text().splitlines() if out.exists() else []
            if len(lines) >= len(expected.events):
                break
            await asyncio.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    got = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(e["id"] for e in got) == sorted(e["id"] for e in expected.events)
    assert f"{len(records):,} records read, {len(expected.events):,} events sent" in err.decode()
