"""The whole ccmon pipeline: ``streams.kafka.run_consumer`` in-process, into a real Redis.

This is the loop ``ccmon worker`` runs inside its Faust app service (batch ``getmany``,
decode, admission, aggregation, one atomic Lua flush per ``flush_interval_ms``, commit
after flush), with the production defaults except a fresh group id, a unique Redis key
prefix, no worker metrics port and ``SESSION_TIMEOUT_MS``. The Faust worker around it is
left out: it only owns start-up, signals and shutdown, and costs nothing per event.

Timing: the first record is the first call of ``Pipeline.process`` (wrapped in this
process only); the last is when the store's applied offsets cover every record the
pipeline was handed, i.e. the N-th event is in Redis, not merely decoded. The store is
polled every ``POLL_S``, so the end is late by at most that; the last flush waits up to
``flush_interval_ms`` (250 ms by default), which is part of what is measured.

Redis: ``$CCMON_BENCH_REDIS_URL`` if set, else a local valkey/redis server
(``benchmarks.local_redis``), started for the run and stopped afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from prometheus_client import CollectorRegistry

from benchmarks.broker import create_topic
from benchmarks.local_redis import redis_server
from benchmarks.runners._common import SESSION_TIMEOUT_MS, Clock, cli, fresh_group, result
from metrics.config.queues import QueuesConfig
from metrics.store.redis import RedisStore
from streams.consume import Pipeline
from streams.deadletter import Record
from streams.health import WorkerMetrics
from streams.kafka import run_consumer
from streams.settings import Settings

#: How often the store's applied offsets are read while waiting for the last record.
POLL_S = 0.01

log = logging.getLogger("benchmarks.ccmon")


class _Progress:
    """What ``Pipeline.process`` was handed: record count and highest offset per partition."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.records = 0
        self.calls = 0
        self.high: dict[str, int] = {}

    def saw(self, records: Sequence[Record]) -> None:
        self.clock.seen_first()
        self.calls += 1
        self.records += len(records)
        high = self.high
        for record in records:
            tp = f"{record.topic}:{record.partition}"
            if record.offset > high.get(tp, -1):
                high[tp] = record.offset

    def covered(self, applied: dict[str, int], n: int) -> bool:
        """True once N records were handed over and the store applied all of them."""
        if self.records < n:
            return False
        return all(applied.get(tp, -1) >= last for tp, last in self.high.items())


@contextlib.contextmanager
def _watch_process(progress: _Progress) -> Iterator[None]:
    """Patch ``Pipeline.process`` in this process only, so every batch reports to ``progress``."""
    original = Pipeline.process

    async def process(self: Pipeline, records: Sequence[Record]) -> None:
        progress.saw(records)
        await original(self, records)

    Pipeline.process = process  # type: ignore[method-assign]  # a patch for this run only
    try:
        yield
    finally:
        Pipeline.process = original  # type: ignore[method-assign]  # the patch undone


def _sample(registry: CollectorRegistry, name: str) -> float:
    """Sum of every sample called ``name`` (all label values); 0 when absent."""
    return sum(s.value for metric in registry.collect() for s in metric.samples if s.name == name)


def _by_label(registry: CollectorRegistry, name: str, label: str) -> dict[str, float]:
    return {
        s.labels[label]: s.value
        for metric in registry.collect()
        for s in metric.samples
        if s.name == name and s.value
    }


async def _run(bootstrap: str, topic: str, n: int, url: str, redis_label: str) -> dict[str, Any]:
    clock = Clock()
    run_id = uuid.uuid4().hex[:12]
    deadletter = f"{topic}-dlq-{run_id}"
    await create_topic(bootstrap, deadletter, 1)
    settings = Settings(
        brokers=bootstrap,
        redis_url=url,
        redis_prefix=f"bench-{run_id}",
        events_topic=topic,
        deadletter_topic=deadletter,
        group_id=fresh_group("ccmon"),
        create_topics=False,
        worker_metrics_port=0,
        session_timeout_ms=SESSION_TIMEOUT_MS,
    )
    store = settings.redis_store()  # what the worker's Faust service builds
    # The poller gets its own store (own connection pool), not the one the pipeline uses.
    watcher = RedisStore.from_url(url, prefix=settings.redis_prefix)
    registry = CollectorRegistry()
    metrics = WorkerMetrics.create(registry)
    progress = _Progress(clock)
    stop = asyncio.Event()
    polls = 0
    with _watch_process(progress):
        task = asyncio.create_task(run_consumer(settings, QueuesConfig(), store, metrics, stop))
        try:
            while True:
                if task.done():
                    task.result()
                    raise RuntimeError("run_consumer returned before all records were applied")
                if progress.records >= n:
                    polls += 1
                    if progress.covered(watcher.load_offsets(), n):
                        clock.seen_last()
                        break
                await asyncio.sleep(POLL_S)
        finally:
            stop.set()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=60)
    applied_offsets = watcher.load_offsets()
    store.client.close()
    watcher.client.close()

    applied = int(_sample(registry, "ccmon_events_applied_total"))
    rejected = int(_sample(registry, "ccmon_events_rejected_total"))
    duplicates = int(_sample(registry, "ccmon_events_duplicate_total"))
    consumed = int(_sample(registry, "ccmon_events_consumed_total"))
    stored_records = sum(offset + 1 for offset in applied_offsets.values())
    extra = {
        "events_applied": applied,
        "events_rejected": rejected,
        "rejected_by_reason": _by_label(registry, "ccmon_events_rejected_total", "reason"),
        "events_duplicate": duplicates,
        "events_consumed": consumed,
        "late": _by_label(registry, "ccmon_events_late_total", "reason"),
        "flush_duration_seconds_sum": round(
            _sample(registry, "ccmon_flush_duration_seconds_sum"), 4
        ),
        "flush_duration_seconds_count": int(
            _sample(registry, "ccmon_flush_duration_seconds_count")
        ),
        "flushed_records": int(_sample(registry, "ccmon_flushed_records_total")),
        "process_calls": progress.calls,
        "store_offsets": applied_offsets,
        "store_records_sum_offset_plus_1": stored_records,
        "store_polls": polls,
        "flush_interval_ms": settings.flush_interval_ms,
        "max_batch": settings.max_batch,
        "redis": redis_label,
    }
    if rejected or applied != n - rejected or progress.records != n:
        raise AssertionError(
            f"ccmon applied {applied} of {n} events, rejected {rejected}, "
            f"handed {progress.records} records; clean input must apply all: {extra}"
        )
    return result(n, progress.records, clock, **extra)


def run(bootstrap: str, topic: str, n: int) -> dict[str, Any]:
    """Run the ccmon pipeline over ``topic`` until ``n`` events are in Redis; return figures."""
    logging.basicConfig(
        stream=sys.stderr, level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s"
    )
    started = time.perf_counter()
    with redis_server() as (url, label):
        log.warning("redis %s ready after %.2fs", label, time.perf_counter() - started)
        return asyncio.run(_run(bootstrap, topic, n, url, label))


if __name__ == "__main__":
    cli(run)
