"""The simulator's agents' view: offers, holds, transfers, ends, callbacks, concurrency.

Each behaviour with fixed durations, as the exact events of the first contact (seconds
after it was queued). And the shipped scenarios without these keys give the same events
of today's types as before them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import orjson
import pytest

from streams.decode import decode
from streams.producers.sim.model import SimEvent, Simulation
from streams.producers.sim.scenario import ScenarioError, load_scenario, parse_scenario

START = dt.datetime(2026, 11, 16, 8, tzinfo=dt.UTC)
SCENARIOS = Path(__file__).parents[5] / "deploy" / "scenarios"
#: Fields every contact event has; left out of the briefs.
COMMON = {"contact_id", "queue", "channel"}


def run(text: str, **kwargs: Any) -> list[SimEvent]:
    """The run's events, with run id `r` (contacts r-c1, r-c1-cb; agents r-<group>-1)."""
    events = list(Simulation(parse_scenario(text), START, run_id="r", **kwargs).events())
    for _, _, event in events:
        decode(orjson.dumps(event), 65536)  # every one is valid
    return events


def story(events: list[SimEvent], count: int) -> list[tuple[Any, ...]]:
    """`count` events from the first contact.queued: (s after it, type, who, fields)."""
    first = next(i for i, (_, _, e) in enumerate(events) if e["type"] == "contact.queued")
    t0 = events[first][0]
    found = []
    for t, _, event in events[first : first + count]:
        data = dict(event["data"])
        if event["type"] == "agent.state_changed":
            who = data.pop("agent_id").removeprefix("r-")
            data = {k: v for k, v in data.items() if k not in ("queues", "channels")}
        else:
            who = data["contact_id"].removeprefix("r-")
            data = {k: v for k, v in data.items() if k not in COMMON}
            if "agent_id" in data:
                data["agent_id"] = data["agent_id"].removeprefix("r-")
        found.append(((t - t0) / 1000, event["type"], who, data))
    return found


def one_queue(extra: str = "", agents: int = 1, queue: str = "") -> str:
    """A voice queue with one arrival an hour on average and fixed 60 s talks."""
    return (
        "duration: 4h\nqueues:\n  - name: q\n    arrivals_per_hour: 1\n"
        "    talk: {dist: fixed, mean_s: 60}\n"
        + queue
        + f"agents:\n  - {{name: a, count: {agents}, queues: [q]}}\n"
        + extra
    )


def test_without_the_new_keys_offers_holds_and_ends_come_with_every_contact() -> None:
    text = one_queue(
        queue="    hold: {dist: fixed, mean_s: 10}\n    acw: {dist: fixed, mean_s: 5}\n"
    )
    assert story(run(text), 10) == [
        (0, "contact.queued", "c1", {}),
        (0, "contact.offered", "c1", {"agent_id": "a-1"}),
        (0, "contact.answered", "c1", {"agent_id": "a-1"}),
        (0, "agent.state_changed", "a-1", {"state": "on_contact"}),
        # The hold time as one hold in the middle of the talk.
        (30, "contact.held", "c1", {"agent_id": "a-1"}),
        (40, "contact.resumed", "c1", {"agent_id": "a-1"}),
        (70, "contact.ended", "c1", {"disconnected_by": "customer", "agent_id": "a-1"}),
        (70, "agent.state_changed", "a-1", {"state": "after_contact_work"}),
        (
            75,
            "contact.wrapup_completed",
            "c1",
            {"talk_s": 60.0, "hold_s": 10.0, "acw_s": 5.0, "agent_id": "a-1"},
        ),
        (75, "agent.state_changed", "a-1", {"state": "available"}),
    ]


def test_an_offer_rings_for_its_alert_time_then_is_answered() -> None:
    text = one_queue(queue="    offers: {alert: {dist: fixed, mean_s: 5}}\n")
    assert story(run(text), 4) == [
        (0, "contact.queued", "c1", {}),
        (0, "contact.offered", "c1", {"agent_id": "a-1"}),
        (5, "contact.answered", "c1", {"agent_id": "a-1"}),
        (5, "agent.state_changed", "a-1", {"state": "on_contact"}),
    ]


