"""The broker stalls while the worker produces dead letters: it waits, retries and resumes.

A Tansu of the test's own advertises a TCP proxy in front of it, so every connection the
worker makes goes through the proxy; the test stops the proxy's traffic for a few seconds,
several times, while a malformed burst is being dead-lettered. The producer's requests
time out, the outbox sends them again after a pause, and the run ends exact.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from streams.localservers import ManagedProcess, find_tansu_binary, free_port, kafka_api_versions
from tests.integration.pipeline_helpers import dump, keyed, read_records, settings_for
from tests.integration.test_worker import QUEUES, worker
from tests.integration.test_worker_faults import (
    DAY,
    T0,
    clean_pass,
    malformed,
    produce_all,
    sample,
    wait_until_count,
)
from tests.servers import create_topics
from tests.traffic import messy_stream

pytestmark = pytest.mark.integration

#: How long each stall lasts, and how many there are.
STALL_S = 3.0
STALLS = 3


class Proxy:
    """Forwards TCP from `port` to `upstream`; `stall()` holds all bytes while it lasts."""

    def __init__(self, port: int, upstream: int) -> None:
        self.port, self.upstream = port, upstream
        self.flowing = asyncio.Event()
        self.flowing.set()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream)
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pump(src, dst))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pump(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await src.read(65536):
                await self.flowing.wait()
                dst.write(data)
                await dst.drain()
        dst.close()

    async def stall(self, seconds: float) -> None:
        self.flowing.clear()
        await asyncio.sleep(seconds)
        self.flowing.set()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()


@contextlib.asynccontextmanager
async def proxied_tansu(log_dir: Path) -> AsyncIterator[tuple[str, Proxy]]:
    """Tansu on a port of its own, advertising the proxy's: yields (direct address, proxy)."""
    direct, front = free_port(), free_port()
    process = ManagedProcess(
        "tansu",
        [
            find_tansu_binary(),
            "broker",
            "--listener-url",
            f"tcp://127.0.0.1:{direct}",
            "--advertised-listener-url",
            f"tcp://127.0.0.1:{front}",
            "--storage-engine",
            "memory://tansu/",
        ],
        log_dir / "tansu.log",
        env={"NO_COLOR": "1"},
        stop_signal=signal.SIGKILL,
    )
    process.start()
    proxy = Proxy(front, direct)
    try:
        process.wait_ready(
            lambda: bool(kafka_api_versions("127.0.0.1", direct)), timeout_s=30, what="Tansu"
        )
        await proxy.start()
        yield f"127.0.0.1:{front}", proxy
    finally:
        await proxy.stop()
        process.stop()


async def stall_while_dead_lettering(registry: CollectorRegistry, proxy: Proxy) -> int:
    """Stall the broker STALLS times once dead letters are flowing; return how many."""
    stalls = 0
    deadline = time.monotonic() + 60
    while stalls < STALLS and time.monotonic() < deadline:
        rejected = sample(registry, "ccmon_events_rejected_total", reason="malformed_json")
        if rejected > 1000 * (stalls + 1):
            await proxy.stall(STALL_S)
            stalls += 1
        await asyncio.sleep(0.05)
    return stalls


async def test_a_broker_that_stalls_during_a_burst_of_dead_letters_is_waited_out(
    redis_url: str, tmp_path: Path
) -> None:
    async with proxied_tansu(tmp_path) as (front, proxy):
        settings = settings_for(
            front,
            redis_url,
            outbox_max_records=500,
            max_batch=500,
            producer_request_timeout_ms=1000,
            delivery_max_backoff_s=0.5,
            session_timeout_ms=10_000,
        )
        await create_topics(front, {settings.events_topic: 4, settings.deadletter_topic: 4})
        bad = malformed(12_000, seed=12)
        values = bad + keyed(messy_stream(T0, contacts=1000, seed=13))
        await produce_all(settings, values)
        store = settings.redis_store(QUEUES)
        async with worker(settings) as registry:
            stalls = await stall_while_dead_lettering(registry, proxy)
            await wait_until_count(store, len(values), timeout_s=180)
        letters = await read_records(front, settings.deadletter_topic, len(bad), grace_ms=2000)
    expected, _ = await clean_pass(settings, values)
    assert stalls == STALLS
    assert dump(store, T0, T0 + DAY) == dump(expected, T0, T0 + DAY)
    # Every bad record is in the dead-letter topic; a request the broker wrote but whose
    # answer the stall held back is sent again, so a few may be there twice.
    assert {r.value for r in letters} == {v for _, v in bad}
    assert sample(registry, "ccmon_outbox_retries_total") > 0
    assert sample(registry, "ccmon_events_rejected_total", reason="malformed_json") == 12_000
