"""The ingest's way into Kafka: a port, its aiokafka adapter and an in-memory twin.

``send`` returns only when the broker has acknowledged every record (acks from all
in-sync replicas), so an HTTP answer of 200 means the events are in Kafka. What is
waiting for acks is bounded in bytes: beyond the bound ``Busy`` (the ingest answers 429),
and a broker that does not answer in time gives ``Unavailable`` (503); nothing queues
without bound.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from metrics.errors import CcmonError
from streams.settings import Settings

__all__ = ["Busy", "EventProducer", "KafkaProducer", "MemoryProducer", "OutRecord", "Unavailable"]

log = logging.getLogger(__name__)


class Unavailable(CcmonError, RuntimeError):
    """Kafka cannot take records now (not connected, or no ack in time): answer 503."""


class Busy(CcmonError, RuntimeError):
    """Too many bytes already wait for acks: answer 429."""


@dataclass(frozen=True)
class OutRecord:
    """One record to produce."""

    topic: str
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()

    def size(self) -> int:
        head = sum(len(k) + len(v) for k, v in self.headers)
        return len(self.value) + len(self.key or b"") + head


class EventProducer(Protocol):
    """Produces records and returns once all are acknowledged."""

    @property
    def connected(self) -> bool:
        """Kafka takes records (the ingest's /readyz)."""
        ...

    async def send(self, records: Sequence[OutRecord]) -> None:
        """All of `records` acknowledged, or Unavailable / Busy (some may have been written:
        a sender retries, and the worker drops the duplicate event ids)."""
        ...


@dataclass
class _Budget:
    """Bytes awaiting acks, bounded."""

    limit: int
    used: int = 0

    def take(self, size: int) -> None:
        if self.used and self.used + size > self.limit:
            raise Busy(f"{self.used} bytes wait for Kafka acks (limit {self.limit})")
        self.used += size

    def give(self, size: int) -> None:
        self.used -= size


@dataclass
class MemoryProducer:
    """Keeps records in a list: the twin for tests; `down` answers 503, `busy` 429."""

    records: list[OutRecord] = field(default_factory=list)
    down: bool = False
    busy: bool = False

    @property
    def connected(self) -> bool:
        return not self.down

    async def send(self, records: Sequence[OutRecord]) -> None:
        if self.down:
            raise Unavailable("not connected to Kafka")
        if self.busy:
            raise Busy("too many bytes wait for Kafka acks")
        self.records.extend(records)


class KafkaProducer:
    """aiokafka with acks=all; connects in the background until it succeeds."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._producer: Any = None
        self._budget = _Budget(settings.ingest_max_inflight_bytes)
        self._task: asyncio.Task[None] | None = None
        #: the last send failed (readiness reports it until one succeeds)
        self.failing = False

    @property
    def connected(self) -> bool:
        return self._producer is not None and not self.failing

    async def start(self) -> None:
        """Begin connecting (returns at once; `connected` says when it is done)."""
        self._task = asyncio.create_task(self._connect(), name="ccmon-ingest-connect")

    async def _connect(self) -> None:
        from aiokafka import AIOKafkaProducer
        from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential

        from streams.connections import kafka_options, kafka_refusal
        from streams.topics import ensure_topics

        settings = self.settings
        timeout_ms = int(settings.ingest_produce_timeout_s * 1000)
        attempt_no = 0
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(Exception),
            wait=wait_exponential(multiplier=0.5, max=settings.delivery_max_backoff_s),
            reraise=True,
        ):
            with attempt:
                attempt_no += 1
                producer = AIOKafkaProducer(
                    **kafka_options(settings),
                    acks="all",
                    enable_idempotence=settings.ingest_idempotence,
                    request_timeout_ms=timeout_ms,
                    linger_ms=2,
                    max_request_size=settings.producer_max_request_bytes,
                )
                try:
                    if settings.create_topics:
                        await ensure_topics(settings)
                    await producer.start()
                except BaseException as exc:
                    await producer.stop()
                    refused = await kafka_refusal(settings) if attempt_no == 1 else None
                    if refused is not None:  # a password or certificate: say which setting
                        log.error("ingest: %s; answering 503 and retrying", refused)
                    elif attempt_no == 1:
                        hint = (
                            " (CCMON_INGEST_IDEMPOTENCE is on: does the broker grant producer ids?)"
                            if settings.ingest_idempotence
                            else ""
                        )
                        log.warning(
                            "ingest: cannot reach Kafka at %s (CCMON_BROKERS): %r%s; "
                            "answering 503 and retrying",
                            settings.brokers,
                            exc,
                            hint,
                        )
                    raise
        self._producer = producer
        log.info("ingest: connected to Kafka at %s", settings.brokers)

    async def send(self, records: Sequence[OutRecord]) -> None:
        producer = self._producer
        if producer is None:
            raise Unavailable(f"not connected to Kafka at {self.settings.brokers}")
        size = sum(r.size() for r in records)
        self._budget.take(size)
        try:
            async with asyncio.timeout(self.settings.ingest_produce_timeout_s):
                futures = [
                    await producer.send(
                        r.topic, r.value, key=r.key, headers=list(r.headers) or None
                    )
                    for r in records
                ]
                await asyncio.gather(*futures)
        except Exception as exc:  # a timeout or any KafkaError: the sender retries
            self.failing = True
            raise Unavailable(f"Kafka did not acknowledge: {exc!r}") from exc
        else:
            self.failing = False
        finally:
            self._budget.give(size)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None
