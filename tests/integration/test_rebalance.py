"""N real worker processes on N partitions stay exact through rebalances.

One worker is killed with SIGKILL while events arrive, a new one joins, and the group moves
the partitions between them; the store must then hold exactly what one clean pass through
the in-memory twin holds (every pane, interval, live gauge and total of every series).
Which worker owns which partition is read from each worker's own "assigned [...]" log line.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from metrics.store.redis import RedisStore
from streams.settings import Settings
from streams.testing.events import yesterday_ms
from tests.integration.pipeline_helpers import dump, keyed, produce, settings_for
from tests.integration.test_worker import expected_of
from tests.servers import KafkaServer
from tests.servers import create_topics as create_topics_on
from tests.traffic import messy_stream

pytestmark = pytest.mark.integration

T0 = yesterday_ms() + 9 * 3_600_000
REPO_ROOT = str(Path(__file__).resolve().parents[2])
#: streams.kafka's "assigned [...]" line, and aiokafka's revocation line before each rebalance
OWNERSHIP = re.compile(r"streams\.kafka assigned \[(.*?)\]|(Revoking previously assigned)")
CHUNKS = 8


class WorkerProcess:
    """One `ccmon worker` subprocess and what its log says it owns."""

    def __init__(self, name: str, env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log = log_dir / f"{name}.log"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streams.cli", "worker", "--log-level", "info"],
            env=env,
            cwd=log_dir,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
        )

    def assignments(self) -> list[set[int]]:
        """Every assignment this worker logged, in order, as partition numbers."""
        return [s for s, revoked in self._ownership() if not revoked]

    def owns(self) -> set[int]:
        """What it owns now: its last assignment, unless a revocation followed it."""
        seen = self._ownership()
        return seen[-1][0] if seen else set()

    def _ownership(self) -> list[tuple[set[int], bool]]:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        out: list[tuple[set[int], bool]] = []
        for m in OWNERSHIP.finditer(text):
            if m.group(2):
                out.append((set(), True))
                continue
            tps = (tp.strip(" '\"") for tp in m.group(1).split(","))
            out.append(({int(tp.rsplit(":", 1)[1]) for tp in tps if tp}, False))
        return out

    def check_alive(self) -> None:
        if self.proc.poll() is not None:
            tail = self.log.read_text(errors="replace")[-2000:]
            raise AssertionError(f"worker {self.name} exited ({self.proc.returncode}): {tail}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def env_of(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    for name, value in settings.as_dict(plaintext_secrets=True).items():
        if value is not None:
            env[f"CCMON_{name.upper()}"] = str(value)
    env["PYTHONPATH"] = REPO_ROOT
    return env


async def wait_for_split(workers: list[WorkerProcess], partitions: int, timeout_s: float) -> None:
    """Until every live worker owns exactly one partition and together they own them all."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for w in workers:
            w.check_alive()
        owned = [w.owns() for w in workers]
        if all(len(o) == 1 for o in owned) and set().union(*owned) == set(range(partitions)):
            return
        await asyncio.sleep(0.2)
    logs = {w.name: w.assignments() for w in workers}
    raise AssertionError(f"no one-partition-each split within {timeout_s} s: {logs}")


async def wait_applied(
    store: RedisStore, wanted: dict[str, int], workers: list[WorkerProcess], timeout_s: float
) -> None:
    """Until the store applied up to `wanted`; fails at once when a worker died."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for w in workers:
            w.check_alive()
        if await asyncio.to_thread(store.load_offsets) == wanted:
            return
        await asyncio.sleep(0.2)
    got = await asyncio.to_thread(store.load_offsets)
    raise AssertionError(f"not all applied within {timeout_s} s: store {got}, topic {wanted}")


def merged(*offsets: dict[str, int]) -> dict[str, int]:
    out: dict[str, int] = {}
    for part in offsets:
        for tp, offset in part.items():
            out[tp] = max(out.get(tp, -1), offset)
    return out


@pytest.mark.parametrize("count", [4, 8])
async def test_workers_through_kill_join_and_moves_equal_one_clean_pass(
    count: int, kafka_server: KafkaServer, redis_url: str, tmp_path: Path
) -> None:
    session = 2000 if kafka_server.is_tansu else 6000
    settings = settings_for(
        kafka_server.bootstrap,
        redis_url,
        max_batch=100,
        session_timeout_ms=session,
        topic_partitions=count,
    )
    await create_topics_on(
        settings.brokers, {settings.events_topic: count, settings.deadletter_topic: count}
    )
    values = keyed(messy_stream(T0, contacts=600 * count, seed=12))
    size = -(-len(values) // CHUNKS)
    chunks = [values[i : i + size] for i in range(0, len(values), size)]
    env = env_of(settings)
    store = RedisStore.from_url(redis_url, prefix=settings.redis_prefix)
    rng = random.Random(count)
    workers = [WorkerProcess(f"w{i}", env, tmp_path) for i in range(count)]
    every = list(workers)
    try:
        await wait_for_split(workers, count, timeout_s=30 + 8 * session / 1000)
        # Warm-up: every worker applies its share of the first chunk.
        wanted = await produce(settings, chunks[0])
        await wait_applied(store, wanted, workers, timeout_s=60)
        victim = workers[0]
        (lost,) = victim.owns()
        before_kill = store.load_offsets()

        async def feed() -> dict[str, int]:
            last: dict[str, int] = {}
            for chunk in chunks[1:-1]:
                last = merged(last, await produce(settings, chunk))
                await asyncio.sleep(0.2)
            return last

        feeding = asyncio.create_task(feed())
        # SIGKILL the victim once it is applying the new events: mid-batch, mid-flush or
        # between a flush and its commit.
        tp = f"{settings.events_topic}:{lost}"
        for _ in range(400):
            if store.load_offsets().get(tp, -1) > before_kill.get(tp, -1):
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(rng.uniform(0, 0.2))
        victim.proc.send_signal(signal.SIGKILL)
        victim.proc.wait()
        applied_at_kill = sum(o + 1 for o in store.load_offsets().values())
        splits_at_kill = {w.name: len(w.assignments()) for w in workers[1:]}
        workers = workers[1:] + [WorkerProcess(f"w{count}", env, tmp_path)]
        every.append(workers[-1])
        wanted = merged(wanted, await feeding)
        await wait_for_split(workers, count, timeout_s=60 + 8 * session / 1000)
        # The last chunk lands after the new split: the newcomer applies events too.
        wanted = merged(wanted, await produce(settings, chunks[-1]))
        await wait_applied(store, wanted, workers, timeout_s=120)
    finally:
        for w in every:
            w.stop()

    assert applied_at_kill < len(values), "the kill landed after the whole stream was applied"
    newcomer = every[-1]
    assert newcomer.owns(), newcomer.assignments()
    # The lost partition moved to a live worker (the newcomer or a survivor).
    assert any(lost in w.owns() for w in workers)
    # Every survivor was rebalanced at least once after the kill and the join.
    assert all(len(w.assignments()) > splits_at_kill[w.name] for w in every[1:count])
    expected = await expected_of(values)
    span = (T0 - 3_600_000, T0 + 6 * 3_600_000)
    got = await asyncio.to_thread(dump, store, *span)
    want = dump(expected, *span)
    assert got == want, {w.name: w.log.read_text()[-1500:] for w in every}
    assert sum(v["totals"].get("queued", 0) for v in want.values()) > 0
