"""Decoding the issue-11 additions: offers, holds, transfers, ends, callback attempts, and
the new optional fields (reason, capacity, direction, wrapup_code).

Every bad value gets its dead-letter reason, both decode paths agree on it, and the JSON
Schema rejects what the decoder rejects.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.events import (
    AgentStateChanged,
    CallbackAttempted,
    ContactEnded,
    ContactHeld,
    ContactOfferDeclined,
    ContactOffered,
    ContactOutcome,
    ContactQueued,
    ContactResumed,
    ContactTransferred,
    WrapupCompleted,
)
from streams import decode as decoder
from streams.decode import ACTIVITY_TYPES, EVENT_TYPES, DecodeError, decode, load_schema
from streams.decode_structs import decode_common
from streams.producers.keys import event_key
from streams.testing.events import T0, agent, contact, envelope, wrapup

LIMIT = 65_536
DEL = object()
SCHEMA = jsonschema.Draft202012Validator(load_schema(), format_checker=jsonschema.FormatChecker())


def with_(event: dict[str, Any], **data: Any) -> dict[str, Any]:
    """A copy of `event` with data fields set (or removed when DEL)."""
    out: dict[str, Any] = orjson.loads(orjson.dumps(event))
    for key, value in data.items():
        if value is DEL:
            out["data"].pop(key, None)
        else:
            out["data"][key] = value
    return out


def outcome_of(fn: Any, raw: bytes) -> object:
    try:
        return fn(raw) if fn is decoder._checked else fn(raw, LIMIT)
    except DecodeError as exc:
        return (exc.reason, exc.detail)


OFFERED = contact("contact.offered", T0, "c1", event_id="e1", agent_id="a1")
DECLINED = contact(
    "contact.offer_declined", T0, "c1", event_id="e2", agent_id="a1", outcome="missed"
)
HELD = contact("contact.held", T0, "c1", event_id="e3", agent_id="a1")
RESUMED = contact("contact.resumed", T0, "c1", event_id="e4")
TRANSFERRED = with_(
    contact("contact.transferred", T0, "c1", event_id="e5"),
    kind="blind",
    target="queue",
    to="support",
    agent_id="a1",
)
ENDED = contact("contact.ended", T0, "c1", event_id="e6", disconnected_by="customer")
ATTEMPTED = contact(
    "contact.callback_attempted", T0, "c1", event_id="e7", outcome="no_answer", agent_id="a2"
)
QUEUED = contact("contact.queued", T0, "c1", event_id="e8", direction="outbound")
ANSWERED = contact("contact.answered", T0, "c1", event_id="e9", direction="callback")
WRAPUP = with_(wrapup(T0, "c1", 60, 5, 10), wrapup_code="sale")
AGENT = with_(
    agent(T0, "a1", "not_ready", ["sales"], ["voice", "chat"]),
    reason="lunch",
    capacity={"voice": 1, "chat": 3},
)
HEAD = (T0, "c1", "sales", "voice")

#: (event, the typed event it decodes to)
VALID: list[tuple[dict[str, Any], object]] = [
    (OFFERED, ContactOffered("e1", *HEAD, "a1")),
    (DECLINED, ContactOfferDeclined("e2", *HEAD, "a1", "missed")),
    (with_(DECLINED, outcome="rejected"), ContactOfferDeclined("e2", *HEAD, "a1", "rejected")),
    (with_(DECLINED, outcome="timed_out"), ContactOfferDeclined("e2", *HEAD, "a1", "timed_out")),
    (HELD, ContactHeld("e3", *HEAD, "a1")),
    (with_(HELD, agent_id=None), ContactHeld("e3", *HEAD, None)),
    (RESUMED, ContactResumed("e4", *HEAD)),
    (TRANSFERRED, ContactTransferred("e5", *HEAD, "blind", "queue", "support", "a1")),
    (
        with_(TRANSFERRED, kind="consult", target="agent", to="a9", agent_id=DEL),
        ContactTransferred("e5", *HEAD, "consult", "agent", "a9"),
    ),
    (
        with_(TRANSFERRED, kind="conference", target="external", to="+44 20 7946 0000"),
        ContactTransferred("e5", *HEAD, "conference", "external", "+44 20 7946 0000", "a1"),
    ),
    (
        with_(TRANSFERRED, to=None),
        ContactTransferred("e5", *HEAD, "blind", "queue", None, "a1"),
    ),
    (ENDED, ContactEnded("e6", *HEAD, "customer")),
    (
        with_(ENDED, disconnected_by="agent", agent_id="a1"),
        ContactEnded("e6", *HEAD, "agent", "a1"),
    ),
    (with_(ENDED, disconnected_by="system"), ContactEnded("e6", *HEAD, "system")),
    (ATTEMPTED, CallbackAttempted("e7", *HEAD, "no_answer", "a2")),
    (with_(ATTEMPTED, outcome="connected"), CallbackAttempted("e7", *HEAD, "connected", "a2")),
    (with_(ATTEMPTED, outcome="failed"), CallbackAttempted("e7", *HEAD, "failed", "a2")),
    (QUEUED, ContactQueued("e8", *HEAD, "outbound")),
    (with_(QUEUED, direction=DEL), ContactQueued("e8", *HEAD, "inbound")),
    (with_(QUEUED, direction=None), ContactQueued("e8", *HEAD, "inbound")),
    (
        ANSWERED,
        ContactOutcome("e9", *HEAD, "answered", "agent-1", direction="callback"),
    ),
    (
        with_(ANSWERED, direction="inbound"),
        ContactOutcome("e9", *HEAD, "answered", "agent-1", direction="inbound"),
    ),
    (
        WRAPUP,
        WrapupCompleted(WRAPUP["id"], *HEAD, 60_000, 5_000, 10_000, "agent-1", "sale"),
    ),
    (
        with_(WRAPUP, wrapup_code=None),
        WrapupCompleted(WRAPUP["id"], *HEAD, 60_000, 5_000, 10_000, "agent-1"),
    ),
    (
        AGENT,
        AgentStateChanged(
            AGENT["id"],
            T0,
            "a1",
            "not_ready",
            ("sales",),
            ("voice", "chat"),
            "lunch",
            (("chat", 3), ("voice", 1)),
        ),
    ),
    (
        with_(AGENT, reason=None, capacity={"email": 0, "messaging": 50}),
        AgentStateChanged(
            AGENT["id"],
            T0,
            "a1",
            "not_ready",
            ("sales",),
            ("voice", "chat"),
            None,
            (("email", 0), ("messaging", 50)),
        ),
    ),
    (
        with_(AGENT, reason=DEL, capacity=None),
        AgentStateChanged(AGENT["id"], T0, "a1", "not_ready", ("sales",), ("voice", "chat")),
    ),
    (
        with_(AGENT, capacity={}),
        AgentStateChanged(
            AGENT["id"], T0, "a1", "not_ready", ("sales",), ("voice", "chat"), "lunch"
        ),
    ),
]

BAD_CAPACITY = "data.capacity must be an object of channel -> integer"
#: (event, dead-letter reason, detail)
INVALID: list[tuple[dict[str, Any], str, str]] = [
    (with_(OFFERED, agent_id=DEL), "missing_field", "data.agent_id is required"),
    (with_(OFFERED, agent_id=7), "wrong_type", "data.agent_id must be a string"),
    (with_(OFFERED, agent_id=None), "wrong_type", "data.agent_id must be a string"),
    (with_(DECLINED, agent_id=DEL), "missing_field", "data.agent_id is required"),
    (with_(DECLINED, outcome=DEL), "missing_field", "data.outcome is required"),
    (
        with_(DECLINED, outcome="ignored"),
        "invalid_value",
        "data.outcome 'ignored' is not one of ['missed', 'rejected', 'timed_out']",
    ),
    (with_(DECLINED, outcome=1), "wrong_type", "data.outcome must be a string"),
    (with_(HELD, agent_id=""), "invalid_value", "data.agent_id must have 1 to 128 characters"),
    (with_(RESUMED, agent_id=["a1"]), "wrong_type", "data.agent_id must be a string"),
    (with_(HELD, contact_id=DEL), "missing_field", "data.contact_id is required"),
    (with_(TRANSFERRED, kind=DEL), "missing_field", "data.kind is required"),
    (
        with_(TRANSFERRED, kind="warm"),
        "invalid_value",
        "data.kind 'warm' is not one of ['blind', 'consult', 'conference']",
    ),
    (with_(TRANSFERRED, target=DEL), "missing_field", "data.target is required"),
    (
        with_(TRANSFERRED, target="voicemail"),
        "invalid_value",
        "data.target 'voicemail' is not one of ['queue', 'agent', 'external']",
    ),
    (with_(TRANSFERRED, to=42), "wrong_type", "data.to must be a string"),
    (
        with_(TRANSFERRED, to="Sales Team!"),
        "invalid_queue",
        "data.to 'Sales Team!' is not a valid queue name",
    ),
    (with_(ENDED, disconnected_by=DEL), "missing_field", "data.disconnected_by is required"),
    (
        with_(ENDED, disconnected_by="network"),
        "invalid_value",
        "data.disconnected_by 'network' is not one of ['customer', 'agent', 'system']",
    ),
    (with_(ENDED, disconnected_by=True), "wrong_type", "data.disconnected_by must be a string"),
    (with_(ATTEMPTED, outcome=DEL), "missing_field", "data.outcome is required"),
    (
        with_(ATTEMPTED, outcome="busy"),
        "invalid_value",
        "data.outcome 'busy' is not one of ['connected', 'no_answer', 'failed']",
    ),
    (
        with_(ATTEMPTED, channel="fax"),
        "invalid_value",
        "data.channel 'fax' is not one of ['voice', 'chat', 'email', 'messaging']",
    ),  # fmt: skip
    (
        with_(QUEUED, direction="sideways"),
        "invalid_value",
        "data.direction 'sideways' is not one of ['inbound', 'outbound', 'callback']",
    ),
    (with_(QUEUED, direction=1), "wrong_type", "data.direction must be a string"),
    (
        with_(ANSWERED, direction="Outbound"),
        "invalid_value",
        "data.direction 'Outbound' is not one of ['inbound', 'outbound', 'callback']",
    ),
    (with_(WRAPUP, wrapup_code=3), "wrong_type", "data.wrapup_code must be a string"),
    (
        with_(WRAPUP, wrapup_code="x" * 129),
        "invalid_value",
        "data.wrapup_code must have 1 to 128 characters",
    ),
    (with_(AGENT, reason=True), "wrong_type", "data.reason must be a string"),
    (with_(AGENT, reason=""), "invalid_value", "data.reason must have 1 to 128 characters"),
    (with_(AGENT, capacity=3), "wrong_type", BAD_CAPACITY),
    (with_(AGENT, capacity=[["voice", 1]]), "wrong_type", BAD_CAPACITY),
    (
        with_(AGENT, capacity={"fax": 1}),
        "invalid_value",
        "data.capacity key 'fax' is not a channel",
    ),
    (with_(AGENT, capacity={"chat": "3"}), "wrong_type", "data.capacity.chat must be an integer"),
    (with_(AGENT, capacity={"chat": 1.5}), "wrong_type", "data.capacity.chat must be an integer"),
    (with_(AGENT, capacity={"chat": True}), "wrong_type", "data.capacity.chat must be an integer"),
    (
        with_(AGENT, capacity={"chat": None}),
        "wrong_type",
        "data.capacity.chat must be an integer",
    ),
    (
        with_(AGENT, capacity={"chat": 51}),
        "invalid_value",
        "data.capacity.chat must be between 0 and 50",
    ),
    (
        with_(AGENT, capacity={"voice": 1, "chat": -1}),
        "invalid_value",
        "data.capacity.chat must be between 0 and 50",
    ),
]


@pytest.mark.parametrize(("event", "expected"), VALID, ids=lambda v: str(v)[:40])
def test_new_events_and_fields_decode_to_typed_events(
    event: dict[str, Any], expected: object
) -> None:
    raw = orjson.dumps(event)
    assert decode(raw, LIMIT) == expected
    assert decoder._checked(raw) == expected
    SCHEMA.validate(event)


@pytest.mark.parametrize(("event", "expected"), VALID, ids=lambda v: str(v)[:40])
def test_the_fast_path_takes_the_new_events(event: dict[str, Any], expected: object) -> None:
    assert decode_common(orjson.dumps(event)) == expected


@pytest.mark.parametrize(("event", "reason", "detail"), INVALID)
def test_bad_new_fields_are_dead_lettered_with_their_reason(
    event: dict[str, Any], reason: str, detail: str
) -> None:
    raw = orjson.dumps(event)
    assert outcome_of(decode, raw) == (reason, detail)
    assert outcome_of(decoder._checked, raw) == (reason, detail)
    assert decode_common(raw) is None


@pytest.mark.parametrize(("event", "reason", "detail"), INVALID)
def test_the_schema_rejects_the_bad_new_fields(
    event: dict[str, Any], reason: str, detail: str
) -> None:
    with pytest.raises(jsonschema.ValidationError):
        SCHEMA.validate(event)


def test_every_new_type_is_in_the_contract_and_keyed_by_its_contact() -> None:
    schema_types = load_schema()["properties"]["type"]["enum"]
    typed = {type(expected) for _, expected in VALID}
    for kind in ACTIVITY_TYPES:
        assert kind in EVENT_TYPES and kind in schema_types
    assert {e["type"] for e, _ in VALID} >= set(ACTIVITY_TYPES)
    assert len(typed) == 11
    for event, _ in VALID:
        assert event_key(event) == ("a1" if event["type"] == "agent.state_changed" else "c1")


def test_fields_the_contract_does_not_name_are_ignored() -> None:
    # direction is defined on contact.queued and contact.answered only; elsewhere it is noise.
    abandoned = contact("contact.abandoned", T0, "c1", event_id="e10", direction="sideways")
    assert decode(orjson.dumps(abandoned), LIMIT) == ContactOutcome("e10", *HEAD, "abandoned")


def _doc_examples() -> list[dict[str, Any]]:
    """The example lines of docs/events.md's json block, one event (type and data) each."""
    text = (Path(__file__).resolve().parents[3] / "docs" / "events.md").read_text("utf-8")
    blocks = re.findall(r"```json\n(.*?)```", text, re.S)
    return [orjson.loads(line) for block in blocks for line in block.splitlines() if line]


