"""Decoding at the edge: every bad input gets a reason; decoder and JSON Schema agree."""

from __future__ import annotations

from typing import Any

import jsonschema
import orjson
import pytest

from metrics.events import AgentStateChanged, ContactOutcome, ContactQueued, WrapupCompleted
from streams.events import DecodeError, decode, load_schema
from tests.events import T0, agent, contact, wrapup

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


def test_time_with_an_offset_is_converted_to_utc() -> None:
    event = decode(orjson.dumps(with_(QUEUED, "time", "2026-11-16T01:00:00+01:00")), LIMIT)
    assert event.time_ms == T0
