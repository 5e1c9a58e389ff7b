"""The Prometheus Collector: fresh families from the store at every scrape.

Runs in the exporter's scrape thread, never on an event loop. Sample output::

    # HELP ccmon_queue_service_level_ratio Service level of the window (queue's formula).
    # TYPE ccmon_queue_service_level_ratio gauge
    ccmon_queue_service_level_ratio{channel="voice",queue="sales",window="15m"} 0.8
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from metrics.clock import wall_ms
from metrics.config.queues import QueuesConfig
from metrics.core.reads import SeriesData
from metrics.core.update import Series
from metrics.core.views import live_view, snapshot_request, window_views
from metrics.exposition.services import (
    WindowViews,
    add_present,
    cumulative_buckets,
    service_families,
)
from metrics.fields import AGENT_TIME_FIELD, COUNTED_AGENT_STATES, parse_hist_field
from metrics.store.base import AggregateStore, StoreError

__all__ = ["AggregateCollector"]

log = logging.getLogger(__name__)

_LABELS = ["queue", "channel"]
_WINDOW_LABELS = ["queue", "channel", "window"]

#: window view key -> (metric name, help); counts and derived values per window.
WINDOW_GAUGES: dict[str, tuple[str, str]] = {
    "queued": ("ccmon_queue_window_queued_contacts", "Contacts queued in the window."),
    "answered": ("ccmon_queue_window_answered_contacts", "Contacts answered in the window."),
    "answered_within_t": (
        "ccmon_queue_window_answered_within_threshold_contacts",
        "Contacts answered within the queue's SL threshold in the window.",
    ),
    "abandoned": ("ccmon_queue_window_abandoned_contacts", "Contacts abandoned in the window."),
    "short_abandoned": (
        "ccmon_queue_window_short_abandoned_contacts",
        "Abandons shorter than the queue's short-abandon threshold in the window.",
    ),
    "flowed_out": ("ccmon_queue_window_flowed_out_contacts", "Flow-outs in the window."),
    "callbacks": ("ccmon_queue_window_callbacks_contacts", "Callbacks requested in the window."),
    "handled": ("ccmon_queue_window_handled_contacts", "Wrap-ups completed in the window."),
    "answer_rate": ("ccmon_queue_answer_rate_ratio", "Answered / queued."),
    "abandonment_rate": (
        "ccmon_queue_abandonment_rate_ratio",
        "(Abandoned - short) / (queued - short).",
    ),
    "service_level": (
        "ccmon_queue_service_level_ratio",
        "Service level of the window (queue's formula).",
    ),
    "asa_seconds": ("ccmon_queue_asa_seconds", "Average speed of answer."),
    "avg_abandon_seconds": ("ccmon_queue_average_abandon_time_seconds", "Average abandon time."),
    "max_wait_seconds": ("ccmon_queue_max_wait_seconds", "Longest wait, answered or abandoned."),
    "aht_seconds": ("ccmon_queue_aht_seconds", "Average handle time (talk + hold + ACW)."),
    "avg_talk_seconds": ("ccmon_queue_average_talk_seconds", "Average talk time."),
    "avg_hold_seconds": ("ccmon_queue_average_hold_seconds", "Average hold time."),
    "avg_acw_seconds": ("ccmon_queue_average_acw_seconds", "Average after-contact work time."),
    "occupancy": ("ccmon_queue_occupancy_ratio", "(On contact + ACW) / (that + available)."),
}

#: totals field -> (counter name without _total, help)
TOTAL_COUNTERS: dict[str, tuple[str, str]] = {
    "queued": ("ccmon_queue_queued_contacts", "Contacts queued."),
    "answered": ("ccmon_queue_answered_contacts", "Contacts answered."),
    "answered_within_t": (
        "ccmon_queue_answered_within_threshold_contacts",
        "Contacts answered within the SL threshold.",
    ),
    "abandoned": ("ccmon_queue_abandoned_contacts", "Contacts abandoned."),
    "abandoned_within_t": (
        "ccmon_queue_abandoned_within_threshold_contacts",
        "Contacts abandoned within the SL threshold.",
    ),
    "short_abandoned": ("ccmon_queue_short_abandoned_contacts", "Short abandons."),
    "flowed_out": ("ccmon_queue_flowed_out_contacts", "Flow-outs (transfer, voicemail, IVR)."),
    "callbacks": ("ccmon_queue_callbacks_contacts", "Callbacks requested."),
    "handled": ("ccmon_queue_handled_contacts", "Wrap-ups completed."),
}

#: totals field (ms) -> (counter name without _total, help)
TOTAL_SECONDS: dict[str, tuple[str, str]] = {
    "talk_ms": ("ccmon_queue_talk_seconds", "Talk time of handled contacts."),
    "hold_ms": ("ccmon_queue_hold_seconds", "Hold time of handled contacts."),
    "acw_ms": ("ccmon_queue_acw_seconds", "After-contact work time of handled contacts."),
}


class AggregateCollector(Collector):
    """Exposes every (queue, channel) the store holds: live, windowed, counters."""

    def __init__(
        self,
        store: AggregateStore,
        queues: QueuesConfig,
        clock_ms: Callable[[], int] = wall_ms,
    ) -> None:
        self.store = store
        self.queues = queues
        self.clock_ms = clock_ms

    def describe(self) -> Iterable[Metric]:
        return []  # no collect() at registration time

    def collect(self) -> Iterator[Metric]:
        started = time.perf_counter()
        now = self.clock_ms()
        up = GaugeMetricFamily("ccmon_redis_up", "1 when the store answered this scrape.")
        try:
            series = self.store.series()
            requests = [snapshot_request(s, now, self.queues.get(s[0])) for s in series]
            data = self.store.read(requests, now)
            event_times = self.store.event_times()
        except StoreError as exc:
            log.warning("scrape could not read the store: %s", exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        # Every window of every series, derived once for the queue and the service families.
        views = [window_views(d, self.queues.get(s[0])) for s, d in zip(series, data, strict=True)]
        yield from self._live(series, data, now)
        yield from self._windows(series, views)
        yield from self._totals(series, data)
        yield from self._config(series)
        yield from service_families(series, data, views, now)
        applied = GaugeMetricFamily(
            "ccmon_applied_event_timestamp_seconds",
            "Newest event time applied to the store, per partition (Unix time).",
            labels=["partition"],
        )
        for tp, t in sorted(event_times.items()):
            applied.add_metric([tp], t / 1000)
        yield applied
        scrape = GaugeMetricFamily(
            "ccmon_exporter_scrape_duration_seconds", "Time spent reading the store."
        )
        scrape.add_metric([], time.perf_counter() - started)
        yield scrape

    def _live(self, series: list[Series], data: list[SeriesData], now: int) -> Iterator[Metric]:
        waiting = GaugeMetricFamily(
            "ccmon_queue_contacts_waiting", "Contacts waiting in the queue now.", labels=_LABELS
        )
        oldest = GaugeMetricFamily(
            "ccmon_queue_oldest_wait_seconds",
            "How long the oldest waiting contact has waited, now.",
            labels=_LABELS,
        )
        oldest_ts = GaugeMetricFamily(
            "ccmon_queue_oldest_enqueued_timestamp_seconds",
            "Enqueue time of the oldest waiting contact (Unix time).",
            labels=_LABELS,
        )
        agents = GaugeMetricFamily(
            "ccmon_queue_agents",
            "Agents serving the queue, by state, now.",
            labels=[*_LABELS, "state"],
        )
        for s, d in zip(series, data, strict=True):
            view = live_view(d.live, now)
            waiting.add_metric(list(s), view["contacts_waiting"])
            if view["oldest_enqueued_ms"] is not None:
                oldest.add_metric(list(s), view["oldest_wait_seconds"])
                oldest_ts.add_metric(list(s), view["oldest_enqueued_ms"] / 1000)
            for state in COUNTED_AGENT_STATES:
                agents.add_metric([*s, state], view["agents"][state])
        yield from (waiting, oldest, oldest_ts, agents)

    def _windows(self, series: list[Series], views: list[WindowViews]) -> Iterator[Metric]:
        families = {
            key: GaugeMetricFamily(name, help_, labels=_WINDOW_LABELS)
            for key, (name, help_) in WINDOW_GAUGES.items()
        }
        for s, by_window in zip(series, views, strict=True):
            for window, view in by_window.items():
                add_present(families, view, [*s, window])
        yield from families.values()

    def _totals(self, series: list[Series], data: list[SeriesData]) -> Iterator[Metric]:
        counters = {
            key: CounterMetricFamily(name, help_, labels=_LABELS)
            for key, (name, help_) in TOTAL_COUNTERS.items()
        }
        seconds = {
            key: CounterMetricFamily(name, help_, labels=_LABELS)
            for key, (name, help_) in TOTAL_SECONDS.items()
        }
        state_seconds = CounterMetricFamily(
            "ccmon_queue_agent_state_seconds",
            "Agent time in each state, attributed to the queues the agent serves.",
            labels=[*_LABELS, "state"],
        )
        histograms = {
            "answered": HistogramMetricFamily(
                "ccmon_queue_answer_wait_seconds",
                "Wait from queue entry to answer.",
                labels=_LABELS,
            ),
            "abandoned": HistogramMetricFamily(
                "ccmon_queue_abandon_wait_seconds",
                "Wait from queue entry to abandon.",
                labels=_LABELS,
            ),
        }
        bounds = self.queues.wait_buckets_ms()
        for s, d in zip(series, data, strict=True):
            totals = d.totals
            for key, family in counters.items():
                family.add_metric(list(s), totals.get(key, 0))
            for key, family in seconds.items():
                family.add_metric(list(s), totals.get(key, 0) / 1000)
            for state in COUNTED_AGENT_STATES:
                ms = totals.get(AGENT_TIME_FIELD[state], 0)
                state_seconds.add_metric([*s, state], ms / 1000)
            for outcome, hist in histograms.items():
                buckets = cumulative_buckets(totals, parse_hist_field, outcome, bounds)
                wait_sum = totals.get(f"wait_{outcome}_sum_ms", 0) / 1000
                hist.add_metric(list(s), buckets, wait_sum)
        yield from counters.values()
        yield from seconds.values()
        yield state_seconds
        yield from histograms.values()

    def _config(self, series: list[Series]) -> Iterator[Metric]:
        target = GaugeMetricFamily(
            "ccmon_queue_service_level_target_ratio", "The queue's SL target.", labels=["queue"]
        )
        threshold = GaugeMetricFamily(
            "ccmon_queue_service_level_threshold_seconds",
            "The queue's SL threshold T (answered within T counts).",
            labels=["queue"],
        )
        for queue in sorted({q for q, _ in series} | {q.name for q in self.queues.queues}):
            cfg = self.queues.get(queue)
            target.add_metric([queue], cfg.sl_target)
            threshold.add_metric([queue], cfg.sl_threshold_s)
        yield target
        yield threshold
