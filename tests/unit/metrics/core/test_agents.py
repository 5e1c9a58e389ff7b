"""Agent time in state and live counts do not depend on arrival order within the lateness.

A scripted shift of one agent goes through the Aggregator in every order in which its
events could arrive (none more than the lateness behind the newest seen), and must give
exactly the per-pane time in state and live counts of the in-order pass, which is itself
checked against figures worked out by hand.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator, Sequence
from typing import Any

import orjson
import pytest
from prometheus_client import CollectorRegistry

from metrics.config.queues import QueuesConfig
from metrics.core.agents import MAX_CHANGES, AgentState, Change, insert_change
from metrics.core.aggregator import Aggregator
from metrics.core.states import DECODERS
from metrics.events import AgentStateChanged
from metrics.fields import AGENT_STATES, AGENT_TIME_FIELD
from metrics.store.memory import InMemoryStore
from streams.consume import Pipeline
from streams.health import WorkerMetrics
from streams.outbox import InMemoryOutbox
from streams.settings import Settings
from streams.testing.events import T0

S = 1000
LATENESS_MS = 120 * S
ONE = (("sales",), ("voice",))
TWO = (("sales", "billing"), ("voice", "chat"))
SV, BV, SC, BC = ("sales", "voice"), ("billing", "voice"), ("sales", "chat"), ("billing", "chat")
QUEUES = QueuesConfig()


def change(
    seconds: float, state: str, serves: tuple[tuple[str, ...], tuple[str, ...]] = ONE
) -> AgentStateChanged:
    """An agent.state_changed of agent "a" at T0 + `seconds`, with its own event id."""
    time_ms = T0 + round(seconds * S)
    return AgentStateChanged(f"{time_ms}-{state}-{serves}", time_ms, "a", state, *serves)


#: One agent, 120 s, three panes, two sets of (queue, channel) pairs; every permutation
#: of it is within the lateness.
SHORT = [
    change(30, "available"),
    change(50, "on_contact"),
    change(80, "after_contact_work"),
    change(95, "offline"),
    change(110, "available", TWO),
    change(130, "on_contact", TWO),
    change(150, "not_ready", TWO),
]

#: One agent over ten panes: 4,828 orders keep every event within 120 s of the newest.
LONG = [
    change(0, "available"),
    change(40, "on_contact"),
    change(90, "after_contact_work"),
    change(150, "available"),
    change(200, "on_contact"),
    change(230, "after_contact_work", TWO),
    change(290, "not_ready", TWO),
    change(350, "available", TWO),
    change(420, "on_contact", TWO),
    change(470, "after_contact_work", TWO),
    change(520, "offline"),
    change(580, "available"),
]


def run(
    events: Sequence[AgentStateChanged],
    lateness_ms: int = LATENESS_MS,
    chunk: int | None = None,
    stored: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Apply `events`; every `chunk` events the state goes to its JSON form and back.

    Returns the non-zero pane sums, the non-zero live counts and the stale count.
    """
    aggregator = Aggregator(QUEUES, lateness_ms=lateness_ms)
    if stored is not None:
        aggregator.load({"agent": {"a": DECODERS["agent"](stored)}})
    sums: dict[tuple[str, str, int], dict[str, int]] = {}
    live: dict[tuple[str, str], dict[str, int]] = {}
    step = chunk or len(events)
    text = None if stored is None else orjson.dumps(stored)
    for i in range(0, len(events), step):
        for event in events[i : i + step]:
            aggregator.apply(event)
        update = aggregator.drain()
        for key, fields in update.sums.items():
            target = sums.setdefault(key, {})
            for name, delta in fields.items():
                target[name] = target.get(name, 0) + delta
        for series, fields in update.live.items():
            target = live.setdefault(series, {})
            for name, delta in fields.items():
                target[name] = target.get(name, 0) + delta
        if "a" in update.states["agent"]:  # what a flush stores, then a fresh load
            text = orjson.dumps(update.states["agent"]["a"].to_dict())
        aggregator.forget()
        if text is not None:
            aggregator.load({"agent": {"a": DECODERS["agent"](orjson.loads(text))}})
    return {
        "panes": _nonzero(sums),
        "live": _nonzero(live),
        "stale": aggregator.stale_agent_events,
    }


