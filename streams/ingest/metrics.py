"""The ingest's own metrics, declared in one place on a registry passed in."""

from __future__ import annotations

from typing import NamedTuple

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["IngestMetrics"]

#: Seconds from the request to the broker's ack: a local broker answers in milliseconds.
PRODUCE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class IngestMetrics(NamedTuple):
    """Requests, events accepted and rejected, produce latency."""

    requests: Counter
    accepted: Counter
    rejected: Counter
    produce_seconds: Histogram
    connected: Gauge

    @classmethod
    def create(cls, registry: CollectorRegistry) -> IngestMetrics:
        return cls(
            requests=Counter(
                "ccmon_ingest_requests",
                "HTTP requests to the ingest by route, status code and token name "
                "(the source's name on vendor routes; 'none' when unauthenticated).",
                ["route", "code", "token"],
                registry=registry,
            ),
            accepted=Counter(
                "ccmon_ingest_events_accepted",
                "Events produced to the events topic and acknowledged, by source "
                "('events' for /ingest/v1/events, else the vendor source).",
                ["source"],
                registry=registry,
            ),
            rejected=Counter(
                "ccmon_ingest_events_rejected",
                "Events refused (answered with an error, or dead-lettered for a vendor "
                "source), by source and reason.",
                ["source", "reason"],
                registry=registry,
            ),
            produce_seconds=Histogram(
                "ccmon_ingest_produce_seconds",
                "Seconds from handing a request's records to Kafka to the last ack.",
                buckets=PRODUCE_BUCKETS,
                registry=registry,
            ),
            connected=Gauge(
                "ccmon_ingest_kafka_connected",
                "1 while the ingest's producer is connected to Kafka (read on scrape).",
                registry=registry,
            ),
        )
