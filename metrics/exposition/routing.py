"""Prometheus families of the routing snapshots: EWT, agents required/staffed, the gap.

Registered beside AggregateCollector in the exporter's registry. It reads the in-memory
RoutingCache (refreshed in the background), so a scrape does no Erlang arithmetic and
no extra store read; the values are at most one refresh period old.

    ccmon_queue_ewt_seconds{queue,channel}
    ccmon_queue_agents_staffed{queue,channel}
    ccmon_queue_agents_required{queue,channel,window}
    ccmon_queue_staffing_gap_agents{queue,channel,window}
    ccmon_routing_snapshot_age_seconds
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from metrics.routing.cache import RoutingCache

__all__ = ["RoutingCollector"]

_LABELS = ["queue", "channel"]


class RoutingCollector(Collector):
    """Exposes the latest routing snapshots; nothing before the first refresh."""

    def __init__(self, cache: RoutingCache) -> None:
        self.cache = cache

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        current = self.cache.current
        age = self.cache.age_ms()
        if current is None or age is None:
            return
        ewt = GaugeMetricFamily(
            "ccmon_queue_ewt_seconds",
            "Estimated wait of a contact arriving now (absent with too little data).",
            labels=_LABELS,
        )
        staffed = GaugeMetricFamily(
            "ccmon_queue_agents_staffed",
            "Agents available, on a contact or in wrap-up on the queue, now.",
            labels=_LABELS,
        )
        required = GaugeMetricFamily(
            "ccmon_queue_agents_required",
            "Agents needed for the SL target at the window's arrival rate and AHT "
            "(Erlang C, or Erlang A with significant abandonment).",
            labels=[*_LABELS, "window"],
        )
        gap = GaugeMetricFamily(
            "ccmon_queue_staffing_gap_agents",
            "Agents required minus agents staffed (positive: short of agents).",
            labels=[*_LABELS, "window"],
        )
        for queue, doc in current.documents.items():
            for channel, ch in doc["channels"].items():
                labels = [queue, channel]
                if ch["ewt_seconds"] is not None:
                    ewt.add_metric(labels, ch["ewt_seconds"])
                staffed.add_metric(labels, ch["agents_staffed"])
                for window, figures in ch["staffing"].items():
                    if figures is not None:
                        required.add_metric([*labels, window], figures["agents_required"])
                        gap.add_metric([*labels, window], figures["gap_agents"])
        age_family = GaugeMetricFamily(
            "ccmon_routing_snapshot_age_seconds",
            "Age of the routing snapshots served by the API and these gauges.",
        )
        age_family.add_metric([], age / 1000)
        yield from (ewt, staffed, required, gap, age_family)