#: The fields these tables check: time in state and live counts by state (reason and slot
#: figures are checked in test_agent_figures.py).
_CHECKED = {*AGENT_TIME_FIELD.values(), *(f"agents_{s}" for s in AGENT_STATES)}


def _nonzero(table: dict[Any, dict[str, int]]) -> dict[Any, dict[str, int]]:
    found = {
        k: {f: v for f, v in fields.items() if v and f in _CHECKED} for k, fields in table.items()
    }
    return {k: fields for k, fields in found.items() if fields}


def pane(minute: int) -> int:
    return T0 + minute * 60 * S


def admissible(events: Sequence[AgentStateChanged], lateness_ms: int) -> Iterator[list[int]]:
    """Every arrival order in which no event is more than `lateness_ms` behind the newest."""
    n = len(events)
    times = [e.time_ms for e in events]

    def grow(order: list[int], left: set[int], newest: int) -> Iterator[list[int]]:
        if not left:
            yield order
        for i in sorted(left):
            top = max(newest, times[i])
            rest = left - {i}
            if all(times[j] >= top - lateness_ms for j in rest):
                yield from grow([*order, i], rest, top)

    yield from grow([], set(range(n)), min(times))


SHORT_IN_ORDER = {
    "panes": {
        (*SV, pane(0)): {"agent_available_ms": 20_000, "agent_on_contact_ms": 10_000},
        (*SV, pane(1)): {
            "agent_on_contact_ms": 20_000,
            "agent_acw_ms": 15_000,
            "agent_available_ms": 10_000,
        },
        **{(*s, pane(1)): {"agent_available_ms": 10_000} for s in (BV, SC, BC)},
        **{
            (*s, pane(2)): {"agent_available_ms": 10_000, "agent_on_contact_ms": 20_000}
            for s in (SV, BV, SC, BC)
        },
    },
    "live": {s: {"agents_not_ready": 1} for s in (SV, BV, SC, BC)},
    "stale": 0,
}


def test_the_short_shift_in_order_gives_the_figures_worked_out_by_hand() -> None:
    assert run(SHORT) == SHORT_IN_ORDER
    assert run(SHORT, chunk=1) == SHORT_IN_ORDER


def test_every_permutation_of_the_short_shift_gives_the_in_order_figures() -> None:
    for n, order in enumerate(itertools.permutations(SHORT)):
        assert run(order, chunk=1 + n % 3) == SHORT_IN_ORDER, [e.time_ms - T0 for e in order]


def test_the_long_shift_in_order_gives_the_figures_worked_out_by_hand() -> None:
    found = run(LONG)
    # [0, 40) available, [40, 90) on contact, [90, 150) ACW ... from 580 s available, live
    assert found["panes"][(*SV, pane(0))] == {
        "agent_available_ms": 40_000,
        "agent_on_contact_ms": 20_000,
    }
    assert found["panes"][(*SV, pane(3))] == {
        "agent_available_ms": 20_000,
        "agent_on_contact_ms": 30_000,
        "agent_acw_ms": 10_000,
    }
    assert found["panes"][(*BC, pane(4))] == {"agent_acw_ms": 50_000, "agent_not_ready_ms": 10_000}
    assert (*SV, pane(9)) not in found["panes"]  # offline from 520 s to 580 s
    totals = {
        name: sum(f.get(name, 0) for (q, c, _), f in found["panes"].items() if (q, c) == SV)
        for name in ("agent_available_ms", "agent_on_contact_ms", "agent_acw_ms")
    }
    assert totals == {
        "agent_available_ms": (40 + 50 + 70) * S,
        "agent_on_contact_ms": (50 + 30 + 50) * S,
        "agent_acw_ms": (60 + 60 + 50) * S,
    }
    assert found["panes"][(*BV, pane(5))] == {
        "agent_not_ready_ms": 50_000,
        "agent_available_ms": 10_000,
    }
    assert found["live"] == {SV: {"agents_available": 1}}
    assert found["stale"] == 0


