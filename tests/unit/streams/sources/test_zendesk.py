"""Zendesk: the webhook signature as Zendesk documents it, and every mapped ticket field."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest

from streams.sources.zendesk import Zendesk, channel_of
from tests.unit.streams.sources.helpers import fixture, reasons, rows

EXAMPLE = json.loads(fixture("zendesk", "signature-example.json"))
MAPPER = Zendesk(EXAMPLE["signing_secret"])
BODY = EXAMPLE["body"].encode()
HEADERS = {
    "x-zendesk-webhook-signature": EXAMPLE["signature"],
    "x-zendesk-webhook-signature-timestamp": EXAMPLE["timestamp"],
}
EVENTS: list[dict[str, Any]] = json.loads(fixture("zendesk", "ticket-events.json"))


def test_zendesk_documented_secret_signature_is_valid() -> None:
    assert MAPPER.verify(BODY, HEADERS, "/") is None


@pytest.mark.parametrize(
    ("body", "headers", "secret"),
    [
        (BODY.replace(b"hello", b"hullo"), HEADERS, EXAMPLE["signing_secret"]),
        (
            BODY,
            {**HEADERS, "x-zendesk-webhook-signature-timestamp": "2021-07-25T10:00:01Z"},
            EXAMPLE["signing_secret"],
        ),
        (BODY, HEADERS, "another-secret"),
    ],
    ids=["tampered-body", "other-timestamp", "wrong-secret"],
)
def test_bad_signatures_are_refused(body: bytes, headers: dict[str, str], secret: str) -> None:
    reason = Zendesk(secret).verify(body, headers, "/")
    assert reason == "X-Zendesk-Webhook-Signature does not match (check the signing secret)"


@pytest.mark.parametrize(
    "missing", ["x-zendesk-webhook-signature", "x-zendesk-webhook-signature-timestamp"]
)
def test_missing_signature_headers_are_refused(missing: str) -> None:
    headers = {k: v for k, v in HEADERS.items() if k != missing}
    assert MAPPER.verify(BODY, headers, "/") == (
        "missing X-Zendesk-Webhook-Signature or -Signature-Timestamp header"
    )


TICKET = {"ticket_id": "35436", "queue": "360001234567", "channel": "email"}
ID = "zendesk:0b3c1a2e-0001-4a5b-8c9d-00000000000"


def test_every_mapped_field_of_the_ticket_events() -> None:
    got = [rows(MAPPER.map(orjson.dumps(e), {})) for e in EVENTS]
    assert got == [
        [
            (
                "ticket.created",
                f"{ID}1",
                "2021-08-04T10:00:00.000Z",
                {**TICKET, "priority": "high", "tags": ["printer", "complaint"]},
            )
        ],
        [
            (
                "ticket.replied",
                f"{ID}2",
                "2021-08-04T10:10:00.000Z",
                {**TICKET, "author": "agent", "public": True, "agent_id": "90101"},
            )
        ],
        [
            (
                "ticket.replied",
                f"{ID}3",
                "2021-08-04T10:12:00.000Z",
                {**TICKET, "author": "customer", "public": True},
            )
        ],
        [
            (
                "ticket.status_changed",
                f"{ID}4",
                "2021-08-04T10:15:00.000Z",
                {**TICKET, "status": "solved"},
            )
        ],
        [
            (
                "ticket.status_changed",
                f"{ID}5",
                "2021-08-04T10:20:00.000Z",
                {**TICKET, "status": "open"},
            ),
            ("ticket.reopened", f"{ID}5:reopened", "2021-08-04T10:20:00.000Z", TICKET),
        ],
        [
            (
                "ticket.priority_changed",
                f"{ID}6",
                "2021-08-04T10:21:00.000Z",
                {**TICKET, "priority": "urgent"},
            )
        ],
        [],
    ]
    assert reasons(MAPPER.map(orjson.dumps(EVENTS[-1]), {})) == [
        ("ignored_event", "ticket.agent_assignment_changed is not counted by ccmon")
    ]
    assert rows(MAPPER.map(fixture("zendesk", "ticket-events.json"), {})) == [
        r for g in got for r in g
    ]


def _with(index: int, event: dict[str, Any] | None = None, **detail: Any) -> dict[str, Any]:
    item: dict[str, Any] = json.loads(json.dumps(EVENTS[index]))
    item["detail"].update(detail)
    if event is not None:
        item["event"] = event
    return item


@pytest.mark.parametrize(
    ("item", "field", "value"),
    [
        (_with(0, group_id=None), "queue", "unassigned"),
        (_with(0, priority=None), "priority", "normal"),
        (_with(0, priority="SEVERE"), "priority", "normal"),
        (_with(0, tags=["ok", "x" * 65, 3]), "tags", ["ok"]),
        (_with(3, {"current": "HOLD", "previous": "OPEN"}), "status", "on_hold"),
        (
            _with(1, {"comment": {"is_public": False, "author": {"id": "7", "is_staff": True}}}),
            "public",
            False,
        ),
    ],
)
def test_field_rules(item: dict[str, Any], field: str, value: Any) -> None:
    assert rows(MAPPER.map(orjson.dumps(item), {}))[0][3][field] == value


@pytest.mark.parametrize(
    ("via", "channel"),
    [
        ("web", "email"),
        ("email", "email"),
        ("api", "email"),
        ("chat", "chat"),
        ("voice", "voice"),
        ("whatsapp", "messaging"),
        ("native_messaging", "messaging"),
        (None, "email"),
    ],
)
def test_via_channel(via: str | None, channel: str) -> None:
    assert channel_of({"via": {"channel": via}}) == channel


@pytest.mark.parametrize(
    ("body", "reason", "detail"),
    [
        (b"{", "malformed_payload", "not JSON"),
        (b"{}", "missing_field", "type"),
        (
            b'{"type": "zen:event-type:user.created"}',
            "unknown_event",
            "type 'zen:event-type:user.created'",
        ),
        (
            orjson.dumps({**EVENTS[0], "time": "yesterday"}),
            "missing_field",
            "id / time / detail.id",
        ),
        (
            orjson.dumps(_with(3, {"current": "ARCHIVED"})),
            "invalid_value",
            "event.current 'ARCHIVED'",
        ),
        (orjson.dumps(_with(1, {})), "missing_field", "event.comment"),
        (orjson.dumps(_with(0, group_id="***")), "invalid_queue", "group_id '***'"),
    ],
)
def test_bad_events_are_unmapped_with_a_reason(body: bytes, reason: str, detail: str) -> None:
    mapped = MAPPER.map(body, {})
    assert mapped.events == [] and reasons(mapped) == [(reason, detail)]


@pytest.mark.parametrize(
    ("name", "reason", "detail"),
    [
        # the example of Zendesk's "Event schema" (webhook event types page): a user event
        (
            "docs-event-schema-user-active-changed.json",
            "unknown_event",
            "type 'zen:event-type:user.active_changed'",
        ),
        # Zendesk's Events Connector for Amazon EventBridge: another envelope, not a webhook
        ("docs-eventbridge-agent-assignment-changed.json", "missing_field", "type"),
    ],
)
def test_zendesk_published_examples_outside_the_contract_are_unmapped_whole(
    name: str, reason: str, detail: str
) -> None:
    body = fixture("zendesk", name)
    mapped = MAPPER.map(body, {})
    assert mapped.events == []
    assert reasons(mapped) == [(reason, detail)]
    assert mapped.unmapped[0].payload == body
