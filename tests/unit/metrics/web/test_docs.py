"""``/`` lists what the exporter serves; ``/docs`` shows the OpenAPI document, no CDN."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry

from metrics.clock import wall_ms
from metrics.config.queues import QueuesConfig
from metrics.routing.cache import RoutingCache
from metrics.store.memory import InMemoryStore
from metrics.web.api import make_app
from metrics.web.openapi import OPENAPI
from metrics.web.routing import add_routing
from streams.testing.events import iso


@pytest.fixture
async def client() -> AsyncIterator[TestClient[Any, Any]]:
    store, queues = InMemoryStore(), QueuesConfig()
    app = make_app(store, queues, CollectorRegistry())
    add_routing(app, RoutingCache(store, queues, lambda: 0), None, run_cache=False)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def test_root_lists_every_operation_of_the_document(client: TestClient[Any, Any]) -> None:
    response = await client.get("/")
    assert (response.status, response.content_type) == (200, "application/json")
    listed = (await response.json())["endpoints"]
    assert listed[:4] == [
        {
            "name": "index",
            "method": "GET",
            "path": "/",
            "summary": "Every endpoint and page (always open)",
        },
        {
            "name": "docs",
            "method": "GET",
            "path": "/docs",
            "summary": "The OpenAPI document in Swagger UI, served locally (always open)",
        },
        {
            "name": "wallboard",
            "method": "GET",
            "path": "/wallboard",
            "summary": "The wall board page (always open; ?queues=a,b or ?team=x)",
        },
        {
            "name": "queues",
            "method": "GET",
            "path": "/api/v1/queues",
            "summary": "Live state and 15-minute figures of every (queue, channel)",
        },
    ]
    assert [e["path"] for e in listed] == list(OPENAPI["paths"])
    answers = {}  # every listed path is served (templated ones with a queue name)
    for entry in listed:
        path = entry["path"].replace("{queue}", "sales")
        query = {"from": iso(wall_ms() - 3_600_000)} if path.endswith("/intervals") else {}
        answers[entry["name"]] = (await client.get(path, params=query)).status
    assert answers == {
        "index": 200,
        "docs": 200,
        "wallboard": 200,
        "queues": 200,
        "queue": 404,  # sales is neither configured nor seen here
        "queue_intervals": 404,
        "agents": 200,
        "agent": 404,  # no agent has a state here
        "routing_queues": 503,  # no snapshot yet (no refresh task in this test)
        "routing_queue": 503,
        "openapi": 200,
        "metrics": 200,
        "healthz": 200,
    }


async def test_docs_page_and_its_local_assets(client: TestClient[Any, Any]) -> None:
    page = await client.get("/docs")
    assert (page.status, page.content_type) == (200, "text/html")
    html = await page.text()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources == [
        "/docs/static/swagger-ui.css",
        "/docs/static/swagger-ui-bundle.js",
        "/docs/static/docs.js",
    ]
    assert "http" not in html  # nothing from elsewhere
    types = {".css": "text/css", ".js": "text/javascript"}
    for source in sources:
        asset = await client.get(source)
        assert asset.status == 200, source
        assert asset.content_type == types[source[source.rfind(".") :]], source
    bundle = await (await client.get("/docs/static/swagger-ui-bundle.js")).read()
    assert b"SwaggerUIBundle" in bundle
    script = await (await client.get("/docs/static/docs.js")).text()
    assert 'url: "/api/v1/openapi.json"' in script
