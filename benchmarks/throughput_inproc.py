"""The pipeline's own cost, without broker or Redis: ``python -m benchmarks.throughput_inproc``.

Feeds the deterministic events of ``benchmarks.run`` (same seed, same bytes) to
``streams.consume.Pipeline`` in getmany-sized batches, with the in-memory twins of the
store and the outbox, and takes the CPU time of ``Pipeline.process`` (decode, admission,
aggregation). It isolates the per-event work a change to the hot path touches, so a
before/after ratio is steadier than wall time on a busy machine; ``benchmarks.run`` stays
the figure that counts. ``--digest`` prints a hash of every aggregate the store holds
afterwards: two versions of the code that print the same digest (within one UTC hour: the
event times start at the hour) wrote exactly the same aggregates. ``--profile`` prints
the top of a cProfile of the run instead.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import hashlib
import pstats
import sys
import time
from dataclasses import dataclass

import orjson
from prometheus_client import CollectorRegistry

from benchmarks.events import build_records, partition_for
from metrics.config.queues import QueuesConfig
from metrics.store.memory import InMemoryStore
from streams.consume import Pipeline
from streams.health import WorkerMetrics
from streams.kafka import GC_THRESHOLDS
from streams.outbox import InMemoryOutbox
from streams.settings import Settings

PARTITIONS = 4


@dataclass(frozen=True, slots=True)
class _Rec:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


def batches(n: int, seed: int, size: int) -> list[list[_Rec]]:
    """The records as ``getmany`` hands them over: per partition in offset order, up to
    ``size`` per call, partitions interleaved in turn."""
    parts: list[list[_Rec]] = [[] for _ in range(PARTITIONS)]
    for record in build_records(n, seed):
        p = partition_for(record.key, PARTITIONS)
        parts[p].append(_Rec("events", p, len(parts[p]), record.key, record.value))
    share = max(1, size // PARTITIONS)
    out: list[list[_Rec]] = []
    for start in range(0, max(len(p) for p in parts), share):
        out.append([r for p in parts for r in p[start : start + share]])
    return out


def digest(store: InMemoryStore) -> str:
    """A hash of every aggregate the store holds (not the states' byte form)."""
    body = {
        "panes": sorted(store.panes.items()),
        "intervals": sorted(store.intervals.items()),
        "hours": sorted(store.hours.items()),
        "days": sorted(store.days.items()),
        "totals": sorted(store.totals.items()),
        "agents": sorted(store.agent_counts.items()),
        "scoped": sorted(store.scoped.items()),
        "scoped_counts": sorted(store.scoped_counts.items()),
        # an empty live set is no set (Redis keeps none), however the twin came to hold it
        "members": sorted((k, sorted(v.items())) for k, v in store.members.items() if v),
        "offsets": sorted(store.offsets.items()),
    }
    text = orjson.dumps(body, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    return hashlib.sha256(text).hexdigest()[:16]


async def run(work: list[list[_Rec]], flush_every: int) -> tuple[float, InMemoryStore, int]:
    """CPU seconds in ``process``, the store, and the events applied."""
    registry = CollectorRegistry()
    store = InMemoryStore()

    async def commit(offsets: dict[str, int]) -> None:
        return None

    pipeline = Pipeline(
        Settings(),
        QueuesConfig(),
        store,
        InMemoryOutbox(),
        WorkerMetrics.create(registry),
        commit,
    )
    await pipeline.start()
    spent = 0.0
    for i, batch in enumerate(work):
        started = time.process_time()  # CPU seconds: steadier than wall time on a busy machine
        await pipeline.process(batch)
        spent += time.process_time() - started
        if (i + 1) % flush_every == 0:
            await pipeline.flush_all()
    await pipeline.flush_all()
    applied = registry.get_sample_value("ccmon_events_applied_total") or 0
    return spent, store, int(applied)


def main(argv: list[str] | None = None) -> int:
    """Build the batches once, run the pipeline over them, print events/s and the digest."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--batch", type=int, default=10_000, help="records per process call")
    parser.add_argument("--flush-every", type=int, default=1, help="batches per flush")
    parser.add_argument("--repeat", type=int, default=3, help="runs; the best is reported")
    parser.add_argument("--digest", action="store_true")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--gc-thresholds",
        type=lambda text: tuple(int(t) for t in text.split(",")),
        default=GC_THRESHOLDS,
        help="cyclic-GC thresholds A,B,C (default: the worker's, streams.kafka.GC_THRESHOLDS)",
    )
    args = parser.parse_args(argv)
    work = batches(args.n, args.seed, args.batch)
    gc.set_threshold(*args.gc_thresholds)  # as the worker's run_consumer sets them
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        asyncio.run(run(work, args.flush_every))
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        return 0
    best = None
    for _ in range(args.repeat):
        spent, store, applied = asyncio.run(run(work, args.flush_every))
        best = spent if best is None else min(best, spent)
    assert best is not None
    per_event_us = best * 1e6 / applied
    print(f"process: {applied / best:,.0f} events per CPU second ({per_event_us:.2f} us/event)")
    if args.digest:
        print(f"digest: {digest(store)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
