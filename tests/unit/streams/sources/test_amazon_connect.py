"""Amazon Connect: Amazon's own samples and a queue day, field by field; Firehose and keys."""

from __future__ import annotations

import base64
import json
from typing import Any

import orjson
import pytest

from streams.sources.amazon_connect import AmazonConnect, agent_state
from tests.unit.streams.sources.helpers import fixture, reasons, rows

MAPPER = AmazonConnect("a-key")
AGENT = "87654321-4321-4321-4321-123456789012"
SALES = {"queue": "q-sales"}
DOC_QUEUES = ["queue-ARN-for-BasicQueue", "queue-ARN-for-PrimaryQueue"]


def test_amazon_sample_connected_to_agent() -> None:
    mapped = MAPPER.map(fixture("amazon_connect", "docs-connected-to-agent.json"), {})
    contact = "11111111-1111-1111-1111-111111111111"
    assert rows(mapped) == [
        (
            "contact.answered",
            f"amazon-connect:{contact}:arn:answered",
            "2021-05-01T18:43:48.000Z",  # no agent timestamp in the sample: the event's time
            {"contact_id": contact, "queue": "arn", "channel": "voice", "agent_id": "arn"},
        )
    ]


def test_amazon_sample_disconnected_after_an_agent_is_not_an_abandon() -> None:
    mapped = MAPPER.map(fixture("amazon_connect", "docs-disconnected.json"), {})
    assert mapped.events == []
    assert reasons(mapped) == [("ignored_event", "DISCONNECTED after an agent answered")]


@pytest.mark.parametrize(
    ("name", "ident", "time", "state"),
    [
        ("docs-agent-acw.json", "EventId-1", "2018-10-25T18:55:27.027Z", "after_contact_work"),
        (
            "docs-agent-acw-ended.json",
            "477f2c4f-cd1a-4785-b1a8-97023dc1229d",
            "2018-10-25T18:55:32.032Z",
            "available",
        ),
    ],
)
def test_amazon_agent_event_samples(name: str, ident: str, time: str, state: str) -> None:
    mapped = MAPPER.map(fixture("amazon_connect", name), {})
    data = {"agent_id": "agent-ARN", "state": state, "queues": DOC_QUEUES, "channels": ["voice"]}
    assert rows(mapped) == [("agent.state_changed", f"amazon-connect:agent:{ident}", time, data)]


def test_every_mapped_field_of_a_queue_day() -> None:
    mapped = MAPPER.map(fixture("amazon_connect", "flow.json"), {})
    agent = {"agent_id": AGENT, "queues": ["q-sales"], "channels": ["voice", "chat"]}
    voice, chat = {**SALES, "channel": "voice"}, {**SALES, "channel": "chat"}
    assert rows(mapped) == [
        (
            "agent.state_changed",
            "amazon-connect:agent:e-login",
            "2021-08-04T09:59:00.000Z",
            {**agent, "state": "available"},
        ),
        (
            "contact.queued",
            "amazon-connect:c-1:q-sales:queued",
            "2021-08-04T10:00:00.000Z",
            {"contact_id": "c-1", **voice},
        ),
        (
            "contact.queued",
            "amazon-connect:c-2:q-sales:queued",
            "2021-08-04T10:00:30.000Z",
            {"contact_id": "c-2", **voice},
        ),
        (
            "contact.queued",
            "amazon-connect:c-3:q-sales:queued",
            "2021-08-04T10:00:40.000Z",
            {"contact_id": "c-3", **chat},
        ),
        (
            "contact.answered",
            "amazon-connect:c-1:q-sales:answered",
            "2021-08-04T10:00:20.000Z",
            {"contact_id": "c-1", **voice, "agent_id": AGENT},
        ),
        (
            "agent.state_changed",
            "amazon-connect:agent:e-oncall",
            "2021-08-04T10:00:20.000Z",
            {**agent, "state": "on_contact"},
        ),
        (
            "contact.answered",
            "amazon-connect:c-3:q-sales:answered",
            "2021-08-04T10:00:45.000Z",
            {"contact_id": "c-3", **chat, "agent_id": AGENT},
        ),
        (
            "contact.abandoned",
            "amazon-connect:c-2:q-sales:abandoned",
            "2021-08-04T10:01:30.000Z",
            {"contact_id": "c-2", **voice},
        ),
    ]
    assert reasons(mapped) == [
        ("ignored_event", "eventType INITIATED is not counted by ccmon"),
        ("ignored_event", "HEART_BEAT repeats the agent's state"),
    ]
    assert [u.payload for u in mapped.unmapped][1].startswith(b'{"AWSAccountId"')


