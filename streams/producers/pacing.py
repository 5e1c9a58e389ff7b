"""Send timed events at a speed factor, counting them in a Progress (simulate, replay, import)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from streams.producers.progress import Progress
from streams.producers.sinks import EventSink

__all__ = ["Pacer", "parse_speed", "send_paced"]

TimedEvent = tuple[int, str, dict[str, Any]]


def parse_speed(text: str) -> float | None:
    """'max' (as fast as possible) -> None; '1' real time; '10' ten times faster."""
    if text.strip().lower() in ("max", "asap", "0"):
        return None
    value = float(text)
    if value <= 0:
        raise ValueError("speed must be positive, or 'max'")
    return value


@dataclass
class Pacer:
    """When (on the monotonic clock) an event of a given event time is due (pure)."""

    speed: float | None
    first_event_ms: int | None = None
    first_wall_s: float = 0.0

    def due(self, event_ms: int, wall_s: float) -> float:
        """Seconds to wait before sending an event of time `event_ms`, at wall time `wall_s`."""
        if self.speed is None:
            return 0.0
        if self.first_event_ms is None:
            self.first_event_ms, self.first_wall_s = event_ms, wall_s
            return 0.0
        target = self.first_wall_s + (event_ms - self.first_event_ms) / 1000 / self.speed
        return max(0.0, target - wall_s)


async def send_paced(
    events: Iterable[TimedEvent],
    sink: EventSink,
    speed: float | None,
    progress: Progress,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
    on_sent: Callable[[int], Awaitable[None]] | None = None,
    checkpoint_every: int = 10_000,
) -> int:
    """Send every event in order at `speed` (None: as fast as possible); return the count.

    `on_sent(n)` is awaited after a flush (before each pause, every `checkpoint_every`
    events and at the end) with the number of events stored so far: replay's
    checkpoint. As fast as possible still yields to the loop now and then.
    """
    pacer = Pacer(speed)
    count = 0
    for time_ms, key, event in events:
        wait = pacer.due(time_ms, clock())
        if wait > 0:
            await sink.flush()
            if on_sent is not None:
                await on_sent(count)
            await sleep(wait)
        elif count % 1000 == 0:
            await sleep(0)
        await sink.send(key, event)
        count += 1
        progress.tick(time_ms, str(event.get("type", "")))
        if on_sent is not None and count % checkpoint_every == 0:
            await sink.flush()
            await on_sent(count)
    await sink.flush()
    if on_sent is not None:
        await on_sent(count)
    return count
