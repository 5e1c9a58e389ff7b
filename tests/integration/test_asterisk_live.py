"""Asterisk, live: a recorded AMI session -> `ccmon connect asterisk` -> the real broker ->
the worker -> Redis (the queue figures; and the floor's: offers, a miss, transfers, who hung
up, a pause reason), and `ccmon import asterisk --follow` across log rotation.

No Asterisk server can be installed here: the AMI session is the recording in
tests/fixtures/asterisk, played over TCP by tests/unit/streams/producers/connect/ami_server.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from metrics.clock import wall_ms
from metrics.config.queues import QueueConfig, QueuesConfig
from metrics.store.redis import RedisStore
from streams.producers.connect.asterisk import AmiConnector, AmiOptions
from streams.producers.connect.deadletters import KafkaDeadLetters
from streams.producers.sinks import KafkaSink
from streams.sources.asterisk_ami import AmiMapper
from tests.integration.pipeline_helpers import (
    create_topics,
    dump,
    read_dead_letters,
    read_records,
    settings_for,
)
from tests.integration.test_worker import worker
from tests.unit.streams.producers.connect.ami_server import FIXTURE, SECRET, AmiServer, recording

pytestmark = pytest.mark.integration

RECORDED_AT_S = 1_794_816_000
QUEUES = QueuesConfig(queues=(QueueConfig(name="support"), QueueConfig(name="sales")))
#: events the recording maps to (tests/unit/streams/sources/test_asterisk_ami.py lists them)
EVENTS = 25
#: a second recording: a miss, a blind transfer into sales, an agent hang-up, a lunch
#: pause, a consult transfer, and a call-class event to ignore (27 events)
FLOOR = FIXTURE.with_name("ami-floor.txt")
FLOOR_EVENTS = 29


async def test_recorded_ami_session_through_broker_and_worker_gives_the_queue_figures(
    kafka_bootstrap: str, redis_url: str
) -> None:
    settings = settings_for(kafka_bootstrap, redis_url)
    await create_topics(settings)
    # The recording is replayed as if it began 5 minutes ago (it must not age out).
    start_s = int(time.time()) - 300
    banner, messages = recording()
    # The line drops after 20 messages; the second session repeats 8 of them.
    server = AmiServer(
        banner, messages, plays=[(0, 20), (12, None)], offset_s=start_s - RECORDED_AT_S
    )
    port = await server.start()
    sink, dead = KafkaSink(settings), KafkaDeadLetters(settings)
    options = AmiOptions("127.0.0.1", port, "ccmon", SECRET, max_backoff_s=0.5)
    connector = AmiConnector(options, sink, dead)
    stop = asyncio.Event()
    await sink.start()
    await dead.start()
    task = asyncio.create_task(connector.run(stop))
    try:
        records = await read_records(settings.brokers, settings.events_topic, EVENTS, 60, 1000)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await sink.close()
        await dead.close()
        await server.close()
    assert connector.sessions == 2
    events = [orjson.loads(r.value) for r in records]
    assert len(events) == EVENTS == len({e["id"] for e in events})
    assert {r.key.decode() for r in records if b'"contact.' in r.value} == {
        f"{RECORDED_AT_S + t}.{n}" for n, t in [(1, 10), (2, 20), (3, 25), (4, 40), (5, 120)]
    }
    letters = await read_dead_letters(settings, 2)
    reasons = sorted(dict(r.headers)["ccmon.reason"].decode() for r in letters)
    assert reasons == ["invalid_value", "unknown_event"]

    store = RedisStore.from_url(redis_url, prefix=settings.redis_prefix)
    begin_ms, end_ms = start_s * 1000 - 60_000, wall_ms() + 60_000
    want_support = {
        "queued": 4,
        "answered": 2,
        "abandoned": 1,
        "wait_answered_sum_ms": 11_000,  # 8 s + 3 s
        "wait_abandoned_sum_ms": 12_000,
        "handled": 2,
        "talk_ms": 117_000,  # 60 s + 57 s
        "offers": 2,
        "disconnect_customer": 1,
        "disconnect_agent": 1,
    }
    async with worker(settings, QUEUES):
        for _ in range(300):
            got = await asyncio.to_thread(dump, store, begin_ms, end_ms)
            if _figures(got, ("support", "voice"), want_support) and _figures(
                got, ("sales", "voice"), {"queued": 1, "flowed_out": 1}
            ):
                break
            await asyncio.sleep(0.2)
    support, sales = got[("support", "voice")], got[("sales", "voice")]
    assert {k: support["totals"].get(k, 0) for k in want_support} == want_support
    sales_keys = ("queued", "answered", "flowed_out", "offers", "offers_declined_missed")
    assert {k: sales["totals"].get(k, 0) for k in sales_keys} == {
        "queued": 1,
        "answered": 0,
        "flowed_out": 1,
        "offers": 1,
        "offers_declined_missed": 1,
    }
    assert support["waiting"] == 1  # the caller who joined last is still waiting
    assert sales["waiting"] == 0


async def test_the_floor_through_broker_and_worker_gives_offers_transfers_ends_and_reasons(
    kafka_bootstrap: str, redis_url: str
) -> None:
    settings = settings_for(kafka_bootstrap, redis_url)
    await create_topics(settings)
    start_s = int(time.time()) - 300
    banner, messages = recording(FLOOR)
    server = AmiServer(banner, messages, offset_s=start_s - RECORDED_AT_S)
    port = await server.start()
    sink, dead = KafkaSink(settings), KafkaDeadLetters(settings)
    # The transfers are of AMI's `call` class: the Login asks for it.
    options = AmiOptions("127.0.0.1", port, "ccmon", SECRET, events="agent,call")
    mapper = AmiMapper(transfer_queues={"700@queues": "sales"})
    # QueueStatus answers carry no Timestamp: received "when the recording began".
    connector = AmiConnector(options, sink, dead, mapper, clock=lambda: start_s * 1000)
    stop = asyncio.Event()
    await sink.start()
    await dead.start()
    task = asyncio.create_task(connector.run(stop))
    try:
        records = await read_records(
            settings.brokers, settings.events_topic, FLOOR_EVENTS, 60, 1000
        )
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await sink.close()
        await dead.close()
        await server.close()
    assert b"Events: agent,call\r\n" in server.actions[0][0]
    assert len(records) == FLOOR_EVENTS and dead.counts == {}
    assert mapper.ignored == {"Newchannel": 1}

    queues = QUEUES.model_copy(update={"reason_codes": ("Lunch",)})
    store = RedisStore.from_url(redis_url, prefix=settings.redis_prefix)
    begin_ms, end_ms = start_s * 1000 - 60_000, wall_ms() + 60_000
    want_support = {
        "queued": 2,
        "answered": 2,
        "wait_answered_sum_ms": 24_000,  # 20 s (after bob's miss) + 4 s
        "handled": 2,
        "talk_ms": 74_000,  # alice 40 s until her transfer, bob 46 s less 12 s on hold
        "hold_ms": 12_000,  # bob held his caller from 50 s to 62 s
        "holds": 1,
        "hold_abandons": 0,
        "offers": 3,  # bob (missed) and alice for the first call, bob for the second
        "offers_declined_missed": 1,
        "transfers_out_blind": 1,
        "transfers_out_consult": 0,
        "transfers_in": 0,
        "disconnect_agent": 1,
        "disconnect_customer": 0,
    }
    want_sales = {
        "queued": 1,
        "answered": 1,
        "wait_answered_sum_ms": 4_000,
        "handled": 1,
        "talk_ms": 45_000,
        "hold_ms": 0,
        "holds": 0,
        "offers": 1,
        "offers_declined_missed": 0,
        "transfers_out_blind": 0,
        "transfers_out_consult": 1,
        "transfers_in": 1,  # the blind transfer to 700@queues
        "disconnect_agent": 0,
        "disconnect_customer": 0,
    }
    # Now: alice available, bob at lunch (support); carol available again (sales).
    live_keys = ("agents_available", "agents_not_ready", "agents_on_contact")
    want_live = {
        ("support", "voice"): {
            "agents_available": 1,
            "agents_not_ready": 1,
            "agents_on_contact": 0,
            "agents_reason_Lunch": 1,
        },
        ("sales", "voice"): {"agents_available": 1, "agents_not_ready": 0, "agents_on_contact": 0},
    }

    def live(got: dict[Any, dict[str, Any]], series: Any) -> dict[str, int]:
        keys = (*live_keys, *(k for k in want_live[series] if k not in live_keys))
        return {k: got.get(series, {}).get("agents", {}).get(k, 0) for k in keys}

    async with worker(settings, queues):
        for _ in range(300):
            got = await asyncio.to_thread(dump, store, begin_ms, end_ms)
            if (
                _figures(got, ("support", "voice"), want_support)
                and _figures(got, ("sales", "voice"), want_sales)
                and all(live(got, s) == want_live[s] for s in want_live)
            ):
                break
            await asyncio.sleep(0.2)
    support, sales = got[("support", "voice")], got[("sales", "voice")]
    assert {k: support["totals"].get(k, 0) for k in want_support} == want_support
    assert {k: sales["totals"].get(k, 0) for k in want_sales} == want_sales
    assert {s: live(got, s) for s in want_live} == want_live


def _figures(got: dict[Any, dict[str, Any]], series: Any, want: dict[str, int]) -> bool:
    totals = got.get(series, {}).get("totals", {})
    return all(totals.get(k, 0) == v for k, v in want.items())


def _follower(settings: Any, log: Path, checkpoint: Path) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "CCMON_BROKERS": settings.brokers,
        "CCMON_EVENTS_TOPIC": settings.events_topic,
        "CCMON_DEADLETTER_TOPIC": settings.deadletter_topic,
    }
    command = [sys.executable, "-m", "streams.cli", "import", "asterisk", str(log), "--follow"]
    command += ["--kafka", "--checkpoint", str(checkpoint), "--poll-s", "0.2"]
    return subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    return stderr


async def test_follow_across_rotation_and_a_restart_sends_each_event_once(
    kafka_bootstrap: str, redis_url: str, tmp_path: Path
) -> None:
    settings = settings_for(kafka_bootstrap, redis_url)
    await create_topics(settings)
    log, checkpoint = tmp_path / "queue_log", tmp_path / "queue_log.checkpoint"
    base = int(time.time()) - 600
    calls = iter(range(1, 100))

    def append(count: int, path: Path = log, mode: str = "a") -> None:
        with open(path, mode, encoding="utf-8") as handle:
            for n in (next(calls) for _ in range(count)):
                handle.write(f"{base + n}|call-{n}|support|NONE|ENTERQUEUE||+49{n}|1\n")

    async def topic_holds(count: int, grace_ms: int = 0) -> list[Any]:
        return await read_records(settings.brokers, settings.events_topic, count, 60, grace_ms)

    append(3)
    first = _follower(settings, log, checkpoint)
    try:
        assert len(await topic_holds(3)) == 3
        append(2)
        log.rename(tmp_path / "queue_log.1")  # rotation: rename + new file
        append(2, mode="w")
        assert len(await topic_holds(7)) == 7
    finally:
        said = _stop(first)
    assert "1 rotations, 0 truncations" in said

    append(2)  # while stopped: more lines, then another rename rotation
    log.rename(tmp_path / "queue_log.2")
    append(1, mode="w")
    second = _follower(settings, log, checkpoint)
    try:
        assert len(await topic_holds(10)) == 10
        append(1)
        assert len(await topic_holds(11)) == 11
        shutil.copy(log, tmp_path / "queue_log.3")  # rotation: copytruncate
        os.truncate(log, 0)
        append(2)
        records = await topic_holds(13, grace_ms=1500)
    finally:
        said = _stop(second)
    assert "1 rotations, 1 truncations" in said
    contacts = [orjson.loads(r.value)["data"]["contact_id"] for r in records]
    assert sorted(contacts) == sorted(f"call-{n}" for n in range(1, 14))
    assert len({orjson.loads(r.value)["id"] for r in records}) == 13
