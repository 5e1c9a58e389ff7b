"""Decoding at the edge: every bad input gets a reason; decoder and JSON Schema agree."""

from __future__ import annotations

from typing import Any

import jsonschema
import orjson
import pytest

from metrics.events import (
    AgentStateChanged,
    ContactOutcome,
    ContactQueued,
    ContactResolution,
    CustomerContacted,
    SelfServiceSession,
    SurveySubmitted,
    TicketCreated,
    TicketReplied,
    WrapupCompleted,
)
from streams.decode import DecodeError, decode, load_schema
from streams.testing.events import (
    T0,
    agent,
    contact,
    envelope,
    outcome,
    selfservice,
    survey,
    ticket,
    wrapup,
)

LIMIT = 65_536


def with_(event: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of `event` with `path` (dotted) set to value, or removed when value is DEL."""
    out = orjson.loads(orjson.dumps(event))
    *parents, last = path.split(".")
    target = out
    for part in parents:
        target = target[part]
    if value is DEL:
        del target[last]
    else:
        target[last] = value
    return out


DEL = object()
QUEUED = contact("contact.queued", T0, "c1")
ANSWERED = contact("contact.answered", T0, "c1")
WRAPUP = wrapup(T0, "c1", talk=100, hold=5.5, acw=20)
AGENT = agent(T0, "a1", "available", ["sales"])

CREATED = ticket(
    "ticket.created",
    T0,
    "t1",
    priority="high",
    customer_id="cust-9",
    customer_tier="enterprise",
    tags=["complaint", "billing"],
)
TICKETS = [
    CREATED,
    ticket("ticket.created", T0, "t2"),
    ticket("ticket.replied", T0, "t1", author="customer", public=True),
    ticket("ticket.replied", T0, "t1", public=False, agent_id="a1"),
    ticket("ticket.status_changed", T0, "t1", status="on_hold"),
    ticket("ticket.reopened", T0, "t1"),
    ticket("ticket.escalated", T0, "t1"),
    ticket("ticket.priority_changed", T0, "t1", priority="urgent"),
]
OUTCOME = outcome(
    T0,
    "c1",
    True,
    customer_id="cust-9",
    upsell_offered=True,
    upsell_accepted=True,
    cross_sell_offered=True,
)
CUSTOMER_CONTACT = {
    "customer": "3f9a",
    "contact": "c:c1",
    "queue": "sales",
    "channel": "voice",
    "resolved": True,
}
SURVEY = survey(T0, "nps", 9)
SESSION = selfservice(T0, "s1", "started")

VALID = [
    QUEUED,
    ANSWERED,
    contact("contact.abandoned", T0, "c1", channel="chat"),
    contact("contact.flowed_out", T0, "c1", reason="ivr_exit"),
    contact("contact.callback_requested", T0, "c1", channel="messaging"),
    WRAPUP,
    AGENT,
    agent(T0, "a1", "offline", [], ["email", "chat"]),
    with_(QUEUED, "time", "2026-11-16T01:00:00+01:00"),
    *TICKETS,
    survey(T0, "csat", 5, contact_id="c1"),
    survey(T0, "nps", 0, ticket_id="t1"),
    survey(T0, "ces", 7),
    selfservice(T0, "s1", "escalated"),
    OUTCOME,
    outcome(T0, "c2", False, customer_id=None),
    envelope("customer.contact", T0, CUSTOMER_CONTACT),
]

INVALID: list[tuple[bytes, str]] = [
    (b"{not json", "malformed_json"),
    (b"", "malformed_json"),
    (b"[1, 2]", "not_an_object"),
    (orjson.dumps(with_(QUEUED, "type", "contact.teleported")), "unknown_type"),
    (orjson.dumps(with_(QUEUED, "id", DEL)), "missing_field"),
    (orjson.dumps(with_(QUEUED, "id", 17)), "wrong_type"),
    (orjson.dumps(with_(QUEUED, "source", DEL)), "missing_field"),
    (orjson.dumps(with_(QUEUED, "time", DEL)), "missing_field"),
    (orjson.dumps(with_(QUEUED, "time", "yesterday")), "invalid_value"),
    (orjson.dumps(with_(QUEUED, "time", "2026-11-16T10:00:00")), "invalid_value"),
    (orjson.dumps(with_(QUEUED, "time", 1763251200)), "wrong_type"),
    (orjson.dumps(with_(QUEUED, "data", DEL)), "missing_field"),
    (orjson.dumps(with_(QUEUED, "data", "x")), "wrong_type"),
    (orjson.dumps(with_(QUEUED, "data.queue", DEL)), "missing_field"),
    (orjson.dumps(with_(QUEUED, "data.queue", "sales queue!")), "invalid_queue"),
    (orjson.dumps(with_(QUEUED, "data.channel", "fax")), "invalid_value"),
    (orjson.dumps(with_(QUEUED, "data.contact_id", "")), "invalid_value"),
    (orjson.dumps(with_(QUEUED, "data.contact_id", None)), "wrong_type"),
    (orjson.dumps(with_(ANSWERED, "data.agent_id", DEL)), "missing_field"),
    (orjson.dumps(with_(WRAPUP, "data.talk_s", "100")), "wrong_type"),
    (orjson.dumps(with_(WRAPUP, "data.talk_s", True)), "wrong_type"),
    (orjson.dumps(with_(WRAPUP, "data.hold_s", -1)), "invalid_value"),
    (orjson.dumps(with_(WRAPUP, "data.acw_s", DEL)), "missing_field"),
    (orjson.dumps(contact("contact.flowed_out", T0, "c", reason="teleport")), "invalid_value"),
    (orjson.dumps(with_(AGENT, "data.state", "lunch")), "invalid_value"),
    (orjson.dumps(with_(AGENT, "data.queues", "sales")), "wrong_type"),
    (orjson.dumps(with_(AGENT, "data.queues", DEL)), "missing_field"),
    (orjson.dumps(with_(AGENT, "data.channels", ["pigeon"])), "invalid_value"),
    (orjson.dumps(with_(AGENT, "data.queues", ["ok", "not ok"])), "invalid_queue"),
    (orjson.dumps(with_(CREATED, "data.ticket_id", DEL)), "missing_field"),
    (orjson.dumps(with_(CREATED, "data.priority", "asap")), "invalid_value"),
    (orjson.dumps(with_(CREATED, "data.tags", "complaint")), "wrong_type"),
    (orjson.dumps(with_(CREATED, "data.tags", [""])), "invalid_value"),
    (orjson.dumps(with_(CREATED, "data.customer_id", 42)), "wrong_type"),
    (orjson.dumps(with_(CREATED, "data.queue", "no queue")), "invalid_queue"),
    (orjson.dumps(ticket("ticket.replied", T0, "t1", author="bot")), "invalid_value"),
    (orjson.dumps(ticket("ticket.replied", T0, "t1", public="yes")), "wrong_type"),
    (orjson.dumps(ticket("ticket.status_changed", T0, "t1")), "missing_field"),
    (orjson.dumps(ticket("ticket.status_changed", T0, "t1", status="done")), "invalid_value"),
    (orjson.dumps(ticket("ticket.priority_changed", T0, "t1")), "missing_field"),
    (orjson.dumps(survey(T0, "csat", 0)), "invalid_value"),
    (orjson.dumps(survey(T0, "nps", 11)), "invalid_value"),
    (orjson.dumps(survey(T0, "ces", 8)), "invalid_value"),
    (orjson.dumps(with_(SURVEY, "data.score", 4.5)), "wrong_type"),
    (orjson.dumps(with_(SURVEY, "data.score", True)), "wrong_type"),
    (orjson.dumps(with_(SURVEY, "data.score", DEL)), "missing_field"),
    (orjson.dumps(with_(SURVEY, "data.kind", "smiley")), "invalid_value"),
    (orjson.dumps(with_(SESSION, "data.stage", "abandoned")), "invalid_value"),
    (orjson.dumps(with_(SESSION, "data.session_id", DEL)), "missing_field"),
    (orjson.dumps(with_(OUTCOME, "data.resolved", DEL)), "missing_field"),
    (orjson.dumps(with_(OUTCOME, "data.resolved", "yes")), "wrong_type"),
    (orjson.dumps(with_(OUTCOME, "data.upsell_offered", False)), "invalid_value"),
    (orjson.dumps(with_(OUTCOME, "data.cross_sell_accepted", 1)), "wrong_type"),
    (orjson.dumps(envelope("customer.contact", T0, {"queue": "sales"})), "missing_field"),
]


@pytest.mark.parametrize("event", VALID, ids=lambda e: e["type"])
def test_valid_events_decode_and_match_the_schema(event: dict[str, Any]) -> None:
    decode(orjson.dumps(event), LIMIT)
    jsonschema.validate(event, load_schema())


@pytest.mark.parametrize(("payload", "reason"), INVALID)
def test_invalid_events_are_rejected_with_a_reason(payload: bytes, reason: str) -> None:
    with pytest.raises(DecodeError) as caught:
        decode(payload, LIMIT)
    assert caught.value.reason == reason


@pytest.mark.parametrize(("payload", "reason"), INVALID)
def test_the_schema_rejects_what_the_decoder_rejects(payload: bytes, reason: str) -> None:
    try:
        document = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return  # not JSON at all: nothing for a schema to say
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, load_schema(), format_checker=jsonschema.FormatChecker())


def test_payload_over_the_limit_is_too_large() -> None:
    big = orjson.dumps(with_(QUEUED, "data.note", "x" * 2000))
    with pytest.raises(DecodeError) as caught:
        decode(big, 1024)
    assert caught.value.reason == "too_large"


def test_typed_events_carry_the_fields() -> None:
    assert decode(orjson.dumps(QUEUED), LIMIT) == ContactQueued(
        QUEUED["id"], T0, "c1", "sales", "voice"
    )
    answered = decode(orjson.dumps(ANSWERED), LIMIT)
    assert isinstance(answered, ContactOutcome)
    assert (answered.kind, answered.agent_id) == ("answered", "agent-1")
    wrap = decode(orjson.dumps(WRAPUP), LIMIT)
    assert isinstance(wrap, WrapupCompleted)
    assert (wrap.talk_ms, wrap.hold_ms, wrap.acw_ms) == (100_000, 5_500, 20_000)
    state = decode(orjson.dumps(AGENT), LIMIT)
    assert state == AgentStateChanged(AGENT["id"], T0, "a1", "available", ("sales",), ("voice",))


def test_ticket_and_service_events_carry_the_fields() -> None:
    created = decode(orjson.dumps(CREATED), LIMIT)
    assert created == TicketCreated(
        CREATED["id"],
        T0,
        "t1",
        "support",
        "email",
        "high",
        "cust-9",
        "enterprise",
        ("complaint", "billing"),
    )
    plain = decode(orjson.dumps(TICKETS[1]), LIMIT)
    assert isinstance(plain, TicketCreated) and (plain.priority, plain.tags) == ("normal", ())
    reply = decode(orjson.dumps(TICKETS[2]), LIMIT)
    assert reply == TicketReplied(TICKETS[2]["id"], T0, "t1", "support", "email", "customer")
    assert decode(orjson.dumps(SURVEY), LIMIT) == SurveySubmitted(
        SURVEY["id"], T0, "support", "email", "nps", 9
    )
    assert decode(orjson.dumps(SESSION), LIMIT) == SelfServiceSession(
        SESSION["id"], T0, "s1", "support", "chat", "started"
    )
    assert decode(orjson.dumps(OUTCOME), LIMIT) == ContactResolution(
        OUTCOME["id"], T0, "c1", "sales", "voice", True, "cust-9", True, True, True, False
    )
    derived = envelope("customer.contact", T0, CUSTOMER_CONTACT, "e1/customer")
    assert decode(orjson.dumps(derived), LIMIT) == CustomerContacted(
        "e1/customer", T0, "3f9a", "c:c1", "sales", "voice", True
    )


def test_time_with_an_offset_is_converted_to_utc() -> None:
    event = decode(orjson.dumps(with_(QUEUED, "time", "2026-11-16T01:00:00+01:00")), LIMIT)
    assert event.time_ms == T0
