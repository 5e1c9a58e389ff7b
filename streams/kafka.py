"""Kafka plumbing: the batch consumer that drives a Pipeline, and the worker's producer.

Start-up waits out a broker or a Redis that is not there yet (retried with backoff,
logged once). While the pipeline is backlogged (its outbox or its pending flush full)
fetching pauses, but the loop keeps polling, so the member stays in its group.
"""

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
from streams.connections import kafka_options
from streams.consume import Pipeline
from streams.faults import kafka_retriable
from streams.health import WorkerMetrics
from streams.healthserver import Readiness
from streams.outbox import KafkaOutbox, OutboxLimits
from streams.retry import Outage, retry_until_stopped
from streams.settings import Settings
from streams.topics import ensure_topics

__all__ = ["run_consumer"]

log = logging.getLogger(__name__)

#: How often consumer lag and watermark gauges are refreshed, in seconds.
LAG_INTERVAL_S = 5.0

#: Largest batch of records the producer builds per partition (within the request size).
PRODUCER_BATCH_BYTES = 256 << 10

#: Cyclic-GC thresholds for the worker process. The state caches hold hundreds of thousands
#: of long-lived objects; with the default (700, 10, 10) full collections rescan them over
#: and over, which cost about a third of the per-event time in a 200k-event run. A young
#: generation of 1,000,000 rather than 100,000 was 1.10-1.22x the events per CPU second
#: (benchmarks/throughput_inproc.py --gc-thresholds, docs/performance.md): reference
#: counting frees almost everything the worker drops; the collector is for rare cycles.
GC_THRESHOLDS = (1_000_000, 50, 1000)


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
        self.pipeline.readiness.assigned = True
        for tp in assigned:
            stored = self.pipeline.applied.get(f"{tp.topic}:{tp.partition}")
            committed = await self.consumer.committed(tp)
            if stored is None:
                if committed is not None:
                    # The group read on, but the store holds nothing of this partition: it
                    # lost its data while no worker watched. The store's offsets are the truth.
                    log.warning(
                        "%s:%d: the store holds none of it but the group committed offset %d; "
                        "rebuilding it from the earliest offset",
                        tp.topic,
                        tp.partition,
                        committed,
                    )
                    await self.consumer.seek_to_beginning(tp)
                continue
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
        **kafka_options(settings),
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


def _producer(settings: Settings) -> AIOKafkaProducer:
    """The dead-letter and forwarding producer, with its limits set on purpose.

    Every setting here is a CCMON_* setting: acks, the request timeout (a batch not
    acknowledged within it fails and the outbox sends it again), the producer's own retry
    pause, and the largest request (a dead letter above it keeps a prefix of its bytes).
    """
    return AIOKafkaProducer(
        **kafka_options(settings),
        acks="all" if settings.producer_acks == "all" else int(settings.producer_acks),
        linger_ms=5,
        request_timeout_ms=settings.producer_request_timeout_ms,
        retry_backoff_ms=settings.producer_retry_backoff_ms,
        max_request_size=settings.producer_max_request_bytes,
        max_batch_size=min(PRODUCER_BATCH_BYTES, settings.producer_max_request_bytes),
    )


def _outbox_limits(settings: Settings) -> OutboxLimits:
    return OutboxLimits(
        max_records=settings.outbox_max_records,
        max_bytes=settings.outbox_max_bytes,
        max_request_bytes=settings.producer_max_request_bytes,
        prefix_bytes=settings.deadletter_prefix_bytes,
        max_backoff_s=settings.delivery_max_backoff_s,
    )


def _committer(consumer: AIOKafkaConsumer) -> Callable[[dict[str, int]], Awaitable[None]]:
    """Commit {"topic:partition": offset} to the group; a failed commit is only logged
    (once while commits keep failing)."""
    outage = Outage("Kafka (offset commits; the store's offsets still fence)", log)

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
            outage.failed(exc)
        else:
            outage.recovered()

    return commit


