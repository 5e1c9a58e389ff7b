"""A simulated day reordered within 110 s gives the same figures as in order (pure core).

The issue's measurement: every event of a simulated day (streams.producers.sim) goes
through decode -> Aggregator -> InMemoryStore, once in time order and once with each
event delayed by up to 110 s (inside the 120 s lateness); every non-zero cell (pane,
interval, hour and total counters, live agent counts, live sets) must be equal. With
only the current agent state kept (lateness 0), the same reordering changes agent time.
The large centre's day is in tests/statistical/test_agent_order.py.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from metrics.config.queues import QueuesConfig
from metrics.core.aggregator import Aggregator
from metrics.events import Event
from metrics.store.memory import InMemoryStore
from streams.decode import decode
from streams.producers.sim.model import Simulation
from streams.producers.sim.scenario import load_scenario

SCENARIOS = Path(__file__).parents[4] / "deploy" / "scenarios"
START = dt.datetime(2026, 1, 5, 8, tzinfo=dt.UTC)  # the scenarios start at 08:00
LATENESS_MS = 120_000
WITHIN_MS = 110_000
FLUSH_EVERY = 5000
AGENT_FIELDS = {
    "agent_available_ms",
    "agent_on_contact_ms",
    "agent_acw_ms",
    "agent_not_ready_ms",
    "agent_slots_ms",
    "agent_busy_slots_ms",
    "agent_reason_ms_none",
    "agent_reason_ms_other",
}

Cell = tuple[str, Any, str]


def day_events(scenario: str) -> list[Event]:
    """The scenario's run from START, decoded as the worker decodes it."""
    sim = Simulation(load_scenario(str(SCENARIOS / scenario)), START)
    return [decode(orjson.dumps(event), 1 << 16) for _, _, event in sim.events()]


def reordered(events: Sequence[Event], within_ms: int, seed: int) -> list[Event]:
    """Each event delayed by a random 0 to `within_ms`, so none arrives further behind."""
    rng = random.Random(seed)
    arrival = [event.time_ms + rng.randrange(within_ms) for event in events]
    order = sorted(range(len(events)), key=arrival.__getitem__)
    shuffled = [events[i] for i in order]
    newest = 0
    for event in shuffled:
        newest = max(newest, event.time_ms)
        assert event.time_ms > newest - within_ms
    return shuffled


def aggregate(events: Sequence[Event], lateness_ms: int) -> tuple[InMemoryStore, int]:
    """The store after the pure pipeline, flushed every FLUSH_EVERY events; stale count."""
    end_ms = max(event.time_ms for event in events) + 1
    store = InMemoryStore(retention_ms=400 * 86_400_000, state_ttl_ms=400 * 86_400_000)
    aggregator = Aggregator(QueuesConfig(), lateness_ms=lateness_ms)
    for i in range(0, len(events), FLUSH_EVERY):
        part = events[i : i + FLUSH_EVERY]
        aggregator.load(store.load_states(aggregator.missing(part)))
        for event in part:
            aggregator.apply(event)
        store.flush(aggregator.drain(), end_ms)
        aggregator.forget()
    return store, aggregator.stale_agent_events


def cells(store: InMemoryStore) -> dict[Cell, int]:
    """Every non-zero stored figure, by (table, key, field or member)."""
    found: dict[Cell, int] = {}
    tables: dict[str, Any] = {
        "panes": store.panes,
        "intervals": store.intervals,
        "hours": store.hours,
        "totals": store.totals,
        "live": store.agent_counts,
        "members": store.members,
        "scoped": store.scoped,  # team and agent panes
        "scoped_live": store.scoped_counts,
    }
    for table, rows in tables.items():
        for key, fields in rows.items():
            for name, value in fields.items():
                if value:
                    found[(table, key, name)] = value
    return found


def differing(a: dict[Cell, int], b: dict[Cell, int]) -> set[Cell]:
    return {cell for cell in a.keys() | b.keys() if a.get(cell) != b.get(cell)}


def test_small_team_day_reordered_within_110_s_gives_zero_differing_cells() -> None:
    events = day_events("small-team.yaml")
    shuffled = reordered(events, WITHIN_MS, seed=3)
    clean, clean_stale = aggregate(events, LATENESS_MS)
    late, late_stale = aggregate(shuffled, LATENESS_MS)
    in_order = cells(clean)
    assert sum(1 for table, _, name in in_order if name in AGENT_FIELDS) > 1000
    assert differing(in_order, cells(late)) == set()
    assert clean_stale == late_stale == 0
    histories = [len(s.history) for s in clean.states["agent"].values()]
    assert max(histories) <= 8  # the change in effect 120 s back and later ones


def test_without_the_history_the_same_reordering_changes_only_agent_time() -> None:
    events = day_events("small-team.yaml")
    shuffled = reordered(events, WITHIN_MS, seed=3)
    clean, _ = aggregate(events, 0)
    late, stale = aggregate(shuffled, 0)
    changed = differing(cells(clean), cells(late))
    assert stale > 0 and changed
    live = ("live", "scoped_live")
    assert {name for table, _, name in changed if table not in live} <= AGENT_FIELDS
