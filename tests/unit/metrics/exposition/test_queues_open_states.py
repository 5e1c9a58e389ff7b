"""/metrics counts an agent's open state up to now, as the read API does: the windowed
occupancy with a fixed clock, exact, the cached text equal to generate_latest's at every
scrape, and the all-time counters of closed spans only."""

from __future__ import annotations

import re

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import generate_latest

from metrics.config.queues import QueueConfig, QueuesConfig
from metrics.core.aggregator import Aggregator
from metrics.exposition.queues import AggregateCollector
from metrics.store.memory import InMemoryStore
from streams.decode import decode
from streams.testing.events import T0, agent, raw

S, M = 1000, 60_000
NOW = T0 + 10 * M  # 00:10 UTC
QUEUES = QueuesConfig(queues=(QueueConfig(name="sales"),))
DURATION = re.compile(rb"^(ccmon_exporter_scrape_duration_seconds) \S+$", re.MULTILINE)
EVENTS = [
    agent(T0 + 2 * M, "a1", "available", ["sales"]),
    agent(T0 + 6 * M, "a1", "on_contact", ["sales"]),  # open: 4 min at 00:10
    agent(T0 + 8 * M, "a2", "available", ["sales"]),  # open: 2 min at 00:10
]


def collector_at(clock: list[int]) -> tuple[AggregateCollector, CollectorRegistry]:
    store = InMemoryStore()
    aggregator = Aggregator(QUEUES)
    for event in EVENTS:
        aggregator.apply(decode(raw(event), 1 << 16))
    store.flush(aggregator.drain(), NOW)
    collector = AggregateCollector(store, QUEUES, clock_ms=lambda: clock[0])
    registry = CollectorRegistry()
    registry.register(collector)
    return collector, registry


def occupancy(registry: CollectorRegistry, window: str) -> float | None:
    labels = {"queue": "sales", "channel": "voice", "window": window}
    return registry.get_sample_value("ccmon_queue_occupancy_ratio", labels)


def test_open_states_count_in_the_windowed_occupancy_up_to_now() -> None:
    _, registry = collector_at([NOW])
    # 5m (00:06-00:10): only the open spans, a1 on contact 240 s, a2 available 120 s.
    assert occupancy(registry, "5m") == 240 / 360
    # 15m, 60m and today also hold a1's closed 240 s available (00:02-00:06).
    for window in ("15m", "60m", "today"):
        assert occupancy(registry, window) == 240 / 600
    # The all-time counter: closed spans only, so it never goes down.
    labels = {"queue": "sales", "channel": "voice"}
    seconds = {
        state: registry.get_sample_value(
            "ccmon_queue_agent_state_seconds_total", labels | {"state": state}
        )
        for state in ("available", "on_contact")
    }
    assert seconds == {"available": 240.0, "on_contact": 0.0}


def test_the_cached_text_follows_the_open_states_at_every_scrape() -> None:
    clock = [NOW]
    collector, registry = collector_at(clock)
    for now, five in ((NOW, 240 / 360), (NOW + 30 * S, 270 / 420), (NOW + 30 * S, 270 / 420)):
        clock[0] = now
        expected = DURATION.sub(rb"\1 X", generate_latest(registry))
        line = f'ccmon_queue_occupancy_ratio{{channel="voice",queue="sales",window="5m"}} {five}'
        assert line.encode() in expected
        assert DURATION.sub(rb"\1 X", collector.exposition()) == expected
