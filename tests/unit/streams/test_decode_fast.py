"""The msgspec path of the decoder returns exactly what the hand checks return.

`decode` tries the msgspec structs of `streams.decode_structs` first and falls back to the
hand checks (`streams.decode._checked`) for anything they do not accept. Each case here is
decoded both ways: the event, or the dead-letter (reason, detail), must be the same.
"""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.events import AgentStateChanged, ContactOutcome, ContactQueued, WrapupCompleted
from streams import decode as decoder
from streams.decode import DecodeError, decode
from streams.decode_structs import decode_common
from streams.testing.events import T0, agent, contact, envelope, iso, wrapup

LIMIT = 65_536
DEL = object()
BAD_QUEUE = "data.queue 'Sales Team!' is not a valid queue name"
BAD_CHANNEL = "data.channel 'fax' is not one of ['voice', 'chat', 'email', 'messaging']"


def outcome_of(fn: Any, raw: bytes) -> object:
    """The event `raw` decodes to, or the (reason, detail) it is rejected with."""
    try:
        return fn(raw) if fn is decoder._checked else fn(raw, LIMIT)
    except DecodeError as exc:
        return (exc.reason, exc.detail)


def both(raw: bytes) -> tuple[object, object]:
    """(what decode gives, what the hand checks alone give)."""
    return outcome_of(decode, raw), outcome_of(decoder._checked, raw)


#: contact() names its first parameter `kind`, so the transfer's own `kind` goes in raw.
TRANSFER = {
    "contact_id": "c-1",
    "queue": "sales",
    "channel": "voice",
    "kind": "consult",
    "target": "queue",
    "to": "support",
    "agent_id": "a-7",
}


def base_events() -> list[dict[str, Any]]:
    return [
        contact("contact.queued", T0, "c-1", event_id="e-1"),
        contact("contact.answered", T0 + 5_000, "c-1", event_id="e-2", agent_id="a-7"),
        contact("contact.abandoned", T0 + 9_000, "c-2", "support", "chat", event_id="e-3"),
        contact("contact.flowed_out", T0, "c-3", "tech-l2", event_id="e-4"),
        contact("contact.callback_requested", T0, "c-4", event_id="e-5"),
        wrapup(T0 + 60_000, "c-1", 120.5, 0, 30),
        agent(T0, "a-7", "available", ["sales", "support", "sales"], ["voice", "chat"]),
        agent(T0, "a-8", "on_contact", []),
        # issue 11: the agents' view and the new optional fields
        contact("contact.offered", T0, "c-1", event_id="e-6", agent_id="a-7"),
        contact("contact.offer_declined", T0, "c-1", agent_id="a-7", outcome="timed_out"),
        contact("contact.held", T0, "c-1", agent_id="a-7"),
        contact("contact.resumed", T0, "c-1"),
        envelope("contact.transferred", T0, dict(TRANSFER)),
        contact("contact.ended", T0, "c-1", disconnected_by="agent"),
        contact("contact.callback_attempted", T0, "c-4", outcome="connected"),
        contact("contact.queued", T0, "c-9", direction="callback"),
        {
            **agent(T0, "a-9", "not_ready", ["sales"], ["voice", "chat"]),
            "data": {
                "agent_id": "a-9",
                "state": "not_ready",
                "queues": ["sales"],
                "channels": ["voice", "chat"],
                "reason": "lunch",
                "capacity": {"chat": 3, "voice": 1},
            },
        },
    ]


def test_valid_events_take_the_fast_path_and_are_the_same_events() -> None:
    for event in base_events():
        raw = orjson.dumps(event)
        assert decode_common(raw) is not None
        fast, hand = both(raw)
        assert fast == hand
    assert decode(orjson.dumps(base_events()[0]), LIMIT) == ContactQueued(
        "e-1", T0, "c-1", "sales", "voice"
    )
    assert decode(orjson.dumps(base_events()[1]), LIMIT) == ContactOutcome(
        "e-2", T0 + 5_000, "c-1", "sales", "voice", "answered", "a-7"
    )
    wrap = decode(orjson.dumps(base_events()[5]), LIMIT)
    assert isinstance(wrap, WrapupCompleted)
    assert (wrap.talk_ms, wrap.hold_ms, wrap.acw_ms, wrap.agent_id) == (
        120_500,
        0,
        30_000,
        "agent-1",
    )
    busy = decode(orjson.dumps(base_events()[6]), LIMIT)
    assert busy == AgentStateChanged(
        busy.id, T0, "a-7", "available", ("sales", "support"), ("voice", "chat")
    )


