"""The read side of agents: open spans up to now, per-window sums, live entries, directory."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from metrics.config.agents import parse_agents_yaml
from metrics.core.agent_views import (
    AgentInfo,
    agent_figures,
    directory_capacity,
    directory_infos,
    directory_teams,
    live_entry,
    open_panes,
    open_windows,
    window_bounds,
    within,
)
from metrics.core.agents import AgentState, Change
from streams.testing.events import T0

S, MIN = 1000, 60_000
LUNCH = frozenset({"lunch"})


def state(at_ms: int, name: str, reason: str = "") -> AgentState:
    capacity = (("chat", 3), ("voice", 1))
    return AgentState((Change(at_ms, name, ("sales",), ("voice", "chat"), reason, capacity, "t"),))


@pytest.mark.parametrize("since_min", [0, 7, 44, 59])
@pytest.mark.parametrize("now_s", [61 * 60 + 5, 75 * 60, 119 * 60 + 59])
def test_open_windows_equal_the_open_panes_summed_per_window(since_min: int, now_s: int) -> None:
    now = T0 + now_s * S
    found = state(T0 + since_min * MIN, "available")
    bounds = window_bounds(now, ZoneInfo("UTC"), dt.time(0))
    per_series, per_agent = open_windows(found, now, LUNCH, bounds)
    pane_series, pane_agent = open_panes(found, now, LUNCH)
    for label, (start, end) in bounds.items():
        assert per_agent.get(label, {}) == within(pane_agent, start, end)
        for series, panes in pane_series.items():
            assert per_series.get(series, {}).get(label, {}) == within(panes, start, end)


def test_an_open_available_state_counts_its_slots_up_to_now() -> None:
    now = T0 + 10 * MIN
    _, per_agent = open_windows(state(T0, "available"), now, LUNCH, {"w": (T0, now + 1)})
    assert per_agent == {"w": {"agent_available_ms": 600_000, "agent_slots_ms": 4 * 600_000}}


def test_offline_is_not_open_time() -> None:
    assert open_windows(state(T0, "offline"), T0 + MIN, LUNCH, {"w": (T0, T0 + MIN)}) == ({}, {})


def test_the_live_entry_shows_the_bounded_reason_and_the_directory_name() -> None:
    info = AgentInfo(name="Ann", team="t")
    entry = live_entry("a1", state(T0, "not_ready", "smoke"), info, T0 + 90 * S, LUNCH)
    assert entry == {
        "agent_id": "a1",
        "name": "Ann",
        "team": "t",
        "state": "not_ready",
        "reason": "other",  # not a configured code
        "state_seconds": 90.0,
        "contacts": [],
        "queues": ["sales"],
        "capacity": {"voice": 1, "chat": 3},
    }
    assert live_entry("a1", state(T0, "not_ready"), None, T0, LUNCH)["reason"] is None


def test_figures_with_nothing_have_no_ratios() -> None:
    figures = agent_figures({}, ("lunch",))
    assert figures["aht_seconds"] is None and figures["occupancy"] is None
    assert figures["reason_seconds"] == {"lunch": 0.0, "other": 0.0, "none": 0.0}


def test_the_directory_gives_infos_teams_and_default_capacity() -> None:
    directory = parse_agents_yaml(
        "agents:\n  a1: {name: Ann, team: t, queues: [sales], capacity: {chat: 3, voice: 1}}\n"
        "  a2: {name: Bo}\n",
        teams=["t"],
    )
    assert directory_infos(directory) == {
        "a1": AgentInfo("Ann", "t", ("sales",), (("chat", 3), ("voice", 1))),
        "a2": AgentInfo("Bo"),
    }
    assert directory_teams(directory) == {"a1": "t"}
    assert directory_capacity(directory) == {"a1": (("chat", 3), ("voice", 1))}
