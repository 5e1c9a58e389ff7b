"""Retry with backoff: one log line per outage, the client library muted meanwhile, stoppable."""

from __future__ import annotations

import asyncio
import logging

import pytest

from streams.retry import Outage, retry_until_stopped


class Flaky:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            logging.getLogger("fakeclient.conn").error("connect call failed")
            raise ConnectionError("refused")
        return "done"


async def test_an_outage_is_logged_when_it_starts_and_ends_and_the_library_is_muted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    call = Flaky(failures=5)
    outage = Outage("Thing", logging.getLogger("test.retry"), quiet=("fakeclient",))
    logging.getLogger("fakeclient.conn")  # exists before the outage starts
    with caplog.at_level(logging.INFO):
        result = await retry_until_stopped(
            call, lambda e: isinstance(e, ConnectionError), outage, max_wait_s=0.01
        )
    assert (result, call.calls) == ("done", 6)
    lines = [(r.name, r.getMessage()) for r in caplog.records]
    assert lines == [
        ("fakeclient.conn", "connect call failed"),  # the first attempt, before the outage
        ("test.retry", "Thing unavailable (refused); retrying with backoff"),
        ("test.retry", "Thing reachable again after 5 failed attempts"),
    ]
    assert logging.getLogger("fakeclient.conn").filters == []


async def test_other_errors_are_raised_at_once() -> None:
    async def broken() -> None:
        raise ValueError("a bug")

    with pytest.raises(ValueError):
        await retry_until_stopped(broken, lambda e: isinstance(e, ConnectionError), Outage("x"))


async def test_retrying_ends_when_stop_is_set_with_the_last_error() -> None:
    stop = asyncio.Event()
    call = Flaky(failures=10**9)
    task = asyncio.create_task(
        retry_until_stopped(
            call, lambda e: isinstance(e, ConnectionError), Outage("x"), max_wait_s=30, stop=stop
        )
    )
    await asyncio.sleep(0.3)
    stop.set()
    with pytest.raises(ConnectionError):
        await asyncio.wait_for(task, 2)  # woken from its backoff pause, not after 30 s
