"""What the worker produces because of a batch: dead letters and re-keyed events.

Both are delivered before the batch's offsets are recorded, so none is lost on a crash.
Delivery is bounded and patient: the outbox says when it is `full` (the consumer then
pauses fetching), retries what the broker could not take yet with backoff, shortens a
dead letter too large to produce to a prefix, and counts and skips a record that cannot
be produced at all, so no record stops the worker.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiokafka.errors import KafkaError, KafkaTimeoutError, MessageSizeTooLargeError

from streams.deadletter import DeadLetter
from streams.health import WorkerMetrics
from streams.retry import Outage, retry_until_stopped

__all__ = ["InMemoryOutbox", "KafkaOutbox", "Outbox", "OutboxLimits"]

log = logging.getLogger(__name__)

#: Records handed to the producer before their acknowledgements are awaited: enough to
#: fill large batches, few enough that none waits in the producer's buffer for long.
CHUNK = 2000

#: Bytes a produce request needs besides the records (request and batch headers).
REQUEST_OVERHEAD = 512


class Outbox(Protocol):
    """Where produced records go; `delivered` must succeed before their offsets commit."""

    def dead_letter(self, letter: DeadLetter) -> None:
        """Send a rejected record to the dead-letter topic."""

    def forward(self, key: bytes, value: bytes) -> None:
        """Send a derived event to the events topic under a new key (a repartition)."""

    def full(self) -> bool:
        """True while so much is in flight that the worker should stop fetching."""

    async def delivered(self) -> None:
        """Wait until everything sent so far is acknowledged (or counted as undeliverable)."""


@dataclass
class InMemoryOutbox:
    """A list-backed outbox for unit tests."""

    letters: list[DeadLetter] = field(default_factory=list)
    forwarded: list[tuple[bytes, bytes]] = field(default_factory=list)

    def dead_letter(self, letter: DeadLetter) -> None:
        self.letters.append(letter)

    def forward(self, key: bytes, value: bytes) -> None:
        self.forwarded.append((key, value))

    def full(self) -> bool:
        return False

    async def delivered(self) -> None:
        return None


@dataclass(frozen=True)
class OutboxLimits:
    """How much may be in flight, how large a request may be, and how long to back off."""

    max_records: int = 20_000
    max_bytes: int = 32 << 20
    max_request_bytes: int = 1 << 20
    prefix_bytes: int = 65536
    max_backoff_s: float = 5.0


@dataclass(frozen=True)
class _Out:
    """One record to produce; `letter` is set for a dead letter (it can be shortened)."""

    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]] | None
    letter: DeadLetter | None = None

    @property
    def kind(self) -> str:
        return "deadletter" if self.letter is not None else "forward"

    def size(self) -> int:
        head = sum(len(k) + len(v) for k, v in self.headers or ())
        return len(self.value) + len(self.key or b"") + head


class _Undelivered(Exception):
    """Some records met a retriable error; they are sent again after a pause."""


def _retriable(error: BaseException) -> bool:
    """Kafka errors worth another try: the broker is away, busy or moving a leader."""
    if isinstance(error, _Undelivered | KafkaTimeoutError):
        return True
    return isinstance(error, KafkaError) and bool(getattr(error, "retriable", False))


class KafkaOutbox:
    """Produces with one producer; delivery is awaited before the offsets commit."""

    def __init__(
        self,
        send: Callable[..., Awaitable[Any]],
        deadletter_topic: str,
        events_topic: str,
        metrics: WorkerMetrics,
        limits: OutboxLimits | None = None,
        stop: asyncio.Event | None = None,
    ) -> None:
        self._send = send
        self.deadletter_topic = deadletter_topic
        self.events_topic = events_topic
        self.metrics = metrics
        self.limits = limits or OutboxLimits()
        self._stop = stop
        self._queue: list[_Out] = []
        self._queued_bytes = 0
        self._in_flight = 0
        self._in_flight_bytes = 0
        self._outage = Outage(
            "Kafka (producing dead letters and forwarded records)", log, quiet=("aiokafka",)
        )

    def dead_letter(self, letter: DeadLetter) -> None:
        limit = self.limits.max_request_bytes - REQUEST_OVERHEAD
        if letter.size() > limit:
            # Too large for one produce request: keep the headers and a prefix.
            letter = letter.truncated(self.limits.prefix_bytes)
        self._put(_Out(self.deadletter_topic, letter.key, letter.value, letter.headers(), letter))

    def forward(self, key: bytes, value: bytes) -> None:
        self._put(_Out(self.events_topic, key, value, None))

    def _put(self, out: _Out) -> None:
        self._queue.append(out)
        self._queued_bytes += out.size()
        self._gauge()

    def full(self) -> bool:
        records = len(self._queue) + self._in_flight
        size = self._queued_bytes + self._in_flight_bytes
        return records >= self.limits.max_records or size >= self.limits.max_bytes

    def _gauge(self) -> None:
        self.metrics.outbox_records.set(len(self._queue) + self._in_flight)

    async def delivered(self) -> None:
        items, self._queue = self._queue, []
        self._in_flight, self._in_flight_bytes = len(items), self._queued_bytes
        self._queued_bytes = 0
        pending = items

        async def attempt() -> None:
            nonlocal pending
            pending = await self._send_all(pending)
            if pending:
                self.metrics.outbox_retries.inc(len(pending))
                raise _Undelivered(f"{len(pending)} records not acknowledged yet")

        try:
            if items:
                await retry_until_stopped(
                    attempt,
                    _retriable,
                    self._outage,
                    max_wait_s=self.limits.max_backoff_s,
                    stop=self._stop,
                )
        finally:
            self._in_flight = self._in_flight_bytes = 0
            self._gauge()

    async def _send_all(self, items: list[_Out]) -> list[_Out]:
        """Produce `items` in chunks; return those to try again."""
        again: list[_Out] = []
        for start in range(0, len(items), CHUNK):
            sent: list[tuple[_Out, Any]] = []
            for item in items[start : start + CHUNK]:
                try:
                    future = await self._send(
                        item.topic, value=item.value, key=item.key, headers=item.headers
                    )
                except KafkaError as exc:
                    again += self._failed(item, exc)
                else:
                    sent.append((item, future))
            results = await asyncio.gather(*(f for _, f in sent), return_exceptions=True)
            for (item, _), result in zip(sent, results, strict=True):
                if isinstance(result, KafkaError):
                    again += self._failed(item, result)
                elif isinstance(result, BaseException):
                    raise result
        return again

    def _failed(self, item: _Out, error: KafkaError) -> list[_Out]:
        """What to send again after `error`: the item, its shortened form, or nothing."""
        if _retriable(error):
            return [item]
        letter = item.letter
        if isinstance(error, MessageSizeTooLargeError) and letter is not None:
            shorter = letter.truncated(self.limits.prefix_bytes)
            if shorter is not letter:
                return [_Out(item.topic, shorter.key, shorter.value, shorter.headers(), shorter)]
        self.metrics.undeliverable.labels(item.kind).inc()
        source = letter.source if letter is not None else f"key {item.key!r}"
        log.error(
            "cannot produce a %s record for %s to %s (%r); counted and skipped",
            item.kind,
            source,
            item.topic,
            error,
        )
        return []
