"""Scenarios with tickets, surveys, self-service and customers: valid, ordered, keyed events."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest

from streams.decode import decode, load_schema
from streams.producers.sim.model import SimEvent, Simulation
from streams.producers.sim.scenario import load_scenario, parse_scenario

ROOT = Path(__file__).parents[5]
EVERYTHING = ROOT / "tests" / "fixtures" / "sim-everything.yaml"
START = dt.datetime(2026, 11, 16, 8, tzinfo=dt.UTC)


def run(text: str | None = None, **kwargs: Any) -> list[SimEvent]:
    scenario = load_scenario(str(EVERYTHING)) if text is None else parse_scenario(text)
    return list(Simulation(scenario, START, **kwargs).events())


def of_type(events: list[SimEvent], kind: str) -> list[dict[str, Any]]:
    return [e["data"] for _, _, e in events if e["type"] == kind]


EVENTS = run()


def test_same_seed_same_events_other_seed_other_events() -> None:
    assert run(duration_s=3600) == run(duration_s=3600)
    assert run(duration_s=3600, seed=8) != run(duration_s=3600)


def test_every_event_passes_the_schema_and_the_decoder_in_time_order() -> None:
    validator = jsonschema.Draft202012Validator(load_schema())
    for time_ms, _, event in EVENTS:
        validator.validate(event)
        assert decode(orjson.dumps(event), 65536).time_ms == time_ms
    times = [t for t, _, _ in EVENTS]
    assert times == sorted(times)
    assert len({e["id"] for _, _, e in EVENTS}) == len(EVENTS)
    kinds = {e["type"] for _, _, e in EVENTS}
    assert {
        "ticket.created",
        "ticket.replied",
        "ticket.status_changed",
        "ticket.reopened",
        "ticket.escalated",
        "ticket.priority_changed",
        "survey.submitted",
        "selfservice.session",
        "contact.outcome",
    } <= kinds


@pytest.mark.parametrize(
    ("prefix", "field"),
    [
        ("ticket.", "ticket_id"),
        ("selfservice.", "session_id"),
        ("contact.", "contact_id"),
        ("agent.", "agent_id"),
    ],
)
def test_events_are_keyed_by_their_entity(prefix: str, field: str) -> None:
    keyed = [(key, e["data"]) for _, key, e in EVENTS if e["type"].startswith(prefix)]
    assert keyed and all(key == data[field] for key, data in keyed)


def test_surveys_name_what_they_rate_and_are_keyed_by_it() -> None:
    contacts = {d["contact_id"] for d in of_type(EVENTS, "contact.wrapup_completed")}
    tickets = {d["ticket_id"] for d in of_type(EVENTS, "ticket.created")}
    about = Counter()
    for _, key, event in EVENTS:
        if event["type"] == "survey.submitted":
            data = event["data"]
            rated = data.get("contact_id") or data.get("ticket_id")
            assert key == rated and rated in contacts | tickets
            about["contact" if "contact_id" in data else "ticket"] += 1
    assert about["contact"] and about["ticket"]


# status -> statuses a ticket may go to next
NEXT = {
    "new": {"pending", "on_hold"},
    "pending": {"open", "solved"},
    "on_hold": {"open"},
    "open": {"pending", "on_hold"},
    "solved": {"open", "closed"},
    "closed": set(),
}


def test_each_ticket_follows_its_lifecycle() -> None:
    lives: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for _, _, event in EVENTS:
        if event["type"].startswith("ticket."):
            lives[event["data"]["ticket_id"]].append((event["type"], event["data"]))
    assert len(lives) > 100
    for life in lives.values():
        assert life[0][0] == "ticket.created"
        status = "new"
        for kind, data in life[1:]:
            if kind == "ticket.status_changed":
                assert data["status"] in NEXT[status], (status, data["status"])
                status = data["status"]
            elif kind == "ticket.reopened":
                assert status == "solved"
            elif kind == "ticket.replied" and data["author"] == "customer":
                assert status in {"pending", "solved"}  # answering, or reopening
        escalations = [k for k, _ in life if k == "ticket.escalated"]
        assert len(escalations) <= 1


def test_tickets_carry_customers_and_tiers_of_the_pool() -> None:
    created = of_type(EVENTS, "ticket.created")
    assert all(d["customer_id"].startswith("sim7-") for d in created)
    tiers = Counter(d["customer_tier"] for d in created)
    assert set(tiers) == {"standard", "gold"} and tiers["standard"] > tiers["gold"]
    # A customer keeps one tier, whichever ticket or contact names it.
    seen: dict[str, str] = {}
    for d in created:
        assert seen.setdefault(d["customer_id"], d["customer_tier"]) == d["customer_tier"]


def test_an_outcome_after_each_finished_contact_and_unresolved_customers_come_back() -> None:
    finished = of_type(EVENTS, "contact.wrapup_completed")
    outcomes = of_type(EVENTS, "contact.outcome")
    # Transferred contacts report once, after their last queue.
    assert len({d["contact_id"] for d in outcomes}) == len(outcomes)
    assert {d["contact_id"] for d in outcomes} <= {d["contact_id"] for d in finished}
    assert len(outcomes) > 0.9 * len({d["contact_id"] for d in finished})
    contacts_of = Counter(d["customer_id"] for d in outcomes)
    assert max(contacts_of.values()) >= 3  # repeat contacts happen
    for d in outcomes:
        assert not d["upsell_accepted"] or d["upsell_offered"]


def test_escalated_sessions_become_contacts_in_their_queue() -> None:
    sessions = Counter(d["stage"] for d in of_type(EVENTS, "selfservice.session"))
    assert sessions["started"] > sessions["resolved"] > sessions["escalated"] > 0
    escalations = [t for t, _, e in EVENTS if e["data"].get("stage") == "escalated"]
    queued_at = Counter(
        t for t, _, e in EVENTS if e["type"] == "contact.queued" and e["data"]["queue"] == "support"
    )
    assert all(queued_at[t] for t in escalations)


BASE = """\
duration: 3h
queues:
  - name: sales
    arrivals_per_hour: 120
    patience: {dist: exponential, mean_s: 90}
    talk: {dist: exponential, mean_s: 120}
agents:
  - {name: team, count: 4, queues: [sales]}
"""
SECTIONS = {
    "surveys": "surveys:\n  csat: {after_contact: 0.5, scores: [1, 1, 1, 1, 1]}\n",
    "tickets": (
        "tickets:\n  - {queue: mail, tickets_per_hour: 20, first_reply: {dist: fixed, mean_s: 60},"
        " follow_up: {dist: fixed, mean_s: 60}, solve: {dist: fixed, mean_s: 60}}\n"
    ),
}


@pytest.mark.parametrize("section", SECTIONS)
def test_a_section_adds_its_events_and_leaves_the_rest_alone(section: str) -> None:
    """Each section draws from its own random source: contacts and agents stay the same."""

    def strip(events: list[SimEvent]) -> list[tuple[int, str, str, dict[str, Any]]]:
        return [
            (t, key, e["type"], e["data"])
            for t, key, e in events
            if e["type"].startswith(("contact.", "agent."))
        ]

    plain, extended = run(BASE), run(BASE + SECTIONS[section])
    assert len(extended) > len(plain)
    assert strip(extended) == strip(plain)
