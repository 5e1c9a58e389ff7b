"""The Prometheus Collector: fresh families from the store at every scrape.

Runs in the exporter's scrape thread, never on an event loop. `collect()` builds the
families; `exposition()` (what /metrics serves, metrics.exposition.text) gives the same
text but renders a series again only when its windows, live state or totals changed, and
the few clock-driven gauges (oldest wait, ticket ages) afresh each time.

Open agent states count up to now, as in the read API: each agent's current state adds its
time so far to the windows of the series it serves (metrics.core.agent_views), and the
one windowed figure agent time feeds, ``ccmon_queue_occupancy_ratio``, is worked out again
from the stored windows plus those spans at every scrape (the other window figures keep
their memo). The all-time ``ccmon_queue_agent_state_seconds`` counts closed spans only,
so it never goes down. Sample output::

    # HELP ccmon_queue_service_level_ratio Service level of the window (queue's formula).
    # TYPE ccmon_queue_service_level_ratio gauge
    ccmon_queue_service_level_ratio{channel="voice",queue="sales",window="15m"} 0.8
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from metrics.clock import wall_ms
from metrics.config.queues import QueuesConfig
from metrics.core.agent_views import Windows, open_series_windows, queue_bounds
from metrics.core.formulas import derive
from metrics.core.reads import SeriesData
from metrics.core.update import Series
from metrics.core.views import WINDOWS, live_view, snapshot_request, window_view, windows_of
from metrics.exposition.contacts import contact_clock_families, contact_families, contact_key
from metrics.exposition.services import (
    WindowViews,
    add_present,
    cumulative_buckets,
    service_clock_families,
    service_families,
    service_key,
)
from metrics.exposition.text import Group, SeriesText, family_text, join_families, sample_text
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


def _oldest_wait_family() -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "ccmon_queue_oldest_wait_seconds",
        "How long the oldest waiting contact has waited, now.",
        labels=_LABELS,
    )


#: where the clock-driven family sits among a series' families (the second of _live)
_OLDEST_WAIT_AT = 1

#: The agent time fields a window view's figures come from (only its occupancy), and the
#: view keys they feed: what an open state changes in a window view.
_AGENT_TIME_FIELDS = tuple(AGENT_TIME_FIELD.values())
_AGENT_TIME_KEYS = ("occupancy",)


@dataclass(frozen=True)
class _Read:
    """One scrape's store read: the series, their data, the applied event times, and every
    agent's open state inside each window of the series it serves."""

    series: list[Series]
    data: list[SeriesData]
    event_times: dict[str, int]
    opened: dict[Series, Windows]


@dataclass(frozen=True)
class _Derived:
    """One series' stored windows, derived once per change of its data: the window views
    and each window's agent time counters (to which a scrape adds the open spans)."""

    data: SeriesData
    views: WindowViews
    agent_ms: dict[str, dict[str, int]]


def _with_open(derived: _Derived, opened: Windows, queues: QueuesConfig, name: str) -> WindowViews:
    """The views with the open states' time counted: the agent figures of each window
    with an open span are derived again from the stored counters plus the span."""
    views = dict(derived.views)
    cfg = None
    for window, more in opened.items():
        stored = derived.agent_ms.get(window)
        if stored is None:
            continue  # a window not exported
        counters = {f: stored[f] + more.get(f, 0) for f in _AGENT_TIME_FIELDS}
        cfg = cfg or queues.get(name)
        figures = derive(counters, cfg)
        views[window] = views[window] | {k: figures[k] for k in _AGENT_TIME_KEYS}
    return views


