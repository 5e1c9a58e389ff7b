"""The contact families in /metrics: exact samples per window, the live sets, absent
values, no samples for series without the newer contact facts, and the cached text."""

from __future__ import annotations

import re
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import generate_latest

from metrics.config.queues import QueueConfig, QueuesConfig
from metrics.core.aggregator import Aggregator
from metrics.events import (
    CallbackAttempted,
    ContactEnded,
    ContactHeld,
    ContactOfferDeclined,
    ContactOffered,
    ContactOutcome,
    ContactQueued,
    ContactTransferred,
    Event,
    WrapupCompleted,
)
from metrics.exposition.queues import AggregateCollector
from metrics.store.memory import InMemoryStore
from streams.testing.events import T0

S, M = 1000, 60_000
NOW = T0 + 10 * M  # 00:10 UTC
QUEUES = QueuesConfig(
    queues=(QueueConfig(name="sales"), QueueConfig(name="support")),
    wrapup_codes=("sale", "no_sale"),
)
_n = iter(range(1, 10_000))


def at(minute: float, contact: str, queue: str = "sales") -> dict[str, Any]:
    return {
        "id": f"e{next(_n)}",
        "time_ms": T0 + round(minute * M),
        "contact_id": contact,
        "queue": queue,
        "channel": "voice",
    }


SHIFT: list[Event] = [
    # c1: offered twice (one miss), answered at 00:02, held and hung up on hold by the customer
    ContactQueued(**at(1, "c1")),
    ContactOffered(**at(1.1, "c1"), agent_id="a1"),
    ContactOfferDeclined(**at(1.5, "c1"), agent_id="a1", outcome="missed"),
    ContactOffered(**at(1.6, "c1"), agent_id="a2"),
    ContactOutcome(**at(2, "c1"), kind="answered", agent_id="a2"),
    ContactHeld(**at(3, "c1")),
    ContactEnded(**at(4, "c1"), disconnected_by="customer"),
    WrapupCompleted(**at(5, "c1"), talk_ms=60_000, hold_ms=60_000, acw_ms=60_000, wrapup_code="x"),
    # c2: an outbound contact answered at 00:08 and still in progress; blind transfer from c3
    ContactQueued(**at(7, "c2"), direction="outbound"),
    ContactOffered(**at(7.5, "c2"), agent_id="a1"),
    ContactOutcome(**at(8, "c2"), kind="answered", agent_id="a1"),
    ContactQueued(**at(8.5, "c3")),
    ContactOutcome(**at(8.6, "c3"), kind="answered"),
    ContactTransferred(**at(9, "c3"), kind="blind", target="queue", to="support"),
    # c4: a callback requested at 00:06, one unanswered attempt: still waiting
    ContactQueued(**at(5.5, "c4", "support")),
    ContactOutcome(**at(6, "c4", "support"), kind="callback_requested"),
    CallbackAttempted(**at(9.5, "c4", "support"), outcome="no_answer"),
]


def collector_for(events: list[Event], now: list[int] | None = None) -> AggregateCollector:
    store = InMemoryStore()
    aggregator = Aggregator(QUEUES)
    for event in events:
        aggregator.apply(event)
    store.flush(aggregator.drain(), NOW)
    clock = now if now is not None else [NOW]
    return AggregateCollector(store, QUEUES, clock_ms=lambda: clock[0])


def registry_of(collector: AggregateCollector) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(collector)
    return registry


def test_live_contact_gauges() -> None:
    r = registry_of(collector_for(SHIFT))
    sales = {"queue": "sales", "channel": "voice"}
    support = {"queue": "support", "channel": "voice"}
    assert r.get_sample_value("ccmon_queue_contacts_in_progress", sales) == 1  # c2 only
    assert r.get_sample_value("ccmon_queue_longest_in_progress_seconds", sales) == 120
    assert r.get_sample_value("ccmon_queue_callbacks_waiting", sales) == 0
    assert r.get_sample_value("ccmon_queue_oldest_callback_wait_seconds", sales) is None
    assert r.get_sample_value("ccmon_queue_callbacks_waiting", support) == 1
    assert r.get_sample_value("ccmon_queue_oldest_callback_wait_seconds", support) == 240
    assert r.get_sample_value("ccmon_queue_contacts_in_progress", support) == 0
    assert r.get_sample_value("ccmon_queue_longest_in_progress_seconds", support) is None


