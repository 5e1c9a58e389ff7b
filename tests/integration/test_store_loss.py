"""Redis restarted without persistence mid-run: the worker notices and rebuilds from the log."""

from __future__ import annotations

import asyncio
import os
import signal
import urllib.request
from pathlib import Path

import pytest

from metrics.store.redis import RedisStore
from streams.localservers.process import free_port
from streams.localservers.valkey import LocalRedis, find_redis_binary
from streams.testing.events import yesterday_ms
from tests.integration.pipeline_helpers import (
    create_topics,
    dump,
    keyed,
    produce,
    settings_for,
    wait_until_applied,
)
from tests.integration.test_crash_recovery import start_worker
from tests.integration.test_worker import expected_of
from tests.traffic import messy_stream

pytestmark = pytest.mark.integration

T0 = yesterday_ms() + 9 * 3_600_000
REPO_ROOT = str(Path(__file__).resolve().parents[2])


def _scrape(port: int, name: str) -> float:
    """One sample's value from the worker's own /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
        for line in reply.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    raise AssertionError(f"{name} not exported")


async def test_a_redis_restarted_without_persistence_is_rebuilt_to_the_clean_pass(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    found = find_redis_binary()
    assert found is not None, "no valkey-server/redis-server (the demo extra ships one)"
    redis = LocalRedis(*found, work_dir=tmp_path)
    url = redis.start()
    health_port = free_port()
    settings = settings_for(kafka_bootstrap, url, max_batch=200, worker_metrics_port=health_port)
    await create_topics(settings)
    values = keyed(messy_stream(T0, contacts=1500, seed=5))
    half = len(values) // 2
    await produce(settings, values[:half])
    env = dict(os.environ, PYTHONPATH=REPO_ROOT)
    for name, value in settings.as_dict(plaintext_secrets=True).items():
        if value is not None:
            env[f"CCMON_{name.upper()}"] = str(value)
    log_path = tmp_path / "worker.log"
    worker = start_worker(env, tmp_path, log_path)
    store = RedisStore.from_url(url, prefix=settings.redis_prefix)
    try:
        for _ in range(600):  # the first half applied
            if sum(o + 1 for o in store.load_offsets().values()) == half:
                break
            await asyncio.sleep(0.1)
        assert sum(o + 1 for o in store.load_offsets().values()) == half, log_path.read_text()
        port = redis.port
        redis.stop()  # no persistence: everything the worker wrote is gone
        redis = LocalRedis(*found, work_dir=tmp_path, port=port)
        redis.start()
        wanted = await produce(settings, values[half:])
        await wait_until_applied(store, wanted, timeout_s=120)
        lost = _scrape(health_port, "ccmon_store_data_lost_total")
        span = (T0, T0 + 2 * 3_600_000)
        rebuilt = dump(store, *span)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(60)
        redis.stop()
    expected = await expected_of(values)
    assert rebuilt == dump(expected, *span), log_path.read_text()[-3000:]
    assert lost == 1
    assert "lost its data" in log_path.read_text()


async def test_a_store_emptied_while_no_worker_ran_is_rebuilt_at_the_next_start(
    kafka_bootstrap: str, redis_url: str, tmp_path: Path
) -> None:
    settings = settings_for(kafka_bootstrap, redis_url, max_batch=200)
    await create_topics(settings)
    values = keyed(messy_stream(T0, contacts=600, seed=8))
    wanted = await produce(settings, values)
    env = dict(os.environ, PYTHONPATH=REPO_ROOT)
    for name, value in settings.as_dict(plaintext_secrets=True).items():
        if value is not None:
            env[f"CCMON_{name.upper()}"] = str(value)
    log_path = tmp_path / "worker.log"
    store = RedisStore.from_url(redis_url, prefix=settings.redis_prefix)
    span = (T0, T0 + 2 * 3_600_000)
    for run in range(2):
        worker = start_worker(env, tmp_path, log_path)
        try:
            await wait_until_applied(store, wanted, timeout_s=120)
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(60)
        if run == 0:  # the group has committed every offset; then the store loses it all
            store.client.delete(*store.client.scan_iter(f"{settings.redis_prefix}:*"))
    expected = await expected_of(values)
    assert dump(store, *span) == dump(expected, *span), log_path.read_text()[-3000:]
    assert "rebuilding it from the earliest offset" in log_path.read_text()
