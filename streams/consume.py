"""The consumption pipeline: records in, core, flush to the store, then commit.

Kafka is reached only through a commit callable and the outbox (dead letters, forwarded
records), so the same Pipeline runs under the Kafka runner and in functional tests. Store
calls are retried with backoff while Redis is away; `backlogged` tells the runner to pause
fetching while the outbox or the pending flush is full.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any, TypeVar

from metrics.clock import wall_ms
from metrics.config.queues import QueuesConfig
from metrics.core.admission import Admission, Verdict
from metrics.core.agent_views import directory_capacity, directory_teams
from metrics.core.aggregator import Aggregator
from metrics.core.update import Update
from metrics.events import AgentStateChanged, ContactResolution, Event, TicketCreated
from metrics.store.base import AggregateStore, FencedError, StoreError, StoreLostError
from streams.deadletter import DeadLetter, DeadLetterLog, Record
from streams.decode import DecodeError, decode
from streams.faults import store_retriable
from streams.health import WorkerMetrics
from streams.healthserver import Readiness
from streams.outbox import Outbox
from streams.rekey import customer_contact_record
from streams.retry import Outage, retry_until_stopped
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
#: after a full flush (they are all in the store by then). Every CCMON_CACHE_TRIM_S the
#: ones that did not change are dropped too (Pipeline.trim), so this is rarely reached.
CACHE_LIMIT = 1_000_000


#: The event classes that may name a customer (checked by class first: it runs per event).
_CUSTOMER_NAMING = frozenset((ContactResolution, TicketCreated))


def _names_customer(event: Event) -> bool:
    return isinstance(event, ContactResolution | TicketCreated) and bool(event.customer_id)


@contextlib.contextmanager
def _collector_held() -> Iterator[None]:
    """Hold the cyclic garbage collector over a synchronous step of a batch.

    A batch allocates tens of thousands of objects that live to its end (events, states,
    pane deltas): the collector would scan them, and the cached states behind them, dozens
    of times per batch (measured: about 40 % of the per-event cost at 200k events).
    Reference counting still frees what dies; the collector runs once the step is done.
    No other task runs meanwhile: the step does not await (held across the batch's store
    lookup it measured about 10 % cheaper, but a Redis outage there would hold it for
    every task of the worker until Redis is back).
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


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
        readiness: Readiness | None = None,
        stop: asyncio.Event | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.outbox = outbox
        self.metrics = metrics
        self.commit = commit
        self.clock_ms = clock_ms
        self.readiness = readiness or Readiness(settings.ready_flush_age_s)
        #: set when the worker stops: start-up retries end then
        self.stop = stop
        self._store_outage = Outage("Redis (the aggregate store)", log)
        self.deadletter_log = DeadLetterLog(settings.deadletter_log_interval_s)
        # Admission takes events down to the watermark (newest - lateness) minus the retention.
        reach_ms = (settings.retention_s + settings.lateness_s) * 1000
        directory = settings.agents(queues)
        self.aggregator = Aggregator(
            queues,
            retention_ms=reach_ms,
            lateness_ms=settings.lateness_s * 1000,
            agent_teams=directory_teams(directory),
            agent_capacity=directory_capacity(directory),
        )
        salt = settings.customer_id_salt
        self._salt = None if salt is None else salt.get_secret_value().encode()
        self.admission = Admission(
            lateness_ms=settings.lateness_s * 1000,
            retention_ms=settings.retention_s * 1000,
            max_queues=settings.max_queues,
            max_future_ms=settings.max_future_s * 1000,
            known_queues={q.name for q in queues.queues},
        )
        #: last offset applied per "topic:partition", as the store knows it
        self.applied: dict[str, int] = {}
        self._recent_ids: dict[str, int] = {}
        self._pending_records = 0
        self._flush_task: asyncio.Task[None] | None = None
        self._last_flush_ms = 0
        #: the newest event time at the last cache trim (None until the first flush)
        self._trimmed_at_ms: int | None = None
        self._stale_seen = 0
        self._over_cap_seen = 0
        self._seen: set[str] = set()
        #: set when the store lost what this worker wrote; the runner then calls rebuild()
        self.lost = False
        #: held while a batch is applied; a rebalance takes it to flush and forget safely
        self.lock = asyncio.Lock()

    async def start(self) -> None:
        """Read what the store already holds: applied offsets and known queues.

        Retried while Redis is away; only a stop ends the wait (re-raising its error).
        """
        self.applied, known = await self._retrying(self._claim_and_load, stop=self.stop)
        self.admission.known_queues |= known
        if self.lost:  # found lost during a rebalance: the assignment rewinds what is missing
            self.admission.watermarks.clear()
            self.lost = False

    def _claim_and_load(self) -> tuple[dict[str, int], set[str]]:
        """Adopt the store's generation (every later flush is checked against it), then
        read the offsets and queues written under it."""
        self.store.claim_generation()
        return self.store.load_offsets(), self.store.known_queues()

    def store_lost(self, reason: str) -> None:
        """Note that the store no longer holds this worker's writes: count and log it once,
        and let the runner rebuild (no flush is written meanwhile)."""
        if self.lost:
            return
        self.lost = True
        self.metrics.store_lost.inc()
        log.error(
            "the store lost its data (%s): Redis restarted without persistence, was flushed "
            "or evicted keys; rebuilding from the earliest offsets Kafka still holds",
            reason,
        )

    async def check_store(self) -> None:
        """Find a lost store even on a worker with nothing to flush (called on a timer)."""
        if not self.lost and not await self._retrying(self.store.holds_generation):
            self.store_lost("its generation marker is gone")

    async def rebuild(self) -> None:
        """Drop everything built on the lost data and adopt the store's new generation; the
        caller then rewinds its partitions to the earliest offsets (lock held)."""
        task, self._flush_task = self._flush_task, None
        if task is not None:
            await task  # the chained flushes end without writing: the store is lost
        self._drain()
        self.forget()
        self.admission.watermarks.clear()
        self.applied, known = await self._retrying(self._claim_and_load, stop=self.stop)
        self.admission.known_queues |= known
        self.lost = False

    async def process(self, records: Sequence[Record]) -> None:
        """Apply one batch of records to the pending update."""
        async with self.lock:
            await self._process(records)

    async def _process(self, records: Sequence[Record]) -> None:
        """Decode the new records, load what they touch, then apply them (lock held)."""
        wall = self.clock_ms()
        with _collector_held():
            decoded, offsets, consumed = self._decode_new(records)
        if not offsets:
            return
        self.metrics.consumed.inc(consumed)
        self._pending_records += consumed
        if decoded:
            await self._prepare([event for _, _, event in decoded])
        update = self.aggregator.update  # only now: no await from here to the end
        with _collector_held():
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
        many records were new. Runs per record: names and lookups are bound once.
        """
        decoded: list[_Decoded] = []
        append = decoded.append
        names: dict[tuple[str, int], tuple[str, int]] = {}
        firsts: dict[str, int] = {}
        lasts: dict[str, int] = {}
        limit = self.settings.max_event_bytes
        applied = self.applied
        consumed = 0
        for record in records:
            part = (record.topic, record.partition)
            known = names.get(part)
            if known is None:
                tp = f"{record.topic}:{record.partition}"
                known = names[part] = (tp, applied.get(tp, -1))
            tp, done = known
            offset = record.offset
            if offset <= done:
                continue  # applied by an earlier flush (replay after a crash)
            consumed += 1
            if tp not in lasts:
                firsts[tp] = offset
            lasts[tp] = offset
            try:
                event = decode(record.value or b"", limit)
            except DecodeError as exc:
                self._reject(record, exc.reason, exc.detail)
                continue
            append((record, tp, event))
        offsets = {tp: (first, lasts[tp]) for tp, first in firsts.items()}
        return decoded, offsets, consumed

    def _admit(self, decoded: list[_Decoded], update: Update, wall: int) -> int:
        """Apply the events admission lets in to `update`, count or dead-letter the rest.

        Returns how many were applied. Synchronous: nothing else may write to `update`.
        """
        admitted: list[Event] = []
        recent, seen_ids = self._recent_ids, self._seen
        seen, event_time = update.seen, update.event_time
        judge, apply = self.admission.judge, admitted.append
        # Runs per event: names bound once, the queues of an event without a call.
        applied, corrected, naming = Verdict.APPLY, Verdict.LATE_CORRECTION, _CUSTOMER_NAMING
        for record, tp, event in decoded:
            event_id, time_ms = event.id, event.time_ms
            queues = event.queues if isinstance(event, AgentStateChanged) else (event.queue,)
            duplicate = event_id in recent or event_id in seen_ids
            verdict = judge(tp, time_ms, queues, duplicate, wall)
            if verdict is applied or verdict is corrected:
                if verdict is corrected:
                    self.metrics.late.labels("corrected").inc()
                apply(event)
                if event.__class__ in naming and _names_customer(event):
                    self._forward_customer(event)
                recent[event_id] = seen[event_id] = time_ms
                if time_ms > event_time.get(tp, 0):
                    event_time[tp] = time_ms
            elif verdict is Verdict.DUPLICATE:
                self.metrics.duplicates.inc()
            elif verdict is Verdict.TOO_LATE:
                self.metrics.late.labels("too_late").inc()
                self._reject(record, verdict.value, f"event time {event.time_ms} ms is too old")
            elif verdict is Verdict.TOO_EARLY:
                ahead_s = (event.time_ms - wall) / 1000
                self._reject(
                    record,
                    verdict.value,
                    f"event time {event.time_ms} ms is {ahead_s:.0f} s ahead of the wall clock "
                    f"(CCMON_MAX_FUTURE_S {self.settings.max_future_s})",
                )
            else:
                self._reject(record, verdict.value, f"queue cap {self.settings.max_queues}")
        self.aggregator.apply_all(admitted)  # per batch: a contact's events merge first
        return len(admitted)

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
        letter = DeadLetter(
            reason,
            detail,
            record.topic,
            record.partition,
            record.offset,
            record.key,
            record.value or b"",
        )
        self.deadletter_log.note(letter, self.clock_ms() / 1000)
        self.outbox.dead_letter(letter)

    def backlogged(self) -> bool:
        """True while fetching should pause: the outbox is full, or a flush is slow and
        the records read since have reached CCMON_MAX_PENDING_EVENTS."""
        if self.outbox.full():
            return True
        task = self._flush_task
        flushing = task is not None and not task.done()
        return flushing and self._pending_records >= self.settings.max_pending_events

    async def maybe_flush(self) -> None:
        """Start a flush when one is due and none runs (the runner pauses when behind)."""
        task = self._flush_task
        if task is not None and task.done():
            self._flush_task = None
            task.result()  # re-raise a failed flush
        elif task is not None:
            return
        now = self.clock_ms()
        if now - self._last_flush_ms >= self.settings.flush_interval_ms:
            self._last_flush_ms = now
            if self.aggregator.cached() + len(self._recent_ids) > CACHE_LIMIT:
                await self.flush_all()
                self.forget()
            elif self._trim_due():
                await self.flush_all()
                self.trim()
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

    def _newest_event_ms(self) -> int | None:
        times = (mark.max_event_ms for mark in self.admission.watermarks.values())
        return max((t for t in times if t is not None), default=None)

    def _trim_due(self) -> bool:
        """True once the newest event is a trim period past the last trim: by event time,
        so a catch-up at speed trims as often per day of events as live operation does."""
        newest = self._newest_event_ms()
        if newest is None:
            return False
        if self._trimmed_at_ms is None:
            self._trimmed_at_ms = newest
        return newest - self._trimmed_at_ms >= self.settings.cache_trim_s * 1000

    def trim(self) -> None:
        """Drop the states that did not change since the last trim and the ids of events
        older than one trim period before the newest one; only call when nothing is
        pending (after flush_all). Both are caches: the store has them."""
        self._trimmed_at_ms = self._newest_event_ms()
        dropped = self.aggregator.trim()
        recent = self._recent_ids
        if recent:
            floor = max(recent.values()) - int(self.settings.cache_trim_s * 1000)
            self._recent_ids = {i: t for i, t in recent.items() if t >= floor}
        log.debug(
            "cache trimmed: %d states, %d event ids", dropped, len(recent) - len(self._recent_ids)
        )

    def _drain(self) -> tuple[Update, int]:
        records, self._pending_records = self._pending_records, 0
        return self.aggregator.drain(), records

    async def _flush(
        self, update: Update, records: int, previous: asyncio.Task[None] | None
    ) -> None:
        if previous is not None:
            await previous
        # Dead letters and forwarded events first: once the store records the offsets the
        # records that caused them are never re-read.
        await self.outbox.delivered()
        if update.is_empty():
            self.readiness.flushed()
            return
        if self.lost:
            return  # written on nothing: the rebuild re-reads these records
        started = time.perf_counter()
        try:
            await self._retrying(lambda: self.store.flush(update, self.clock_ms()))
        except StoreLostError as exc:
            self.store_lost(str(exc))
            return
        except FencedError:
            log.error("flush fenced: another worker applied these offsets; reloading state")
            self.forget()
            self.applied = await self._retrying(self.store.load_offsets)
            return
        self.readiness.flushed()
        self.metrics.flush_seconds.observe(time.perf_counter() - started)
        self.metrics.flushed_events.inc(records)
        for tp, (_, last) in update.offsets.items():
            self.applied[tp] = max(self.applied.get(tp, -1), last)
        latest = max(update.event_time.values(), default=None)
        if latest is not None:
            self.metrics.last_event_time.set(latest / 1000)
        await self.commit({tp: last + 1 for tp, (_, last) in update.offsets.items()})

    async def _retrying(self, call: Callable[[], _T], stop: asyncio.Event | None = None) -> _T:
        """Run a store call in a thread, retrying with backoff while the store is down.

        A fence, a lost store or refused credentials are raised at once; the outage is
        logged when it starts and when it ends.
        """

        async def attempt() -> _T:
            try:
                result = await asyncio.to_thread(call)
            except StoreError as exc:
                if store_retriable(exc):  # unreachable, not refused or fenced
                    self.metrics.redis_up.set(0)
                    self.readiness.store_ok = False
                    self.metrics.flush_failures.inc()
                raise
            self.metrics.redis_up.set(1)
            self.readiness.store_ok = True
            return result

        return await retry_until_stopped(
            attempt,
            store_retriable,
            self._store_outage,
            max_wait_s=self.settings.delivery_max_backoff_s,
            stop=stop,
        )

    def observe_time(self) -> None:
        """Refresh the watermark and event-time lag gauges, and log the dead-letter counts
        that are due (called on a timer)."""
        wall = self.clock_ms()
        self.deadletter_log.tick(wall / 1000)
        newest = None
        for tp, mark in self.admission.watermarks.items():
            value = mark.value(wall)
            if value is not None:
                self.metrics.watermark.labels(tp).set(value / 1000)
            if mark.max_event_ms is not None:
                newest = max(newest or mark.max_event_ms, mark.max_event_ms)
        if newest is not None:
            self.metrics.event_time_lag.set(max(0, wall - newest) / 1000)
