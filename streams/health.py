"""A worker's own health metrics, declared in one place on an injected registry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["WorkerMetrics"]

#: Flush latency bounds in seconds: a flush is expected every 250 ms and to take a few ms.
FLUSH_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


@dataclass(frozen=True)
class WorkerMetrics:
    """Counters and gauges a worker updates; exposed on the worker's health port."""

    consumed: Counter
    applied: Counter
    rejected: Counter
    late: Counter
    duplicates: Counter
    stale_agent_events: Counter
    consumer_lag: Gauge
    event_time_lag: Gauge
    last_event_time: Gauge
    watermark: Gauge
    redis_up: Gauge
    flush_seconds: Histogram
    flush_failures: Counter
    flushed_events: Counter
    store_lost: Counter
    customer_contacts: Counter
    outbox_records: Gauge
    outbox_retries: Counter
    undeliverable: Counter
    fetch_pauses: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> WorkerMetrics:
        """Register every worker metric on `registry` (in exposition order)."""
        return cls(
            **_event_counters(registry),
            **_lag_gauges(registry),
            **_flush_metrics(registry),
            **_outbox_metrics(registry),
        )


class _EventCounters(TypedDict):
    """WorkerMetrics fields about the records and events consumed."""

    consumed: Counter
    applied: Counter
    rejected: Counter
    late: Counter
    duplicates: Counter
    stale_agent_events: Counter
    customer_contacts: Counter


class _LagGauges(TypedDict):
    """WorkerMetrics fields about how far behind the worker is."""

    consumer_lag: Gauge
    event_time_lag: Gauge
    last_event_time: Gauge
    watermark: Gauge


class _FlushMetrics(TypedDict):
    """WorkerMetrics fields about the writes to the store."""

    redis_up: Gauge
    flush_seconds: Histogram
    flush_failures: Counter
    flushed_events: Counter
    store_lost: Counter


class _OutboxMetrics(TypedDict):
    """WorkerMetrics fields about what the worker produces (dead letters, forwards)."""

    outbox_records: Gauge
    outbox_retries: Counter
    undeliverable: Counter
    fetch_pauses: Counter


def _event_counters(registry: CollectorRegistry) -> _EventCounters:
    """What happened to the records consumed: applied, rejected, late, duplicate, ..."""
    return _EventCounters(
        consumed=Counter(
            "ccmon_events_consumed", "Records read from the events topic.", registry=registry
        ),
        applied=Counter(
            "ccmon_events_applied", "Events applied to the aggregates.", registry=registry
        ),
        rejected=Counter(
            "ccmon_events_rejected",
            "Records dead-lettered, by reason.",
            ["reason"],
            registry=registry,
        ),
        late=Counter(
            "ccmon_events_late",
            "Events behind the watermark: corrected (applied) or too_late (dead-lettered).",
            ["reason"],
            registry=registry,
        ),
        duplicates=Counter(
            "ccmon_events_duplicate",
            "Events ignored because their id was applied within the dedupe horizon.",
            registry=registry,
        ),
        stale_agent_events=Counter(
            "ccmon_agent_events_stale",
            "Agent events older than the agent's current state (ignored for live state).",
            registry=registry,
        ),
        customer_contacts=Counter(
            "ccmon_customer_contacts",
            "Customer contacts: forwarded (re-keyed by the id's hash), no_salt "
            "(CCMON_CUSTOMER_ID_SALT unset: not used for FCR) or over_cap (dropped from "
            "a customer with too many contacts).",
            ["outcome"],
            registry=registry,
        ),
    )


def _lag_gauges(registry: CollectorRegistry) -> _LagGauges:
    """How far behind the worker is, in records and in event time."""
    return _LagGauges(
        consumer_lag=Gauge(
            "ccmon_consumer_lag_messages",
            "Records not yet consumed, per partition.",
            ["partition"],
            registry=registry,
        ),
        event_time_lag=Gauge(
            "ccmon_event_time_lag_seconds",
            "Wall clock minus the newest event time applied.",
            registry=registry,
        ),
        last_event_time=Gauge(
            "ccmon_last_event_timestamp_seconds",
            "Newest event time applied (Unix time).",
            registry=registry,
        ),
        watermark=Gauge(
            "ccmon_watermark_timestamp_seconds",
            "Event-time watermark per partition (Unix time).",
            ["partition"],
            registry=registry,
        ),
    )


def _flush_metrics(registry: CollectorRegistry) -> _FlushMetrics:
    """How the writes to Redis go: reachability, latency, failures, records covered."""
    return _FlushMetrics(
        redis_up=Gauge(
            "ccmon_redis_up", "1 when the last Redis call succeeded.", registry=registry
        ),
        flush_seconds=Histogram(
            "ccmon_flush_duration_seconds",
            "Time to write one flush to Redis.",
            buckets=FLUSH_BUCKETS,
            registry=registry,
        ),
        flush_failures=Counter(
            "ccmon_flush_failures", "Flushes that failed and were retried.", registry=registry
        ),
        flushed_events=Counter(
            "ccmon_flushed_records", "Records covered by completed flushes.", registry=registry
        ),
        store_lost=Counter(
            "ccmon_store_data_lost",
            "Times the store was found without the data this worker wrote (a Redis restarted "
            "without persistence, flushed or evicting); each started a rebuild from the log.",
            registry=registry,
        ),
    )


def _outbox_metrics(registry: CollectorRegistry) -> _OutboxMetrics:
    """How producing dead letters and forwarded records goes, and the backpressure."""
    return _OutboxMetrics(
        outbox_records=Gauge(
            "ccmon_outbox_records",
            "Dead letters and forwarded records queued or in flight to Kafka.",
            registry=registry,
        ),
        outbox_retries=Counter(
            "ccmon_outbox_retries",
            "Records produced again after a retriable error (broker away or busy).",
            registry=registry,
        ),
        undeliverable=Counter(
            "ccmon_outbox_undeliverable",
            "Records that could not be produced at all (skipped), by kind: deadletter or forward.",
            ["kind"],
            registry=registry,
        ),
        fetch_pauses=Counter(
            "ccmon_fetch_pauses",
            "Times fetching paused because the outbox or the pending flush was full.",
            registry=registry,
        ),
    )