def test_every_admissible_order_of_the_long_shift_gives_the_in_order_figures() -> None:
    clean = run(LONG)
    orders = list(admissible(LONG, LATENESS_MS))
    assert len(orders) == 4828
    for n, order in enumerate(orders):
        events = [LONG[i] for i in order]
        assert run(events, chunk=1 + n % 4) == clean, order


def test_a_late_change_splits_the_span_it_lands_in() -> None:
    found = run([change(0, "available"), change(90, "not_ready"), change(30, "on_contact")])
    assert found == {
        "panes": {
            (*SV, pane(0)): {"agent_available_ms": 30_000, "agent_on_contact_ms": 30_000},
            (*SV, pane(1)): {"agent_on_contact_ms": 30_000},
        },
        "live": {SV: {"agents_not_ready": 1}},
        "stale": 0,
    }


def test_the_span_taken_back_is_a_negative_delta_in_the_update() -> None:
    aggregator = Aggregator(QUEUES, lateness_ms=LATENESS_MS)
    aggregator.apply(change(0, "available"))
    aggregator.apply(change(90, "not_ready"))
    aggregator.drain()
    aggregator.apply(change(30, "on_contact"))
    update = aggregator.drain()
    assert {k: dict(v) for k, v in update.sums.items()} == {
        (*SV, pane(0)): {
            "agent_available_ms": -30_000,
            "agent_on_contact_ms": 30_000,
            "agent_slots_ms": 0,  # one slot, available then on contact
            "agent_busy_slots_ms": 30_000,
        },
        (*SV, pane(1)): {
            "agent_available_ms": -30_000,
            "agent_on_contact_ms": 30_000,
            "agent_slots_ms": 0,
            "agent_busy_slots_ms": 30_000,
        },
    }
    assert not update.live  # the latest state is still not_ready


def test_a_late_change_before_a_new_agents_first_change_is_put_first() -> None:
    found = run([change(60, "available"), change(0, "not_ready")])
    assert found == {
        "panes": {(*SV, pane(0)): {"agent_not_ready_ms": 60_000}},
        "live": {SV: {"agents_available": 1}},
        "stale": 0,
    }


CLEAN_THREE = [change(0, "available"), change(60, "on_contact"), change(200, "after_contact_work")]


def test_a_change_older_than_the_whole_history_is_stale_and_changes_nothing() -> None:
    # at 200 s the history keeps the change in effect at 80 s (60 s, on contact) and later
    clean = run(CLEAN_THREE)
    found = run([*CLEAN_THREE, change(30, "not_ready")], chunk=1)
    assert found == {**clean, "stale": 1}
    assert clean["live"] == {SV: {"agents_after_contact_work": 1}}


def test_a_new_agents_change_beyond_the_lateness_is_stale() -> None:
    found = run([change(300, "available"), change(100, "not_ready")])
    assert found == {"panes": {}, "live": {SV: {"agents_available": 1}}, "stale": 1}


def test_a_change_equal_to_the_current_one_counts_once() -> None:
    again = dataclasses.replace(CLEAN_THREE[1], id="another-id")
    assert run([*CLEAN_THREE[:2], again, CLEAN_THREE[2]], chunk=1) == run(CLEAN_THREE)
    assert run([*CLEAN_THREE, again], chunk=1) == run(CLEAN_THREE)


def test_the_same_state_again_later_keeps_the_time_in_that_state() -> None:
    found = run([change(0, "available"), change(30, "available"), change(60, "on_contact")])
    assert found["panes"] == {(*SV, pane(0)): {"agent_available_ms": 60_000}}
    assert found["live"] == {SV: {"agents_on_contact": 1}}