def test_windowed_contact_gauges_carry_exact_values() -> None:
    r = registry_of(collector_for(SHIFT))

    def w(name: str, window: str, queue: str = "sales", **extra: str) -> float | None:
        labels = {"queue": queue, "channel": "voice", "window": window, **extra}
        return r.get_sample_value(name, labels)

    # 5m = 00:05..00:10: c2's offer and answer, c3's transfer, the wrap-up of c1
    assert w("ccmon_queue_offers_contacts", "5m") == 1
    assert w("ccmon_queue_offers_declined_contacts", "5m", outcome="missed") == 0
    assert w("ccmon_queue_agent_non_response_ratio", "5m") == 0
    assert w("ccmon_queue_offers_contacts", "15m") == 3
    assert w("ccmon_queue_offers_declined_contacts", "15m", outcome="missed") == 1
    assert w("ccmon_queue_offers_declined_contacts", "15m", outcome="rejected") == 0
    assert w("ccmon_queue_agent_non_response_ratio", "15m") == 1 / 3
    assert w("ccmon_queue_holds_contacts", "15m") == 1
    assert w("ccmon_queue_hold_abandons_contacts", "15m") == 1
    assert w("ccmon_queue_hold_abandons_contacts", "5m") == 0
    assert w("ccmon_queue_disconnects_contacts", "today", side="customer") == 1
    assert w("ccmon_queue_disconnects_contacts", "today", side="agent") == 0
    transfers = "ccmon_queue_transfers_contacts"
    assert w(transfers, "5m", direction="out", kind="blind") == 1
    assert w(transfers, "5m", direction="out", kind="consult") == 0
    assert w(transfers, "5m", "support", direction="in", kind="blind") == 1
    assert w(transfers, "5m", "support", direction="in", kind="consult") == 0
    assert w(transfers, "5m", direction="in", kind="blind") == 0
    by_direction = "ccmon_queue_contacts_by_direction_contacts"
    assert w(by_direction, "15m", direction="inbound") == 2
    assert w(by_direction, "15m", direction="outbound") == 1
    assert w(by_direction, "15m", direction="callback") == 0
    attempts = "ccmon_queue_callback_attempts_contacts"
    assert w(attempts, "5m", "support", outcome="no_answer") == 1
    assert w(attempts, "5m", "support", outcome="connected") == 0
    assert w("ccmon_queue_wrapup_contacts", "15m", code="other") == 1
    assert w("ccmon_queue_wrapup_contacts", "60m", code="other") == 1


def test_no_offers_exports_no_non_response_ratio() -> None:
    r = registry_of(collector_for(SHIFT[14:]))  # the support callback only
    labels = {"queue": "support", "channel": "voice", "window": "15m"}
    assert r.get_sample_value("ccmon_queue_offers_contacts", labels) == 0
    assert r.get_sample_value("ccmon_queue_agent_non_response_ratio", labels) is None


def test_a_series_without_the_newer_facts_has_only_the_live_gauges() -> None:
    plain = [
        ContactQueued(**at(1, "p1")),
        ContactOutcome(**at(2, "p1"), kind="answered"),
        WrapupCompleted(**at(3, "p1"), talk_ms=1, hold_ms=0, acw_ms=0),
    ]
    text = generate_latest(registry_of(collector_for(plain))).decode()
    assert 'ccmon_queue_contacts_in_progress{channel="voice",queue="sales"} 0.0' in text
    assert 'ccmon_queue_callbacks_waiting{channel="voice",queue="sales"} 0.0' in text
    assert not re.search(r"^ccmon_queue_(offers|holds|transfers|wrapup)_contacts\{", text, re.M)


DURATION = re.compile(rb"^(ccmon_exporter_scrape_duration_seconds) \S+$", re.MULTILINE)


def test_the_cached_text_is_generate_latests_and_the_clock_moves_the_ages() -> None:
    clock = [NOW]
    collector = collector_for(SHIFT, clock)

    def plain() -> bytes:
        return DURATION.sub(rb"\1 X", generate_latest(registry_of(collector)))

    def fast() -> bytes:
        return DURATION.sub(rb"\1 X", collector.exposition())

    assert fast() == plain()
    clock[0] = NOW + 10 * S  # same minute: only the clock-driven ages move
    text = fast()
    assert text == plain()
    assert b'ccmon_queue_longest_in_progress_seconds{channel="voice",queue="sales"} 130.0' in text
    assert (
        b'ccmon_queue_oldest_callback_wait_seconds{channel="voice",queue="support"} 250.0' in text
    )
