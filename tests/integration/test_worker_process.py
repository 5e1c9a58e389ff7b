"""The real `ccmon worker` process: waits out Kafka or Redis, exits on what it cannot fix.

Never a zombie: an error it cannot recover from ends the process non-zero with one log
line; Kafka or Redis away at start is retried and logged once; the health port answers
/healthz, /readyz and /metrics and 404 elsewhere.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
import redis

from metrics.store.redis import RedisStore
from streams.localservers import LocalRedis, LocalTansu, find_redis_binary, free_port
from streams.settings import Settings
from streams.testing.events import yesterday_ms
from tests.integration.pipeline_helpers import (
    PARTITIONS,
    create_topics,
    keyed,
    produce,
    settings_for,
    wait_until_applied,
)
from tests.servers import create_topics as create_topics_on
from tests.traffic import messy_stream

pytestmark = pytest.mark.integration

T0 = yesterday_ms() + 10 * 3_600_000
REPO_ROOT = str(Path(__file__).resolve().parents[2])


def start_worker(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    for name, value in settings.as_dict(plaintext_secrets=True).items():
        if value is not None:
            env[f"CCMON_{name.upper()}"] = str(value)
    env["PYTHONPATH"] = REPO_ROOT
    return subprocess.Popen(
        [sys.executable, "-m", "streams.cli", "worker", "--loglevel", "warning"],
        env=env,
        cwd=log.parent,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def get(port: int, path: str) -> tuple[int, str]:
    """Status and body of GET http://127.0.0.1:port/path (0 when nothing answers)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError:
        return 0, ""


async def until(check: Callable[[], object], what: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await asyncio.to_thread(check):
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"not within {timeout_s} s: {what}")


def lines_with(log: Path, text: str) -> list[str]:
    return [line for line in log.read_text(errors="replace").splitlines() if text in line]


def stop(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(60)


async def test_a_wrong_redis_password_exits_2_naming_the_setting(
    kafka_bootstrap: str, redis_url: str, tmp_path: Path
) -> None:
    wrong = redis_url.replace("redis://", "redis://ccmon:not-the-password@")
    settings = settings_for(kafka_bootstrap, wrong, worker_metrics_port=free_port())
    log = tmp_path / "worker.log"
    proc = start_worker(settings, log)
    try:
        status = proc.wait(60)
    finally:
        proc.kill()
    assert status == 2, log.read_text()[-3000:]
    [line] = lines_with(log, "CCMON_REDIS_URL")
    assert "refused the credentials" in line
    assert "not-the-password" not in log.read_text()
    assert len(lines_with(log, "CRITICAL")) == 1


async def test_keys_of_another_type_under_the_prefix_exit_1_with_one_line(
    kafka_bootstrap: str, redis_url: str, tmp_path: Path
) -> None:
    settings = settings_for(kafka_bootstrap, redis_url, worker_metrics_port=free_port())
    redis.Redis.from_url(redis_url).set(f"{settings.redis_prefix}:offsets:all", "not a hash")
    log = tmp_path / "worker.log"
    proc = start_worker(settings, log)
    try:
        status = proc.wait(60)
    finally:
        proc.kill()
    assert status == 1, log.read_text()[-3000:]
    [line] = lines_with(log, "CRITICAL")
    assert "CCMON_REDIS_PREFIX" in line


async def test_redis_away_at_start_is_waited_out_logged_once_and_probes_say_so(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    found = find_redis_binary()
    assert found is not None
    later = LocalRedis(*found, tmp_path / "redis", port=free_port())
    health = free_port()
    settings = settings_for(
        kafka_bootstrap, later.url, worker_metrics_port=health, session_timeout_ms=6000
    )
    await create_topics(settings)
    wanted = await produce(settings, keyed(messy_stream(T0, contacts=200, seed=2)))
    log = tmp_path / "worker.log"
    proc = start_worker(settings, log)
    try:
        await until(lambda: get(health, "/healthz")[0] == 200, "/healthz answers")
        status, body = get(health, "/readyz")
        assert (status, "store unreachable" in body) == (503, True)
        assert get(health, "/")[0] == 404 and get(health, "/metrics/x")[0] == 404
        # Several attempts fail while Redis is away; the log says so once.
        await until(lambda: lines_with(log, "unavailable"), "the outage logged")
        await asyncio.sleep(2)
        later.start()
        store = RedisStore.from_url(later.url, prefix=settings.redis_prefix)
        await wait_until_applied(store, wanted, timeout_s=60)
        await until(lambda: get(health, "/readyz") == (200, "ready\n"), "/readyz ready")
        status, metrics = get(health, "/metrics")
        assert status == 200 and "ccmon_events_applied_total" in metrics
        assert proc.poll() is None
        assert stop(proc) == 0
    finally:
        proc.kill()
        later.stop()
    assert len(lines_with(log, "Redis (the aggregate store) unavailable")) == 1


async def test_kafka_away_at_start_is_waited_out_and_logged_once(
    redis_url: str, tmp_path: Path
) -> None:
    broker = LocalTansu(tmp_path / "tansu", port=free_port())
    health = free_port()
    settings = settings_for(
        broker.address, redis_url, worker_metrics_port=health, session_timeout_ms=6000
    )
    log = tmp_path / "worker.log"
    proc = start_worker(settings, log)
    try:
        await until(lambda: get(health, "/healthz")[0] == 200, "/healthz answers")
        await until(lambda: lines_with(log, "unavailable"), "the outage logged")
        await asyncio.sleep(2)
        assert "no partition assignment yet" in get(health, "/readyz")[1]
        broker.start()
        # The worker creates them too as soon as it reaches the broker: either may be first.
        await create_topics_on(
            broker.address,
            {settings.events_topic: PARTITIONS, settings.deadletter_topic: PARTITIONS},
            exist_ok=True,
        )
        wanted = await produce(settings, keyed(messy_stream(T0, contacts=200, seed=3)))
        store = RedisStore.from_url(redis_url, prefix=settings.redis_prefix)
        await wait_until_applied(store, wanted, timeout_s=90)
        await until(lambda: get(health, "/readyz") == (200, "ready\n"), "/readyz ready")
        assert stop(proc) == 0
    finally:
        proc.kill()
        broker.stop()
    assert len(lines_with(log, f"Kafka ({broker.address}) unavailable")) == 1
    # aiokafka's own line of the first failed attempt; the retries after it are muted.
    assert len(lines_with(log, "Unable connect to")) == 1
