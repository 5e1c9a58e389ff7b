"""What the worker produces because of a batch: dead letters and re-keyed events.

Both are delivered before the batch's offsets are recorded, so none is lost on a crash.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from streams.deadletter import DeadLetter

__all__ = ["InMemoryOutbox", "KafkaOutbox", "Outbox"]

log = logging.getLogger(__name__)


class Outbox(Protocol):
    """Where produced records go; `delivered` must succeed before their offsets commit."""

    def dead_letter(self, letter: DeadLetter) -> None:
        """Send a rejected record to the dead-letter topic."""

    def forward(self, key: bytes, value: bytes) -> None:
        """Send a derived event to the events topic under a new key (a repartition)."""

    async def delivered(self) -> None:
        """Wait until everything sent so far is acknowledged."""


@dataclass
class InMemoryOutbox:
    """A list-backed outbox for unit tests."""

    letters: list[DeadLetter] = field(default_factory=list)
    forwarded: list[tuple[bytes, bytes]] = field(default_factory=list)

    def dead_letter(self, letter: DeadLetter) -> None:
        self.letters.append(letter)

    def forward(self, key: bytes, value: bytes) -> None:
        self.forwarded.append((key, value))

    async def delivered(self) -> None:
        return None


class KafkaOutbox:
    """Produces with one producer; delivery is awaited before the offsets commit."""

    def __init__(
        self, send: Callable[..., Awaitable[Any]], deadletter_topic: str, events_topic: str
    ) -> None:
        self._send = send
        self.deadletter_topic = deadletter_topic
        self.events_topic = events_topic
        self._pending: list[Awaitable[Any]] = []

    def dead_letter(self, letter: DeadLetter) -> None:
        log.warning(
            "dead-lettered %s[%d]@%d: %s: %s",
            letter.topic,
            letter.partition,
            letter.offset,
            letter.reason,
            letter.detail[:200],
        )
        self._pending.append(
            self._send(
                self.deadletter_topic, value=letter.value, key=letter.key, headers=letter.headers()
            )
        )

    def forward(self, key: bytes, value: bytes) -> None:
        self._pending.append(self._send(self.events_topic, value=value, key=key))

    async def delivered(self) -> None:
        pending, self._pending = self._pending, []
        if pending:
            # send() returns a future of the delivery; both must complete.
            futures = await asyncio.gather(*pending)
            await asyncio.gather(*futures)