@pytest.mark.parametrize(
    ("where", "key", "value", "expected"),
    [
        ("", "type", ["contact.queued"], ("wrong_type", "type must be a string")),
        ("", "id", "", ("invalid_value", "id must have 1 to 128 characters")),
        ("", "source", 7, ("wrong_type", "source must be a string")),
        ("", "time", 1_794_787_200, ("wrong_type", "time")),
        ("", "data", None, ("missing_field", "data object")),
        (
            "data",
            "contact_id",
            "x" * 129,
            ("invalid_value", "data.contact_id must have 1 to 128 characters"),
        ),
        ("data", "queue", ["sales"], ("wrong_type", "data.queue must be a string")),
        ("data", "queue", "Sales Team!", ("invalid_queue", BAD_QUEUE)),
        ("data", "channel", "fax", ("invalid_value", BAD_CHANNEL)),
        ("data", "channel", DEL, ("missing_field", "data.channel is required")),
    ],
)
def test_near_valid_events_get_the_hand_checks_reason(
    where: str, key: str, value: Any, expected: tuple[str, str]
) -> None:
    event = contact("contact.queued", T0, "c-1")
    target = event["data"] if where else event
    if value is DEL:
        del target[key]
    else:
        target[key] = value
    assert both(orjson.dumps(event)) == (expected, expected)


def test_a_time_without_offset_is_rejected_alike() -> None:
    event = contact("contact.queued", T0, "c-1")
    event["time"] = iso(T0).replace("Z", "")
    fast, hand = both(orjson.dumps(event))
    assert fast == hand
    assert fast[0] == "invalid_value"  # type: ignore[index]


@pytest.mark.parametrize(
    "raw",
    [
        b'{"type":"contact.queued","type":"contact.answered"}',
        b"\xef\xbb\xbf{}",
        b'{"id":"e","type":"contact.queued","source":"s","time":"2026-01-01T00:00:00Z",'
        b'"data":{"contact_id":"c","queue":"sales","channel":"voice"}} x',
        b'{"id":"e\\ud800","type":"contact.queued"}',
        b"NaN",
        b"[]",
    ],
)
def test_odd_bytes_are_rejected_alike(raw: bytes) -> None:
    fast, hand = both(raw)
    assert fast == hand
    assert isinstance(fast, tuple)


ODD = st.sampled_from(
    [None, True, False, 0, -1, -0.0, 1.5, 86_400, 86_401, 2**63 - 1, "", "x" * 129, "voice",
     "chat", "fax", "sales", "Sales Team!", "sales\n", "available", "transfer",
     "2026-01-01T00:00:00", ["sales"], ["voice", "fax"], [], [1], {"a": 1}, DEL,
     "outbound", "callback", "missed", "blind", "agent", "queue", "system", "no_answer",
     {"chat": 3}, {"voice": 51}, {"fax": 1}, {"chat": True}, {"voice": 1.0}, 50, 51]
)  # fmt: skip
KEYS = st.sampled_from(
    [("", k) for k in ("type", "id", "source", "time", "data", "specversion")]
    + [
        ("data", k)
        for k in ("contact_id", "queue", "channel", "agent_id", "reason", "talk_s", "hold_s",
                  "state", "queues", "channels", "extra", "direction", "outcome", "kind",
                  "target", "to", "disconnected_by", "capacity", "wrapup_code")
    ]
)  # fmt: skip
TYPES = st.sampled_from(
    ["contact.queued", "contact.flowed_out", "agent.state_changed", "contact.transferred",
     "contact.offer_declined", "contact.ended", "contact.callback_attempted", "contact.held"]
)  # fmt: skip


@settings(max_examples=800, deadline=None)
@given(
    st.integers(0, len(base_events()) - 1),
    st.lists(st.tuples(KEYS, st.one_of(ODD, TYPES)), max_size=3),
)
def test_any_mutation_decodes_alike(which: int, changes: list[tuple[tuple[str, str], Any]]) -> None:
    event = base_events()[which]
    for (where, key), value in changes:
        target = event.get("data") if where else event
        if not isinstance(target, dict):
            continue
        if value is DEL:
            target.pop(key, None)
        else:
            target[key] = copy.deepcopy(value)
    fast, hand = both(orjson.dumps(event))
    assert fast == hand


@pytest.mark.parametrize(
    ("which", "key", "expected"),
    [
        (5, "agent_id", ("wrong_type", "data.agent_id must be a string")),
        (6, "channels", ("wrong_type", "data.channels must be a list of strings")),
        (6, "queues", ("missing_field", "data.queues is required")),
        (1, "agent_id", ("missing_field", "data.agent_id is required")),
        (3, "reason", ("missing_field", "data.reason is required")),
        (5, "talk_s", ("missing_field", "data.talk_s is required")),
    ],
)
def test_a_null_optional_field_is_not_taken_for_a_missing_one(
    which: int, key: str, expected: tuple[str, str]
) -> None:
    event = base_events()[which]
    event["data"][key] = None
    fast, hand = both(orjson.dumps(event))
    assert fast == hand
    if key in ("agent_id", "channels") and which in (5, 6):
        assert fast == expected
    del event["data"][key]
    fast, hand = both(orjson.dumps(event))
    assert fast == hand
    if which not in (5, 6) or key not in ("agent_id", "channels"):
        assert fast == expected