class AggregateCollector(Collector):
    """Exposes every (queue, channel) the store holds: live, windowed, counters.

    `windows` limits the windowed gauges to some of metrics.core.views.WINDOWS (default:
    all). A voice series costs 55 samples plus up to 19 per exported window (one per
    windowed gauge whose denominator is not empty): 131 at most with all four windows;
    the contact families (metrics.exposition.contacts) add 2 to 4 live samples, and a
    series with offers, holds, transfers, ends, directions, callback attempts or wrap-up
    codes up to 20 more per window, plus one per wrap-up code and one for other.
    """

    def __init__(
        self,
        store: AggregateStore,
        queues: QueuesConfig,
        clock_ms: Callable[[], int] = wall_ms,
        windows: Collection[str] | None = None,
    ) -> None:
        self.store = store
        self.queues = queues
        self.clock_ms = clock_ms
        chosen = WINDOWS if windows is None else tuple(windows)
        unknown = sorted(set(chosen) - set(WINDOWS))
        if unknown:
            raise ValueError(f"unknown windows {unknown}; known: {list(WINDOWS)}")
        self.windows = tuple(w for w in WINDOWS if w in chosen)
        #: the queues file's wrap-up codes: the bounded `code` label of the wrap-up family
        self.wrapup_codes: tuple[str, ...] = queues.wrapup_codes
        self.text = SeriesText()
        self._headers: tuple[list[bytes], list[bytes], list[bytes]] | None = None
        self._config_text: tuple[tuple[str, ...], bytes] | None = None
        self._last: dict[Series, _Derived] = {}
        self._reasons = frozenset(queues.reason_codes)
        self._lock = threading.Lock()

    def describe(self) -> Iterable[Metric]:
        return []  # no collect() at registration time

    def _read(self, now: int) -> _Read:
        with self.store.reading():
            series = self.store.series()
            requests = [snapshot_request(s, now, self.queues.get(s[0])) for s in series]
            data = self.store.read(requests, now)
            states = self.store.agent_states()
        opened = open_series_windows(
            states.values(), now, self._reasons, queue_bounds(self.queues, now)
        )
        return _Read(series, data, self.store.event_times(), opened)

    def _views(self, read: _Read) -> tuple[list[WindowViews], list[WindowViews]]:
        """The exported windows of every series as stored (for the service and contact
        families) and with the open agent states up to now (for the window gauges).

        A series whose data equals the last read's keeps the views derived then; only
        the agent figures of a series with an open span are derived again.
        """
        stored, opened = [], []
        last, self._last = self._last, {}
        for s, d in zip(read.series, read.data, strict=True):
            known = last.get(s)
            if known is None or known.data != d:
                cfg = self.queues.get(s[0])
                counters = windows_of(d)
                known = _Derived(
                    d,
                    {w: window_view(counters[w], cfg) for w in self.windows},
                    {
                        w: {f: counters[w].get(f, 0) for f in _AGENT_TIME_FIELDS}
                        for w in self.windows
                    },
                )
            self._last[s] = known
            stored.append(known.views)
            more = read.opened.get(s)
            opened.append(_with_open(known, more, self.queues, s[0]) if more else known.views)
        return stored, opened

    def collect(self) -> Iterator[Metric]:
        started = time.perf_counter()
        now = self.clock_ms()
        try:
            read = self._read(now)
        except StoreError as exc:
            yield _store_down(exc)
            return
        yield _up()
        series, data = read.series, read.data
        with self._lock:
            views, with_open = self._views(read)
        yield from self._live(series, data, now)
        yield from self._windows(series, with_open)
        yield from self._totals(series, data)
        yield from self._config(series)
        yield from service_families(series, data, views, now)
        yield from contact_families(series, data, views, now, self.wrapup_codes)
        yield from _tail(read.event_times, started)

    def exposition(self) -> bytes:
        """collect()'s text: unchanged series' lines come from the last scrape."""
        with self._lock:  # two Prometheus servers may scrape at once; the caches are shared
            return self._exposition()

    def _exposition(self) -> bytes:
        started = time.perf_counter()
        now = self.clock_ms()
        try:
            read = self._read(now)
        except StoreError as exc:
            return b"".join(family_text(_store_down(exc)))
        series, data = read.series, read.data
        views, with_open = self._views(read)
        one = [[s] for s in series]
        one_data = [[d] for d in data]
        groups: list[Group] = [
            ([d.live for d in data], lambda i: self._live(one[i], one_data[i], now)),
            (with_open, lambda i: self._windows(one[i], [with_open[i]])),
            ([d.totals for d in data], lambda i: self._totals(one[i], one_data[i])),
            (
                [service_key(d, v) for d, v in zip(data, views, strict=True)],
                lambda i: service_families(one[i], one_data[i], [views[i]], now),
            ),
            (
                [contact_key(d, v) for d, v in zip(data, views, strict=True)],
                lambda i: contact_families(one[i], one_data[i], [views[i]], now, self.wrapup_codes),
            ),
        ]
        lines = self.text.lines(series, groups)
        queue_headers, service_headers, contact_headers = self._family_headers(now)
        fresh = {_OLDEST_WAIT_AT: sample_text(self._oldest_wait(series, data, now))}
        clocked = service_clock_families(series, data, now)
        service_fresh = {at: sample_text(family) for at, family in clocked.items()}
        parts = [b"".join(family_text(_up()))]
        parts += join_families(queue_headers, lines, 0, fresh)
        parts.append(self._config_bytes(series))
        parts += join_families(service_headers, lines, len(queue_headers), service_fresh)
        clocked = contact_clock_families(series, data, now)
        contact_fresh = {at: sample_text(family) for at, family in clocked.items()}
        contact_at = len(queue_headers) + len(service_headers)
        parts += join_families(contact_headers, lines, contact_at, contact_fresh)
        parts += [b"".join(family_text(f)) for f in _tail(read.event_times, started)]
        return b"".join(parts)

    def _family_headers(self, now: int) -> tuple[list[bytes], list[bytes], list[bytes]]:
        """# HELP and # TYPE lines of the per-series families: queue, service, contact ones."""
        if self._headers is None:
            queue = [*self._live([], [], now), *self._windows([], []), *self._totals([], [])]
            service = list(service_families([], [], [], now))
            contact = list(contact_families([], [], [], now))
            self._headers = (
                [family_text(f)[0] for f in queue],
                [family_text(f)[0] for f in service],
                [family_text(f)[0] for f in contact],
            )
        return self._headers

    def _config_bytes(self, series: list[Series]) -> bytes:
        """The config families' text, rendered again only when the set of queues changes."""
        queues = tuple(sorted({q for q, _ in series}))
        if self._config_text is None or self._config_text[0] != queues:
            text = b"".join(b"".join(family_text(f)) for f in self._config(series))
            self._config_text = (queues, text)
        return self._config_text[1]

    def _oldest_wait(self, series: list[Series], data: list[SeriesData], now: int) -> Metric:
        oldest = _oldest_wait_family()
        for s, d in zip(series, data, strict=True):
            enqueued = d.live.oldest_enqueued_ms
            if enqueued is not None:  # as live_view's oldest_wait_seconds
                oldest.add_metric(list(s), max(0, now - enqueued) / 1000)
        return oldest

    def _live(self, series: list[Series], data: list[SeriesData], now: int) -> Iterator[Metric]:
        waiting = GaugeMetricFamily(
            "ccmon_queue_contacts_waiting", "Contacts waiting in the queue now.", labels=_LABELS
        )
        oldest = _oldest_wait_family()
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


def _up() -> Metric:
    up = GaugeMetricFamily("ccmon_redis_up", "1 when the store answered this scrape.")
    up.add_metric([], 1)
    return up


def _store_down(exc: StoreError) -> Metric:
    log.warning("scrape could not read the store: %s", exc)
    up = GaugeMetricFamily("ccmon_redis_up", "1 when the store answered this scrape.")
    up.add_metric([], 0)
    return up


def _tail(event_times: dict[str, int], started: float) -> Iterator[Metric]:
    """The applied event times per partition, then how long the scrape took."""
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
