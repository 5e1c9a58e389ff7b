"""Serving an aiohttp app with bounds: idle and header timeouts, a connection cap.

aiohttp's keep-alive timer starts when a connection opens and again after each
answer, and is not reset by bytes of an unfinished request (aiohttp >= 3.14.4): so
``idle_timeout_s`` closes a connection that is idle *or* still sending its request
line and headers (slowloris). aiohttp has no connection cap; ``serving`` listens
with a protocol factory that answers 503 and closes once ``max_connections`` are
open. Access logs are off unless asked for.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import orjson
from aiohttp import web
from aiohttp.log import access_logger

__all__ = ["ServerOptions", "serving"]

log = logging.getLogger(__name__)

_BODY = orjson.dumps({"error": "too many connections"})
_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\n"
    b"Content-Type: application/json\r\n"
    b"Content-Length: " + str(len(_BODY)).encode() + b"\r\n"
    b"Retry-After: 1\r\n"
    b"Connection: close\r\n\r\n" + _BODY
)


@dataclass(frozen=True)
class ServerOptions:
    """How the HTTP server bounds its clients (streams.settings gives the defaults)."""

    idle_timeout_s: float = 10.0
    max_connections: int = 500
    access_log: bool = False


class _Busy(asyncio.Protocol):
    """A connection over the cap: 503, then closed, without reading the request."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        transport.write(_BUSY)
        transport.close()


class _Capped:
    """Protocol factory: aiohttp's handler while under the cap, else _Busy."""

    def __init__(self, server: web.Server, cap: int) -> None:
        self.server = server
        self.cap = cap
        self.refusing = False  # one warning per episode at the cap, not one per connection

    def __call__(self) -> asyncio.Protocol:
        if len(self.server.connections) < self.cap:
            self.refusing = False
            return self.server()
        if not self.refusing:
            self.refusing = True
            log.warning("%d HTTP connections open: refusing more with 503", self.cap)
        return _Busy()


@contextlib.asynccontextmanager
async def serving(
    app: web.Application, host: str, port: int, options: ServerOptions
) -> AsyncIterator[int]:
    """Serve `app` on host:port (0: a free port) while inside; yields the bound port."""
    runner = web.AppRunner(
        app,
        access_log=access_logger if options.access_log else None,
        keepalive_timeout=options.idle_timeout_s,
    )
    await runner.setup()
    try:
        assert runner.server is not None
        factory = _Capped(runner.server, options.max_connections)
        listener = await asyncio.get_running_loop().create_server(factory, host, port)
        try:
            yield listener.sockets[0].getsockname()[1]
        finally:
            listener.close()
    finally:
        await runner.cleanup()
