"""The routing feed in the exporter: snapshot topic publisher and the wiring of the API.

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
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from prometheus_client import CollectorRegistry

from metrics.clock import wall_ms
from metrics.config.queues import QueuesConfig
from metrics.exposition.routing import RoutingCollector
from metrics.routing.cache import RoutingCache, Snapshots
from metrics.store.base import AggregateStore
from metrics.store.redis import RedisStore
from metrics.web.routing import add_routing
from streams.settings import Settings

__all__ = [
    "SNAPSHOT_TOPIC_CONFIGS",
    "SnapshotPublisher",
    "ensure_snapshots_topic",
    "install_routing_feed",
]

log = logging.getLogger(__name__)

#: Set explicitly at creation: some brokers (Tansu) only report configs given then.
SNAPSHOT_TOPIC_CONFIGS = {"cleanup.policy": "compact", "min.compaction.lag.ms": "0"}

#: Longest wait for the broker at exporter start before serving without the topic.
STARTUP_WAIT_S = 5.0
#: Longest single attempt to create the topic and start the producer.
CONNECT_TIMEOUT_S = 30.0
#: Pause between attempts while the broker is unreachable.
RETRY_S = 10.0

Send = Callable[[str, bytes, bytes], Awaitable[None]]


async def ensure_snapshots_topic(settings: Settings) -> bool:
    """Create the compacted snapshots topic when missing; True when it was created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.brokers)
    await admin.start()
    try:
        if settings.snapshots_topic in set(await admin.list_topics()):
            return False
        topic = NewTopic(
            settings.snapshots_topic,
            settings.topic_partitions,
            1,
            topic_configs=SNAPSHOT_TOPIC_CONFIGS,
        )
        with contextlib.suppress(TopicAlreadyExistsError):
            await admin.create_topics([topic])
        log.info("created compacted topic %s", settings.snapshots_topic)
        return True
    finally:
        await admin.close()


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
    producer = AIOKafkaProducer(bootstrap_servers=settings.brokers, linger_ms=5)
    try:
        if settings.create_topics:
            await ensure_snapshots_topic(settings)
        await producer.start()
    except BaseException:
        with contextlib.suppress(Exception):
            await producer.stop()
        raise
    return producer


def _publishing(
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


def install_routing_feed(
    app: web.Application,
    registry: CollectorRegistry,
    store: AggregateStore,
    queues: QueuesConfig,
    settings: Settings,
    clock_ms: Callable[[], int] = wall_ms,
) -> RoutingCache:
    """Routing API, routing gauges and (if enabled) the snapshot topic, on one cache."""
    # Refreshes run in their own process (their own store connection): building the
    # snapshots of many queues would otherwise hold this process's GIL while requests
    # wait (p99 rose from ~3 ms to 30-40 ms at 100 queues, benchmarks/routing_api.py).
    factory = settings.redis_store if isinstance(store, RedisStore) else None
    cache = RoutingCache(store, queues, clock_ms, settings.routing_refresh_ms, factory)
    registry.register(RoutingCollector(cache))
    if settings.publish_snapshots:
        # Before add_routing's refresh task, so the first refresh is already published.
        app.cleanup_ctx.append(_publishing(cache, settings))
    token = settings.api_token
    add_routing(app, cache, token if token and token.get_secret_value() else None)
    return cache
