"""Genesys Cloud: conversation snapshots become each fact once; routing status and presence."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest

from streams.sources.genesys import GenesysCloud
from tests.unit.streams.sources.helpers import fixture, reasons, rows

QID = "fd6c8d3c-1b2a-4c5e-9f00-1a2b3c4d5e6f"
U1 = "8c5e1f3a-0d4b-4e2a-9c7d-6b5a4f3e2d1c"
C1, C2 = "c1a1b2c3-0000-4000-8000-000000000001", "c2a1b2c3-0000-4000-8000-000000000002"
MAPPER = GenesysCloud("g-key", agent_queues=[QID])
NOTES: list[dict[str, Any]] = json.loads(fixture("genesys", "notifications.json"))
VOICE = {"queue": QID, "channel": "voice"}
AGENT = {"agent_id": U1, "queues": [QID], "channels": ["voice"]}


def test_every_mapped_field_of_the_notifications() -> None:
    got = [rows(MAPPER.map(orjson.dumps(n), {})) for n in NOTES]
    queued1 = (
        "contact.queued",
        f"genesys:{C1}:p-acd1:queued",
        "2021-08-04T10:00:00.000Z",
        {"contact_id": C1, **VOICE},
    )
    queued2 = (
        "contact.queued",
        f"genesys:{C2}:p-acd2:queued",
        "2021-08-04T10:00:05.000Z",
        {"contact_id": C2, **VOICE},
    )
    assert got == [
        [
            (
                "agent.state_changed",
                f"genesys:{U1}:routingStatus:1628071170000:IDLE",
                "2021-08-04T09:59:30.000Z",
                {**AGENT, "state": "available"},
            )
        ],
        [queued1],
        [queued2],
        [
            queued1,  # the same fact again, with the same id: the worker counts it once
            (
                "contact.answered",
                f"genesys:{C1}:p-acd1:answered",
                "2021-08-04T10:00:12.000Z",
                {"contact_id": C1, **VOICE, "agent_id": U1},
            ),
        ],
        [
            (
                "agent.state_changed",
                f"genesys:{U1}:routingStatus:1628071212000:INTERACTING",
                "2021-08-04T10:00:12.000Z",
                {**AGENT, "state": "on_contact"},
            )
        ],
        [
            queued2,
            (
                "contact.abandoned",
                f"genesys:{C2}:p-acd2:abandoned",
                "2021-08-04T10:00:50.000Z",
                {"contact_id": C2, **VOICE},
            ),
        ],
        [],
    ]
    assert reasons(MAPPER.map(orjson.dumps(NOTES[-1]), {})) == [
        ("ignored_event", "channel.metadata heartbeat")
    ]


def test_a_json_array_and_eventbridge_envelopes_give_the_same_events() -> None:
    plain = rows(MAPPER.map(fixture("genesys", "notifications.json"), {}))
    wrapped = [
        {
            "version": "0",
            "detail-type": n["topicName"],
            "source": "aws.partner/genesys.com",
            "detail": n,
        }
        for n in NOTES
    ]
    assert rows(MAPPER.map(orjson.dumps(wrapped), {})) == plain
    assert len(plain) == 8


def test_presence_break_is_not_ready() -> None:
    mapped = MAPPER.map(fixture("genesys", "presence.json"), {})
    ident = f"genesys:{U1}:presence:1628071500000:Break"
    assert rows(mapped) == [
        ("agent.state_changed", ident, "2021-08-04T10:05:00.000Z", {**AGENT, "state": "not_ready"})
    ]


def _presence(value: str) -> bytes:
    note = json.loads(fixture("genesys", "presence.json"))
    note["eventBody"]["presenceDefinition"]["systemPresence"] = value
    return orjson.dumps(note)


def _status(value: str) -> bytes:
    note = dict(NOTES[0])
    note["eventBody"] = {
        "routingStatus": {"status": value, "startTime": "2021-08-04T09:59:30.000Z"}
    }
    return orjson.dumps(note)


@pytest.mark.parametrize(
    ("body", "state"),
    [
        (_presence("Offline"), "offline"),
        (_presence("OFFLINE"), "offline"),
        (_presence("Meal"), "not_ready"),
        (_status("IDLE"), "available"),
        (_status("COMMUNICATING"), "on_contact"),
        (_status("NOT_RESPONDING"), "not_ready"),
        (_status("OFF_QUEUE"), "not_ready"),
    ],
)
def test_states(body: bytes, state: str) -> None:
    assert rows(MAPPER.map(body, {}))[0][3]["state"] == state


def _conversation(participants: list[dict[str, Any]]) -> bytes:
    return orjson.dumps({**NOTES[1], "eventBody": {"id": C1, "participants": participants}})


ACD = NOTES[1]["eventBody"]["participants"][1]


@pytest.mark.parametrize(
    ("body", "reason", "detail"),
    [
        (b"{", "malformed_payload", "not JSON"),
        (b"{}", "missing_field", "topicName"),
        (b'{"topicName": "v2.users.x.routingStatus"}', "missing_field", "eventBody"),
        (_presence("On Queue"), "ignored_event", "presence On Queue: routingStatus says more"),
        (_status("DANCING"), "invalid_value", "routingStatus 'DANCING'"),
        (
            orjson.dumps({"topicName": f"v2.users.{U1}.geolocation", "eventBody": {}}),
            "unknown_event",
            "topic v2.users.{id}.geolocation",
        ),
        (_conversation([]), "missing_field", "eventBody.id / participants"),
        (_conversation([{**ACD, "queueId": None}]), "missing_field", "acd queueId / connectedTime"),
        (
            _conversation(
                [{**{k: v for k, v in ACD.items() if k != "calls"}, "callbacks": [{"id": "cb"}]}]
            ),
            "unknown_channel",
            "acd media (e.g. callbacks)",
        ),
        (
            _conversation([NOTES[1]["eventBody"]["participants"][0]]),
            "ignored_event",
            "no ACD participant yet",
        ),
    ],
)
def test_bad_notifications_are_unmapped_with_a_reason(
    body: bytes, reason: str, detail: str
) -> None:
    mapped = MAPPER.map(body, {})
    assert mapped.events == [] and reasons(mapped) == [(reason, detail)]


def test_agent_states_without_configured_queues_are_unmapped() -> None:
    mapped = GenesysCloud("g-key").map(orjson.dumps(NOTES[0]), {})
    assert reasons(mapped) == [
        ("missing_field", "the agent's queues (set CCMON_GENESYS_AGENT_QUEUES)")
    ]


def test_a_transfer_out_of_queue_without_an_agent_is_a_flow_out() -> None:
    ended = {
        **ACD,
        "endTime": "2021-08-04T10:00:30.000Z",
        "calls": [{"state": "disconnected", "disconnectType": "transfer"}],
    }
    kinds = [r[0] for r in rows(MAPPER.map(_conversation([ended]), {}))]
    assert kinds == ["contact.queued", "contact.flowed_out"]
    assert rows(MAPPER.map(_conversation([ended]), {}))[1][3]["reason"] == "transfer"


def test_the_api_key_is_required() -> None:
    assert MAPPER.verify(b"{}", {"x-api-key": "g-key"}, "/") is None
    assert MAPPER.verify(b"{}", {"authorization": "bearer g-key"}, "/") is None
    assert MAPPER.verify(b"{}", {"x-api-key": "g-kez"}, "/") == "the API key does not match"
    assert MAPPER.verify(b"{}", {}, "/") == "missing X-Api-Key or Authorization: Bearer header"


def test_genesys_presence_guide_example_has_no_time_so_is_unmapped() -> None:
    """The verbatim eventBody of Genesys's presence guide carries no ``modifiedDate``;
    an agent state needs a time, so it is dead-lettered with that reason, whole."""
    body = fixture("genesys", "docs-presence-guide.json")
    mapped = MAPPER.map(body, {})
    assert mapped.events == []
    assert reasons(mapped) == [("missing_field", "presence time")]
    assert mapped.unmapped[0].payload == body


def test_genesys_presence_guide_example_with_a_time_is_not_ready() -> None:
    """The same example once Genesys adds ``modifiedDate`` (as its presence model has):
    presence AVAILABLE is not routing ACD contacts, so the agent is not_ready."""
    note = json.loads(fixture("genesys", "docs-presence-guide.json"))
    note["eventBody"]["modifiedDate"] = "2021-08-04T10:05:00.000Z"
    user = "9ed7d9f6-0c59-4360-ac54-40dd35eb9c2f"
    assert rows(MAPPER.map(orjson.dumps(note), {})) == [
        (
            "agent.state_changed",
            f"genesys:{user}:presence:1628071500000:AVAILABLE",
            "2021-08-04T10:05:00.000Z",
            {"agent_id": user, "state": "not_ready", "queues": [QID], "channels": ["voice"]},
        )
    ]