def test_a_missed_offer_rings_out_and_pauses_the_agent() -> None:
    offers = "    offers: {missed: 1, ring_timeout_s: 20, pause: {dist: fixed, mean_s: 100}}\n"
    assert story(run(one_queue(queue=offers)), 8) == [
        (0, "contact.queued", "c1", {}),
        (0, "contact.offered", "c1", {"agent_id": "a-1"}),
        (20, "contact.offer_declined", "c1", {"agent_id": "a-1", "outcome": "missed"}),
        (20, "agent.state_changed", "a-1", {"state": "not_ready", "reason": "missed"}),
        # Back from the pause, the agent gets the contact that is still waiting.
        (120, "agent.state_changed", "a-1", {"state": "available"}),
        (120, "contact.offered", "c1", {"agent_id": "a-1"}),
        (140, "contact.offer_declined", "c1", {"agent_id": "a-1", "outcome": "missed"}),
        (140, "agent.state_changed", "a-1", {"state": "not_ready", "reason": "missed"}),
    ]


def test_a_rejected_offer_goes_to_another_agent_first_until_the_customer_hangs_up() -> None:
    queue = (
        "    patience: {dist: fixed, mean_s: 10}\n    offers: {rejected: 1, reject_after_s: 3}\n"
    )
    rejected = {"outcome": "rejected"}
    assert story(run(one_queue(agents=2, queue=queue)), 9) == [
        (0, "contact.queued", "c1", {}),
        (0, "contact.offered", "c1", {"agent_id": "a-1"}),
        (3, "contact.offer_declined", "c1", {"agent_id": "a-1"} | rejected),
        (3, "contact.offered", "c1", {"agent_id": "a-2"}),
        (6, "contact.offer_declined", "c1", {"agent_id": "a-2"} | rejected),
        (6, "contact.offered", "c1", {"agent_id": "a-1"}),
        (9, "contact.offer_declined", "c1", {"agent_id": "a-1"} | rejected),
        (9, "contact.offered", "c1", {"agent_id": "a-2"}),
        # Abandoned while it rang: no decline, and the agents stay available.
        (10, "contact.abandoned", "c1", {}),
    ]


@pytest.mark.parametrize(
    ("abandon", "expected"),
    [
        pytest.param(
            0,
            [
                (20, "contact.held", "c1", {"agent_id": "a-1"}),
                (30, "contact.resumed", "c1", {"agent_id": "a-1"}),
                (50, "contact.held", "c1", {"agent_id": "a-1"}),
                (60, "contact.resumed", "c1", {"agent_id": "a-1"}),
                (80, "contact.ended", "c1", {"disconnected_by": "customer", "agent_id": "a-1"}),
                (80, "contact.wrapup_completed", "c1", {"talk_s": 60.0, "hold_s": 20.0}),
            ],
            id="two holds spread over the talk",
        ),
        pytest.param(
            1,
            [
                # The customer hangs up in the first hold: no second one; the talk so
                # far, the hold so far.
                (30, "contact.held", "c1", {"agent_id": "a-1"}),
                (40, "contact.ended", "c1", {"disconnected_by": "customer", "agent_id": "a-1"}),
                (40, "contact.wrapup_completed", "c1", {"talk_s": 30.0, "hold_s": 10.0}),
            ],
            id="a hold abandon",
        ),
    ],
)
def test_holds_and_hold_abandons(abandon: float, expected: list[tuple[Any, ...]]) -> None:
    holds = "{probability: 1, again: 1, max: 2, length: {dist: fixed, mean_s: 10}"
    text = one_queue(queue=f"    holds: {holds}, abandon: {abandon}}}\n")
    sim = Simulation(parse_scenario(text), START, run_id="r")
    events = list(sim.events())
    told = [s for s in story(events, 12) if s[2] == "c1" and s[0] > 0]
    for moment in told:
        if moment[1] == "contact.wrapup_completed":
            moment[3].pop("acw_s"), moment[3].pop("agent_id")
    assert told == expected
    truth = sim.truth.totals()[("q", "voice")]
    holds_seen = sum(1 for _, _, e in events if e["type"] == "contact.held")
    assert truth["holds"] == holds_seen
    assert truth.get("hold_abandons", 0) == (holds_seen if abandon else 0)


