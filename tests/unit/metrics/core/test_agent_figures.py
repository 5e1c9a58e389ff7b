"""Reason time, slot time, team and agent figures do not depend on arrival order.

One agent's scripted shift (reasons configured, unknown and missing; voice and chat with
capacity) goes through the Aggregator in every admissible order and with duplicates, and
gives the figures of the in-order pass, which are checked against figures worked out by hand.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from typing import Any

import orjson

from metrics.config.queues import QueuesConfig
from metrics.core.aggregator import Aggregator
from metrics.core.states import DECODERS
from metrics.events import AgentStateChanged, ContactOfferDeclined, ContactOffered, WrapupCompleted
from streams.testing.events import T0
from tests.unit.metrics.core.test_agents import admissible

S = 1000
LATENESS_MS = 120 * S
SV, SC = ("sales", "voice"), ("sales", "chat")
CAPACITY = (("chat", 3), ("voice", 1))


class Queues(QueuesConfig):
    """The queues file's bounded reason codes and teams (metrics/config/queues.py)."""

    reason_codes: tuple[str, ...] = ("lunch", "break")
    teams: tuple[str, ...] = ("team-a", "team-b")


QUEUES = Queues()
TEAMS = {"a": "team-a", "b": "not-configured"}


def change(seconds: float, state: str, reason: str | None = None) -> AgentStateChanged:
    time_ms = T0 + round(seconds * S)
    return AgentStateChanged(
        f"{time_ms}-{state}-{reason}",
        time_ms,
        "a",
        state,
        ("sales",),
        ("voice", "chat"),
        reason,
        CAPACITY,
    )


SHIFT = [
    change(0, "available"),
    change(20, "on_contact"),
    change(50, "not_ready", "lunch"),
    change(80, "not_ready", "smoke"),  # not configured: "other"
    change(100, "not_ready"),  # no reason: "none"
    change(110, "available"),
    change(130, "not_ready", "break"),
]


def _add(target: dict[Any, dict[str, int]], source: Any) -> None:
    for key, fields in source.items():
        into = target.setdefault(key, {})
        for name, delta in fields.items():
            into[name] = into.get(name, 0) + delta


def _nonzero(table: dict[Any, dict[str, int]]) -> dict[Any, dict[str, int]]:
    found = {k: {f: v for f, v in fields.items() if v} for k, fields in table.items()}
    return {k: fields for k, fields in found.items() if fields}


def run(events: Sequence[Any], chunk: int | None = None) -> dict[str, Any]:
    """Apply `events` in chunks, the agent's state through its JSON form between chunks."""
    aggregator = Aggregator(QUEUES, lateness_ms=LATENESS_MS, agent_teams=TEAMS)
    tables: dict[str, dict[Any, dict[str, int]]] = {
        "sums": {},
        "live": {},
        "scoped": {},
        "scoped_live": {},
    }
    step = chunk or len(events)
    stored: dict[str, bytes] = {}  # what the flushes stored, loaded fresh for each chunk
    for i in range(0, len(events), step):
        for event in events[i : i + step]:
            aggregator.apply(event)
        update = aggregator.drain()
        for name, table in tables.items():
            _add(table, getattr(update, name))
        stored |= {k: orjson.dumps(s.to_dict()) for k, s in update.states["agent"].items()}
        aggregator.forget()
        aggregator.load(
            {"agent": {k: DECODERS["agent"](orjson.loads(v)) for k, v in stored.items()}}
        )
    return {name: _nonzero(table) for name, table in tables.items()} | {
        "stale": aggregator.stale_agent_events
    }


def pane(minute: int) -> int:
    return T0 + minute * 60 * S


#: [0,20) available, [20,50) on contact, [50,80) lunch, [80,100) other, [100,110) none,
#: [110,130) available, from 130 s not ready (break), still open.
VOICE = {
    pane(0): {
        "agent_available_ms": 20_000,
        "agent_on_contact_ms": 30_000,
        "agent_not_ready_ms": 10_000,
        "agent_reason_ms_lunch": 10_000,
        "agent_slots_ms": 50_000,  # one slot while available or on contact
        "agent_busy_slots_ms": 30_000,  # voice: busy while on contact
    },
    pane(1): {
        "agent_not_ready_ms": 50_000,
        "agent_reason_ms_lunch": 20_000,
        "agent_reason_ms_other": 20_000,
        "agent_reason_ms_none": 10_000,
        "agent_available_ms": 10_000,
        "agent_slots_ms": 10_000,
    },
    pane(2): {"agent_available_ms": 10_000, "agent_slots_ms": 10_000},
}


def _chat(voice: dict[str, int]) -> dict[str, int]:
    """Chat has three slots and no busy slots from the agent's state (they come from contacts)."""
    fields = {k: v for k, v in voice.items() if k != "agent_busy_slots_ms"}
    fields["agent_slots_ms"] = 3 * voice["agent_slots_ms"]
    return fields


