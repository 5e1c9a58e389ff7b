"""Where producers (simulator, replay, importers) send events: Kafka or a JSONL file."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable
from typing import IO, Any, Protocol

import orjson

from metrics.errors import CcmonError
from streams.settings import Settings

__all__ = ["EventSink", "JsonlSink", "KafkaSink", "MemorySink", "SinkError"]

#: Unacknowledged sends a Kafka sink keeps before it waits for the broker.
MAX_IN_FLIGHT = 20_000


class SinkError(CcmonError, RuntimeError):
    """The sink cannot be used (broker unreachable, file not writable); the message says why."""


class EventSink(Protocol):
    """Takes contract-v1 events one by one; `flush` returns once all are stored."""

    async def start(self) -> None: ...

    async def send(self, key: str, event: dict[str, Any]) -> None: ...

    async def flush(self) -> None: ...

    async def close(self) -> None: ...


class MemorySink:
    """Keeps (key, event) pairs in a list: the in-memory twin for tests."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def start(self) -> None:
        return None

    async def send(self, key: str, event: dict[str, Any]) -> None:
        self.sent.append((key, event))

    async def flush(self) -> None:
        return None

    async def close(self) -> None:
        return None


class JsonlSink:
    """One JSON event a line, to a file path or '-' for stdout."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._file: IO[bytes] | None = None

    async def start(self) -> None:
        if self.path == "-":
            self._file = sys.stdout.buffer
            return
        try:
            # SIM115: the file stays open across send() calls and close() closes it;
            # ASYNC230: opening a local file does not block the loop for any length of time.
            self._file = open(self.path, "wb")  # noqa: SIM115, ASYNC230
        except OSError as exc:
            raise SinkError(f"cannot write {self.path}: {exc}") from exc

    async def send(self, key: str, event: dict[str, Any]) -> None:
        assert self._file is not None
        self._file.write(orjson.dumps(event) + b"\n")

    async def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    async def close(self) -> None:
        if self._file is not None:
            self._file.flush()
            if self._file is not sys.stdout.buffer:
                self._file.close()
            self._file = None


class KafkaSink:
    """aiokafka producer to the events topic, keyed by contact id or agent id (docs/events.md)."""

    def __init__(self, settings: Settings, topic: str | None = None) -> None:
        self.settings = settings
        self.topic = topic or settings.events_topic
        self._producer: Any = None
        self._pending: list[Awaitable[Any]] = []

    async def start(self) -> None:
        from aiokafka import AIOKafkaProducer
        from aiokafka.errors import KafkaError

        from streams.connections import kafka_options, kafka_refusal
        from streams.topics import TopicError, ensure_topics

        try:
            if self.settings.create_topics and self.topic == self.settings.events_topic:
                await ensure_topics(self.settings)
            producer = AIOKafkaProducer(
                **kafka_options(self.settings), linger_ms=20, max_batch_size=256 * 1024
            )
            await producer.start()
        except (KafkaError, OSError, TopicError) as exc:
            # A refused password or certificate looks like an absent broker to aiokafka.
            refused = await kafka_refusal(self.settings)
            raise SinkError(
                refused or f"cannot reach Kafka at {self.settings.brokers} (CCMON_BROKERS): {exc!r}"
            ) from exc
        self._producer = producer

    async def send(self, key: str, event: dict[str, Any]) -> None:
        future = await self._producer.send(self.topic, orjson.dumps(event), key=key.encode())
        self._pending.append(future)
        if len(self._pending) >= MAX_IN_FLIGHT:
            await self.flush()

    async def flush(self) -> None:
        pending, self._pending = self._pending, []
        if pending:
            await asyncio.gather(*pending)

    async def close(self) -> None:
        if self._producer is not None:
            try:
                await self.flush()
            finally:
                await self._producer.stop()
                self._producer = None
