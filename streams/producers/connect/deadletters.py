"""Where a connector keeps what it cannot map: the dead-letter topic, original text as the
value, reason and detail in the headers the worker's dead letters use (docs/events.md).

The header names repeat streams.deadletter's (a producer imports no worker module; a unit
test checks they agree). Each dead letter is counted by reason.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable
from typing import Any, Protocol

from streams.settings import Settings
from streams.sources.base import Unmapped

__all__ = [
    "CountedDeadLetters",
    "DeadLetterSink",
    "KafkaDeadLetters",
    "MemoryDeadLetters",
    "headers_of",
]

log = logging.getLogger(__name__)

HEADER_REASON = "ccmon.reason"
HEADER_DETAIL = "ccmon.detail"
HEADER_SIZE = "ccmon.source.size"
#: which connector and server the record came from (a connector has no source topic)
HEADER_ORIGIN = "ccmon.source.origin"
DETAIL_LIMIT = 1000


def headers_of(item: Unmapped, origin: str) -> list[tuple[str, bytes]]:
    """The Kafka headers of one dead letter."""
    return [
        (HEADER_REASON, item.reason.encode()),
        (HEADER_DETAIL, item.detail[:DETAIL_LIMIT].encode()),
        (HEADER_SIZE, str(len(item.payload)).encode()),
        (HEADER_ORIGIN, origin.encode()),
    ]


class DeadLetterSink(Protocol):
    """Takes unmapped payloads; `counts` says how many of each reason so far."""

    counts: Counter[str]

    async def start(self) -> None: ...

    async def send(self, item: Unmapped, origin: str) -> None: ...

    async def flush(self) -> None: ...

    async def close(self) -> None: ...


class _Counting:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def _count(self, item: Unmapped) -> None:
        if not self.counts[item.reason]:
            log.warning(
                "unmapped (%s): %s; kept in the dead-letter topic", item.reason, item.detail
            )
        self.counts[item.reason] += 1


class CountedDeadLetters(_Counting):
    """Counts and logs (the first of each reason) without keeping: for a JSONL run."""

    async def start(self) -> None:
        return None

    async def send(self, item: Unmapped, origin: str) -> None:
        self._count(item)

    async def flush(self) -> None:
        return None

    async def close(self) -> None:
        return None


class MemoryDeadLetters(_Counting):
    """Keeps (item, headers) pairs: the in-memory twin for tests."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[Unmapped, list[tuple[str, bytes]]]] = []

    async def start(self) -> None:
        return None

    async def send(self, item: Unmapped, origin: str) -> None:
        self._count(item)
        self.sent.append((item, headers_of(item, origin)))

    async def flush(self) -> None:
        return None

    async def close(self) -> None:
        return None


class KafkaDeadLetters(_Counting):
    """An aiokafka producer to CCMON_DEADLETTER_TOPIC (connected as every client is)."""

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings
        self._producer: Any = None
        self._pending: list[Awaitable[Any]] = []

    async def start(self) -> None:
        from aiokafka import AIOKafkaProducer
        from aiokafka.errors import KafkaError

        from streams.connections import kafka_options
        from streams.producers.sinks import SinkError

        producer = AIOKafkaProducer(**kafka_options(self.settings), linger_ms=20)
        try:
            await producer.start()
        except (KafkaError, OSError) as exc:
            await producer.stop()
            raise SinkError(
                f"cannot reach Kafka at {self.settings.brokers} (CCMON_BROKERS): {exc!r}"
            ) from exc
        self._producer = producer

    async def send(self, item: Unmapped, origin: str) -> None:
        self._count(item)
        future = await self._producer.send(
            self.settings.deadletter_topic, item.payload, headers=headers_of(item, origin)
        )
        self._pending.append(future)

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
