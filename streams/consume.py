"""The consumption pipeline: records in, core, flush to the store, then commit.

Kafka is reached only through two callables (commit, and the dead-letter sink), so the
same Pipeline runs under the Kafka runner and in functional tests.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from metrics.clock import wall_ms
from metrics.config.queues import QueuesConfig
from metrics.core.admission import Admission, Verdict
from metrics.core.aggregator import Aggregator
from metrics.core.update import Update
from metrics.events import AgentStateChanged, ContactResolution, Event, TicketCreated
from metrics.store.base import AggregateStore, FencedError, StoreError
from streams.deadletter import DeadLetter, Record
from streams.decode import DecodeError, decode
from streams.health import WorkerMetrics
from streams.outbox import Outbox
from streams.rekey import customer_contact_record
from streams.settings import Settings

__all__ = ["Committer", "Pipeline"]

log = logging.getLogger(__name__)

_T = TypeVar("_T")

#: A record that decoded, its "topic:partition" and its event.
_Decoded = tuple[Record, str, Event]
#: "topic:partition" -> (first, last) offset read in a batch
_Offsets = dict[str, tuple[int, int]]

#: Commit offsets: "topic:partition" -> next offset to read.
Committer = Callable[[dict[str, int]], Awaitable[None]]

#: Cached contact and agent states plus remembered event ids beyond this are dropped
#: after a full flush (they are all in the store by then).
CACHE_LIMIT = 1_000_000


def _names_customer(event: Event) -> bool:
    return isinstance(event, ContactResolution | TicketCreated) and bool(event.customer_id)


def _queues_of(event: Event) -> Sequence[str]:
    return event.queues if isinstance(event, AgentStateChanged) else (event.queue,)


class Pipeline:
    """Decode, admit and aggregate batches; flush them atomically; commit after."""

    def __init__(
        self,
        settings: Settings,
        queues: QueuesConfig,
        store: AggregateStore,
        outbox: Outbox,
        metrics: WorkerMetrics,
        commit: Committer,
        clock_ms: Callable[[], int] = wall_ms,
    ) -> None:
        self.settings = settings
        self.store = store
        self.outbox = outbox
        self.metrics = metrics
        self.commit = commit
        self.clock_ms = clock_ms
        # Admission takes events down to the watermark (newest - lateness) minus the retention.
        reach_ms = (settings.retention_s + settings.lateness_s) * 1000
        self.aggregator = Aggregator(queues, retention_ms=reach_ms)
        salt = settings.customer_id_salt
        self._salt = None if salt is None else salt.get_secret_value().encode()
        self.admission = Admission(
            lateness_ms=settings.lateness_s * 1000,
            retention_ms=settings.retention_s * 1000,
            max_queues=settings.max_queues,
            known_queues={q.name for q in queues.queues},
        )
        #: last offset applied per "topic:partition", as the store knows it
        self.applied: dict[str, int] = {}
        self._recent_ids: dict[str, int] = {}
        self._pending_records = 0
        self._flush_task: asyncio.Task[None] | None = None
        self._last_flush_ms = 0
        self._stale_seen = 0
        self._over_cap_seen = 0
        self._seen: set[str] = set()
        #: held while a batch is applied; a rebalance takes it to flush and forget safely
        self.lock = asyncio.Lock()

    async def start(self) -> None:
        """Read what the store already holds: applied offsets and known queues."""
        self.applied = await asyncio.to_thread(self.store.load_offsets)
        known = await asyncio.to_thread(self.store.known_queues)
        self.admission.known_queues |= known
        self.metrics.redis_up.set(1)

    async def process(self, records: Sequence[Record]) -> None:
        """Apply one batch of records to the pending update."""
        async with self.lock:
            await self._process(records)

    async def _process(self, records: Sequence[Record]) -> None:
        """Decode the new records, load what they touch, then apply them (lock held)."""
        wall = self.clock_ms()
        decoded, offsets, consumed = self._decode_new(records)
        if not offsets:
            return
        self.metrics.consumed.inc(consumed)
        self._pending_records += consumed
        if decoded:
            await self._prepare([event for _, _, event in decoded])
        update = self.aggregator.update  # only now: no await from here to the end
        applied = self._admit(decoded, update, wall)
        for tp, (first, last) in offsets.items():
            update.mark_offset(tp, first)
            update.mark_offset(tp, last)
        self.metrics.applied.inc(applied)
        update.new_queues |= self.admission.take_new_queues()
        self._count_aggregator_drops()

    def _decode_new(self, records: Sequence[Record]) -> tuple[list[_Decoded], _Offsets, int]:
        """Decode the records not applied yet; dead-letter those that do not decode.

        Returns the decoded ones, the first and last offset read per partition, and how
        many records were new.
        """
        decoded: list[_Decoded] = []
        names: dict[tuple[str, int], str] = {}
        offsets: _Offsets = {}
        limit = self.settings.max_event_bytes
        consumed = 0
        for record in records:
            tp = names.get((record.topic, record.partition))
            if tp is None:
                tp = names[(record.topic, record.partition)] = f"{record.topic}:{record.partition}"
            if record.offset <= self.applied.get(tp, -1):
                continue  # applied by an earlier flush (replay after a crash)
            consumed += 1
            seen = offsets.get(tp)
            offsets[tp] = (record.offset if seen is None else seen[0], record.offset)
            try:
                event = decode(record.value or b"", limit)
            except DecodeError as exc:
                self._reject(record, exc.reason, exc.detail)
                continue
            decoded.append((record, tp, event))
        return decoded, offsets, consumed

    def _admit(self, decoded: list[_Decoded], update: Update, wall: int) -> int:
        """Apply the events admission lets in to `update`, count or dead-letter the rest.

        Returns how many were applied. Synchronous: nothing else may write to `update`.
        """
        applied = 0
        for record, tp, event in decoded:
            duplicate = event.id in self._recent_ids or event.id in self._seen
            verdict = self.admission.judge(tp, event.time_ms, _queues_of(event), duplicate, wall)
            if verdict is Verdict.APPLY or verdict is Verdict.LATE_CORRECTION:
                if verdict is Verdict.LATE_CORRECTION:
                    self.metrics.late.labels("corrected").inc()
                self.aggregator.apply(event)
                if _names_customer(event):
                    self._forward_customer(event)
                applied += 1
                self._recent_ids[event.id] = event.time_ms
                update.seen[event.id] = event.time_ms
                if event.time_ms > update.event_time.get(tp, 0):
                    update.event_time[tp] = event.time_ms
            elif verdict is Verdict.DUPLICATE:
                self.metrics.duplicates.inc()
            elif verdict is Verdict.TOO_LATE:
                self.metrics.late.labels("too_late").inc()
                self._reject(record, verdict.value, f"event time {event.time_ms} ms is too old")
            else:
                self._reject(record, verdict.value, f"queue cap {self.settings.max_queues}")
        return applied

    def _count_aggregator_drops(self) -> None:
        """Add the aggregator's new stale agent events and over-cap contacts to the metrics."""
        stale = self.aggregator.stale_agent_events
        if stale > self._stale_seen:
            self.metrics.stale_agent_events.inc(stale - self._stale_seen)
            self._stale_seen = stale
        over_cap = self.aggregator.customer_contacts_over_cap
        if over_cap > self._over_cap_seen:
            self.metrics.customer_contacts.labels("over_cap").inc(over_cap - self._over_cap_seen)
            self._over_cap_seen = over_cap

    async def _prepare(self, events: list[Event]) -> None:
        """Look up duplicate ids and load the states the batch touches, off the loop."""
        ids = {e.id: e.time_ms for e in events if e.id not in self._recent_ids}
        wanted = self.aggregator.missing(events)

        def lookups() -> tuple[set[str], dict[str, dict[str, Any]]]:
            seen = self.store.seen(ids) if ids else set()
            return seen, self.store.load_states(wanted) if wanted else {}

        self._seen, found = await self._retrying(lookups)
        self.aggregator.load(found)

    def _forward_customer(self, event: Event) -> None:
        assert isinstance(event, ContactResolution | TicketCreated)
        if self._salt is None:
            self.metrics.customer_contacts.labels("no_salt").inc()
            return
        record = customer_contact_record(event, self._salt)
        if record is not None:
            self.outbox.forward(*record)
            self.metrics.customer_contacts.labels("forwarded").inc()

    def _reject(self, record: Record, reason: str, detail: str) -> None:
        self.metrics.rejected.labels(reason).inc()
        self.outbox.dead_letter(
            DeadLetter(
                reason,
                detail,
                record.topic,
                record.partition,
                record.offset,
                record.key,
                record.value or b"",
            )
        )

    async def maybe_flush(self) -> None:
        """Start a flush when one is due and none runs; apply backpressure when behind."""
        task = self._flush_task
        if task is not None and task.done():
            self._flush_task = None
            task.result()  # re-raise a failed flush
        elif task is not None:
            if self._pending_records >= self.settings.max_pending_events:
                await task  # the store is slow: stop reading until it caught up
                self._flush_task = None
            return
        now = self.clock_ms()
        if now - self._last_flush_ms >= self.settings.flush_interval_ms:
            self._last_flush_ms = now
            if self.aggregator.cached() + len(self._recent_ids) > CACHE_LIMIT:
                await self.flush_all()
                self.forget()
            else:
                self._start_flush()

    def _start_flush(self) -> None:
        """Drain now and flush in a task that first waits for the flush before it.

        Draining synchronously lets the next batch write to a fresh Update while this one
        is serialised in a thread; chaining keeps flushes in offset order, which the
        store's offset fence requires.
        """
        update, records = self._drain()
        self._flush_task = asyncio.create_task(self._flush(update, records, self._flush_task))

    async def flush_all(self) -> None:
        """Flush everything pending and wait for it (on revoke, stop, cache trim)."""
        self._start_flush()
        task, self._flush_task = self._flush_task, None
        if task is not None:
            await task

    def forget(self) -> None:
        """Drop cached states; only call when nothing is pending (after flush_all)."""
        self.aggregator.forget()
        self._recent_ids.clear()

    def _drain(self) -> tuple[Update, int]:
        records, self._pending_records = self._pending_records, 0
        return self.aggregator.drain(), records

    async def _flush(
        self, update: Update, records: int, previous: asyncio.Task[None] | None
    ) -> None:
        if previous is not None:
            await previous
        if update.is_empty():
            return
        # Dead letters and forwarded events first: once the store records the offsets the
        # records that caused them are never re-read.
        await self.outbox.delivered()
        started = time.perf_counter()
        try:
            await self._retrying(lambda: self.store.flush(update, self.clock_ms()))
        except FencedError:
            log.error("flush fenced: another worker applied these offsets; reloading state")
            self.forget()
            self.applied = await asyncio.to_thread(self.store.load_offsets)
            return
        self.metrics.flush_seconds.observe(time.perf_counter() - started)
        self.metrics.flushed_events.inc(records)
        for tp, (_, last) in update.offsets.items():
            self.applied[tp] = max(self.applied.get(tp, -1), last)
        latest = max(update.event_time.values(), default=None)
        if latest is not None:
            self.metrics.last_event_time.set(latest / 1000)
        await self.commit({tp: last + 1 for tp, (_, last) in update.offsets.items()})

    async def _retrying(self, call: Callable[[], _T]) -> _T:
        """Run a store call in a thread, retrying with backoff while the store is down."""
        delay = 0.1
        while True:
            try:
                result = await asyncio.to_thread(call)
            except FencedError:
                raise
            except StoreError as exc:
                self.metrics.redis_up.set(0)
                self.metrics.flush_failures.inc()
                log.warning("store unavailable (%s); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            else:
                self.metrics.redis_up.set(1)
                return result

    def observe_time(self) -> None:
        """Refresh the watermark and event-time lag gauges (called on a timer)."""
        wall = self.clock_ms()
        newest = None
        for tp, mark in self.admission.watermarks.items():
            value = mark.value(wall)
            if value is not None:
                self.metrics.watermark.labels(tp).set(value / 1000)
            if mark.max_event_ms is not None:
                newest = max(newest or mark.max_event_ms, mark.max_event_ms)
        if newest is not None:
            self.metrics.event_time_lag.set(max(0, wall - newest) / 1000)
