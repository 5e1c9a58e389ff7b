"""The sample names ccmon exports today, read from the real collectors (not a copy).

The exporter's collector yields every family even when the store is empty, and the
worker's health metrics are declared on a registry; a family's type says which sample
names it produces (`_total`, `_bucket`/`_sum`/`_count`, ...).
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry
from prometheus_client.core import Metric

from metrics.config.queues import QueuesConfig
from metrics.exposition.agents import AgentCollector
from metrics.exposition.queues import AggregateCollector
from metrics.exposition.runtime import register_runtime_metrics
from metrics.store.memory import InMemoryStore
from streams.health import WorkerMetrics

__all__ = [
    "PROMETHEUS_NAMES",
    "exported_names",
    "exporter_names",
    "runtime_names",
    "worker_names",
]

#: Series Prometheus itself writes for every target; queries may use them.
PROMETHEUS_NAMES = frozenset({"up", "scrape_duration_seconds", "ALERTS", "ALERTS_FOR_STATE"})

_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
    "gaugehistogram": ("_bucket", "_gsum", "_gcount"),
    "info": ("_info",),
}


def _sample_names(families: Iterable[Metric]) -> set[str]:
    out: set[str] = set()
    for family in families:
        for suffix in _SUFFIXES.get(family.type, ("",)):
            out.add(family.name + suffix)
    return out


def exporter_names() -> set[str]:
    """The exporter's collectors: queues (with contacts and tickets) and agents and teams."""
    store, queues = InMemoryStore(), QueuesConfig()
    collectors = (
        AggregateCollector(store, queues, clock_ms=lambda: 0),
        AgentCollector(store, queues, clock_ms=lambda: 0),
    )
    return {name for c in collectors for name in _sample_names(c.collect())}


def worker_names() -> set[str]:
    registry = CollectorRegistry()
    WorkerMetrics.create(registry)
    return _sample_names(registry.collect())


def runtime_names() -> set[str]:
    """ccmon_build_info and the process, platform and GC families every process has."""
    registry = CollectorRegistry()
    register_runtime_metrics(registry)
    return _sample_names(registry.collect())


def exported_names() -> frozenset[str]:
    """Exporter and worker sample names plus what Prometheus adds per target."""
    return frozenset(exporter_names() | worker_names() | runtime_names() | PROMETHEUS_NAMES)
