"""The Prometheus collectors: queue, ticket/CX service and routing families."""

from metrics.exposition.queues import AggregateCollector

__all__ = ["AggregateCollector"]
