"""The exporter's HTTP server on loopback: slow or idle clients are closed, connections capped.

Sockets are real; the server is the exporter's app under ``serving``. Time bounds are
generous ceilings for a loaded CI machine, never the thing asserted: the assertions are
on what the client's socket sees (closed, and what bytes came before).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import orjson
import pytest
from prometheus_client import CollectorRegistry

from metrics.config.queues import QueuesConfig
from metrics.store.memory import InMemoryStore
from metrics.web.api import make_app
from metrics.web.server import ServerOptions, serving

#: Longest any socket may stay open after the server should have closed it.
CEILING_S = 20.0
REQUEST = b"GET /healthz HTTP/1.1\r\nHost: ccmon\r\n\r\n"

Conn = tuple[asyncio.StreamReader, asyncio.StreamWriter]


@asynccontextmanager
async def exporter(options: ServerOptions) -> AsyncIterator[int]:
    app = make_app(InMemoryStore(), QueuesConfig(), CollectorRegistry())
    async with serving(app, "127.0.0.1", 0, options) as port:
        yield port


async def _read_to_close(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sends until it closes (or resets) the connection."""
    data = b""
    try:
        async with asyncio.timeout(CEILING_S):
            while chunk := await reader.read(65536):
                data += chunk
    except ConnectionResetError:
        pass
    return data


async def _trickle(writer: asyncio.StreamWriter) -> None:
    """A slowloris: a request line, then one header line every 0.2 s, never the end."""
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: ccmon\r\n")
    with_errors = (ConnectionError, RuntimeError)  # the server hung up, as it should
    try:
        for i in range(10 * int(CEILING_S)):
            await asyncio.sleep(0.2)
            writer.write(b"X-Slow-%d: y\r\n" % i)
            await writer.drain()
    except with_errors:
        pass


async def test_half_sent_requests_and_idle_connections_are_closed() -> None:
    async with exporter(ServerOptions(idle_timeout_s=1.0)) as port:
        slow = [await asyncio.open_connection("127.0.0.1", port) for _ in range(30)]
        silent = [await asyncio.open_connection("127.0.0.1", port) for _ in range(10)]
        trickles = [asyncio.create_task(_trickle(w)) for _, w in slow]
        seen = await asyncio.gather(*(_read_to_close(r) for r, _ in slow + silent))
        for task in trickles:
            task.cancel()
        # Closed without an answer: the server never saw a whole request.
        assert seen == [b""] * 40
        for _, writer in slow + silent:
            writer.close()


async def test_an_answered_connection_is_closed_once_idle() -> None:
    async with exporter(ServerOptions(idle_timeout_s=1.0)) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(REQUEST)
        seen = await _read_to_close(reader)
        writer.close()
    head, _, body = seen.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert orjson.loads(body) == {"store": "up"}


async def test_connections_over_the_cap_get_a_json_503(caplog: pytest.LogCaptureFixture) -> None:
    async with exporter(ServerOptions(idle_timeout_s=60.0, max_connections=3)) as port:
        held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(3)]
        for _, writer in held:  # each one answered, so each is surely accepted
            writer.write(REQUEST)
        for reader, _ in held:
            assert (await reader.readuntil(b"\r\n")) == b"HTTP/1.1 200 OK\r\n"
        with caplog.at_level(logging.WARNING, logger="metrics.web.server"):
            refused = []
            for _ in range(2):
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                refused.append(await _read_to_close(reader))
                writer.close()
        head, _, body = refused[0].partition(b"\r\n\r\n")
        assert head.split(b"\r\n")[0] == b"HTTP/1.1 503 Service Unavailable"
        assert orjson.loads(body) == {"error": "too many connections"}
        assert refused[1] == refused[0]
        assert [r.getMessage() for r in caplog.records] == [
            "3 HTTP connections open: refusing more with 503"
        ]  # once per episode, not once per connection
        for _, writer in held:
            writer.close()
        # Once they are gone, new clients are served again.
        answer = b""
        async with asyncio.timeout(CEILING_S):
            while not answer.startswith(b"HTTP/1.1 200"):
                await asyncio.sleep(0.05)
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(REQUEST)
                answer = await reader.readuntil(b"\r\n")
                writer.close()


@pytest.mark.parametrize(("access_log", "lines"), [(False, 0), (True, 1)])
async def test_access_log_is_off_unless_asked_for(
    caplog: pytest.LogCaptureFixture, access_log: bool, lines: int
) -> None:
    with caplog.at_level(logging.INFO, logger="aiohttp.access"):
        async with exporter(ServerOptions(access_log=access_log)) as port:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(REQUEST.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
            assert (await _read_to_close(reader)).startswith(b"HTTP/1.1 200 OK\r\n")
            writer.close()
    access = [r for r in caplog.records if r.name == "aiohttp.access"]
    assert len(access) == lines
    if lines:
        assert '"GET /healthz HTTP/1.1" 200' in access[0].getMessage()
