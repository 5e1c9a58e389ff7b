"""Ctrl-C during a replay: the total it prints is the sum of its per-type counts, and is
what the broker holds."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import signal
import sys
from pathlib import Path

import orjson
import pytest

from streams.producers.sim.model import Simulation
from streams.producers.sim.scenario import load_scenario
from streams.testing.events import yesterday_ms
from tests.integration.pipeline_helpers import create_topics, read_records, settings_for
from tests.integration.test_two_workers_tickets import env_of

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).parents[1] / "fixtures"
START = dt.datetime.fromtimestamp((yesterday_ms() + 8 * 3_600_000) / 1000, tz=dt.UTC)
SUMMARY = re.compile(r"ccmon replay: interrupted: ([\d,]+) events sent \((.*)\) to ")


async def test_sigint_prints_a_total_that_matches_the_per_type_counts(
    kafka_bootstrap: str, redis_url: str, tmp_path: Path
) -> None:
    settings = settings_for(kafka_bootstrap, redis_url)
    await create_topics(settings)
    scenario = load_scenario(str(FIXTURES / "sim-everything.yaml"))
    events = [e for _, _, e in Simulation(scenario, START, duration_s=2 * 3600).events()]
    day = tmp_path / "day.jsonl"
    day.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
    # 2 hours at x300: 24 s or more, interrupted after 4.
    argv = [sys.executable, "-m", "streams.cli", "replay", str(day), "--speed", "300"]
    proc = await asyncio.create_subprocess_exec(
        *argv,
        env=env_of(settings),
        stderr=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
    )
    await asyncio.sleep(4)
    if proc.returncode is not None:
        _, early = await proc.communicate()
        raise AssertionError(f"the replay ended before the interrupt: {early.decode()[-2000:]}")
    proc.send_signal(signal.SIGINT)
    _, raw_err = await asyncio.wait_for(proc.communicate(), 60)
    err = raw_err.decode()
    assert proc.returncode == 130, err
    found = SUMMARY.search(err)
    assert found, err
    total = int(found[1].replace(",", ""))
    parts = {
        kind: int(n.replace(",", ""))
        for kind, n in (p.rsplit(" ", 1) for p in found[2].split(", "))
    }
    assert 0 < total < len(events)
    assert sum(parts.values()) == total
    # What was counted was stored: the broker has exactly those events, the file's first.
    records = await read_records(settings.brokers, settings.events_topic, total, 30, 1000)
    ids = sorted(orjson.loads(r.value)["id"] for r in records)
    assert ids == sorted(e["id"] for e in events[:total])
    # The checkpoint says where to resume.
    checkpoint = orjson.loads((tmp_path / "day.jsonl.checkpoint").read_bytes())
    assert checkpoint["done"] is False and checkpoint["line"] == total
