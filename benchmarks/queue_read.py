"""One-queue read ``GET /api/v1/queues/{queue}`` under concurrent load (part of bench-scrape).

Runs the real ``ccmon exporter`` as a subprocess over the queues ``benchmarks.scrape``
wrote (snapshot topic off, routing snapshots refreshed every 500 ms), and measures the
one-queue read the way ``benchmarks.routing_api`` measures the routing read: closed loop
(that many requests always in flight, a different queue each time) and open loop (a fixed
rate, latency from each request's scheduled send, so a stall cannot hide). Meanwhile a
background reader fetches ``GET /api/v1/queues`` every second and ``/metrics`` every five
(a wall board and a Prometheus pair): the load a live exporter carries. Latency is taken in
this client, to the end of the body; client and exporter share the cores.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks.routing_api import _level, _open_level, _repeated, exporter

#: background reads while the one-queue load runs: (path, every seconds)
BACKGROUND = (("/api/v1/queues", 1.0), ("/metrics", 5.0))


async def _background(base: str, counts: dict[str, int]) -> None:
    """Read the index and the scrape on their own schedules until cancelled."""
    async with aiohttp.ClientSession() as session:

        async def every(path: str, period: float) -> None:
            while True:
                async with session.get(base + path) as response:
                    await response.read()
                counts[path] = counts.get(path, 0) + 1
                await asyncio.sleep(period)

        await asyncio.gather(*(every(path, period) for path, period in BACKGROUND))


async def measure(
    redis_url: str,
    prefix: str,
    queue_of: Callable[[int], str],
    queues: int,
    seconds: float,
    repeat: int,
    levels: tuple[int, ...] = (1, 8, 32),
    rates: tuple[float, ...] = (200.0, 500.0),
) -> dict[str, Any]:
    """Closed- and open-loop figures of the one-queue read over `queues` queues."""
    out: dict[str, Any] = {"queues": queues, "seconds_per_level": seconds, "repeat": repeat}
    with tempfile.TemporaryDirectory() as tmp, exporter(redis_url, prefix, None, Path(tmp)) as port:
        base = f"http://127.0.0.1:{port}"
        root = f"{base}/api/v1/queues"

        def url_of(i: int) -> str:
            return f"{root}/{queue_of((i * 7919) % queues)}"

        await asyncio.sleep(1.0)  # the first routing refresh
        probe = await _level(url_of, 1, 0.5, {})
        assert probe["errors"] == 0, "the one-queue read answered with errors"
        counts: dict[str, int] = {}
        background = asyncio.create_task(_background(base, counts))
        try:
            out["closed"] = [
                await _repeated(functools.partial(_level, url_of, c, seconds, {}), repeat)
                for c in levels
            ]
            out["open"] = [
                await _repeated(functools.partial(_open_level, url_of, r, 64, seconds, {}), repeat)
                for r in rates
            ]
        finally:
            background.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await background
        out["background_reads"] = counts
    return out
