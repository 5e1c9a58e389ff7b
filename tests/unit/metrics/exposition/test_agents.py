"""The agent families from a scripted half hour: exact values, open states up to now,
bounded labels only, and promtool accepts the text."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from metrics.config.queues import QueuesConfig
from metrics.core.aggregator import Aggregator
from metrics.events import AgentStateChanged, ContactOutcome, ContactQueued, WrapupCompleted
from metrics.exposition.agents import AgentCollector
from metrics.store.memory import InMemoryStore
from streams.testing.events import T0
from tests.promtool import assert_promtool_accepts

S, MIN, HOUR = 1000, 60_000, 3_600_000
NOW = T0 + 9 * HOUR + 30 * MIN + 30 * S  # 09:30:30


class Queues(QueuesConfig):
    reason_codes: tuple[str, ...] = ("lunch", "break")
    teams: tuple[str, ...] = ("team-a", "team-b")


def at(hours: int, minutes: int) -> int:
    return T0 + hours * HOUR + minutes * MIN


def state(
    agent_id: str, t: int, name: str, reason: str | None = None, chat: int = 2
) -> AgentStateChanged:
    return AgentStateChanged(
        f"{agent_id}-{t}",
        t,
        agent_id,
        name,
        ("sales",),
        ("voice", "chat"),
        reason,
        (("chat", chat),),
    )


EVENTS: list[Any] = [
    state("a1", at(9, 0), "available"),
    state("a1", at(9, 10), "on_contact"),
    WrapupCompleted("w1", at(9, 20), "c1", "sales", "chat", 100_000, 0, 20_000, "a1"),
    state("a1", at(9, 25), "not_ready", "lunch"),  # open at 09:30:30
    state("a2", at(9, 28), "available", chat=3),
    ContactQueued("q2", at(9, 29), "c2", "sales", "chat"),
    ContactOutcome("r2", at(9, 29) + 5 * S, "c2", "sales", "chat", "answered", "a2"),  # in hand
]


@pytest.fixture(scope="module")
def registry() -> CollectorRegistry:
    queues = Queues()
    aggregator = Aggregator(queues, agent_teams={"a1": "team-a", "a2": "team-b"})
    for event in EVENTS:
        aggregator.apply(event)
    store = InMemoryStore()
    store.flush(aggregator.drain(), NOW)
    found = CollectorRegistry()
    found.register(AgentCollector(store, queues, clock_ms=lambda: NOW))
    return found


def value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


def test_queue_agents_by_reason_and_reason_time_count_the_open_state(
    registry: CollectorRegistry,
) -> None:
    sv = {"queue": "sales", "channel": "voice"}
    assert value(registry, "ccmon_queue_agents_by_reason", **sv, reason="lunch") == 1
    assert value(registry, "ccmon_queue_agents_by_reason", **sv, reason="break") == 0
    assert value(registry, "ccmon_queue_agents_by_reason", **sv, reason="other") == 0
    seconds = "ccmon_queue_agent_reason_seconds"
    # lunch from 09:25 still open at 09:30:30; the 5-minute window starts at 09:26
    assert value(registry, seconds, **sv, window="5m", reason="lunch") == 270
    assert value(registry, seconds, **sv, window="15m", reason="lunch") == 330
    assert value(registry, seconds, **sv, window="today", reason="lunch") == 330
    assert value(registry, seconds, **sv, window="today", reason="none") == 0


def test_queue_slots_are_capacity_of_the_staffed_agents_now(registry: CollectorRegistry) -> None:
    slots = "ccmon_queue_slots"
    assert value(registry, slots, queue="sales", channel="voice", kind="total") == 1  # a2
    assert value(registry, slots, queue="sales", channel="voice", kind="busy") == 0
    assert value(registry, slots, queue="sales", channel="chat", kind="total") == 3
    assert value(registry, slots, queue="sales", channel="chat", kind="busy") == 1  # handling


def test_team_families(registry: CollectorRegistry) -> None:
    assert value(registry, "ccmon_team_agents", team="team-a", state="not_ready") == 1
    assert value(registry, "ccmon_team_agents", team="team-a", state="available") == 0
    assert value(registry, "ccmon_team_agents", team="team-b", state="available") == 1
    assert value(registry, "ccmon_team_agents_by_reason", team="team-a", reason="lunch") == 1
    occupancy = "ccmon_team_occupancy_ratio"
    # 15m [09:16, 09:31): on contact 540 s x 3 slots staffed; busy: voice 540 s + the chat's
    # 120 s handle time
    assert value(registry, occupancy, team="team-a", window="15m") == pytest.approx(660 / 1620)
    # today: (600 s available + 900 s on contact) x 3 slots; busy 900 + 120
    assert value(registry, occupancy, team="team-a", window="today") == pytest.approx(1020 / 4500)
    assert value(registry, occupancy, team="team-a", window="5m") is None  # not staffed
    assert value(registry, occupancy, team="team-b", window="5m") == 0  # 150 s x 4, none busy
    seconds = "ccmon_team_agent_state_seconds"
    today = {
        s: value(registry, seconds, team="team-a", window="today", state=s)
        for s in ("available", "on_contact", "after_contact_work", "not_ready")
    }
    assert today == {"available": 600, "on_contact": 900, "after_contact_work": 0, "not_ready": 330}
    assert value(registry, "ccmon_team_agents", team="none", state="available") is None


def test_no_agent_id_in_any_label_and_promtool_accepts_the_text(
    registry: CollectorRegistry,
) -> None:
    text = generate_latest(registry)
    assert b"a1" not in text and b"a2" not in text
    assert_promtool_accepts(text)
