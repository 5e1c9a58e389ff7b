"""The Collector over the in-memory store: exact samples, absent values, histogram buckets."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from metrics.config.queues import QueueConfig, QueuesConfig
from metrics.core.aggregator import Aggregator
from metrics.exposition.queues import AggregateCollector
from metrics.store.base import StoreError
from metrics.store.memory import InMemoryStore
from streams.decode import decode
from streams.testing.events import T0, agent, contact, raw, wrapup

S = 1000
NOW = T0 + 10 * 60 * S  # 00:10 UTC
QUEUES = QueuesConfig(queues=(QueueConfig(name="sales", sl_threshold_s=20, sl_target=0.9),))


def registry_for(events: list[dict[str, object]]) -> CollectorRegistry:
    store = InMemoryStore()
    aggregator = Aggregator(QUEUES)
    for event in events:
        aggregator.apply(decode(raw(event), 1 << 16))
    store.flush(aggregator.drain(), NOW)
    registry = CollectorRegistry()
    registry.register(AggregateCollector(store, QUEUES, clock_ms=lambda: NOW))
    return registry


EVENTS = [
    contact("contact.queued", T0 + 8 * 60 * S, "c1"),
    contact("contact.answered", T0 + 8 * 60 * S + 12 * S, "c1"),  # 12 s
    contact("contact.queued", T0 + 9 * 60 * S, "c2"),
    contact("contact.abandoned", T0 + 9 * 60 * S + 40 * S, "c2"),  # 40 s, not short
    contact("contact.queued", T0 + 9 * 60 * S + 30 * S, "c3"),  # waiting since 00:09:30
    contact("contact.queued", T0, "c4"),
    contact("contact.answered", T0 + 25 * S, "c4"),  # 25 s, at 00:00: outside 5m/15m? no: 15m
    wrapup(T0 + 9 * 60 * S, "c4", talk=200, hold=10, acw=30),
    agent(T0, "a1", "available", ["sales"]),
]


def test_live_gauges() -> None:
    r = registry_for(EVENTS)
    labels = {"queue": "sales", "channel": "voice"}
    assert r.get_sample_value("ccmon_queue_contacts_waiting", labels) == 1
    assert r.get_sample_value("ccmon_queue_oldest_wait_seconds", labels) == 30
    assert (
        r.get_sample_value("ccmon_queue_oldest_enqueued_timestamp_seconds", labels)
        == (T0 + 9 * 60 * S + 30 * S) / 1000
    )
    assert r.get_sample_value("ccmon_queue_agents", labels | {"state": "available"}) == 1
    assert r.get_sample_value("ccmon_redis_up") == 1


def test_windowed_gauges_carry_exact_values_per_window() -> None:
    r = registry_for(EVENTS)

    def w(name: str, window: str) -> float | None:
        return r.get_sample_value(name, {"queue": "sales", "channel": "voice", "window": window})

    # 5m = 00:06..00:10: c1 answered (12 s), c2 abandoned (40 s), c3 queued.
    assert w("ccmon_queue_window_queued_contacts", "5m") == 3
    assert w("ccmon_queue_service_level_ratio", "5m") == 0.5
    assert w("ccmon_queue_asa_seconds", "5m") == 12
    assert w("ccmon_queue_abandonment_rate_ratio", "5m") == 1 / 3
    assert w("ccmon_queue_max_wait_seconds", "5m") == 40
    assert w("ccmon_queue_aht_seconds", "5m") == 240
    # 15m also holds c4 (answered in 25 s: outside the 20 s threshold).
    assert w("ccmon_queue_window_queued_contacts", "15m") == 4
    assert w("ccmon_queue_service_level_ratio", "15m") == 1 / 3
    assert w("ccmon_queue_asa_seconds", "15m") == 18.5
    assert w("ccmon_queue_window_answered_contacts", "today") == 2


def test_an_empty_denominator_exports_no_sample() -> None:
    r = registry_for([contact("contact.queued", T0 + 9 * 60 * S, "c1")])
    labels = {"queue": "sales", "channel": "voice", "window": "5m"}
    assert r.get_sample_value("ccmon_queue_window_queued_contacts", labels) == 1
    assert r.get_sample_value("ccmon_queue_answer_rate_ratio", labels) == 0
    assert r.get_sample_value("ccmon_queue_service_level_ratio", labels) is None
    assert r.get_sample_value("ccmon_queue_asa_seconds", labels) is None
    assert r.get_sample_value("ccmon_queue_aht_seconds", labels) is None


def test_counters_and_a_histogram_bucket_at_the_threshold() -> None:
    r = registry_for(EVENTS)
    labels = {"queue": "sales", "channel": "voice"}
    assert r.get_sample_value("ccmon_queue_queued_contacts_total", labels) == 4
    assert r.get_sample_value("ccmon_queue_answered_within_threshold_contacts_total", labels) == 1
    assert r.get_sample_value("ccmon_queue_talk_seconds_total", labels) == 200

    def bucket(le: str) -> float | None:
        return r.get_sample_value("ccmon_queue_answer_wait_seconds_bucket", labels | {"le": le})

    assert bucket("15.0") == 1  # 12 s
    assert bucket("20.0") == 1  # the SL threshold is a bucket boundary
    assert bucket("30.0") == 2  # 25 s
    assert bucket("+Inf") == 2
    assert r.get_sample_value("ccmon_queue_answer_wait_seconds_count", labels) == 2
    assert r.get_sample_value("ccmon_queue_answer_wait_seconds_sum", labels) == 37
    assert (
        r.get_sample_value("ccmon_queue_abandon_wait_seconds_bucket", labels | {"le": "45.0"}) == 1
    )
    assert r.get_sample_value("ccmon_queue_service_level_target_ratio", {"queue": "sales"}) == 0.9


class DownStore(InMemoryStore):
    def series(self) -> list[tuple[str, str]]:
        raise StoreError("connection refused")


def test_an_unreachable_store_reports_redis_down_instead_of_failing_the_scrape() -> None:
    registry = CollectorRegistry()
    registry.register(AggregateCollector(DownStore(), QUEUES, clock_ms=lambda: NOW))
    assert registry.get_sample_value("ccmon_redis_up") == 0
    assert (
        registry.get_sample_value(
            "ccmon_queue_contacts_waiting", {"queue": "sales", "channel": "voice"}
        )
        is None
    )
