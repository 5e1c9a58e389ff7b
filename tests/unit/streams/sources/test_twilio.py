"""Twilio TaskRouter: X-Twilio-Signature as Twilio computes it, and every mapped field."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest

from streams.sources.twilio import TwilioTaskRouter
from tests.unit.streams.sources.helpers import fixture, reasons, rows

VECTORS = json.loads(fixture("twilio", "signature-examples.json"))
CALLBACKS: list[dict[str, str]] = json.loads(fixture("twilio", "callbacks.json"))
MAPPER = TwilioTaskRouter(VECTORS["auth_token"])
BODY = urlencode(VECTORS["params"]).encode()
URL = VECTORS["url"]


def form(params: dict[str, str]) -> bytes:
    return urlencode(params).encode()


def test_twilio_documented_signature_is_valid() -> None:
    assert MAPPER.verify(BODY, {"x-twilio-signature": VECTORS["signature"]}, URL) is None


def test_signature_of_the_url_with_or_without_its_default_port() -> None:
    with_port = URL.replace(".com", ".com:443")
    assert MAPPER.verify(BODY, {"x-twilio-signature": VECTORS["signature"]}, with_port) is None
    signed_443 = {"x-twilio-signature": VECTORS["signature_with_port_443"]}
    assert MAPPER.verify(BODY, signed_443, URL) is None


def test_json_body_is_signed_through_body_sha256() -> None:
    url = f"{URL}&bodySHA256={VECTORS['json_body_sha256']}"
    headers = {"x-twilio-signature": VECTORS["json_body_signature"]}
    body = VECTORS["json_body"].encode()
    assert MAPPER.verify(body, headers, url) is None
    assert MAPPER.verify(body + b" ", headers, url) == "bodySHA256 does not match the body"


@pytest.mark.parametrize(
    ("body", "headers", "token", "url"),
    [
        (
            BODY.replace(b"1234", b"9999"),
            {"x-twilio-signature": VECTORS["signature"]},
            "12345",
            URL,
        ),
        (BODY, {"x-twilio-signature": VECTORS["signature"]}, "54321", URL),
        (BODY, {"x-twilio-signature": VECTORS["signature"]}, "12345", URL + "&baz=3"),
        (BODY, {"x-twilio-signature": "RSOYDt4T1cUTdK1PDd93/VVr8B8"}, "12345", URL),
    ],
    ids=["tampered-body", "wrong-token", "other-url", "truncated-signature"],
)
def test_bad_signatures_are_refused(
    body: bytes, headers: dict[str, str], token: str, url: str
) -> None:
    reason = TwilioTaskRouter(token).verify(body, headers, url)
    assert reason == "X-Twilio-Signature does not match (check the auth token and the public URL)"


def test_missing_signature_header_is_refused() -> None:
    assert MAPPER.verify(BODY, {}, URL) == "missing X-Twilio-Signature header"


WORKER = "WK00000000000000000000000000000001"
TASK1, TASK2 = "WT00000000000000000000000000000001", "WT00000000000000000000000000000002"
Q = {"queue": "Sales_Queue", "channel": "voice"}
AGENT = {"agent_id": WORKER, "queues": ["Sales_Queue"], "channels": ["voice"]}


def test_every_mapped_field_of_the_callbacks() -> None:
    got = [rows(MAPPER.map(form(p), {})) for p in CALLBACKS]
    ev = "twilio:EV0000000000000000000000000000000"
    assert got == [
        [
            (
                "agent.state_changed",
                f"{ev}1",
                "2021-08-04T09:59:00.000Z",
                {**AGENT, "state": "available"},
            )
        ],
        [],
        [("contact.queued", f"{ev}3", "2021-08-04T10:00:00.000Z", {"contact_id": TASK1, **Q})],
        [("contact.queued", f"{ev}4", "2021-08-04T10:00:10.000Z", {"contact_id": TASK2, **Q})],
        [],
        [
            (
                "contact.answered",
                f"{ev}6",
                "2021-08-04T10:00:15.000Z",
                {"contact_id": TASK1, **Q, "agent_id": WORKER},
            )
        ],
        [
            (
                "agent.state_changed",
                f"{ev}7",
                "2021-08-04T10:00:16.000Z",
                {**AGENT, "state": "on_contact"},
            )
        ],
        [("contact.abandoned", f"{ev}8", "2021-08-04T10:01:10.000Z", {"contact_id": TASK2, **Q})],
    ]
    ignored = [reasons(MAPPER.map(form(CALLBACKS[i]), {})) for i in (1, 4)]
    assert ignored == [
        [("ignored_event", "EventType task.created is not counted by ccmon")],
        [("ignored_event", "EventType reservation.created is not counted by ccmon")],
    ]


def test_the_same_callback_twice_gives_the_same_event_id() -> None:
    once, again = (MAPPER.map(form(CALLBACKS[2]), {}) for _ in range(2))
    assert once == again


def test_without_sid_the_id_is_a_hash_of_the_body() -> None:
    params = {k: v for k, v in CALLBACKS[2].items() if k != "Sid"}
    [(_, ident, _, _)] = rows(MAPPER.map(form(params), {}))
    assert ident.startswith("twilio:") and len(ident) == len("twilio:") + 32
    assert rows(MAPPER.map(form(params), {}))[0][1] == ident


@pytest.mark.parametrize(
    ("activity", "state"),
    [
        ("Available", "available"),
        ("Idle", "available"),
        ("Offline", "offline"),
        ("Busy", "on_contact"),
        ("Wrap-Up", "after_contact_work"),
        ("Break", "not_ready"),
        ("Lunch", "not_ready"),
    ],
)
def test_worker_activity_to_agent_state(activity: str, state: str) -> None:
    params = {**CALLBACKS[0], "WorkerActivityName": activity}
    [(_, _, _, data)] = rows(MAPPER.map(form(params), {}))
    assert data["state"] == state


@pytest.mark.parametrize(
    ("channel", "expected"),
    [
        ("voice", "voice"),
        ("default", "voice"),
        ("chat", "chat"),
        ("sms", "messaging"),
        ("email", "email"),
    ],
)
def test_task_channel_to_ccmon_channel(channel: str, expected: str) -> None:
    params = {**CALLBACKS[2], "TaskChannelUniqueName": channel}
    assert rows(MAPPER.map(form(params), {}))[0][3]["channel"] == expected


def _without(params: dict[str, str], *names: str, **changes: str) -> dict[str, Any]:
    return {**{k: v for k, v in params.items() if k not in names}, **changes}


@pytest.mark.parametrize(
    ("params", "reason", "detail"),
    [
        (_without(CALLBACKS[2], "EventType"), "missing_field", "EventType"),
        (_without(CALLBACKS[2], "Timestamp", "TimestampMs"), "missing_field", "Timestamp"),
        (_without(CALLBACKS[2], "TimestampMs", Timestamp="soon"), "missing_field", "Timestamp"),
        (_without(CALLBACKS[2], "TaskSid"), "missing_field", "TaskSid"),
        (_without(CALLBACKS[2], "TaskQueueName", "TaskQueueSid"), "missing_field", "TaskQueueName"),
        (_without(CALLBACKS[5], "WorkerSid"), "missing_field", "WorkerSid"),
        (
            _without(CALLBACKS[2], TaskChannelUniqueName="video"),
            "unknown_channel",
            "TaskChannelUniqueName 'video'",
        ),
        (
            _without(CALLBACKS[0], WorkerAttributes="{}"),
            "missing_field",
            "WorkerAttributes.queues (the worker's queues)",
        ),
        (
            _without(CALLBACKS[0], WorkerAttributes="{"),
            "invalid_value",
            "WorkerAttributes is not JSON",
        ),
        (
            _without(CALLBACKS[0], WorkerAttributes='{"queues": ["***"]}'),
            "invalid_value",
            "WorkerAttributes.queues / channels",
        ),
        (_without(CALLBACKS[0], "WorkerSid"), "missing_field", "WorkerSid"),
        (
            _without(CALLBACKS[2], EventType="payment.made"),
            "unknown_event",
            "EventType 'payment.made'",
        ),
    ],
)
def test_bad_callbacks_are_unmapped_with_a_reason(
    params: dict[str, str], reason: str, detail: str
) -> None:
    mapped = MAPPER.map(form(params), {})
    assert mapped.events == [] and reasons(mapped) == [(reason, detail)]
    assert mapped.unmapped[0].payload == form(params)


def test_a_body_that_is_not_utf8_is_unmapped() -> None:
    mapped = MAPPER.map(b"EventType=\xff", {})
    assert reasons(mapped) == [("malformed_payload", "not UTF-8 form data")]