def test_the_examples_in_the_docs_decode_on_the_fast_path() -> None:
    examples = _doc_examples()
    assert {e["type"] for e in examples} >= {*ACTIVITY_TYPES, "agent.state_changed"}
    for n, example in enumerate(examples):
        raw = orjson.dumps(envelope(example["type"], T0, example["data"], f"doc-{n}"))
        fast = decode_common(raw)
        assert fast is not None and fast == decoder._checked(raw), example["type"]
    state = decode(orjson.dumps(envelope("agent.state_changed", T0, examples[-1]["data"])), LIMIT)
    assert isinstance(state, AgentStateChanged)
    assert (state.reason, state.capacity) == ("lunch", (("chat", 3), ("voice", 1)))


ODD = st.sampled_from(
    [None, True, 0, -1, 1.5, 50, 51, "", "x" * 129, "voice", "fax", "sales", "Sales Team!",
     "outbound", "callback", "missed", "blind", "agent", "queue", "external", "system",
     "no_answer", "lunch", {"chat": 3}, {"voice": 51}, {"fax": 1}, {"chat": True}, {}, [],
     ["sales"], DEL]
)  # fmt: skip
KEYS = st.sampled_from(
    ["contact_id", "queue", "channel", "agent_id", "direction", "outcome", "kind", "target",
     "to", "disconnected_by", "capacity", "wrapup_code", "reason", "state", "queues"]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.sampled_from([e for e, _ in VALID]), st.lists(st.tuples(KEYS, ODD), max_size=3))
def test_the_decoder_accepts_exactly_what_the_schema_accepts(
    event: dict[str, Any], changes: list[tuple[str, Any]]
) -> None:
    event = with_(event, **dict(changes))
    raw = orjson.dumps(event)
    accepted = not isinstance(outcome_of(decode, raw), tuple)
    assert accepted == SCHEMA.is_valid(event)
    assert outcome_of(decode, raw) == outcome_of(decoder._checked, raw)
