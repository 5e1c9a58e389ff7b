"""Two workers in one group over a replayed day with tickets equal one clean pass.

The key contract is what makes this true: every event of a ticket (an agent's reply
included) reaches the worker that owns the ticket's state (streams.producers.keys).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from metrics.config.queues import QueueConfig, QueuesConfig
from streams.producers.sim.model import Simulation
from streams.producers.sim.scenario import load_scenario
from streams.settings import Settings
from streams.testing.events import yesterday_ms
from tests.integration.pipeline_helpers import (
    create_topics,
    dump,
    keyed,
    read_records,
    settings_for,
    wait_until_applied,
)
from tests.integration.test_worker import expected_of, store_for, worker
from tests.servers import KafkaServer

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).parents[1] / "fixtures"
START_MS = yesterday_ms() + 8 * 3_600_000
QUEUES = QueuesConfig(queues=(QueueConfig(name="support"), QueueConfig(name="billing")))


def env_of(settings: Settings) -> dict[str, str]:
    """The environment a `ccmon` subprocess needs to use these settings."""
    env = dict(os.environ)
    for name, value in settings.as_dict(plaintext_secrets=True).items():
        if value is not None:
            env[f"CCMON_{name.upper()}"] = str(value)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    return env


async def test_two_workers_over_replayed_tickets_equal_one_clean_pass(
    kafka_server: KafkaServer, redis_url: str, tmp_path: Path
) -> None:
    session = 2000 if kafka_server.is_tansu else 6000
    settings = settings_for(kafka_server.bootstrap, redis_url, session_timeout_ms=session)
    await create_topics(settings)
    start = dt.datetime.fromtimestamp(START_MS / 1000, tz=dt.UTC)
    scenario = load_scenario(str(FIXTURES / "sim-everything.yaml"))
    events = [e for _, _, e in Simulation(scenario, start, duration_s=3 * 3600).events()]
    replied = [e for e in events if e["type"] == "ticket.replied" and "agent_id" in e["data"]]
    assert len(replied) > 20  # the events the old replay keyed by agent
    day = tmp_path / "day.jsonl"
    day.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))

    store = store_for(settings, QUEUES)
    async with worker(settings, QUEUES) as first, worker(settings, QUEUES) as second:
        await asyncio.sleep(4 * session / 1000)  # both in the group before the replay
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "streams.cli", "replay", str(day), "--no-checkpoint"],
            env=env_of(settings),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        records = await read_records(settings.brokers, settings.events_topic, len(events), 60)
        wanted: dict[str, int] = {}
        for r in records:
            tp = f"{r.topic}:{r.partition}"
            wanted[tp] = max(wanted.get(tp, -1), r.offset)
        await wait_until_applied(store, wanted)
    applied = [
        registry.get_sample_value("ccmon_events_applied_total") or 0 for registry in (first, second)
    ]
    assert all(n > 0 for n in applied) and sum(applied) >= len(events)

    # Every ticket's events went to one partition, keyed by the ticket.
    partitions: dict[str, set[int]] = {}
    for r in records:
        data = orjson.loads(r.value)["data"]
        if "ticket_id" in data and orjson.loads(r.value)["type"].startswith("ticket."):
            partitions.setdefault(data["ticket_id"], set()).add(r.partition)
            assert r.key.decode() == data["ticket_id"]
    assert partitions and all(len(p) == 1 for p in partitions.values())

    span = (START_MS - 3_600_000, START_MS + 4 * 3_600_000)
    expected = dump(await expected_of(keyed(events), QUEUES), *span)
    got = await asyncio.to_thread(dump, store, *span)
    assert got == expected
    email = expected[("support", "email")]["totals"]
    assert email["tickets_created"] > 0 and email["ticket_first_response_count"] > 0
