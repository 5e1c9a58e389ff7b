"""Free slots in the routing snapshot: staffed capacity minus what is busy now."""

from __future__ import annotations

import orjson
import pytest

from metrics.config.queues import QueueConfig, QueuesConfig
from metrics.core.aggregator import Aggregator
from metrics.core.reads import Live, SeriesData, SetStats
from metrics.routing.cache import build_snapshots
from metrics.routing.snapshot import free_slots
from metrics.store.memory import InMemoryStore
from streams.decode import decode
from streams.testing.events import T0, raw
from streams.testing.routing_scenario import scenario


def data(agents: dict[str, int], handling: int | None = None) -> SeriesData:
    sets = {} if handling is None else {"handling": SetStats(count=handling)}
    return SeriesData([], [], [], Live(agents=agents, sets=sets), {})


@pytest.mark.parametrize(
    ("channel", "found", "free"),
    [
        ("voice", data({"slots_total": 3, "slots_busy": 1}), 2),  # busy: agents on contact/ACW
        ("voice", data({"slots_total": 3, "slots_busy": 1}, handling=3), 2),
        ("chat", data({"slots_total": 9}, handling=4), 5),  # busy: contacts being handled
        ("chat", data({"slots_total": 2}, handling=5), 0),  # never below zero
        ("email", data({}), 0),  # no agent staffed
    ],
)
def test_free_slots(channel: str, found: SeriesData, free: int) -> None:
    assert free_slots(channel, found) == free


def test_the_scripted_queue_has_one_free_voice_slot() -> None:
    """docs/routing.md's example: one agent available, one on a contact, one in wrap-up."""
    queues = QueuesConfig(queues=(QueueConfig(name="sales"),))
    events, now = scenario(T0 + 10 * 3_600_000)
    aggregator = Aggregator(queues)
    for event in events:
        aggregator.apply(decode(raw(event), 1 << 16))
    store = InMemoryStore()
    store.flush(aggregator.drain(), now)
    snapshot = orjson.loads(build_snapshots(store, queues, now).bodies["sales"])
    assert snapshot["channels"]["voice"]["free_slots"] == 1
