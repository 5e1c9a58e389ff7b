"""The ingest's routes on the in-memory producer: answers, auth, dispatch, metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient, TestServer
from openapi_spec_validator import validate
from prometheus_client import CollectorRegistry

from streams.deadletter import HEADER_DETAIL, HEADER_REASON, HEADER_TOPIC
from streams.ingest.app import ingest_app
from streams.ingest.openapi import OPENAPI
from streams.ingest.producer import MemoryProducer
from streams.ingest.tokens import parse_tokens
from streams.settings import Settings
from streams.sources.base import Mapped, SourceMapper, Unmapped
from streams.testing.events import T0, contact

AUTH = {"Authorization": "Bearer t-crm"}
SETTINGS = Settings(
    events_topic="ev", deadletter_topic="dl", ingest_max_body_bytes=4096, ingest_max_events=5
)


class EchoMapper:
    """A test vendor: body {"calls": [id, ...], "junk": [...]}, signed with X-Sig: ok."""

    name = "echo"

    def verify(self, body: bytes, headers: Mapping[str, str], url: str) -> str | None:
        return None if headers.get("x-sig") == "ok" else "bad X-Sig"

    def map(self, body: bytes, headers: Mapping[str, str]) -> Mapped:
        payload = orjson.loads(body)
        if "crash" in payload:
            raise KeyError("crash")
        events = [contact("contact.queued", T0, c, event_id=f"echo-{c}") for c in payload["calls"]]
        if payload.get("undecodable"):
            events.append({"type": "contact.queued", "id": "x"})
        unmapped = [
            Unmapped("unknown_event", f"kind {j}", orjson.dumps(j)) for j in payload["junk"]
        ]
        return Mapped(events, unmapped)


def good(n: int) -> dict[str, Any]:
    return contact("contact.queued", T0 + n, f"c-{n}", event_id=f"ev-{n}")


@pytest.fixture
def producer() -> MemoryProducer:
    return MemoryProducer()


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
async def client(
    producer: MemoryProducer, registry: CollectorRegistry
) -> AsyncIterator[TestClient[Any, Any]]:
    mapper: SourceMapper = EchoMapper()
    tokens = parse_tokens("crm:t-crm,pbx:t-pbx")
    app = ingest_app(SETTINGS, producer, tokens, {"echo": mapper}, registry)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def test_valid_events_are_produced_keyed_and_answered_200(
    client: TestClient[Any, Any], producer: MemoryProducer, registry: CollectorRegistry
) -> None:
    response = await client.post("/ingest/v1/events", json=[good(1), good(2)], headers=AUTH)
    assert response.status == 200
    assert await response.json() == {"accepted": 2, "rejected": 0}
    assert [(r.topic, r.key, orjson.loads(r.value)) for r in producer.records] == [
        ("ev", b"c-1", good(1)),
        ("ev", b"c-2", good(2)),
    ]
    assert (
        registry.get_sample_value("ccmon_ingest_events_accepted_total", {"source": "events"}) == 2
    )
    assert (
        registry.get_sample_value(
            "ccmon_ingest_requests_total",
            {"route": "/ingest/v1/events", "code": "200", "token": "crm"},
        )
        == 1
    )
    assert registry.get_sample_value("ccmon_ingest_produce_seconds_count") == 1


async def test_some_bad_is_207_with_an_error_each_and_the_good_ones_produced(
    client: TestClient[Any, Any], producer: MemoryProducer, registry: CollectorRegistry
) -> None:
    bad = good(2)
    del bad["data"]["queue"]
    response = await client.post("/ingest/v1/events", json=[good(1), bad], headers=AUTH)
    assert response.status == 207
    assert await response.json() == {
        "accepted": 1,
        "rejected": 1,
        "errors": [
            {
                "index": 1,
                "reason": "missing_field",
                "field": "data.queue",
                "detail": "data.queue is required",
            }
        ],
    }
    assert [r.key for r in producer.records] == [b"c-1"]
    assert (
        registry.get_sample_value(
            "ccmon_ingest_events_rejected_total", {"source": "events", "reason": "missing_field"}
        )
        == 1
    )


async def test_all_bad_is_400_and_nothing_is_produced(
    client: TestClient[Any, Any], producer: MemoryProducer
) -> None:
    response = await client.post(
        "/ingest/v1/events",
        data=b'{"type": "nope"}\n[1]\n',
        headers={**AUTH, "Content-Type": "application/x-ndjson"},
    )
    assert response.status == 400
    body = await response.json()
    assert (body["error"], body["accepted"], body["rejected"]) == (
        "no valid event in the body",
        0,
        2,
    )
    assert [(e["index"], e["reason"]) for e in body["errors"]] == [
        (0, "unknown_type"),
        (1, "not_an_object"),
    ]
    assert producer.records == []


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic t-crm"}]
)
async def test_a_missing_or_wrong_token_is_401(
    client: TestClient[Any, Any], producer: MemoryProducer, headers: dict[str, str]
) -> None:
    response = await client.post("/ingest/v1/events", json=good(1), headers=headers)
    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="ccmon"'
    assert await response.json() == {"error": "missing or wrong bearer token"}
    assert producer.records == []


async def test_each_token_name_is_counted(
    client: TestClient[Any, Any], registry: CollectorRegistry
) -> None:
    await client.post("/ingest/v1/events", json=good(1), headers={"Authorization": "Bearer t-pbx"})
    await client.post("/ingest/v1/events", json=good(1))
    labels = {"route": "/ingest/v1/events", "code": "200", "token": "pbx"}
    assert registry.get_sample_value("ccmon_ingest_requests_total", labels) == 1
    labels = {"route": "/ingest/v1/events", "code": "401", "token": "none"}
    assert registry.get_sample_value("ccmon_ingest_requests_total", labels) == 1


async def test_a_body_over_the_limit_is_413_json(
    client: TestClient[Any, Any], producer: MemoryProducer
) -> None:
    response = await client.post("/ingest/v1/events", data=b"[" + b" " * 5000 + b"]", headers=AUTH)
    assert response.status == 413
    assert (await response.json())["error"] == "request entity too large"
    response = await client.post(
        "/ingest/v1/events", json=[good(n) for n in range(6)], headers=AUTH
    )
    assert response.status == 413
    assert await response.json() == {"error": "6 events in one request; the limit is 5"}
    assert producer.records == []


async def test_a_binary_mode_cloudevent_is_accepted(
    client: TestClient[Any, Any], producer: MemoryProducer
) -> None:
    event = good(1)
    headers = {f"ce-{k}": event[k] for k in ("id", "type", "source", "time")}
    response = await client.post(
        "/ingest/v1/events",
        data=orjson.dumps(event["data"]),
        headers={**AUTH, **headers, "ce-specversion": "1.0", "Content-Type": "application/json"},
    )
    assert (response.status, await response.json()) == (200, {"accepted": 1, "rejected": 0})
    assert [orjson.loads(r.value) for r in producer.records] == [event]


async def test_an_unknown_content_type_is_415(client: TestClient[Any, Any]) -> None:
    response = await client.post(
        "/ingest/v1/events", data=b"<x/>", headers={**AUTH, "Content-Type": "application/xml"}
    )
    assert response.status == 415


@pytest.mark.parametrize(("flag", "status"), [("down", 503), ("busy", 429)])
async def test_kafka_down_or_busy_answers_with_retry_after(
    client: TestClient[Any, Any],
    producer: MemoryProducer,
    registry: CollectorRegistry,
    flag: str,
    status: int,
) -> None:
    setattr(producer, flag, True)
    response = await client.post("/ingest/v1/events", json=good(1), headers=AUTH)
    assert response.status == status
    assert response.headers["Retry-After"] == "1"
    assert "error" in await response.json()
    assert (
        registry.get_sample_value("ccmon_ingest_events_accepted_total", {"source": "events"})
        is None
    )


async def test_readyz_follows_the_producer(
    client: TestClient[Any, Any], producer: MemoryProducer, registry: CollectorRegistry
) -> None:
    assert (await client.get("/healthz")).status == 200
    assert (await client.get("/readyz")).status == 200
    producer.down = True
    response = await client.get("/readyz")
    assert (response.status, await response.text()) == (503, "kafka not connected\n")
    assert registry.get_sample_value("ccmon_ingest_kafka_connected") == 0
    metrics = await (await client.get("/metrics")).text()
    assert "ccmon_ingest_kafka_connected 0.0" in metrics


async def test_a_source_dispatches_to_its_mapper_and_dead_letters_the_unmapped(
    client: TestClient[Any, Any], producer: MemoryProducer, registry: CollectorRegistry
) -> None:
    body = {"calls": ["v-1", "v-2"], "junk": ["hold_music"], "undecodable": True}
    response = await client.post("/ingest/v1/sources/echo", json=body, headers={"X-Sig": "ok"})
    assert response.status == 200
    assert await response.json() == {
        "accepted": 2,
        "dead_lettered": 2,
        "reasons": ["unknown_event", "missing_field"],
    }
    events = [(r.topic, r.key) for r in producer.records if r.topic == "ev"]
    assert events == [("ev", b"v-1"), ("ev", b"v-2")]
    letters = [r for r in producer.records if r.topic == "dl"]
    assert [dict(r.headers)[HEADER_REASON] for r in letters] == [b"unknown_event", b"missing_field"]
    assert {dict(r.headers)[HEADER_TOPIC] for r in letters} == {b"ingest:echo"}
    assert letters[0].value == b'"hold_music"'
    assert dict(letters[0].headers)[HEADER_DETAIL] == b"kind hold_music"
    assert orjson.loads(letters[1].value) == {"type": "contact.queued", "id": "x"}
    labels = {"source": "echo", "reason": "unknown_event"}
    assert registry.get_sample_value("ccmon_ingest_events_rejected_total", labels) == 1
    assert registry.get_sample_value("ccmon_ingest_events_accepted_total", {"source": "echo"}) == 2


async def test_a_source_with_a_wrong_signature_is_401_and_nothing_produced(
    client: TestClient[Any, Any], producer: MemoryProducer
) -> None:
    response = await client.post("/ingest/v1/sources/echo", json={"calls": ["v-1"], "junk": []})
    assert response.status == 401
    assert await response.json() == {"error": "signature check failed: bad X-Sig"}
    assert producer.records == []


async def test_an_unknown_source_is_404_naming_the_configured_ones(
    client: TestClient[Any, Any],
) -> None:
    response = await client.post("/ingest/v1/sources/nope", json={})
    assert response.status == 404
    assert await response.json() == {"error": "no source 'nope' is configured (configured: echo)"}


async def test_a_mapper_that_fails_dead_letters_the_whole_body(
    client: TestClient[Any, Any], producer: MemoryProducer
) -> None:
    body = orjson.dumps({"crash": 1})
    response = await client.post("/ingest/v1/sources/echo", data=body, headers={"X-Sig": "ok"})
    assert response.status == 200
    assert [(r.topic, r.value, dict(r.headers)[HEADER_REASON]) for r in producer.records] == [
        ("dl", body, b"mapper_error")
    ]


async def test_errors_elsewhere_are_json(client: TestClient[Any, Any]) -> None:
    response = await client.get("/nope")
    assert response.status == 404
    assert await response.json() == {"error": "no such path: /nope"}
    assert (await client.get("/ingest/v1/events")).status == 405


async def test_the_openapi_document_is_valid_and_served(client: TestClient[Any, Any]) -> None:
    validate(OPENAPI)
    response = await client.get("/openapi.json")
    assert (await response.json())["paths"].keys() == OPENAPI["paths"].keys()
    routes = {r.resource.canonical for r in client.app.router.routes() if r.resource}
    assert routes == set(OPENAPI["paths"])


async def test_without_tokens_the_events_route_is_open(producer: MemoryProducer) -> None:
    app = ingest_app(SETTINGS, producer, parse_tokens(), {}, CollectorRegistry())
    async with TestClient(TestServer(app)) as client:
        assert (await client.post("/ingest/v1/events", json=good(1))).status == 200
