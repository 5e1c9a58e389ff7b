"""The cached exposition text: byte for byte generate_latest's, fresh after every flush."""

from __future__ import annotations

import re

import pytest
from prometheus_client import CollectorRegistry, Gauge
from prometheus_client.exposition import generate_latest

from metrics.core.aggregator import Aggregator
from metrics.exposition.queues import AggregateCollector
from metrics.exposition.text import ExpositionRegistry, render_latest
from metrics.store.memory import InMemoryStore
from streams.decode import decode
from streams.testing.events import agent, contact, raw, ticket, wrapup
from tests.week import NOW, QUEUES, SCRIPT

M, S = 60_000, 1000
VOICE = [
    contact("contact.queued", NOW - 9 * M, "v1", queue="sales"),
    contact("contact.answered", NOW - 9 * M + 12 * S, "v1", queue="sales"),
    wrapup(NOW - 5 * M, "v1", talk=200, hold=10, acw=30, queue="sales"),
    contact("contact.queued", NOW - 3 * M, "v2", queue="sales"),
    contact("contact.abandoned", NOW - 3 * M + 40 * S, "v2", queue="sales"),
    contact("contact.queued", NOW - 30 * S, "v3", queue="sales"),  # still waiting
    contact("contact.queued", NOW - 50 * M, "v4", queue="billing", channel="chat"),
    agent(NOW - 20 * M, "a1", "available", ["sales"]),
]
DURATION = re.compile(rb"^(ccmon_exporter_scrape_duration_seconds) \S+$", re.MULTILINE)


def flushed(events: list[dict[str, object]], store: InMemoryStore | None = None) -> InMemoryStore:
    store = store or InMemoryStore()
    aggregator = Aggregator(QUEUES)
    for event in events:
        aggregator.apply(decode(raw(event), 1 << 20))
    store.flush(aggregator.drain(), NOW)
    return store


def plain_text(collector: AggregateCollector) -> bytes:
    """What client_python writes for the collector's families."""
    registry = CollectorRegistry()
    registry.register(collector)
    return DURATION.sub(rb"\1 X", generate_latest(registry))


def fast_text(collector: AggregateCollector) -> bytes:
    return DURATION.sub(rb"\1 X", collector.exposition())


def test_the_text_is_generate_latests_for_voice_tickets_and_cx() -> None:
    store = flushed(SCRIPT + VOICE)
    collector = AggregateCollector(store, QUEUES, clock_ms=lambda: NOW)
    expected = plain_text(collector)
    assert b'ccmon_tickets_backlog{channel="email",priority="normal",queue="support"}' in expected
    assert b'ccmon_cx_csat_ratio{channel="email",queue="support",window="today"} 0.7' in expected
    assert b'ccmon_queue_oldest_wait_seconds{channel="voice",queue="sales"} 30.0' in expected
    assert fast_text(collector) == expected
    assert collector.text.rendered == len(store.series()) == 4
    assert fast_text(collector) == expected  # all from the cache now
    assert collector.text.rendered == 0


def test_a_flush_is_in_the_next_text_and_only_its_series_is_rendered_again() -> None:
    store = flushed(VOICE)
    collector = AggregateCollector(store, QUEUES, clock_ms=lambda: NOW)
    fast_text(collector)
    flushed([contact("contact.queued", NOW - 10 * S, "v9", queue="billing", channel="chat")], store)
    text = fast_text(collector)
    assert collector.text.rendered == 1
    assert text == plain_text(collector)
    assert b'ccmon_queue_contacts_waiting{channel="chat",queue="billing"} 2.0' in text
    assert b'window_queued_contacts{channel="chat",queue="billing",window="5m"} 1.0' in text


def test_clock_driven_gauges_move_without_rendering_a_series_again() -> None:
    now = [NOW]
    store = flushed(
        VOICE + [ticket("ticket.created", NOW - 2 * M, "t1", priority="high", queue="support")]
    )
    collector = AggregateCollector(store, QUEUES, clock_ms=lambda: now[0])
    fast_text(collector)
    now[0] = NOW + 5 * S  # same minute: same panes, same data
    text = fast_text(collector)
    assert collector.text.rendered == 0
    assert text == plain_text(collector)
    assert b'ccmon_queue_oldest_wait_seconds{channel="voice",queue="sales"} 35.0' in text
    age = b'ccmon_tickets_oldest_unresolved_age_seconds{channel="email",queue="support"} 125.0'
    assert age in text


def test_a_new_minute_moves_the_windows() -> None:
    now = [NOW]
    store = flushed(VOICE)
    collector = AggregateCollector(store, QUEUES, clock_ms=lambda: now[0])
    before = fast_text(collector)
    assert b'window_queued_contacts{channel="voice",queue="sales",window="5m"} 2.0' in before
    now[0] = NOW + 3 * M  # v2's queue time (NOW - 3 min) leaves the 5-minute window
    after = fast_text(collector)
    assert after == plain_text(collector)
    assert b'window_queued_contacts{channel="voice",queue="sales",window="5m"} 1.0' in after


def test_exported_windows_limit_the_windowed_samples() -> None:
    store = flushed(VOICE)
    collector = AggregateCollector(store, QUEUES, clock_ms=lambda: NOW, windows=["today", "5m"])
    text = fast_text(collector)
    assert text == plain_text(collector)
    windows = set(re.findall(rb'window="([^"]+)"', text))
    assert windows == {b"5m", b"today"}
    every = fast_text(AggregateCollector(store, QUEUES, clock_ms=lambda: NOW))
    assert set(re.findall(rb'window="([^"]+)"', every)) == {b"5m", b"15m", b"60m", b"today"}


def test_an_unknown_window_is_refused() -> None:
    with pytest.raises(ValueError, match=r"unknown windows \['2h'\]"):
        AggregateCollector(InMemoryStore(), QUEUES, windows=["5m", "2h"])


def test_the_registry_renders_text_collectors_and_the_rest_in_order() -> None:
    store = flushed(VOICE)
    fast, plain = ExpositionRegistry(), CollectorRegistry()
    for registry in (fast, plain):
        Gauge("ccmon_before", "First.", registry=registry).set(1)
        registry.register(AggregateCollector(store, QUEUES, clock_ms=lambda: NOW))
        Gauge("ccmon_after", "Last.", registry=registry).set(2)
    assert DURATION.sub(rb"\1 X", render_latest(fast)) == DURATION.sub(
        rb"\1 X", render_latest(plain)
    )
    assert render_latest(fast).startswith(b"# HELP ccmon_before First.")
    assert (
        fast.get_sample_value(
            "ccmon_queue_contacts_waiting", {"queue": "sales", "channel": "voice"}
        )
        == 1
    )
