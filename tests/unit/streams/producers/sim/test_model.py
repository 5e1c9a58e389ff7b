"""The simulation model: deterministic, valid events, and each behaviour it promises."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from typing import Any

import orjson
import pytest

from streams.decode import decode
from streams.producers.sim.arrivals import Arrivals
from streams.producers.sim.model import SimEvent, Simulation
from streams.producers.sim.scenario import parse_scenario

START = dt.datetime(2026, 11, 16, 8, tzinfo=dt.UTC)

BASE = """\
duration: 4h
queues:
  - name: sales
    arrivals_per_hour: 120
    talk: {dist: exponential, mean_s: 120}
"""


def run(text: str, **kwargs: Any) -> list[SimEvent]:
    return list(Simulation(parse_scenario(text), START, **kwargs).events())


def of_type(events: list[SimEvent], kind: str) -> list[dict[str, Any]]:
    return [e for _, _, e in events if e["type"] == kind]


AGENTS = "agents:\n  - {name: team, count: 3, queues: [sales]}\n"


def test_same_seed_same_events_other_seed_other_events() -> None:
    text = BASE + "    patience: {dist: exponential, mean_s: 60}\n" + AGENTS
    assert run(text, seed=5) == run(text, seed=5)
    assert run(text, seed=5) != run(text, seed=6)


def test_every_event_is_valid_in_time_order_and_keyed_as_the_contract_says() -> None:
    text = BASE + "    patience: {dist: lognormal, mean_s: 60, sd_s: 30}\n" + AGENTS
    events = run(text)
    times = [t for t, _, _ in events]
    assert times == sorted(times)
    for time_ms, key, event in events:
        decoded = decode(orjson.dumps(event), 65536)
        assert decoded.time_ms == time_ms
        data = event["data"]
        assert key == data.get("contact_id", data.get("agent_id"))
    assert len({e["id"] for _, _, e in events}) == len(events)


def test_a_contact_is_answered_abandoned_or_still_waiting_exactly_once() -> None:
    text = BASE + "    patience: {dist: exponential, mean_s: 60}\n" + AGENTS
    events = run(text)
    outcomes = Counter(
        e["data"]["contact_id"]
        for e in of_type(events, "contact.answered") + of_type(events, "contact.abandoned")
    )
    assert max(outcomes.values()) == 1
    assert len(outcomes) <= len(of_type(events, "contact.queued"))


def test_without_agents_everyone_waits_or_abandons() -> None:
    events = run(BASE + "    patience: {dist: fixed, mean_s: 30}\n")
    queued = of_type(events, "contact.queued")
    abandoned = of_type(events, "contact.abandoned")
    assert of_type(events, "contact.answered") == []
    # Fixed 30 s patience: all abandon except those queued in the last 30 s.
    assert len(queued) - len(abandoned) <= 5 and len(abandoned) > 400


def test_agent_states_follow_their_work() -> None:
    text = BASE + "    acw: {dist: fixed, mean_s: 10}\n" + AGENTS
    events = run(text, duration_s=3600)
    by_agent: dict[str, list[str]] = {}
    for e in of_type(events, "agent.state_changed"):
        by_agent.setdefault(e["data"]["agent_id"], []).append(e["data"]["state"])
    for states in by_agent.values():
        assert states[0] == "available" and states[-1] == "offline"
        for before, after in zip(states, states[1:], strict=False):
            assert before != after
            assert (before, after) in {
                ("available", "on_contact"),
                ("on_contact", "after_contact_work"),
                ("after_contact_work", "available"),
                ("after_contact_work", "on_contact"),  # a waiting contact straight away
                ("available", "offline"),
                ("on_contact", "offline"),
                ("after_contact_work", "offline"),
            }, (before, after)
    wrapups = of_type(events, "contact.wrapup_completed")
    assert wrapups and all(w["data"]["acw_s"] == 10 for w in wrapups)


def test_shifts_and_breaks() -> None:
    text = BASE.replace("4h", "12h") + (
        "agents:\n"
        "  - name: early\n    count: 2\n    queues: [sales]\n"
        "    shift: {start: '09:00', end: '13:00'}\n"
        "    breaks: {every_s: 1800, length: {dist: fixed, mean_s: 300}}\n"
    )
    events = run(text)
    changes = [(t, e["data"]["state"]) for t, _, e in events if e["type"] == "agent.state_changed"]
    start_ms = round(START.timestamp() * 1000)
    first_on = min(t for t, s in changes if s != "offline")
    assert first_on == start_ms + 3600_000  # nobody before 09:00
    last_off = max(t for t, s in changes if s == "offline")
    assert start_ms + 5 * 3600_000 <= last_off < start_ms + 5 * 3600_000 + 1800_000
    assert any(s == "not_ready" for _, s in changes)
    # Nobody is answered before the shift starts.
    answers = [t for t, _, e in events if e["type"] == "contact.answered"]
    assert min(answers) >= start_ms + 3600_000


def test_overflow_is_a_flow_out_then_a_queued_contact_in_the_other_queue() -> None:
    text = BASE + (
        "    overflow: {after_s: 30, to: general}\n"
        "  - name: general\n    arrivals_per_hour: 0\n    talk: {dist: fixed, mean_s: 60}\n"
        "agents:\n  - {name: g, count: 50, queues: [general]}\n"
    )
    events = run(text, duration_s=1800)
    flowed = of_type(events, "contact.flowed_out")
    assert flowed and all(e["data"]["reason"] == "transfer" for e in flowed)
    general = {
        e["data"]["contact_id"]
        for e in of_type(events, "contact.queued")
        if e["data"]["queue"] == "general"
    }
    assert general == {e["data"]["contact_id"] for e in flowed}


def test_agent_transfers_and_callbacks() -> None:
    text = BASE + (
        "    transfer: {probability: 1, to: billing}\n"
        "    patience: {dist: fixed, mean_s: 600}\n"
        "    callback: {probability: 1, offer_after_s: 60, return_after_s: 300}\n"
        "  - name: billing\n    arrivals_per_hour: 0\n    talk: {dist: fixed, mean_s: 30}\n"
        "agents:\n  - {name: s, count: 2, queues: [sales]}\n"
        "  - {name: b, count: 5, queues: [billing]}\n"
    )
    events = run(text, duration_s=3600)
    answered_sales = {
        e["data"]["contact_id"]
        for e in of_type(events, "contact.answered")
        if e["data"]["queue"] == "sales"
    }
    billing = {
        e["data"]["contact_id"]
        for e in of_type(events, "contact.queued")
        if e["data"]["queue"] == "billing"
    }
    finished_sales = {
        e["data"]["contact_id"]
        for e in of_type(events, "contact.wrapup_completed")
        if e["data"]["queue"] == "sales"
    }
    assert finished_sales and finished_sales <= billing <= answered_sales
    callbacks = of_type(events, "contact.callback_requested")
    assert callbacks
    returned = {
        e["data"]["contact_id"]
        for e in of_type(events, "contact.queued")
        if e["data"]["contact_id"].endswith("-cb")
    }
    assert returned and returned <= {e["data"]["contact_id"] + "-cb" for e in callbacks}


@pytest.mark.parametrize(
    ("clock", "expected"),
    [
        ("08:00", 0.5),
        ("09:00", 1.25),
        ("10:00", 2.0),
        ("10:30", 2.0 * 3),
        ("11:00", 2.0),
        ("20:00", 0.5),
    ],
)
def test_profile_interpolates_and_spikes_multiply(clock: str, expected: float) -> None:
    text = BASE + (
        "    profile: {'08:00': 0.5, '10:00': 2.0, '12:00': 2.0, '14:00': 0.5}\n"
        "    spikes: [{at: '10:15', minutes: 30, factor: 3}]\n"
    )
    queue = parse_scenario(text).queues[0]
    # reason: Arrivals only needs a tzinfo; START's is dt.UTC, not a ZoneInfo
    arrivals = Arrivals(queue, START.timestamp(), START.tzinfo)  # type: ignore[arg-type]
    hours, minutes = map(int, clock.split(":"))
    t = (hours - 8) * 3600 + minutes * 60
    assert arrivals.multiplier(t) == pytest.approx(expected)


def test_thinned_arrivals_follow_the_profile() -> None:
    text = BASE + "    profile: {'00:00': 1, '12:00': 1, '12:01': 3, '23:59': 3}\n"
    queue = parse_scenario(text).queues[0]
    # reason: Arrivals only needs a tzinfo; dt.UTC is a datetime.timezone, not a ZoneInfo
    arrivals = Arrivals(queue, START.timestamp() - 8 * 3600, dt.UTC)  # type: ignore[arg-type]
    rng = random.Random(3)
    t, morning, evening = 0.0, 0, 0
    while True:
        nxt = arrivals.next_after(t, rng, 86400.0 * 20)
        if nxt is None:
            break
        t = nxt
        if t % 86400 < 43200:
            morning += 1
        elif t % 86400 >= 43260:
            evening += 1
    # 120/h x 12 h x 20 days = 28,800 in the mornings; three times that in the evenings.
    assert morning == pytest.approx(28_800, rel=0.03)
    assert evening / morning == pytest.approx(3 * (43140 / 43200), rel=0.03)


def test_shifts_follow_local_time_across_a_dst_change() -> None:
    # Europe/Berlin leaves summer time on Sunday 2026-10-25 (03:00 CEST -> 02:00 CET).
    text = (
        "time_zone: Europe/Berlin\nduration: 3d\n"
        + BASE.replace("duration: 4h\n", "")
        + "agents:\n  - name: day\n    count: 1\n    queues: [sales]\n"
        "    shift: {start: '09:00', end: '17:00'}\n"
    )
    scenario = parse_scenario(text)
    events = list(Simulation(scenario, dt.datetime(2026, 10, 24, tzinfo=dt.UTC)).events())

    def local(t: int) -> str:
        return dt.datetime.fromtimestamp(t / 1000, tz=scenario.zone).strftime("%m-%d %H:%M")

    changes = [(t, e["data"]["state"]) for t, _, e in events if e["type"] == "agent.state_changed"]
    ons = [
        local(t)
        for (t, s), (_, before) in zip(changes, [(0, "offline"), *changes[:-1]], strict=True)
        if before == "offline" and s != "offline"
    ]
    offs = [local(t) for t, s in changes if s == "offline"]
    assert ons == ["10-24 09:00", "10-25 09:00", "10-26 09:00"]
    # Off at 17:00 local, or when the call in hand ends.
    assert [o[:5] for o in offs] == ["10-24", "10-25", "10-26"]
    assert all("17:00" <= o[-5:] <= "17:30" for o in offs)


def test_a_run_that_starts_mid_shift_has_its_agents_on_at_once() -> None:
    text = BASE + (
        "agents:\n  - name: late\n    count: 2\n    queues: [sales]\n"
        "    shift: {start: '22:00', end: '10:00'}\n"  # past midnight; the run starts at 08:00
    )
    events = run(text, duration_s=4 * 3600)
    changes = [(t, e["data"]["state"]) for t, _, e in events if e["type"] == "agent.state_changed"]
    start_ms = round(START.timestamp() * 1000)
    assert changes[0] == (start_ms, "available")
    offline = [t for t, s in changes if s == "offline"]
    assert min(offline) >= start_ms + 2 * 3600_000  # 10:00, or after the call in hand
    assert max(offline) < start_ms + 2 * 3600_000 + 1800_000
