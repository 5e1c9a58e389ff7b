"""The dead-letter policy: the original bytes, with reason and source in headers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["DeadLetter", "DeadLetterSink", "InMemoryDeadLetters", "KafkaDeadLetters", "Record"]

log = logging.getLogger(__name__)

#: Header names on a dead-lettered record (values are UTF-8).
HEADER_REASON = "ccmon.reason"
HEADER_DETAIL = "ccmon.detail"
HEADER_TOPIC = "ccmon.source.topic"
HEADER_PARTITION = "ccmon.source.partition"
HEADER_OFFSET = "ccmon.source.offset"


class Record(Protocol):
    """The parts of a consumed Kafka record ccmon uses (aiokafka's ConsumerRecord fits)."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...


@dataclass(frozen=True)
class DeadLetter:
    """One rejected record."""

    reason: str
    detail: str
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes

    def headers(self) -> list[tuple[str, bytes]]:
        return [
            (HEADER_REASON, self.reason.encode()),
            (HEADER_DETAIL, self.detail[:1000].encode()),
            (HEADER_TOPIC, self.topic.encode()),
            (HEADER_PARTITION, str(self.partition).encode()),
            (HEADER_OFFSET, str(self.offset).encode()),
        ]


class DeadLetterSink(Protocol):
    """Where rejected records go; `delivered` must succeed before their offsets commit."""

    def send(self, letter: DeadLetter) -> None: ...
    async def delivered(self) -> None: ...


@dataclass
class InMemoryDeadLetters:
    """A list-backed sink for unit tests."""

    letters: list[DeadLetter] = field(default_factory=list)

    def send(self, letter: DeadLetter) -> None:
        self.letters.append(letter)

    async def delivered(self) -> None:
        return None


class KafkaDeadLetters:
    """Produces dead letters to a topic; delivery is awaited before the offsets commit."""

    def __init__(self, send: Callable[..., Awaitable[Any]], topic: str) -> None:
        self._send = send
        self.topic = topic
        self._pending: list[Awaitable[Any]] = []

    def send(self, letter: DeadLetter) -> None:
        log.warning(
            "dead-lettered %s[%d]@%d: %s: %s",
            letter.topic,
            letter.partition,
            letter.offset,
            letter.reason,
            letter.detail[:200],
        )
        self._pending.append(
            self._send(self.topic, value=letter.value, key=letter.key, headers=letter.headers())
        )

    async def delivered(self) -> None:
        pending, self._pending = self._pending, []
        if pending:
            # send() returns a future of the delivery; both must complete.
            futures = await asyncio.gather(*pending)
            await asyncio.gather(*futures)