def test_firehose_delivery_is_unwrapped() -> None:
    records = json.loads(fixture("amazon_connect", "flow.json"))
    body = orjson.dumps(
        {
            "requestId": "r-1",
            "timestamp": 1628071200000,
            "records": [{"data": base64.b64encode(orjson.dumps(r)).decode()} for r in records]
            + [{"data": "not base64!"}],
        }
    )
    mapped = MAPPER.map(body, {})
    plain = MAPPER.map(fixture("amazon_connect", "flow.json"), {})
    assert rows(mapped) == rows(plain)
    assert reasons(mapped)[-1] == ("malformed_payload", "records[10].data is not base64 JSON")


def _contact(**detail: Any) -> bytes:
    records = json.loads(fixture("amazon_connect", "flow.json"))
    record = records[2]
    record["detail"].update(detail)
    return orjson.dumps(record)


@pytest.mark.parametrize(
    ("body", "reason", "detail"),
    [
        (b"{", "malformed_payload", "not JSON"),
        (b"[1]", "malformed_payload", "a record is not a JSON object"),
        (b"{}", "unknown_event", "neither an EventBridge event nor an agent event"),
        (_contact(channel="TASK"), "unknown_channel", "channel 'task'"),
        (_contact(queueInfo=None), "missing_field", "detail.queueInfo.queueArn"),
        (_contact(contactId=""), "missing_field", "detail.eventType / detail.contactId"),
        (
            _contact(eventType="CONTACT_DATA_UPDATED"),
            "ignored_event",
            "eventType CONTACT_DATA_UPDATED is not counted by ccmon",
        ),
        (_contact(eventType="CONNECTED_TO_AGENT"), "missing_field", "detail.agentInfo.agentArn"),
        (
            _contact(eventType="DISCONNECTED", queueInfo=None),
            "ignored_event",
            "DISCONNECTED without a queue (never queued)",
        ),
        (
            b'{"detail-type": "Contact Lens Analysis State Change"}',
            "ignored_event",
            "detail-type 'Contact Lens Analysis State Change'",
        ),
        (b'{"AgentARN": "a/b", "EventType": "NEW_KIND"}', "unknown_event", "EventType 'NEW_KIND'"),
        (
            b'{"AgentARN": "a/b", "EventType": "LOGIN"}',
            "missing_field",
            "AgentARN / EventId / EventTimestamp",
        ),
    ],
)
def test_bad_records_are_unmapped_with_a_reason(body: bytes, reason: str, detail: str) -> None:
    mapped = MAPPER.map(body, {})
    assert mapped.events == [] and reasons(mapped) == [(reason, detail)]


def test_a_contact_event_without_any_time_is_unmapped() -> None:
    record = json.loads(_contact())
    del record["time"], record["detail"]["queueInfo"]["enqueueTimestamp"]
    assert reasons(MAPPER.map(orjson.dumps(record), {})) == [("missing_field", "time")]


@pytest.mark.parametrize(
    ("snapshot", "kind", "state"),
    [
        ({"AgentStatus": {"Name": "Available", "Type": "ROUTABLE"}}, "STATE_CHANGE", "available"),
        ({"AgentStatus": {"Name": "Lunch", "Type": "CUSTOM"}}, "STATE_CHANGE", "not_ready"),
        ({"AgentStatus": {"Name": "Offline", "Type": "OFFLINE"}}, "STATE_CHANGE", "offline"),
        (
            {"AgentStatus": {"Name": "Available"}, "Contacts": [{"State": "CONNECTED_ONHOLD"}]},
            "STATE_CHANGE",
            "on_contact",
        ),
        (
            {"AgentStatus": {"Name": "Available"}, "Contacts": [{"State": "ENDED"}]},
            "STATE_CHANGE",
            "after_contact_work",
        ),
        (
            {"AgentStatus": {"Name": "Available"}, "Contacts": [{"State": "INCOMING"}]},
            "STATE_CHANGE",
            "available",
        ),
        ({"AgentStatus": {"Name": "Available"}}, "LOGOUT", "offline"),
    ],
)
def test_agent_snapshot_to_state(snapshot: dict[str, Any], kind: str, state: str) -> None:
    assert agent_state(snapshot, kind) == state


def test_access_key_is_required() -> None:
    assert MAPPER.verify(b"{}", {"x-amz-firehose-access-key": "a-key"}, "/") is None
    assert MAPPER.verify(b"{}", {"x-api-key": "a-key"}, "/") is None
    assert MAPPER.verify(b"{}", {"authorization": "Bearer a-key"}, "/") is None
    assert MAPPER.verify(b"{}", {"x-api-key": "guess"}, "/") == "the API key does not match"
    assert MAPPER.verify(b"{}", {"authorization": "Basic a-key"}, "/") == (
        "missing X-Amz-Firehose-Access-Key, X-Api-Key or Authorization: Bearer header"
    )
