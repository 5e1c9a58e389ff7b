"""In-memory routing snapshots, refreshed from the store in the background.

Routing systems need answers in milliseconds, so requests never touch Redis: a
background task reads every series once per refresh (in a thread), builds the snapshot
documents queue by queue on the loop (yielding between queues), serialises them, and
swaps one immutable `Snapshots` object in. A request is
a dict lookup returning bytes. Listeners (the snapshot-topic publisher) are called with
each new Snapshots on the event loop.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import multiprocessing
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

import orjson

from metrics.config.queues import QueuesConfig
from metrics.core.reads import SeriesData
from metrics.routing.snapshot import change_key, iso, queue_snapshot, routing_request
from metrics.store.base import AggregateStore, StoreError

__all__ = ["RoutingCache", "Snapshots", "build_snapshots", "build_snapshots_async"]

log = logging.getLogger(__name__)

Listener = Callable[["Snapshots"], Awaitable[None]]


@dataclass(frozen=True)
class Snapshots:
    """One refresh: each queue's JSON body and change key, and the all-queues body.

    Only bytes cross from a refresh process; `documents` parses the bodies on first use.
    """

    time_ms: int
    bodies: dict[str, bytes] = field(default_factory=dict)
    index_body: bytes = b""
    change_keys: dict[str, bytes] = field(default_factory=dict)

    @functools.cached_property
    def documents(self) -> dict[str, dict[str, Any]]:
        """The snapshot documents, by queue."""
        return {queue: orjson.loads(body) for queue, body in self.bodies.items()}


def _read(
    store: AggregateStore, queues: QueuesConfig, now_ms: int
) -> dict[str, dict[str, SeriesData]]:
    """Every series' data, grouped by queue; configured queues without data included."""
    series = store.series()
    data = store.read([routing_request(s, now_ms) for s in series], now_ms)
    per_queue: dict[str, dict[str, SeriesData]] = {q.name: {} for q in queues.queues}
    for (queue, channel), d in zip(series, data, strict=True):
        per_queue.setdefault(queue, {})[channel] = d
    return per_queue


def _one(
    queue: str, channels: dict[str, SeriesData], queues: QueuesConfig, now_ms: int
) -> tuple[bytes, bytes]:
    document = queue_snapshot(queue, channels, now_ms, queues.get(queue))
    return orjson.dumps(document), change_key(document)


def _finish(now_ms: int, bodies: dict[str, bytes], keys: dict[str, bytes]) -> Snapshots:
    index = b"".join(
        [
            b'{"generated_at":',
            orjson.dumps(iso(now_ms)),
            b',"queues":[',
            b",".join(bodies.values()),
            b"]}",
        ]
    )
    return Snapshots(now_ms, bodies, index, keys)


def build_snapshots(store: AggregateStore, queues: QueuesConfig, now_ms: int) -> Snapshots:
    """Read every series once and build every queue's snapshot (blocking)."""
    bodies: dict[str, bytes] = {}
    keys: dict[str, bytes] = {}
    for queue, channels in sorted(_read(store, queues, now_ms).items()):
        bodies[queue], keys[queue] = _one(queue, channels, queues, now_ms)
    return _finish(now_ms, bodies, keys)


async def build_snapshots_async(
    store: AggregateStore, queues: QueuesConfig, now_ms: int
) -> Snapshots:
    """As build_snapshots, but the store read runs in a thread and the queues are built on
    the loop one at a time, yielding between them: requests wait for at most one queue's
    work (a fraction of a millisecond), never for a whole refresh holding the GIL."""
    per_queue = await asyncio.to_thread(_read, store, queues, now_ms)
    bodies: dict[str, bytes] = {}
    keys: dict[str, bytes] = {}
    for queue, channels in sorted(per_queue.items()):
        bodies[queue], keys[queue] = _one(queue, channels, queues, now_ms)
        await asyncio.sleep(0)
    return _finish(now_ms, bodies, keys)


#: The store of a refresh process (made once, by the process initializer).
_child_store: AggregateStore | None = None


def _child_init(store_factory: Callable[[], AggregateStore]) -> None:
    global _child_store
    _child_store = store_factory()


def _child_build(queues: QueuesConfig, now_ms: int) -> Snapshots:
    assert _child_store is not None
    return build_snapshots(_child_store, queues, now_ms)


class RoutingCache:
    """Holds the latest Snapshots; `run` refreshes it every `refresh_ms` until cancelled.

    With a `store_factory` (picklable, e.g. a Settings' bound redis_store), background
    refreshes run in a separate process that makes its own store: reading and building
    then never compete with request handling for this process's GIL, and only the
    finished Snapshots come back (about 1 ms to unpickle for 100 queues). Without one,
    they run here: the read in a thread, the building on the loop queue by queue.
    """

    def __init__(
        self,
        store: AggregateStore,
        queues: QueuesConfig,
        clock_ms: Callable[[], int],
        refresh_ms: int = 500,
        store_factory: Callable[[], AggregateStore] | None = None,
    ) -> None:
        self.store = store
        self.queues = queues
        self.clock_ms = clock_ms
        self.refresh_ms = refresh_ms
        self.store_factory = store_factory
        self.current: Snapshots | None = None
        self.last_error: str | None = None
        self.listeners: list[Listener] = []
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            assert self.store_factory is not None
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_child_init,
                initargs=(self.store_factory,),
            )
        return self._pool

    def close(self) -> None:
        """Stop the refresh process, if any."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    async def _build(self, now_ms: int) -> Snapshots:
        if self.store_factory is None:
            return await build_snapshots_async(self.store, self.queues, now_ms)
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor(), _child_build, self.queues, now_ms)
        except BrokenProcessPool as exc:
            self._pool = None  # made again on the next refresh
            raise StoreError(f"refresh process died: {exc}") from exc

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
        """One refresh, then every listener; errors are logged, never raised."""
        try:
            snapshots = await self._build(self.clock_ms())
        except StoreError as exc:
            if str(exc) != self.last_error:  # once per distinct error, not every refresh
                log.warning("routing snapshot refresh failed: %s", exc)
            self.last_error = str(exc)
            return
        self.current, self.last_error = snapshots, None
        for listener in self.listeners:
            try:
                await listener(snapshots)
            except Exception:  # a listener must not stop the refresh loop
                log.exception("routing snapshot listener failed")

    async def run(self) -> None:
        """Refresh forever (cancel the task to stop)."""
        try:
            while True:
                await self.refresh_async()
                await asyncio.sleep(self.refresh_ms / 1000)
        finally:
            await asyncio.to_thread(self.close)
