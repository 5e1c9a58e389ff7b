"""In-memory routing snapshots, refreshed from the store in the background.

Routing systems need answers in milliseconds, so requests never touch Redis: a
background task reads every series once per refresh (in a thread), builds the snapshot
documents, serialises them, and swaps one immutable `Snapshots` object in. A request is
a dict lookup returning bytes. Listeners (the snapshot-topic publisher) are called with
each new Snapshots on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from metrics.queue_config import QueuesConfig
from metrics.routing import iso, queue_snapshot, routing_request
from metrics.store import AggregateStore, SeriesData, StoreError

__all__ = ["RoutingCache", "Snapshots"]

log = logging.getLogger(__name__)

Listener = Callable[["Snapshots"], Awaitable[None]]


@dataclass(frozen=True)
class Snapshots:
    """One refresh: documents per queue, their JSON bodies and the all-queues body."""

    time_ms: int
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    bodies: dict[str, bytes] = field(default_factory=dict)
    index_body: bytes = b""


def build_snapshots(store: AggregateStore, queues: QueuesConfig, now_ms: int) -> Snapshots:
    """Read every series once and build every queue's snapshot (blocking: run in a thread)."""
    series = store.series()
    data = store.read([routing_request(s, now_ms) for s in series], now_ms)
    per_queue: dict[str, dict[str, SeriesData]] = {q.name: {} for q in queues.queues}
    for (queue, channel), d in zip(series, data, strict=True):
        per_queue.setdefault(queue, {})[channel] = d
    documents = {
        queue: queue_snapshot(queue, channels, now_ms, queues.get(queue))
        for queue, channels in sorted(per_queue.items())
    }
    bodies = {queue: orjson.dumps(doc) for queue, doc in documents.items()}
    index = orjson.dumps({"generated_at": iso(now_ms), "queues": list(documents.values())})
    return Snapshots(now_ms, documents, bodies, index)


class RoutingCache:
    """Holds the latest Snapshots; `run` refreshes it every `refresh_ms` until cancelled."""

    def __init__(
        self,
        store: AggregateStore,
        queues: QueuesConfig,
        clock_ms: Callable[[], int],
        refresh_ms: int = 500,
    ) -> None:
        self.store = store
        self.queues = queues
        self.clock_ms = clock_ms
        self.refresh_ms = refresh_ms
        self.current: Snapshots | None = None
        self.last_error: str | None = None
        self.listeners: list[Listener] = []

    def refresh(self) -> Snapshots:
        """Rebuild now (blocking); on a store error keep the previous snapshots and re-raise."""
        try:
            snapshots = build_snapshots(self.store, self.queues, self.clock_ms())
        except StoreError as exc:
            self.last_error = str(exc)
            raise
        self.current, self.last_error = snapshots, None
        return snapshots

    def age_ms(self) -> int | None:
        """How old the served snapshots are, or None before the first refresh."""
        current = self.current
        return None if current is None else max(0, self.clock_ms() - current.time_ms)

    async def refresh_async(self) -> None:
        """One refresh in a thread, then every listener; errors are logged, never raised."""
        try:
            snapshots = await asyncio.to_thread(self.refresh)
        except StoreError as exc:
            log.warning("routing snapshot refresh failed: %s", exc)
            return
        for listener in self.listeners:
            try:
                await listener(snapshots)
            except Exception:  # a listener must not stop the refresh loop
                log.exception("routing snapshot listener failed")

    async def run(self) -> None:
        """Refresh forever (cancel the task to stop)."""
        while True:
            await self.refresh_async()
            await asyncio.sleep(self.refresh_ms / 1000)
