"""simulate, replay and import on a real broker (and the worker + Redis for simulate).

`ccmon simulate` runs as a subprocess into Kafka; the worker's aggregates in Redis must
equal those of the pure core fed with the same (deterministic) events in-process.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from metrics.config.queues import QueueConfig, QueuesConfig
from metrics.store.redis import RedisStore
from streams.producers.sim.model import Simulation
from streams.producers.sim.scenario import parse_scenario
from streams.settings import Settings
from streams.testing.events import yesterday_ms
from streams.testing.measure import measure
from tests.integration.pipeline_helpers import create_topics, dump, read_records, settings_for
from tests.integration.test_worker import worker

pytestmark = pytest.mark.integration

START_MS = yesterday_ms() + 8 * 3_600_000
START = dt.datetime.fromtimestamp(START_MS / 1000, tz=dt.UTC)
SCENARIO = """\
name: it
seed: 9
duration: 30m
queues:
  - name: sales
    arrivals_per_hour: 600
    patience: {dist: exponential, mean_s: 40}
    talk: {dist: lognormal, mean_s: 60, sd_s: 30}
    acw: {dist: exponential, mean_s: 5}
    overflow: {after_s: 30, to: general}
  - name: general
    channel: chat
    arrivals_per_hour: 120
    talk: {dist: exponential, mean_s: 45}
agents:
  - {name: s, count: 8, queues: [sales]}
  - name: g
    count: 3
    queues: [general, sales]
    breaks: {every_s: 600, length: {dist: fixed, mean_s: 60}}
"""
QUEUES = QueuesConfig(queues=(QueueConfig(name="sales"), QueueConfig(name="general")))


def ccmon(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CCMON_BROKERS": settings.brokers,
        "CCMON_EVENTS_TOPIC": settings.events_topic,
        "CCMON_DEADLETTER_TOPIC": settings.deadletter_topic,
        "CCMON_TOPIC_PARTITIONS": str(settings.topic_partitions),
    }
    return subprocess.run(
        [sys.executable, "-m", "streams.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


async def read_topic(settings: Settings, count: int, timeout_s: float = 60) -> list[Any]:
    """`count` events, plus any duplicate or stray that arrives within a second after."""
    return await read_records(settings.brokers, settings.events_topic, count, timeout_s, 1000)


async def test_simulated_day_through_kafka_worker_and_redis_equals_the_pure_core(
    kafka_bootstrap: str, redis_url: str, tmp_path: Path
) -> None:
    settings = settings_for(kafka_bootstrap, redis_url)
    await create_topics(settings)
    path = tmp_path / "it.yaml"
    path.write_text(SCENARIO)
    done = await asyncio.to_thread(
        ccmon, settings, "simulate", str(path), "--start", START.isoformat(), "--speed", "max"
    )
    assert done.returncode == 0, done.stderr
    events = list(Simulation(parse_scenario(SCENARIO), START).events())
    assert f"ccmon simulate: {len(events):,} events sent" in done.stderr

    records = await read_topic(settings, len(events))
    assert sorted(r.value for r in records) == sorted(orjson.dumps(e) for _, _, e in events)
    keys = {orjson.loads(r.value)["id"]: r.key.decode() for r in records}
    assert keys == {e["id"]: key for _, key, e in events}

    store = RedisStore.from_url(redis_url, prefix=settings.redis_prefix)
    end_ms = START_MS + 3_600_000
    async with worker(settings, QUEUES):
        expected = dump(measure(events, QUEUES, end_ms), START_MS, end_ms)
        for _ in range(300):
            got = await asyncio.to_thread(dump, store, START_MS, end_ms)
            if got == expected:
                break
            await asyncio.sleep(0.2)
    assert got == expected
    assert expected[("sales", "voice")]["totals"]["flowed_out"] > 0


CX_SCENARIO = """\
name: it-cx
seed: 10
duration: 40m
queues:
  - name: care
    arrivals_per_hour: 300
    patience: {dist: exponential, mean_s: 60}
    talk: {dist: exponential, mean_s: 40}
agents:
  - {name: c, count: 5, queues: [care]}
tickets:
  - queue: care
    channel: email
    tickets_per_hour: 120
    priorities: {normal: 3, urgent: 1}
    complaint: 0.2
    first_reply: {dist: exponential, mean_s: 120}
    follow_up: {dist: exponential, mean_s: 60}
    customer_reply: {probability: 0.4, delay: {dist: exponential, mean_s: 120}}
    internal_note: 0.3
    on_hold: {probability: 0.2, length: {dist: fixed, mean_s: 60}}
    solve: {dist: exponential, mean_s: 60}
    reopen: {probability: 0.3, length: {dist: exponential, mean_s: 120}}
    escalation: 0.2
surveys:
  csat: {after_contact: 0.5, after_ticket: 0.5, scores: [1, 1, 1, 1, 1]}
  nps: {after_contact: 0.3, scores: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]}