def _entity(voice: dict[str, int]) -> dict[str, int]:
    """Per agent and team: time once, slots of both channels."""
    return _chat(voice) | {
        "agent_slots_ms": 4 * voice["agent_slots_ms"],
        **(
            {"agent_busy_slots_ms": voice["agent_busy_slots_ms"]}
            if "agent_busy_slots_ms" in voice
            else {}
        ),
    }


IN_ORDER = {
    "sums": {
        **{(*SV, p): fields for p, fields in VOICE.items()},
        **{(*SC, p): _chat(fields) for p, fields in VOICE.items()},
    },
    "live": {s: {"agents_not_ready": 1, "agents_reason_break": 1} for s in (SV, SC)},
    "scoped": {
        (scope, ident, p): _entity(fields)
        for scope, ident in (("agent", "a"), ("team", "team-a"))
        for p, fields in VOICE.items()
    },
    "scoped_live": {("team", "team-a"): {"agents_not_ready": 1, "agents_reason_break": 1}},
    "stale": 0,
}


def test_the_shift_in_order_gives_the_figures_worked_out_by_hand() -> None:
    assert run(SHIFT) == IN_ORDER
    assert run(SHIFT, chunk=1) == IN_ORDER


def test_every_admissible_order_of_the_shift_gives_the_in_order_figures() -> None:
    orders = list(admissible(SHIFT, LATENESS_MS))
    assert len(orders) > 1000
    for n, order in enumerate(orders):
        assert run([SHIFT[i] for i in order], chunk=1 + n % 3) == IN_ORDER, order


def test_every_change_twice_counts_once() -> None:
    twice = [
        e for event in SHIFT for e in (event, dataclasses.replace(event, id=event.id + "-again"))
    ]
    assert run(twice, chunk=1) == IN_ORDER
    assert run([*SHIFT, *SHIFT[::-1]], chunk=2) == IN_ORDER


def test_live_slots_follow_the_latest_state_per_series_and_team() -> None:
    found = run(SHIFT[:1])
    assert found["live"] == {
        SV: {"agents_available": 1, "slots_total": 1},
        SC: {"agents_available": 1, "slots_total": 3},
    }
    assert found["scoped_live"] == {("team", "team-a"): {"agents_available": 1, "slots_total": 4}}
    on_contact = run(SHIFT[:2])
    assert on_contact["live"][SV] == {"agents_on_contact": 1, "slots_total": 1, "slots_busy": 1}
    assert on_contact["live"][SC] == {"agents_on_contact": 1, "slots_total": 3}


def test_without_capacity_a_channel_has_one_slot_and_the_directory_capacity_is_the_default() -> (
    None
):
    plain = dataclasses.replace(SHIFT[0], capacity=())
    aggregator = Aggregator(QUEUES, agent_capacity={"a": (("chat", 2),)})
    aggregator.apply(plain)
    live = aggregator.drain().live
    assert dict(live[SV]) == {"agents_available": 1, "slots_total": 1}
    assert dict(live[SC]) == {"agents_available": 1, "slots_total": 2}


def test_a_team_not_configured_is_none() -> None:
    aggregator = Aggregator(QUEUES, agent_teams=TEAMS)
    aggregator.apply(dataclasses.replace(SHIFT[0], agent_id="b"))
    assert set(aggregator.drain().scoped_live) == {("team", "none")}


def test_contact_events_naming_an_agent_add_to_its_figures_and_its_team() -> None:
    events: list[Any] = [
        ContactOffered("o1", T0 + 1 * S, "c1", "sales", "chat", "a"),
        ContactOfferDeclined("d1", T0 + 2 * S, "c1", "sales", "chat", "a", "missed"),
        ContactOffered("o2", T0 + 3 * S, "c1", "sales", "chat", "a"),
        WrapupCompleted("w1", T0 + 70 * S, "c1", "sales", "chat", 40_000, 5_000, 10_000, "a"),
        WrapupCompleted("w2", T0 + 80 * S, "c2", "sales", "voice", 30_000, 0, 5_000, "a"),
        WrapupCompleted("w3", T0 + 90 * S, "c3", "sales", "chat", 20_000, 0, 0),  # no agent
    ]
    for order in itertools.permutations(events):
        found = run(order)
        first = {"offers": 2, "offers_declined_missed": 1}
        second = {
            "handled": 2,
            "talk_ms": 70_000,
            "hold_ms": 5_000,
            "acw_ms": 15_000,
            "agent_busy_slots_ms": 55_000,  # the chat contact's handle time; voice: from state
        }
        assert found["scoped"] == {
            (scope, ident, p): fields
            for scope, ident in (("agent", "a"), ("team", "team-a"))
            for p, fields in ((pane(0), first), (pane(1), second))
        }
        chat = {k: v.get("agent_busy_slots_ms") for k, v in found["sums"].items() if k[:2] == SC}
        assert chat[(*SC, pane(1))] == 55_000 + 20_000
