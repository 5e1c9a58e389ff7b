"""The Kafka outbox against a producer twin: bounded, patient, never stuck on one record.

The twin stands in for aiokafka's `send` (a coroutine returning a delivery future) and
fails on a script; the real broker is in tests/integration/test_worker_faults.py.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import pytest
from aiokafka.errors import (
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    TopicAuthorizationFailedError,
)
from prometheus_client import CollectorRegistry

from streams.deadletter import DeadLetter
from streams.health import WorkerMetrics
from streams.outbox import KafkaOutbox, OutboxLimits

Failure = Callable[[str, bytes, int], Exception | None]


class ProducerTwin:
    """Records what was acknowledged; `fail(topic, value, attempt)` may return an error,
    raised by `send` when it is a MessageSizeTooLargeError (as aiokafka does) and set on
    the delivery future otherwise."""

    def __init__(self, fail: Failure | None = None) -> None:
        self.fail = fail
        self.acked: list[tuple[str, bytes, dict[str, bytes]]] = []
        self.attempts: dict[bytes, int] = {}

    async def send(
        self, topic: str, value: bytes, key: bytes | None = None, headers: Any = None
    ) -> asyncio.Future[None]:
        attempt = self.attempts[value] = self.attempts.get(value, 0) + 1
        error = self.fail(topic, value, attempt) if self.fail else None
        if isinstance(error, MessageSizeTooLargeError):
            raise error
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if error is None:
            self.acked.append((topic, value, dict(headers or [])))
            future.set_result(None)
        else:
            future.set_exception(error)
        return future


def letter(value: bytes, offset: int = 0) -> DeadLetter:
    return DeadLetter("malformed_json", "bad", "events", 0, offset, b"k", value)


def outbox(
    twin: ProducerTwin, registry: CollectorRegistry, **limits: Any
) -> tuple[KafkaOutbox, WorkerMetrics]:
    metrics = WorkerMetrics.create(registry)
    limits.setdefault("max_backoff_s", 0.01)
    box = KafkaOutbox(twin.send, "dead", "events", metrics, OutboxLimits(**limits))
    return box, metrics


async def test_records_the_broker_cannot_take_yet_are_retried_until_acknowledged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Every record times out twice before the broker takes it.
    twin = ProducerTwin(lambda _t, _v, attempt: KafkaTimeoutError() if attempt < 3 else None)
    registry = CollectorRegistry()
    box, _ = outbox(twin, registry)
    for i in range(50):
        box.dead_letter(letter(b"v%d" % i, i))
    box.forward(b"cust", b"derived")
    with caplog.at_level(logging.INFO, logger="streams.outbox"):
        await box.delivered()
    assert sorted(v for _, v, _ in twin.acked) == sorted(
        [b"v%d" % i for i in range(50)] + [b"derived"]
    )
    assert registry.get_sample_value("ccmon_outbox_retries_total") == 2 * 51
    outage = [r.getMessage() for r in caplog.records]
    assert len(outage) == 2
    assert "unavailable" in outage[0] and "reachable again after 2 failed attempts" in outage[1]
    assert registry.get_sample_value("ccmon_outbox_records") == 0


async def test_a_letter_over_the_request_size_is_sent_as_a_prefix_with_its_headers() -> None:
    twin = ProducerTwin()
    box, _ = outbox(twin, CollectorRegistry(), max_request_bytes=4096, prefix_bytes=100)
    box.dead_letter(letter(b"x" * 10_000))
    await box.delivered()
    [(topic, value, headers)] = twin.acked
    assert (topic, value) == ("dead", b"x" * 100)
    assert headers["ccmon.source.size"] == b"10000"
    assert headers["ccmon.truncated.kept"] == b"100"


async def test_a_letter_the_broker_finds_too_large_is_sent_again_as_a_prefix() -> None:
    def fail(_t: str, value: bytes, _a: int) -> Exception | None:
        return MessageSizeTooLargeError() if len(value) > 500 else None

    twin = ProducerTwin(fail)
    box, _ = outbox(twin, CollectorRegistry(), prefix_bytes=500)
    box.dead_letter(letter(b"y" * 2000))
    await box.delivered()
    assert [(len(v), h["ccmon.source.size"]) for _, v, h in twin.acked] == [(500, b"2000")]


async def test_a_record_that_cannot_be_produced_is_counted_logged_once_and_skipped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def fail(topic: str, value: bytes, _a: int) -> Exception | None:
        if value == b"forbidden":
            return TopicAuthorizationFailedError()
        return MessageSizeTooLargeError() if value.startswith(b"z") else None

    twin = ProducerTwin(fail)
    registry = CollectorRegistry()
    box, _ = outbox(twin, registry, prefix_bytes=10)
    box.dead_letter(letter(b"z" * 50, offset=4))  # too large even as a prefix
    box.dead_letter(letter(b"fine", offset=5))
    box.forward(b"cust", b"forbidden")
    with caplog.at_level(logging.ERROR, logger="streams.outbox"):
        await box.delivered()
    assert [v for _, v, _ in twin.acked] == [b"fine"]
    assert (
        registry.get_sample_value("ccmon_outbox_undeliverable_total", {"kind": "deadletter"}) == 1
    )
    assert registry.get_sample_value("ccmon_outbox_undeliverable_total", {"kind": "forward"}) == 1
    assert twin.attempts[b"z" * 50] == 1 and twin.attempts[b"z" * 10] == 1  # never forever
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2
    assert sorted(line.split(" for ")[1].split(" to ")[0] for line in lines) == [
        "events[0]@4",
        "key b'cust'",
    ]


def test_the_outbox_is_full_at_its_record_or_byte_bound() -> None:
    box, _ = outbox(ProducerTwin(), CollectorRegistry(), max_records=3, max_bytes=10_000)
    box.forward(b"k", b"v")
    box.forward(b"k", b"v")
    assert not box.full()
    box.forward(b"k", b"v")
    assert box.full()
    big, _ = outbox(ProducerTwin(), CollectorRegistry(), max_records=100, max_bytes=1000)
    big.forward(b"k", b"v" * 999)
    assert big.full()


async def test_delivery_gives_up_once_the_worker_stops() -> None:
    twin = ProducerTwin(lambda _t, _v, _a: KafkaTimeoutError())
    stop = asyncio.Event()
    metrics = WorkerMetrics.create(CollectorRegistry())
    box = KafkaOutbox(twin.send, "dead", "events", metrics, OutboxLimits(max_backoff_s=0.01), stop)
    box.forward(b"k", b"v")
    task = asyncio.create_task(box.delivered())
    await asyncio.sleep(0.1)
    assert not task.done()  # still retrying
    stop.set()
    with pytest.raises(Exception, match="not acknowledged"):
        await asyncio.wait_for(task, 5)