self_service:
  - {queue: care, sessions_per_hour: 200, resolved: 0.5, escalated: 0.3,
     duration: {dist: fixed, mean_s: 30}}
customers:
  pool: 40
  resolved: 0.6
  come_back: {probability: 0.5, delay: {dist: exponential, mean_s: 300}}
  upsell: {offered: 0.3, accepted: 0.5}
"""
CX_QUEUES = QueuesConfig(queues=(QueueConfig(name="care"),))


async def test_simulated_tickets_surveys_and_customers_through_the_worker_equal_the_core(
    kafka_bootstrap: str, redis_url: str, tmp_path: Path
) -> None:
    """The worker (which forwards customer.contact events itself) agrees with the core."""
    salt = "it-cx-salt"
    settings = settings_for(kafka_bootstrap, redis_url, customer_id_salt=salt)
    await create_topics(settings)
    path = tmp_path / "cx.yaml"
    path.write_text(CX_SCENARIO)
    done = await asyncio.to_thread(
        ccmon, settings, "simulate", str(path), "--start", START.isoformat(), "--speed", "max"
    )
    assert done.returncode == 0, done.stderr
    events = list(Simulation(parse_scenario(CX_SCENARIO), START).events())
    assert f"ccmon simulate: {len(events):,} events sent" in done.stderr

    store = RedisStore.from_url(redis_url, prefix=settings.redis_prefix)
    end_ms = START_MS + 3_600_000
    expected = dump(measure(events, CX_QUEUES, end_ms, salt.encode()), START_MS, end_ms)
    async with worker(settings, CX_QUEUES):
        for _ in range(300):
            got = await asyncio.to_thread(dump, store, START_MS, end_ms)
            if got == expected:
                break
            await asyncio.sleep(0.2)
    assert got == expected
    totals = expected[("care", "email")]["totals"]
    assert totals["tickets_reopened"] > 0 and totals["fcr_contacts"] > 0
    voice = expected[("care", "voice")]["totals"]
    assert voice["repeat_contacts"] > 0 and voice["selfservice_escalated"] > 0


async def test_replay_reports_bad_lines_checkpoints_and_resumes(
    kafka_bootstrap: str, redis_url: str, tmp_path: Path
) -> None:
    settings = settings_for(kafka_bootstrap, redis_url)
    await create_topics(settings)
    events = list(Simulation(parse_scenario(SCENARIO), START, duration_s=300).events())
    lines = [orjson.dumps(e).decode() for _, _, e in events]
    lines.insert(5, "{this is not json")
    source = tmp_path / "day.jsonl"
    source.write_text("\n".join(lines) + "\n")
    checkpoint = tmp_path / "day.checkpoint"
    # As if an earlier run had stopped after line 10 (the bad line 6 among them).
    checkpoint.write_text(
        orjson.dumps(
            {"source": str(source.resolve()), "line": 10, "offset_ms": 0, "done": False}
        ).decode()
    )
    done = await asyncio.to_thread(
        ccmon, settings, "replay", str(source), "--checkpoint", str(checkpoint)
    )
    assert done.returncode == 0, done.stderr  # the bad line was before the checkpoint
    assert f"resuming {source} after line 10" in done.stderr
    sent = len(events) - 9
    assert f"{sent:,} events sent" in done.stderr
    records = await read_topic(settings, sent)
    assert sorted(orjson.loads(r.value)["id"] for r in records) == sorted(
        e["id"] for _, _, e in events[9:]
    )
    assert orjson.loads(checkpoint.read_text())["done"] is True

    again = await asyncio.to_thread(
        ccmon, settings, "replay", str(source), "--checkpoint", str(checkpoint)
    )
    assert again.returncode == 0 and "was replayed completely" in again.stderr

    fresh = await asyncio.to_thread(ccmon, settings, "replay", str(source), "--no-checkpoint")
    assert fresh.returncode == 1
    assert f"{source}:6: malformed_json" in fresh.stderr
    assert f"{len(events):,} events sent" in fresh.stderr and "1 bad lines" in fresh.stderr


async def test_import_to_kafka_keys_events_as_the_contract_says(
    kafka_bootstrap: str, redis_url: str
) -> None:
    settings = settings_for(kafka_bootstrap, redis_url)
    await create_topics(settings)
    fixture = Path(__file__).parents[1] / "fixtures" / "queue_log"
    # The fixture is dated in the past: moved by whole weeks into the worker's retention.
    args = ("import", "asterisk", str(fixture), "--kafka", "--retime", "weeks")
    done = await asyncio.to_thread(ccmon, settings, *args)
    assert done.returncode == 0, done.stderr
    records = await read_topic(settings, 40)
    assert len(records) == 40
    for record in records:
        data = orjson.loads(record.value)["data"]
        assert record.key.decode() == data.get("contact_id", data.get("agent_id"))
