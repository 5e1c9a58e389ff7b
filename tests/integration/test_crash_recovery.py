"""Kill the real worker process (SIGKILL) at random moments; the aggregates stay exact."""

from __future__ import annotations

import asyncio
import logging
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from metrics.store.redis import RedisStore
from streams.testing.events import yesterday_ms
from tests.integration.pipeline_helpers import (
    create_topics,
    dump,
    keyed,
    produce,
    settings_for,
    wait_until_applied,
)
from tests.integration.test_worker import expected_of
from tests.traffic import messy_stream

pytestmark = pytest.mark.integration
log = logging.getLogger(__name__)

T0 = yesterday_ms() + 14 * 3_600_000
KILLS = 4
REPO_ROOT = str(Path(__file__).resolve().parents[2])


def start_worker(env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "streams.cli", "worker", "--loglevel", "warning"],
        env=env,
        cwd=cwd,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


async def test_sigkill_at_random_moments_then_restart_equals_one_clean_pass(
    kafka_bootstrap: str, redis_url: str, tmp_path: Path
) -> None:
    settings = settings_for(kafka_bootstrap, redis_url, max_batch=100, session_timeout_ms=6000)
    await create_topics(settings)
    values = keyed(messy_stream(T0, contacts=3000, seed=11))
    wanted = await produce(settings, values)
    env = dict(os.environ)
    for name, value in settings.as_dict(plaintext_secrets=True).items():
        if value is not None:
            env[f"CCMON_{name.upper()}"] = str(value)
    env["PYTHONPATH"] = REPO_ROOT
    log_path = tmp_path / "worker.log"
    store = RedisStore.from_url(redis_url, prefix=settings.redis_prefix)
    rng = random.Random(2026)
    kills_mid_run, applied = 0, 0
    for _ in range(KILLS):
        proc = start_worker(env, tmp_path, log_path)
        # Wait until this worker joined the group and applied more, then kill it at once
        # or a moment later: mid-batch, mid-flush or between flush and commit.
        for _ in range(600):
            now_applied = sum(o + 1 for o in store.load_offsets().values())
            if now_applied > applied or proc.poll() is not None:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(rng.uniform(0, 0.3))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        applied = sum(o + 1 for o in store.load_offsets().values())
        kills_mid_run += applied < len(values)
        log.info("killed with %d of %d records applied", applied, len(values))
    final = start_worker(env, tmp_path, log_path)
    try:
        await wait_until_applied(store, wanted, timeout_s=180)
    finally:
        final.send_signal(signal.SIGTERM)
        final.wait(60)
    expected = await expected_of(values)
    span = (T0, T0 + 4 * 3_600_000)
    assert dump(store, *span) == dump(expected, *span), log_path.read_text()[-3000:]
    assert kills_mid_run >= 2, f"only {kills_mid_run} kills landed mid-run: too few to prove much"