TRANSFER = """\
duration: 2h
queues:
  - name: sales
    arrivals_per_hour: 1
    talk: {dist: fixed, mean_s: 60}
    transfer: {probability: 1, to: billing, kinds: {conference: 1}}
  - name: billing
    arrivals_per_hour: 0
    talk: {dist: fixed, mean_s: 30}
    disconnects: {agent: 1}
agents:
  - {name: s, count: 1, queues: [sales]}
  - {name: b, count: 1, queues: [billing]}
"""


def test_a_transfer_says_its_kind_and_the_contact_ends_in_the_queue_it_went_to() -> None:
    contact = [(s[0], s[1], s[3]) for s in story(run(TRANSFER), 14) if s[2] == "c1" and s[0] > 0]
    assert contact == [
        (
            60,
            "contact.transferred",
            {"kind": "conference", "target": "queue", "to": "billing", "agent_id": "s-1"},
        ),
        (60, "contact.queued", {}),
        (60, "contact.offered", {"agent_id": "b-1"}),
        (60, "contact.answered", {"agent_id": "b-1"}),
        # No contact.ended in sales: the contact goes on in billing.
        (
            60,
            "contact.wrapup_completed",
            {"talk_s": 60.0, "hold_s": 0.0, "acw_s": 0.0, "agent_id": "s-1"},
        ),
        (90, "contact.ended", {"disconnected_by": "agent", "agent_id": "b-1"}),
        (
            90,
            "contact.wrapup_completed",
            {"talk_s": 30.0, "hold_s": 0.0, "acw_s": 0.0, "agent_id": "b-1"},
        ),
    ]


def callbacks(attempts: str) -> str:
    return (
        "duration: 30m\nqueues:\n  - name: q\n    arrivals_per_hour: 1\n"
        "    talk: {dist: fixed, mean_s: 60}\n"
        f"    callback: {{probability: 1, offer_after_s: 30, return_after_s: 100{attempts}}}\n"
    )


@pytest.mark.parametrize(
    ("attempts", "expected"),
    [
        pytest.param(
            "",
            [
                (130, "contact.callback_attempted", "c1", {"outcome": "connected"}),
                (130, "contact.queued", "c1-cb", {"direction": "callback"}),
                # Nobody answers it either: it takes a callback of its own.
                (160, "contact.callback_requested", "c1-cb", {}),
            ],
            id="by default the first attempt connects",
        ),
        pytest.param(
            ", attempts: {connected: 0, no_answer: 1, retry_after_s: 50, max_attempts: 3}",
            [
                (130, "contact.callback_attempted", "c1", {"outcome": "no_answer"}),
                (180, "contact.callback_attempted", "c1", {"outcome": "no_answer"}),
                (230, "contact.callback_attempted", "c1", {"outcome": "no_answer"}),
            ],
            id="no answer, tried again up to max_attempts",
        ),
        pytest.param(
            ", attempts: {connected: 0, failed: 1}",
            [(130, "contact.callback_attempted", "c1", {"outcome": "failed"})],
            id="a failed attempt ends it",
        ),
    ],
)
def test_callback_attempts(attempts: str, expected: list[tuple[Any, ...]]) -> None:
    told = [
        s for s in story(run(callbacks(attempts)), 30) if s[2] in ("c1", "c1-cb") and s[0] <= 240
    ]
    assert told == [
        (0, "contact.queued", "c1", {}),
        (30, "contact.callback_requested", "c1", {}),
        *expected,
    ]


CHAT = """\
duration: 1h
queues:
  - name: chat
    channel: chat
    arrivals_per_hour: 60
    talk: {dist: fixed, mean_s: 600}
agents:
  - {name: c, count: 1, queues: [chat], capacity: {chat: 3}}
"""


def test_a_chat_agent_takes_three_chats_at_once_and_no_more() -> None:
    events = run(CHAT)
    in_hand, most, states = 0, 0, []
    for _, _, event in events:
        kind, data = event["type"], event["data"]
        if kind == "contact.answered":
            in_hand += 1
        elif kind == "contact.wrapup_completed":
            in_hand -= 1
        elif kind == "agent.state_changed":
            assert data["capacity"] == {"chat": 3}
            states.append(data["state"])
        most = max(most, in_hand)
    assert most == 3
    queued = sum(1 for _, _, e in events if e["type"] == "contact.queued")
    answered = sum(1 for _, _, e in events if e["type"] == "contact.answered")
    assert queued > answered > 3  # some waited for a free slot
    # on_contact once while one, two or three chats are in hand; available in between.
    assert all(a != b for a, b in zip(states, states[1:], strict=False))


