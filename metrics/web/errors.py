"""Every error the exporter's app answers is JSON ``{"error": "..."}``, never a stack trace.

One middleware, outermost: aiohttp's own 404 and 405 (and any HTTPException a handler
raises) keep their status and headers but get a JSON body; a StoreError is a 503; any
other exception is logged with its traceback and answered 500 ``internal error``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web

from metrics.store.base import StoreError

__all__ = ["BAD_QUEUE_NAME", "error_response", "json_errors"]

log = logging.getLogger(__name__)

#: The 400 answer to a queue name that cannot be one (the queue path parameter's pattern).
BAD_QUEUE_NAME = "queue must be 1-64 letters, digits, '_', '.' or '-'"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Headers of an HTTPException that describe its plain-text body, not the answer.
_BODY_HEADERS = frozenset({"content-type", "content-length"})


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    """``{"error": message}`` with `status`."""
    return web.Response(
        body=orjson.dumps({"error": message}),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def _message(request: web.Request, exc: web.HTTPException) -> str:
    if exc.status == 404:
        return f"no such path: {request.path}"
    if exc.status == 405:
        allowed = exc.headers.get("Allow", "")
        return f"method {request.method} not allowed on {request.path} (allowed: {allowed})"
    return exc.reason.lower()


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """JSON bodies for HTTP errors, 503 for an unreachable store, 500 for a bug."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise  # redirects and the like are not errors
        headers: dict[str, Any] = {
            k: v for k, v in exc.headers.items() if k.lower() not in _BODY_HEADERS
        }
        return error_response(exc.status, _message(request, exc), headers)
    except StoreError as exc:
        return error_response(503, f"store unavailable: {exc}")
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal error")
