"""A small AMI server for the tests: plays a recorded session (tests/fixtures/asterisk).

No Asterisk can be installed on these machines, so the connector is tested against
sessions recorded in the protocol's documented form: a banner line, then ``Key: Value``
lines with an empty line after each message (sent here with CRLF, as Asterisk does).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass, field
from pathlib import Path

FIXTURE = Path(__file__).parents[4] / "fixtures" / "asterisk" / "ami-session.txt"
SECRET = "s3cret"
_STAMP = re.compile(rb"^Timestamp: ([0-9.]+)\r$", re.MULTILINE)


def recording(path: Path = FIXTURE) -> tuple[bytes, list[bytes]]:
    """The banner line and the messages (CRLF, each with its empty line) of a recording."""
    text = path.read_text(encoding="utf-8")
    banner, _, rest = text.partition("\n")
    blocks = [b for b in rest.split("\n\n") if b.strip()]
    messages = [("\r\n".join(b.strip("\n").split("\n")) + "\r\n\r\n").encode() for b in blocks]
    return (banner + "\r\n").encode(), messages


def shifted(message: bytes, offset_s: int) -> bytes:
    """The message with its Timestamp moved by `offset_s` (recordings must not age)."""

    def move(match: re.Match[bytes]) -> bytes:
        whole, _, micros = match.group(1).partition(b".")
        return b"Timestamp: %d.%s\r" % (int(whole) + offset_s, micros or b"0")

    return _STAMP.sub(move, message)


@dataclass
class AmiServer:
    """Plays `messages[0]` (the login answer) and then, to the n-th connection, the slice
    `plays[n]` of the rest; a slice ending in None keeps the line open, else it closes."""

    banner: bytes
    messages: list[bytes]
    plays: list[tuple[int, int | None]] = field(default_factory=lambda: [(0, None)])
    offset_s: int = 0
    chunk: int = 0
    #: connections closed at once, before the banner (an Asterisk not up yet)
    drop_first: int = 0
    actions: list[list[bytes]] = field(default_factory=list)
    _server: asyncio.Server | None = None
    _writers: list[asyncio.StreamWriter] = field(default_factory=list)
    played: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def close(self) -> None:
        for writer in self._writers:
            writer.close()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _send(self, writer: asyncio.StreamWriter, data: bytes) -> None:
        step = self.chunk or len(data)
        for start in range(0, len(data), step):
            writer.write(data[start : start + step])
            await writer.drain()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        if self.drop_first > 0:
            self.drop_first -= 1
            writer.close()
            return
        number = len(self.actions)
        seen: list[bytes] = []
        self.actions.append(seen)
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            await self._send(writer, self.banner)
            login = await reader.readuntil(b"\r\n\r\n")
            seen.append(login)
            if f"Secret: {SECRET}\r\n".encode() not in login:
                await self._send(
                    writer, b"Response: Error\r\nMessage: Authentication failed\r\n\r\n"
                )
                writer.close()
                return
            await self._send(writer, self.messages[0])
            start, stop = self.plays[min(number, len(self.plays) - 1)]
            for message in self.messages[1:][start:stop]:
                await self._send(writer, shifted(message, self.offset_s))
            if stop is not None:
                writer.close()
                return
            self.played.set()
            while data := await reader.readuntil(b"\r\n\r\n"):
                seen.append(data)
