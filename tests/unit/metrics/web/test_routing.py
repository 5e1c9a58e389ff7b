"""The routing API through a real aiohttp server: snapshots, tokens, bounds, OpenAPI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from prometheus_client import CollectorRegistry, generate_latest
from pydantic import SecretStr

from metrics.config.queues import QueueConfig, QueuesConfig
from metrics.core.aggregator import Aggregator
from metrics.exposition.queues import AggregateCollector
from metrics.exposition.routing import RoutingCollector
from metrics.routing.cache import RoutingCache
from metrics.store.memory import InMemoryStore
from metrics.web.api import make_app
from metrics.web.openapi import OPENAPI, snapshot_json_schema
from metrics.web.routing import add_routing
from streams.decode import decode
from streams.testing.events import T0, raw
from streams.testing.routing_scenario import scenario
from tests.promtool import assert_promtool_accepts

QUEUES = QueuesConfig(queues=(QueueConfig(name="sales"), QueueConfig(name="quiet")))
EVENTS, NOW = scenario(T0 + 10 * 3_600_000)
TOKEN = "s3cret-token-for-tests"


def _conforms(body: Any, schema: str) -> None:
    """Validate a response body against a component schema of the served document."""
    root = {"components": OPENAPI["components"], "$ref": f"#/components/schemas/{schema}"}
    errors = list(Draft202012Validator(root).iter_errors(body))
    assert not errors, [e.message for e in errors]


def _app(token: str | None) -> tuple[web.Application, CollectorRegistry, RoutingCache]:
    store = InMemoryStore()
    aggregator = Aggregator(QUEUES)
    for event in EVENTS:
        aggregator.apply(decode(raw(event), 1 << 16))
    store.flush(aggregator.drain(), NOW)
    registry = CollectorRegistry()
    registry.register(AggregateCollector(store, QUEUES, clock_ms=lambda: NOW))
    cache = RoutingCache(store, QUEUES, lambda: NOW)
    registry.register(RoutingCollector(cache))
    app = make_app(store, QUEUES, registry, clock_ms=lambda: NOW)
    add_routing(app, cache, SecretStr(token) if token else None)
    return app, registry, cache


@pytest.fixture
async def client() -> AsyncIterator[TestClient[Any, Any]]:
    app, _, _ = _app(None)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


@pytest.fixture
async def guarded() -> AsyncIterator[TestClient[Any, Any]]:
    app, _, _ = _app(TOKEN)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def test_one_queue_snapshot(client: TestClient[Any, Any]) -> None:
    response = await client.get("/api/v1/routing/queues/sales")
    assert response.status == 200
    body = await response.json()
    _conforms(body, "RoutingSnapshot")
    voice = body["channels"]["voice"]
    assert body["time"] == "2026-11-16T10:14:30Z"
    assert voice["contacts_waiting"] == 3
    assert voice["oldest_wait_seconds"] == 60.0
    assert (voice["agents_available"], voice["agents_staffed"]) == (1, 3)
    # 4th in line, 1 agent free: 3 ahead. 3 staffed at AHT 180 s free one every 60 s; each
    # of the j still ahead gives up at 1/130 s (patience: 390 s waited / 3 abandons):
    # 1/(1/60 + 3/130) + 1/(1/60 + 2/130) + 1/(1/60 + 1/130) = 25.2 + 31.2 + 41.1 s.
    assert voice["ewt_seconds"] == 97.4
    assert voice["ewt_positions_seconds"] == [0.0, 41.1, 72.3]
    assert voice["service_level_15m"] == 0.2222  # 2 within 20 s of 6 answered + 3 abandoned
    assert voice["abandonment_rate_15m"] == 0.25
    assert voice["staffing"]["15m"]["model"] == "erlang_a"
    assert voice["staffing"]["15m"]["patience_seconds"] == 130.0  # (210 + 180) s / 3 abandons
    assert voice["staffing"]["15m"]["gap_agents"] == 1


async def test_all_queues_include_configured_quiet_ones(client: TestClient[Any, Any]) -> None:
    body = await (await client.get("/api/v1/routing/queues")).json()
    _conforms(body, "RoutingIndex")
    assert [q["queue"] for q in body["queues"]] == ["quiet", "sales"]
    assert body["queues"][0]["channels"] == {}


async def test_no_customer_data_in_any_response(client: TestClient[Any, Any]) -> None:
    ids = {e["data"].get("contact_id") or e["data"].get("agent_id") for e in EVENTS}
    for path in ("/api/v1/routing/queues", "/api/v1/queues", "/api/v1/queues/sales"):
        text = await (await client.get(path)).text()
        assert not [i for i in ids if f'"{i}"' in text], path


@pytest.mark.parametrize(
    ("path", "headers", "status", "message"),
    [
        ("/api/v1/routing/queues/nope", {}, 404, "has no data and is not configured"),
        ("/api/v1/routing/queues/bad%20name", {}, 400, "queue must be"),
        ("/api/v1/routing/queues/" + "q" * 65, {}, 400, "queue must be"),
        ("/api/v1/routing/queues?x=1", {}, 400, "unknown query parameter(s): x"),
        ("/api/v1/routing/queues?" + "a" * 600, {}, 414, "query string longer"),
        ("/api/v1/routing/queues?" + "&".join(f"p{i}=1" for i in range(9)), {}, 400, "more than"),
        ("/api/v1/queues/sales/intervals?size=7&from=x", {}, 400, "size must be 15 or 30"),
    ],
)
async def test_malformed_requests(
    client: TestClient[Any, Any], path: str, headers: dict[str, str], status: int, message: str
) -> None:
    response = await client.get(path, headers=headers)
    assert response.status == status
    body = await response.json()
    _conforms(body, "Error")
    assert message in body["error"]


async def test_a_body_is_refused(client: TestClient[Any, Any]) -> None:
    response = await client.get("/api/v1/routing/queues", data=b"x" * 100)
    assert response.status == 413


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "bearer token required"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "bearer token required"),
        ({"Authorization": "Bearer "}, "bearer token required"),
        ({"Authorization": "Bearer wrong"}, "invalid token"),
        ({"Authorization": f"Bearer {TOKEN}x"}, "invalid token"),
        # Exact compare: padded with spaces it is another token.
        ({"Authorization": f"Bearer  {TOKEN}"}, "invalid token"),
        ({"Authorization": f"Bearer {TOKEN} x"}, "invalid token"),
        ({"Authorization": f"Bearer \t{TOKEN}"}, "invalid token"),
    ],
)
async def test_refused_tokens(
    guarded: TestClient[Any, Any], headers: dict[str, str], message: str
) -> None:
    for path in ("/api/v1/routing/queues", "/api/v1/queues/sales", "/api/v1/openapi.json"):
        response = await guarded.get(path, headers=headers)
        assert response.status == 401, path
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert (await response.json())["error"] == message


async def test_right_token_and_open_endpoints(guarded: TestClient[Any, Any]) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert (await guarded.get("/api/v1/routing/queues/sales", headers=auth)).status == 200
    assert (await guarded.get("/api/v1/queues", headers=auth)).status == 200
    assert (await guarded.get("/metrics")).status == 200  # open without a token
    assert (await guarded.get("/healthz")).status == 200


async def test_openapi_is_valid_and_covers_every_route(client: TestClient[Any, Any]) -> None:
    """Every route the app serves is described, and nothing else is invented.

    The assets of the pages (their scripts, styles and the wall board's config) are not.
    """
    document = await (await client.get("/api/v1/openapi.json")).json()
    validate(document)
    served = {
        r.resource.canonical
        for r in client.app.router.routes()
        if r.resource is not None and r.method == "GET"
    }
    assets = {p for p in served if p.startswith(("/wallboard/", "/docs/"))}
    assert served - assets == set(document["paths"])


async def test_existing_endpoints_conform(client: TestClient[Any, Any]) -> None:
    _conforms(await (await client.get("/api/v1/queues")).json(), "QueuesIndex")
    _conforms(await (await client.get("/api/v1/queues/sales")).json(), "QueueDetail")
    url = "/api/v1/queues/sales/intervals?size=30&from=2026-11-16T09:00:00Z"
    _conforms(await (await client.get(url)).json(), "Intervals")
    _conforms(await (await client.get("/healthz")).json(), "Health")
    _conforms(await (await client.get("/api/v1/queues/nope")).json(), "Error")


async def test_stale_snapshot_is_refused() -> None:
    store = InMemoryStore()
    clock = [NOW]
    cache = RoutingCache(store, QUEUES, lambda: clock[0], refresh_ms=100)
    app = web.Application()
    add_routing(app, cache, None, run_cache=False)
    async with TestClient(TestServer(app)) as test_client:
        response = await test_client.get("/api/v1/routing/queues")
        assert (response.status, (await response.json())["error"]) == (
            503,
            "routing snapshot not ready yet",
        )
        cache.refresh()
        assert (await test_client.get("/api/v1/routing/queues")).status == 200
        clock[0] += 2_001  # 20 refresh periods later, still no refresh
        response = await test_client.get("/api/v1/routing/queues")
        assert response.status == 503
        assert "routing snapshot is 2001 ms old" in (await response.json())["error"]


def test_routing_gauges_pass_promtool() -> None:
    _, registry, cache = _app(None)
    cache.refresh()
    text = generate_latest(registry)
    labels = {"queue": "sales", "channel": "voice"}
    assert registry.get_sample_value("ccmon_queue_ewt_seconds", labels) == 97.4
    assert registry.get_sample_value("ccmon_queue_agents_staffed", labels) == 3
    assert registry.get_sample_value("ccmon_queue_agents_required", labels | {"window": "15m"}) == 4
    assert (
        registry.get_sample_value("ccmon_queue_staffing_gap_agents", labels | {"window": "15m"})
        == 1
    )
    assert registry.get_sample_value("ccmon_routing_snapshot_age_seconds") == 0
    assert_promtool_accepts(text)
    assert cache.current is not None
    assert orjson.loads(cache.current.bodies["sales"])["queue"] == "sales"


def test_snapshot_schema_file_is_generated_from_the_openapi_document() -> None:
    """streams/schema/routing-snapshot-v1.schema.json = python -m metrics.web.openapi."""
    path = Path(__file__).parents[4] / "streams/schema/routing-snapshot-v1.schema.json"
    assert orjson.loads(path.read_bytes()) == snapshot_json_schema()
    Draft202012Validator.check_schema(snapshot_json_schema())
    _, _, cache = _app(None)
    snapshots = cache.refresh()
    for body in snapshots.bodies.values():
        Draft202012Validator(snapshot_json_schema()).validate(orjson.loads(body))
