"""Retry with backoff for what the worker depends on (Kafka, Redis), logged once per outage.

tenacity does the retrying; `Outage` keeps the log to one line when a dependency goes
away and one when it is back, however many attempts lie between.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, wait_exponential_jitter

__all__ = ["Outage", "retry_until_stopped"]

log = logging.getLogger(__name__)

_T = TypeVar("_T")

#: First pause after a failed attempt, in seconds; it doubles up to the caller's maximum.
FIRST_WAIT_S = 0.1


class _Quiet(logging.Filter):
    """Drops a client library's own per-attempt error lines while an outage is logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.CRITICAL


def _loggers(prefixes: Sequence[str]) -> list[logging.Logger]:
    """The loggers named `prefix` or below it (filters do not pass down to children)."""
    names = [*prefixes, *logging.root.manager.loggerDict]
    return [
        logging.getLogger(name)
        for name in dict.fromkeys(names)
        if any(name == p or name.startswith(p + ".") for p in prefixes)
    ]


class Outage:
    """One dependency's outage: logged when it starts and when it ends, not per attempt.

    The loggers under `quiet` (the client library's, e.g. "aiokafka", which logs every
    failed connection) are muted below CRITICAL while the outage lasts.
    """

    def __init__(self, what: str, logger: logging.Logger = log, quiet: Sequence[str] = ()) -> None:
        self.what = what
        self.failures = 0
        self._log = logger
        self._quiet = tuple(quiet)
        self._filter = _Quiet()
        self._muted: list[logging.Logger] = []

    @property
    def ongoing(self) -> bool:
        return self.failures > 0

    def failed(self, error: BaseException) -> None:
        if self.failures == 0:
            self._log.warning("%s unavailable (%s); retrying with backoff", self.what, error)
            self._muted = _loggers(self._quiet) if self._quiet else []
            for muted in self._muted:
                muted.addFilter(self._filter)
        self.failures += 1

    def recovered(self) -> None:
        self.unmute()
        if self.failures:
            self._log.info("%s reachable again after %d failed attempts", self.what, self.failures)
        self.failures = 0

    def unmute(self) -> None:
        """Let the muted loggers speak again (recovered, or given up)."""
        for muted in self._muted:
            muted.removeFilter(self._filter)
        self._muted = []


async def _sleep_unless(stop: asyncio.Event | None, seconds: float) -> None:
    """Sleep, but wake as soon as `stop` is set."""
    if stop is None:
        await asyncio.sleep(seconds)
        return
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        return


async def retry_until_stopped(
    call: Callable[[], Awaitable[_T]],
    retriable: Callable[[BaseException], bool],
    outage: Outage,
    *,
    max_wait_s: float = 5.0,
    stop: asyncio.Event | None = None,
) -> _T:
    """Await `call` until it succeeds, retrying errors `retriable` accepts with backoff.

    Other errors are raised at once. With `stop`, retrying ends when it is set, and the
    last error is raised.
    """

    def give_up(state: RetryCallState) -> bool:
        return stop is not None and stop.is_set()

    def before_sleep(state: RetryCallState) -> None:
        if state.outcome is not None and (error := state.outcome.exception()) is not None:
            outage.failed(error)

    retrying = AsyncRetrying(
        retry=retry_if_exception(retriable),
        wait=wait_exponential_jitter(multiplier=FIRST_WAIT_S, max=max_wait_s, jitter=FIRST_WAIT_S),
        stop=give_up,
        sleep=lambda seconds: _sleep_unless(stop, seconds),
        before_sleep=before_sleep,
        reraise=True,
    )
    try:
        result: _T = await retrying(call)
    finally:
        outage.unmute()
    outage.recovered()
    return result