FLAGS = """\
duration: 3h
queues:
  - name: out
    direction: outbound
    arrivals_per_hour: 30
    talk: {dist: fixed, mean_s: 60}
    disconnects: {agent: 1}
    wrapup_codes: {sale: 1}
agents:
  - name: a
    count: 2
    queues: [out]
    breaks: {every_s: 600, length: {dist: fixed, mean_s: 60}, reasons: {lunch: 1}}
"""


def test_direction_reasons_codes_and_who_hung_up_as_configured() -> None:
    events = [e for _, _, e in run(FLAGS)]
    by_type: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        by_type.setdefault(event["type"], []).append(event["data"])
    assert {d.get("direction") for d in by_type["contact.queued"]} == {"outbound"}
    assert {d.get("direction") for d in by_type["contact.answered"]} == {"outbound"}
    assert {d["disconnected_by"] for d in by_type["contact.ended"]} == {"agent"}
    assert {d["wrapup_code"] for d in by_type["contact.wrapup_completed"]} == {"sale"}
    not_ready = [d for d in by_type["agent.state_changed"] if d["state"] == "not_ready"]
    assert not_ready and {d.get("reason") for d in not_ready} == {"lunch"}
    others = [d for d in by_type["agent.state_changed"] if d["state"] != "not_ready"]
    assert all("reason" not in d and "capacity" not in d for d in others)


@pytest.mark.parametrize(
    ("queue", "message"),
    [
        (
            "    hold: {dist: fixed, mean_s: 1}\n"
            "    holds: {probability: 1, length: {dist: fixed, mean_s: 1}}\n",
            "either hold",
        ),
        ("    offers: {missed: 0.6, rejected: 0.5}\n", "must not exceed 1"),
        ("    disconnects: {caller: 1}\n", "not among"),
        ("    wrapup_codes: {'no sale': 1}\n", "must be letters"),
        ("    offers: {pause_reason: 'a b'}\n", "must be letters"),
        (
            "    callback: {probability: 1, offer_after_s: 5, attempts: {connected: 0}}\n",
            "must not all be 0",
        ),
    ],
)
def test_bad_keys_are_refused_with_the_reason(queue: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        parse_scenario(one_queue(queue=queue))


def test_a_capacity_must_be_1_to_50() -> None:
    text = one_queue().replace("queues: [q]}", "queues: [q], capacity: {voice: 0}}")
    with pytest.raises(ScenarioError, match="1 to 50"):
        parse_scenario(text)


#: sha256 (first 16 hex) of (time, key, type, data) of every event, and how many, that
#: the model made of these scenarios from 2026-01-05 08:00 UTC before issue 11.
BEFORE = {
    "small-team": (2962, "5866ac3ac09bd791"),
    "bad-day": (7222, "489ca40f5d19d52c"),
}
#: The types the model made before issue 11 (the others are its additions).
TYPES_BEFORE = (
    "contact.queued",
    "contact.answered",
    "contact.abandoned",
    "contact.flowed_out",
    "contact.callback_requested",
    "contact.wrapup_completed",
    "contact.outcome",
    "agent.state_changed",
    "ticket.",
    "survey.",
    "selfservice.",
)


@pytest.mark.parametrize("name", sorted(BEFORE))
def test_shipped_scenarios_give_todays_events_as_before(name: str) -> None:
    scenario = load_scenario(str(SCENARIOS / f"{name}.yaml"))
    digest, count = hashlib.sha256(), 0
    for t, key, event in Simulation(scenario, dt.datetime(2026, 1, 5, 8, tzinfo=dt.UTC)).events():
        if not event["type"].startswith(TYPES_BEFORE):
            continue
        data = dict(event["data"])
        if data.pop("direction", "callback") != "callback":  # marks returning callbacks
            raise AssertionError(data)
        digest.update(orjson.dumps([t, key, event["type"], data], option=orjson.OPT_SORT_KEYS))
        count += 1
    assert (count, digest.hexdigest()[:16]) == BEFORE[name]