@pytest.mark.parametrize("late", [0, 1, 2])
def test_changes_at_the_same_millisecond_give_one_outcome_in_any_order(late: int) -> None:
    events = [change(0, "available"), change(30, "on_contact"), change(30, "not_ready")]
    events.append(change(45, "available"))
    clean = run(sorted(events, key=lambda e: (e.time_ms, e.state)))
    order = [*events[:late], *events[late + 1 :], events[late]]
    assert run(order, chunk=1) == clean
    assert run(list(reversed(order))) == clean
    # the zero-length one (not_ready sorts before on_contact) gets no time
    assert clean["panes"] == {
        (*SV, pane(0)): {"agent_available_ms": 30_000, "agent_on_contact_ms": 15_000}
    }


def test_the_latest_of_two_changes_at_one_millisecond_holds_live_in_any_order() -> None:
    pair = [change(10, "on_contact"), change(10, "available")]
    assert run(pair)["live"] == run(pair[::-1])["live"] == {SV: {"agents_on_contact": 1}}


def test_without_lateness_only_the_current_state_is_kept_and_older_changes_are_stale() -> None:
    found = run([change(60, "available"), change(0, "not_ready")], lateness_ms=0)
    assert found == {"panes": {}, "live": {SV: {"agents_available": 1}}, "stale": 1}
    aggregator = Aggregator(QUEUES)
    for event in CLEAN_THREE:
        aggregator.apply(event)
    assert aggregator.agents["a"] == AgentState((Change.of(CLEAN_THREE[2]),), complete=False)


def test_the_history_keeps_the_change_in_effect_at_the_lateness_and_later_ones() -> None:
    state: AgentState | None = None
    for event in CLEAN_THREE:
        resplit = insert_change(state, Change.of(event), LATENESS_MS)
        assert resplit is not None
        state = resplit.state
    assert state == AgentState(tuple(Change.of(e) for e in CLEAN_THREE[1:]), complete=False)


def test_the_history_is_capped_at_max_changes() -> None:
    events = [change(i, "available" if i % 2 else "on_contact") for i in range(MAX_CHANGES + 8)]
    aggregator = Aggregator(QUEUES, lateness_ms=LATENESS_MS)
    for event in events:
        aggregator.apply(event)
    state = aggregator.agents["a"]
    assert state is not None and len(state.history) == MAX_CHANGES and not state.complete
    assert state.history[0] == Change.of(events[8])
    aggregator.apply(change(3.5, "not_ready"))  # inside the lateness, but dropped by the cap
    assert aggregator.stale_agent_events == 1


def test_the_stored_form_keeps_the_old_fields_and_round_trips() -> None:
    state = AgentState(tuple(Change.of(e) for e in CLEAN_THREE), complete=True)
    data = orjson.loads(orjson.dumps(state.to_dict()))
    assert {k: data[k] for k in "stqc"} == {
        "s": "after_contact_work",
        "t": T0 + 200 * S,
        "q": ["sales"],
        "c": ["voice"],
    }
    assert AgentState.from_dict(data) == state
    assert (state.state, state.since_ms, state.queues, state.channels) == (
        "after_contact_work",
        T0 + 200 * S,
        ("sales",),
        ("voice",),
    )


def test_a_state_stored_by_the_previous_version_is_read_and_continued() -> None:
    stored = {"s": "on_contact", "t": T0 + 60 * S, "q": ["sales"], "c": ["voice"]}
    state = AgentState.from_dict(stored)
    assert state == AgentState((Change(T0 + 60 * S, "on_contact", ("sales",), ("voice",)),), False)
    found = run([change(90, "available"), change(30, "not_ready")], stored=stored)
    assert found == {
        "panes": {(*SV, pane(1)): {"agent_on_contact_ms": 30_000}},
        "live": {SV: {"agents_on_contact": -1, "agents_available": 1}},
        "stale": 1,  # before the stored state: nothing older is known
    }


def test_the_worker_gives_the_aggregator_its_lateness() -> None:
    async def commit(offsets: dict[str, int]) -> None:
        del offsets

    pipeline = Pipeline(
        Settings(lateness_s=90),
        QUEUES,
        InMemoryStore(),
        InMemoryOutbox(),
        WorkerMetrics.create(CollectorRegistry()),
        commit,
    )
    assert pipeline.aggregator.lateness_ms == 90_000
