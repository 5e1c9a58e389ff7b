"""The state cache trim: a long-running worker drops the states and event ids that did not
change for a trim period (they reload from the store), and every figure stays exact."""

from __future__ import annotations

import itertools

import orjson
from prometheus_client import CollectorRegistry

from metrics.config.queues import QueueConfig, QueuesConfig
from metrics.store.memory import InMemoryStore
from streams.consume import Pipeline
from streams.health import WorkerMetrics
from streams.outbox import InMemoryOutbox
from streams.settings import Settings
from streams.testing.events import T0, contact
from tests.traffic import messy_stream
from tests.unit.streams.test_consume import Rec

QUEUES = QueuesConfig(queues=tuple(QueueConfig(name=q) for q in ("sales", "support", "billing")))
TRIM_S = 60
S = 1000


def pipeline(store: InMemoryStore, trim_s: float) -> Pipeline:
    async def commit(_: dict[str, int]) -> None:
        return None

    settings = Settings(cache_trim_s=trim_s, flush_interval_ms=1)
    metrics = WorkerMetrics.create(CollectorRegistry())
    wall = itertools.count(T0 + 6 * 3_600_000, 1000)  # a flush is due at every call
    return Pipeline(
        settings, QUEUES, store, InMemoryOutbox(), metrics, commit, clock_ms=lambda: next(wall)
    )


def records(contacts: int, seed: int) -> list[Rec]:
    events = messy_stream(T0, contacts=contacts, seed=seed)
    return [Rec("events", 0, i, None, orjson.dumps(e)) for i, e in enumerate(events)]


async def run(recs: list[Rec], batch: int, trim_s: float) -> tuple[InMemoryStore, int]:
    """The store after all `recs`, flushed after each batch of `batch`, and how many
    times the cache was trimmed."""
    store = InMemoryStore()
    p = pipeline(store, trim_s)
    trims = 0
    trim = p.trim

    def counted() -> None:
        nonlocal trims
        trims += 1
        trim()

    p.trim = counted  # type: ignore[method-assign]
    await p.start()
    for i in range(0, len(recs), batch):
        await p.process(recs[i : i + batch])
        await p.flush_all()
        await p.maybe_flush()
    await p.flush_all()
    return store, trims


async def test_trimming_after_almost_every_batch_gives_exactly_the_untrimmed_figures() -> None:
    """messy_stream's batches of 40 events move the newest event time by seconds to
    minutes: with a 1 s period most flushes trim, and the next events reload their states."""
    recs = records(contacts=300, seed=11)
    untrimmed, none = await run(recs, batch=40, trim_s=1e9)
    trimmed, trims = await run(recs, batch=40, trim_s=1)
    assert none == 0 and trims > len(recs) // 40 // 2
    assert trimmed.panes == untrimmed.panes
    assert trimmed.totals == untrimmed.totals
    assert trimmed.scoped == untrimmed.scoped
    assert trimmed.states == untrimmed.states
    assert trimmed.members == untrimmed.members
    assert sum(trimmed.totals[("sales", "voice")].values()) > 0


async def test_a_trim_keeps_the_states_that_changed_since_the_last_and_drops_the_rest() -> None:
    p = pipeline(InMemoryStore(), TRIM_S)
    await p.start()
    steps = [
        contact("contact.queued", T0, "c1"),
        contact("contact.queued", T0 + 2 * TRIM_S * S, "c2"),  # trims: c1, c2 changed
        contact("contact.answered", T0 + 4 * TRIM_S * S, "c2"),  # trims: only c2 changed
    ]
    cached = []
    for offset, event in enumerate(steps):
        await p.process([Rec("events", 0, offset, None, orjson.dumps(event))])
        await p.flush_all()
        await p.maybe_flush()
        cached.append(sorted(p.aggregator.contacts))
    assert cached == [["c1"], ["c1", "c2"], ["c2"]]
    assert list(p._recent_ids) == [steps[-1]["id"]]  # ids older than a period are dropped
