"""Kafka plumbing: topic creation and the batch consumer that drives a Pipeline."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import CommitFailedError, KafkaError

from metrics.config.queues import QueuesConfig
from metrics.store.base import AggregateStore
from streams.consume import Pipeline
from streams.health import WorkerMetrics
from streams.outbox import KafkaOutbox
from streams.settings import Settings

__all__ = ["run_consumer"]

log = logging.getLogger(__name__)

#: How often consumer lag and watermark gauges are refreshed, in seconds.
LAG_INTERVAL_S = 5.0

#: Cyclic-GC thresholds for the worker process. The state caches hold hundreds of thousands
#: of long-lived objects; with the default (700, 10, 10) full collections rescan them over
#: and over, which cost about a third of the per-event time in a 200k-event run.
GC_THRESHOLDS = (100_000, 50, 1000)


# aiokafka ships no types, so its listener base class is Any to mypy.
class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    """Flush and commit before partitions go; resume after the store's offsets after."""

    def __init__(self, consumer: AIOKafkaConsumer, pipeline: Pipeline) -> None:
        self.consumer = consumer
        self.pipeline = pipeline

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        async with self.pipeline.lock:
            await self.pipeline.flush_all()
            self.pipeline.forget()

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        async with self.pipeline.lock:
            self.pipeline.forget()
            await self.pipeline.start()
        for tp in assigned:
            stored = self.pipeline.applied.get(f"{tp.topic}:{tp.partition}")
            if stored is None:
                continue
            committed = await self.consumer.committed(tp)
            if committed is None or committed <= stored:
                self.consumer.seek(tp, stored + 1)
        log.info("assigned %s", sorted(f"{tp.topic}:{tp.partition}" for tp in assigned))


async def _report_lag(consumer: AIOKafkaConsumer, pipeline: Pipeline) -> None:
    for tp in consumer.assignment():
        high = consumer.highwater(tp)
        if high is None:
            continue
        position = await consumer.position(tp)
        pipeline.metrics.consumer_lag.labels(f"{tp.topic}:{tp.partition}").set(
            max(0, high - position)
        )
    pipeline.observe_time()


def _consumer(settings: Settings) -> AIOKafkaConsumer:
    """The events consumer: manual commits (the store fences), large fetches, fast heartbeats."""
    return AIOKafkaConsumer(
        bootstrap_servers=settings.brokers,
        group_id=settings.group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=settings.max_batch,
        # Larger fetches than aiokafka's 1 MiB per partition keep the batch loop fed.
        max_partition_fetch_bytes=4 << 20,
        fetch_max_bytes=32 << 20,
        session_timeout_ms=settings.session_timeout_ms,
        heartbeat_interval_ms=max(300, settings.session_timeout_ms // 10),
    )


def _committer(consumer: AIOKafkaConsumer) -> Callable[[dict[str, int]], Awaitable[None]]:
    """Commit {"topic:partition": offset} to the group; a failed commit is only logged."""

    async def commit(offsets: dict[str, int]) -> None:
        parts = {}
        for tp, offset in offsets.items():
            topic, partition = tp.rsplit(":", 1)
            parts[TopicPartition(topic, int(partition))] = offset
        try:
            await consumer.commit(parts)
        except (CommitFailedError, KafkaError) as exc:
            # The store holds the applied offsets, so a lost commit only means a replay
            # that the offset fence skips.
            log.warning("offset commit failed (%s); the store's offsets still fence", exc)

    return commit


async def _consume_until(
    stop: asyncio.Event, consumer: AIOKafkaConsumer, pipeline: Pipeline, max_batch: int
) -> None:
    """Feed batches to the pipeline, flushing when due and reporting lag every few seconds."""
    loop = asyncio.get_running_loop()
    next_lag = loop.time()
    while not stop.is_set():
        batches = await consumer.getmany(timeout_ms=100, max_records=max_batch)
        records = [r for part in batches.values() for r in part]
        if records:
            await pipeline.process(records)
        await pipeline.maybe_flush()
        if loop.time() >= next_lag:
            next_lag = loop.time() + LAG_INTERVAL_S
            await _report_lag(consumer, pipeline)


async def run_consumer(
    settings: Settings,
    queues: QueuesConfig,
    store: AggregateStore,
    metrics: WorkerMetrics,
    stop: asyncio.Event,
) -> None:
    """Consume the events topic in batches until `stop` is set, then flush and commit."""
    gc.set_threshold(*GC_THRESHOLDS)
    consumer = _consumer(settings)
    producer = AIOKafkaProducer(bootstrap_servers=settings.brokers, linger_ms=5)
    outbox = KafkaOutbox(producer.send, settings.deadletter_topic, settings.events_topic)
    pipeline = Pipeline(settings, queues, store, outbox, metrics, _committer(consumer))
    await pipeline.start()
    await producer.start()
    consumer.subscribe([settings.events_topic], listener=_Rebalance(consumer, pipeline))
    await consumer.start()
    try:
        await _consume_until(stop, consumer, pipeline, settings.max_batch)
        await pipeline.flush_all()
    finally:
        await consumer.stop()
        await producer.stop()
