"""The routing read API, its guards (bearer token, request bounds) and the OpenAPI document.

    GET /api/v1/routing/queues           every queue's routing snapshot
    GET /api/v1/routing/queues/{queue}   one queue's snapshot (the snapshot-topic value)
    GET /api/v1/openapi.json             OpenAPI 3.1 description of every endpoint

Answers come from RoutingCache's in-memory snapshot: no store round trip per request.
With a token set, every /api/* request needs `Authorization: Bearer <token>`;
/metrics and /healthz stay open (docs/api.md#authentication).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware
from pydantic import SecretStr

from metrics.config.queues import QUEUE_NAME_PATTERN
from metrics.routing.cache import RoutingCache
from metrics.web.errors import BAD_QUEUE_NAME, error_response, json_errors
from metrics.web.openapi import openapi_document

__all__ = [
    "MAX_QUERY_CHARS",
    "MAX_QUERY_PARAMS",
    "STALE_AFTER_REFRESHES",
    "add_routing",
    "auth_middleware",
    "limits_middleware",
    "run_refresh",
]

#: Longest query string accepted on /api/* (the interval endpoint needs about 120).
MAX_QUERY_CHARS = 512
#: Most query parameters accepted on /api/*.
MAX_QUERY_PARAMS = 8
#: Snapshots older than this many refresh periods are refused (503) rather than served.
STALE_AFTER_REFRESHES = 20

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


_error = error_response


def _guarded(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


def auth_middleware(token: SecretStr | None) -> Middleware:
    """Refuse /api/* without `Authorization: Bearer <token>` (constant-time, exact compare:
    a token with spaces around it is a different token)."""
    expected = None if token is None else token.get_secret_value().encode()

    @web.middleware
    async def auth(request: web.Request, handler: Handler) -> web.StreamResponse:
        if expected is None or not _guarded(request.path):
            return await handler(request)
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not given:
            return _error(
                401, "bearer token required", {"WWW-Authenticate": 'Bearer realm="ccmon"'}
            )
        # aiohttp decodes header bytes with surrogateescape: encode them back as sent.
        if not hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected):
            return _error(
                401,
                "invalid token",
                {"WWW-Authenticate": 'Bearer realm="ccmon", error="invalid_token"'},
            )
        return await handler(request)

    return auth


@web.middleware
async def limits_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Bounded requests on /api/*: no body, a short query string, few parameters."""
    if _guarded(request.path):
        if request.content_length or request.headers.get("Transfer-Encoding"):
            return _error(413, "requests to /api/* take no body")
        if len(request.query_string) > MAX_QUERY_CHARS:
            return _error(414, f"query string longer than {MAX_QUERY_CHARS} characters")
        if len(request.query) > MAX_QUERY_PARAMS:
            return _error(400, f"more than {MAX_QUERY_PARAMS} query parameters")
    return await handler(request)


class RoutingApi:
    """Handlers over a RoutingCache."""

    def __init__(self, cache: RoutingCache) -> None:
        self.cache = cache
        self.stale_ms = STALE_AFTER_REFRESHES * cache.refresh_ms

    def _check(self, request: web.Request) -> web.Response | None:
        if request.query:
            names = ", ".join(sorted(request.query))
            return _error(400, f"unknown query parameter(s): {names}")
        age = self.cache.age_ms()
        if age is None:
            return _error(503, "routing snapshot not ready yet")
        if age > self.stale_ms:
            reason = self.cache.last_error or "refresh stalled"
            return _error(503, f"routing snapshot is {age} ms old: {reason}")
        return None

    @staticmethod
    def _body(body: bytes) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    async def index(self, request: web.Request) -> web.Response:
        refused = self._check(request)
        if refused is not None:
            return refused
        assert self.cache.current is not None
        return self._body(self.cache.current.index_body)

    async def queue(self, request: web.Request) -> web.Response:
        name = request.match_info["queue"]
        if not QUEUE_NAME_PATTERN.match(name):
            return _error(400, BAD_QUEUE_NAME)
        refused = self._check(request)
        if refused is not None:
            return refused
        assert self.cache.current is not None
        body = self.cache.current.bodies.get(name)
        if body is None:
            return _error(404, f"queue {name!r} has no data and is not configured")
        return self._body(body)

    async def openapi(self, request: web.Request) -> web.Response:
        return self._body(openapi_document())


def add_routing(
    app: web.Application, cache: RoutingCache, token: SecretStr | None, run_cache: bool = True
) -> None:
    """Register the routing endpoints, the /api guards and (optionally) the refresh task."""
    api = RoutingApi(cache)
    # Inside the JSON error guard (make_app's outermost middleware), if there is one.
    at = 1 if app.middlewares[:1] == [json_errors] else 0
    app.middlewares[at:at] = [auth_middleware(token), limits_middleware]
    app.router.add_get("/api/v1/routing/queues", api.index)
    app.router.add_get("/api/v1/routing/queues/{queue}", api.queue)
    app.router.add_get("/api/v1/openapi.json", api.openapi)
    if run_cache:
        run_refresh(app, cache)


def run_refresh(app: web.Application, cache: RoutingCache) -> None:
    """Refresh `cache` while `app` runs: once before the first request, then in the background."""

    async def refresh(app: web.Application) -> AsyncIterator[None]:
        await cache.refresh_async()  # serve from the first request on
        task = asyncio.create_task(cache.run())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    app.cleanup_ctx.append(refresh)