async def _consume_until(
    stop: asyncio.Event, consumer: AIOKafkaConsumer, pipeline: Pipeline, max_batch: int
) -> None:
    """Feed batches to the pipeline, flushing when due and reporting lag every few seconds."""
    loop = asyncio.get_running_loop()
    next_lag = loop.time()
    paused = False
    while not stop.is_set():
        if pipeline.backlogged():
            # Pause every assigned partition (again after a rebalance) but keep polling:
            # the member stays in the group while the outbox or the flush catches up.
            consumer.pause(*consumer.assignment())
            if not paused:
                paused = True
                pipeline.metrics.fetch_pauses.inc()
                log.debug("fetching paused: dead letters or the flush are catching up")
        elif paused:
            paused = False
            consumer.resume(*consumer.paused())
            log.debug("fetching resumed")
        batches = await consumer.getmany(timeout_ms=100, max_records=max_batch)
        records = [r for part in batches.values() for r in part]
        if records:
            await pipeline.process(records)
        await pipeline.maybe_flush()
        if loop.time() >= next_lag:
            next_lag = loop.time() + LAG_INTERVAL_S
            await _report_lag(consumer, pipeline)
            await pipeline.check_store()
        if pipeline.lost:
            await _rebuild(consumer, pipeline)


async def _rebuild(consumer: AIOKafkaConsumer, pipeline: Pipeline) -> None:
    """Re-read every assigned partition from the earliest offset onto the store's new
    generation (its offsets and dedupe ids went with the data, so nothing is skipped)."""
    async with pipeline.lock:
        await pipeline.rebuild()
        assigned = consumer.assignment()
        if assigned:
            await consumer.seek_to_beginning(*assigned)
    log.warning("rebuilding %d partitions from their earliest offsets", len(assigned))


async def run_consumer(
    settings: Settings,
    queues: QueuesConfig,
    store: AggregateStore,
    metrics: WorkerMetrics,
    stop: asyncio.Event,
    readiness: Readiness | None = None,
) -> None:
    """Consume the events topic in batches until `stop` is set, then flush and commit.

    Waits for Kafka and Redis at start (returns quietly if stopped meanwhile); raises an
    error it cannot recover from.
    """
    gc.set_threshold(*GC_THRESHOLDS)
    readiness = readiness or Readiness(settings.ready_flush_age_s)
    consumer = _consumer(settings)
    producer = _producer(settings)
    outbox = KafkaOutbox(
        producer.send,
        settings.deadletter_topic,
        settings.events_topic,
        metrics,
        _outbox_limits(settings),
        stop,
    )
    pipeline = Pipeline(
        settings,
        queues,
        store,
        outbox,
        metrics,
        _committer(consumer),
        readiness=readiness,
        stop=stop,
    )
    consumer.subscribe([settings.events_topic], listener=_Rebalance(consumer, pipeline))
    try:
        try:
            await pipeline.start()
            await _start_kafka(settings, producer, consumer, stop)
        except Exception:
            if stop.is_set():
                return  # stopped while waiting for Redis or Kafka
            raise
        await _consume_until(stop, consumer, pipeline, settings.max_batch)
        await pipeline.flush_all()
    finally:
        await consumer.stop()
        await producer.stop()


async def _start_kafka(
    settings: Settings, producer: AIOKafkaProducer, consumer: AIOKafkaConsumer, stop: asyncio.Event
) -> None:
    """Create missing topics (when asked), connect the producer and the consumer, waiting
    for the broker; each step that succeeded is not repeated."""
    outage = Outage(f"Kafka ({settings.brokers})", log, quiet=("aiokafka",))
    done: set[str] = set()

    async def attempt() -> None:
        if settings.create_topics and "topics" not in done:
            await ensure_topics(settings)
            done.add("topics")
        if "producer" not in done:
            await producer.start()
            done.add("producer")
        await consumer.start()

    await retry_until_stopped(
        attempt, kafka_retriable, outage, max_wait_s=settings.delivery_max_backoff_s, stop=stop
    )
