"""Team and agent figures on a real Redis: the same answers as the in-memory twin, in one
atomic flush, a replayed flush fenced, agents with no 1-minute panes."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from metrics.config.queues import QueuesConfig
from metrics.core.aggregator import Aggregator
from metrics.core.reads import SeriesRequest
from metrics.core.update import Update
from metrics.events import AgentStateChanged, WrapupCompleted
from metrics.store.base import FencedError
from metrics.store.memory import InMemoryStore
from metrics.store.redis import RedisStore
from streams.testing.events import yesterday_ms

pytestmark = pytest.mark.integration

S, MIN = 1000, 60_000
T0 = yesterday_ms()
NOW = int(time.time() * 1000)
READ_AT = T0 + 30 * MIN


class Queues(QueuesConfig):
    reason_codes: tuple[str, ...] = ("lunch",)
    teams: tuple[str, ...] = ("team-a",)


def _agent(t: int, state: str, reason: str | None = None) -> AgentStateChanged:
    return AgentStateChanged(
        f"{t}-{state}",
        T0 + t * S,
        "a1",
        state,
        ("sales",),
        ("voice", "chat"),
        reason,
        (("chat", 2),),
    )


EVENTS: list[Any] = [
    _agent(0, "available"),
    _agent(60, "on_contact"),
    _agent(120, "not_ready", "lunch"),
    WrapupCompleted("w1", T0 + 100 * S, "c1", "sales", "chat", 30_000, 0, 6_000, "a1"),
]


def update() -> Update:
    aggregator = Aggregator(Queues(), agent_teams={"a1": "team-a"})
    for event in EVENTS:
        aggregator.apply(event)
    found = aggregator.drain()
    found.mark_offset("events:0", 0)
    found.mark_offset("events:0", len(EVENTS) - 1)
    return found


@pytest.fixture
def store(redis_url: str) -> RedisStore:
    return RedisStore.from_url(redis_url, prefix=f"test-{uuid.uuid4().hex[:8]}")


def requests() -> list[SeriesRequest]:
    panes = tuple(T0 + i * MIN for i in range(5))
    return [
        SeriesRequest(("team", "team-a"), panes, (T0,), ()),
        SeriesRequest(("agent", "a1"), panes, (T0,), ()),
    ]


def test_team_and_agent_reads_answer_like_the_in_memory_twin(store: RedisStore) -> None:
    twin = InMemoryStore()
    store.flush(update(), NOW)
    twin.flush(update(), NOW)
    found = store.read_scoped(requests(), READ_AT)
    assert found == twin.read_scoped(requests(), READ_AT)
    team, agent = found
    # [0, 60) available, [60, 120) on contact: voice 1 slot + chat 2 slots staffed
    assert team.panes[0] == {"agent_available_ms": 60_000, "agent_slots_ms": 180_000}
    assert team.panes[1] == {
        "agent_on_contact_ms": 60_000,
        "agent_slots_ms": 180_000,
        "agent_busy_slots_ms": 60_000 + 36_000,  # voice from state, the chat's handle time
        "handled": 1,
        "talk_ms": 30_000,
        "acw_ms": 6_000,
    }
    assert team.intervals[0] == {
        "agent_available_ms": 60_000,
        "agent_on_contact_ms": 60_000,
        "agent_slots_ms": 360_000,
        "agent_busy_slots_ms": 96_000,
        "handled": 1,
        "talk_ms": 30_000,
        "acw_ms": 6_000,
    }
    # one update: the counts it took back again cancel out and write nothing
    assert team.live.agents == {"agents_not_ready": 1, "agents_reason_lunch": 1}
    assert agent.panes == [{}] * 5  # agents keep 15-minute and hourly panes only
    assert agent.intervals == team.intervals
    assert store.entities("team") == twin.entities("team") == ["team-a"]
    assert store.agent_states() == twin.agent_states()
    state = store.agent_states({"a1", "nobody"})["a1"]
    assert (state.state, state.latest.reason, state.latest.team) == ("not_ready", "lunch", "team-a")


def test_a_replayed_flush_is_fenced_and_adds_nothing(store: RedisStore) -> None:
    store.flush(update(), NOW)
    before = store.read_scoped(requests(), READ_AT)
    with pytest.raises(FencedError):
        store.flush(update(), NOW)
    assert store.read_scoped(requests(), READ_AT) == before


def test_mirrored_team_reads_answer_as_direct_reads_and_see_every_flush(redis_url: str) -> None:
    prefix = f"mirror-{uuid.uuid4().hex[:8]}"
    writer = RedisStore.from_url(redis_url, prefix=prefix)
    reader = RedisStore.from_url(redis_url, prefix=prefix)
    reader.mirror_reads()
    writer.flush(update(), NOW)
    assert reader.read_scoped(requests(), READ_AT) == writer.read_scoped(requests(), READ_AT)
    aggregator = Aggregator(Queues(), agent_teams={"a1": "team-a"})
    aggregator.apply(WrapupCompleted("w2", T0 + 150 * S, "c2", "sales", "chat", 1_000, 0, 0, "a1"))
    later = aggregator.drain()
    later.mark_offset("events:1", 0)
    writer.flush(later, NOW)
    team = reader.read_scoped(requests()[:1], READ_AT)[0]
    assert team == writer.read_scoped(requests()[:1], READ_AT)[0]
    assert team.panes[2]["handled"] == 1


def test_a_mirrored_reader_lists_an_agent_first_seen_after_its_first_read(
    redis_url: str,
) -> None:
    prefix = f"mirror-{uuid.uuid4().hex[:8]}"
    writer = RedisStore.from_url(redis_url, prefix=prefix)
    reader = RedisStore.from_url(redis_url, prefix=prefix)
    reader.mirror_reads()
    writer.flush(update(), NOW)
    assert sorted(reader.agent_states()) == ["a1"]
    aggregator = Aggregator(Queues())
    aggregator.apply(
        AgentStateChanged("s9", T0 + 200 * S, "a2", "available", ("sales",), ("voice",))
    )
    later = aggregator.drain()
    later.mark_offset("events:1", 0)
    writer.flush(later, NOW)
    assert sorted(reader.agent_states()) == ["a1", "a2"]
    assert reader.agent_states()["a2"].state == "available"
