"""Every error the exporter's app answers is JSON with the right status, never a traceback."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from metrics.config.queues import QueueConfig, QueuesConfig
from metrics.core.reads import SeriesData, SeriesRequest
from metrics.core.update import Series
from metrics.routing.cache import RoutingCache
from metrics.store.base import StoreError
from metrics.store.memory import InMemoryStore
from metrics.web.api import make_app
from metrics.web.routing import add_routing

QUEUES = QueuesConfig(queues=(QueueConfig(name="sales"),))
NOW = 1_794_816_000_000


class DownStore(InMemoryStore):
    """The twin with Redis gone: every read fails as the Redis adapter's do."""

    def series(self) -> list[Series]:
        raise StoreError("connection refused")

    def read(self, requests: list[SeriesRequest], now_ms: int) -> list[SeriesData]:
        raise StoreError("connection refused")


def _app(store: InMemoryStore, token: str | None = None) -> web.Application:
    app = make_app(store, QUEUES, CollectorRegistry(), clock_ms=lambda: NOW)
    cache = RoutingCache(store, QUEUES, lambda: NOW)
    add_routing(app, cache, SecretStr(token) if token else None, run_cache=False)

    async def boom(request: web.Request) -> web.Response:
        raise RuntimeError("a bug")

    app.router.add_get("/api/v1/boom", boom)
    return app


@pytest.fixture
async def client() -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(_app(InMemoryStore()))) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("method", "path", "status", "error"),
    [
        ("GET", "/nowhere", 404, "no such path: /nowhere"),
        ("GET", "/api/v1/queues/sales/nowhere", 404, "no such path: /api/v1/queues/sales/nowhere"),
        ("GET", "/docs/static/nope.js", 404, "no such path: /docs/static/nope.js"),
        ("GET", "/wallboard/static/nope.js", 404, "no such path: /wallboard/static/nope.js"),
        (
            "POST",
            "/api/v1/queues",
            405,
            "method POST not allowed on /api/v1/queues (allowed: GET,HEAD)",
        ),
        ("DELETE", "/metrics", 405, "method DELETE not allowed on /metrics (allowed: GET,HEAD)"),
    ],
)
async def test_router_errors_are_json(
    client: TestClient[Any, Any], method: str, path: str, status: int, error: str
) -> None:
    response = await client.request(method, path)
    assert response.status == status
    assert response.content_type == "application/json"
    assert await response.json() == {"error": error}
    if status == 405:
        assert response.headers["Allow"] == "GET,HEAD"


async def test_a_bug_is_a_json_500_and_a_logged_traceback(
    client: TestClient[Any, Any], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="metrics.web.errors"):
        response = await client.get("/api/v1/boom")
    assert response.status == 500
    assert await response.json() == {"error": "internal error"}
    assert "a bug" not in await response.text()
    [record] = caplog.records
    assert record.getMessage() == "unhandled error on GET /api/v1/boom"
    assert record.exc_info is not None and str(record.exc_info[1]) == "a bug"


async def test_an_unreachable_store_is_a_json_503() -> None:
    async with TestClient(TestServer(_app(DownStore()))) as test_client:
        for path in ("/api/v1/queues", "/api/v1/queues/sales"):
            response = await test_client.get(path)
            assert response.status == 503
            assert await response.json() == {"error": "store unavailable: connection refused"}


async def test_guards_answer_json_inside_the_error_guard() -> None:
    async with TestClient(TestServer(_app(InMemoryStore(), token="t0ken"))) as test_client:
        response = await test_client.get("/api/v1/queues")
        assert (response.status, await response.json()) == (
            401,
            {"error": "bearer token required"},
        )
        response = await test_client.get("/api/v1/queues", data=b"{}")  # the token first
        assert (response.status, await response.json()) == (
            401,
            {"error": "bearer token required"},
        )
        auth = {"Authorization": "Bearer t0ken"}
        response = await test_client.get("/api/v1/queues", data=b"{}", headers=auth)
        assert (response.status, await response.json()) == (
            413,
            {"error": "requests to /api/* take no body"},
        )
        response = await test_client.get("/api/v1/nowhere", headers=auth)
        assert (response.status, await response.json()) == (
            404,
            {"error": "no such path: /api/v1/nowhere"},
        )


@pytest.mark.parametrize("token", [b"\xff\xfe", "t\u00f6ken".encode(), b"t0ken "])
async def test_a_token_that_is_not_utf8_or_padded_is_refused(token: bytes) -> None:
    """Raw bytes on the wire (an HTTP client would not send these): 401, not 500."""
    server = TestServer(_app(InMemoryStore(), token="t0ken"), host="127.0.0.1")
    await server.start_server()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(
            b"GET /api/v1/queues HTTP/1.1\r\nHost: ccmon\r\nConnection: close\r\n"
            b"Authorization: Bearer " + token + b"x\r\n\r\n"
        )
        answer = await reader.read()
        writer.close()
    finally:
        await server.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split(b"\r\n")[0] == b"HTTP/1.1 401 Unauthorized"
    assert body == b'{"error":"invalid token"}'
