"""The snapshot topic publisher of the routing feed (wired into the exporter by streams.exporter).

Snapshots go to a compacted topic (CCMON_SNAPSHOTS_TOPIC, default ccmon.snapshots),
keyed by queue, value = the queue's routing snapshot (docs/events.md#routing-snapshots).
A queue's snapshot is published when it changed and at most once per
CCMON_SNAPSHOT_INTERVAL_MS; a change held back by the interval goes out at the first
refresh after it. The publisher runs in the exporter because the exporter already
rebuilds the snapshots in memory for the read API: the topic and the API carry the very
same documents, and Redis gets no second reader.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from metrics.routing.cache import RoutingCache, Snapshots
from streams.connections import kafka_options, kafka_refusal
from streams.settings import Settings
from streams.topics import ensure_snapshots_topic

__all__ = ["SnapshotPublisher", "publishing"]

log = logging.getLogger(__name__)

#: Longest wait for the broker at exporter start before serving without the topic.
STARTUP_WAIT_S = 5.0
#: Longest single attempt to create the topic and start the producer.
CONNECT_TIMEOUT_S = 30.0
#: Pause between attempts while the broker is unreachable.
RETRY_S = 10.0

Send = Callable[[str, bytes, bytes], Awaitable[None]]


class SnapshotPublisher:
    """Decides which snapshots to publish (on change, rate-limited per queue) and sends them."""

    def __init__(self, send: Send, topic: str, min_interval_ms: int) -> None:
        self.send = send
        self.topic = topic
        self.min_interval_ms = min_interval_ms
        self.published: dict[str, bytes] = {}
        self.sent_at: dict[str, int] = {}
        self.sent = 0

    def due(self, snapshots: Snapshots) -> list[str]:
        """Queues whose snapshot changed since last sent and whose interval has passed."""
        now = snapshots.time_ms
        out = []
        for queue, key in snapshots.change_keys.items():
            if self.published.get(queue) == key:
                continue
            last = self.sent_at.get(queue)
            if last is None or now - last >= self.min_interval_ms:
                out.append(queue)
        return out

    async def __call__(self, snapshots: Snapshots) -> None:
        for queue in self.due(snapshots):
            await self.send(self.topic, queue.encode(), snapshots.bodies[queue])
            self.published[queue] = snapshots.change_keys[queue]
            self.sent_at[queue] = snapshots.time_ms
            self.sent += 1


async def _connect(settings: Settings) -> AIOKafkaProducer:
    """Create the topic when missing and start a producer; stop it again on failure."""
    producer = AIOKafkaProducer(**kafka_options(settings), linger_ms=5)
    try:
        if settings.create_topics:
            await ensure_snapshots_topic(settings)
        await producer.start()
    except BaseException:
        with contextlib.suppress(Exception):
            await producer.stop()
        raise
    return producer


def publishing(
    cache: RoutingCache, settings: Settings
) -> Callable[[web.Application], AsyncIterator[None]]:
    """Connect in the background (retrying) so a broker outage never blocks the exporter."""

    async def publishing(app: web.Application) -> AsyncIterator[None]:
        producers: list[AIOKafkaProducer] = []

        async def send(topic: str, key: bytes, value: bytes) -> None:
            await producers[0].send(topic, value=value, key=key)

        async def connect() -> None:
            while True:
                try:
                    producer = await asyncio.wait_for(_connect(settings), CONNECT_TIMEOUT_S)
                except (KafkaError, OSError, TimeoutError) as exc:
                    refused = await kafka_refusal(settings)
                    if refused is not None:  # a retry cannot help: say which setting, once
                        log.error("snapshot topic: %s; not publishing snapshots", refused)
                        return
                    log.warning(
                        "snapshot topic: cannot reach %s (%s); retrying in %.0f s",
                        settings.brokers,
                        exc,
                        RETRY_S,
                    )
                    await asyncio.sleep(RETRY_S)
                    continue
                producers.append(producer)
                cache.listeners.append(
                    SnapshotPublisher(send, settings.snapshots_topic, settings.snapshot_interval_ms)
                )
                return

        task = asyncio.create_task(connect())
        # A reachable broker is connected before the first refresh, so that one is sent too.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(task), STARTUP_WAIT_S)
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        for producer in producers:
            with contextlib.suppress(KafkaError):
                await producer.stop()

    return publishing
