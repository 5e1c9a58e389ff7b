"""Deterministic ccmon v1 event generator and a fast bulk Kafka producer.

The generator walks a small contact-centre simulation (contacts get queued, then answered
and wrapped up, or abandoned; agents change state) so the event mix, keys and event times
look like production traffic. Output depends only on the seed, so every run and every
runner sees byte-identical input. Each record's Kafka timestamp is its event time, which
makes windowed consumers (Quix, ccmon) close windows as they would live.

Event times start at ``event_epoch()``: the start of the current UTC hour minus 2 h,
computed once per process. A fixed date would age out: ccmon dead-letters events older
than its 8-day retention (judged against the wall clock) and sets Redis expiry from event
time. Within one process (``benchmarks.run`` builds the records once, before any runner
starts) the output still depends only on the seed.

The producer bypasses ``send()`` per record: it partitions keys itself with the Java-client
murmur2 partitioner, fills one ``BatchBuilder`` at a time per partition and submits it with
``send_batch``: ~370k events/s here, against ~40k/s for ``send()`` per record even without
awaiting each delivery future.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import functools
import itertools
import random
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import murmur2

from metrics.fields import AGENT_STATES, CHANNELS

#: How far before the start of the current UTC hour the first event time lies.
EPOCH_BEFORE_HOUR = timedelta(hours=2)
QUEUES: tuple[str, ...] = (
    "sales",
    "support",
    "billing",
    "retention",
    "onboarding",
    "tech-l1",
    "tech-l2",
    "vip",
    "claims",
    "renewals",
    "collections",
    "fraud",
    "returns",
    "shipping",
    "loyalty",
    "partners",
    "b2b",
    "spanish",
    "french",
    "german",
)
N_AGENTS = 200

# Rough shares of each event type: most contacts get answered and wrapped up.
_W_QUEUE, _W_ANSWER, _W_WRAPUP, _W_ABANDON, _W_AGENT = 30, 25, 24, 6, 15


@functools.cache
def event_epoch() -> datetime:
    """Event time of the first event: start of the current UTC hour minus 2 h, fixed per process.

    Recent enough for ccmon's 8-day retention and Redis expiries, old enough that the
    ~200 s of event time in a 200k-event run never reaches the future.
    """
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return hour - EPOCH_BEFORE_HOUR


@dataclass(frozen=True, slots=True)
class Record:
    """One serialised Kafka record: key, JSON value and timestamp (ms since epoch)."""

    key: bytes
    value: bytes
    timestamp_ms: int


class IsoClock:
    """Formats epoch milliseconds as RFC 3339 UTC (``...T10:00:00.123Z``), caching the second.

    ``strftime`` per event was the generator's hottest call; event times are monotonic, so
    the second-resolution prefix changes only once per ~1000 events.
    """

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def __call__(self, ts_ms: int) -> str:
        second, ms = divmod(ts_ms, 1000)
        if second != self._second:
            self._second = second
            self._prefix = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        return f"{self._prefix}{ms:03d}Z"


def generate_events(
    n: int, seed: int = 42, epoch_ms: int | None = None
) -> Iterator[tuple[str, dict[str, Any], int]]:
    """Yield ``(key, envelope, event_time_ms)`` for ``n`` events, deterministically from ``seed``.

    Contacts move queued -> answered -> wrapup_completed or queued -> abandoned; agents
    emit ``agent.state_changed``. Event time starts at ``epoch_ms`` (default
    ``event_epoch()``) and advances by 0-2 ms per event (mean ~1 ms).
    """
    rng = random.Random(seed)
    agents = [f"a-{i:04d}" for i in range(N_AGENTS)]
    agent_queues = {a: rng.sample(QUEUES, rng.randint(1, 4)) for a in agents}
    waiting: list[tuple[str, str, str]] = []  # (contact_id, queue, channel)
    talking: list[tuple[str, str, str, str]] = []  # (contact_id, queue, channel, agent_id)
    next_contact = 0
    if epoch_ms is None:
        epoch_ms = int(event_epoch().timestamp() * 1000)
    ts_ms = epoch_ms + 123
    iso = IsoClock()
    kinds = ("queue", "answer", "wrapup", "abandon", "agent")
    cum = list(itertools.accumulate((_W_QUEUE, _W_ANSWER, _W_WRAPUP, _W_ABANDON, _W_AGENT)))
    for _ in range(n):
        ts_ms += rng.randint(0, 2)
        kind = kinds[bisect.bisect(cum, rng.random() * cum[-1])]
        if kind in ("answer", "abandon") and not waiting:
            kind = "queue"
        elif kind == "wrapup" and not talking:
            kind = "answer" if waiting else "queue"
        data: dict[str, Any]
        if kind == "queue":
            contact = f"c-{next_contact:07d}"
            next_contact += 1
            item = (contact, rng.choice(QUEUES), rng.choice(CHANNELS))
            waiting.append(item)
            key, etype = contact, "contact.queued"
            data = {"contact_id": contact, "queue": item[1], "channel": item[2]}
        elif kind == "answer":
            contact, queue, channel = waiting.pop(rng.randrange(len(waiting)))
            agent = rng.choice(agents)
            talking.append((contact, queue, channel, agent))
            key, etype = contact, "contact.answered"
            data = {"contact_id": contact, "queue": queue, "channel": channel, "agent_id": agent}
        elif kind == "abandon":
            contact, queue, channel = waiting.pop(rng.randrange(len(waiting)))
            key, etype = contact, "contact.abandoned"
            data = {"contact_id": contact, "queue": queue, "channel": channel}
        elif kind == "wrapup":
            contact, queue, channel, agent = talking.pop(rng.randrange(len(talking)))
            key, etype = contact, "contact.wrapup_completed"
            data = {
                "contact_id": contact,
                "queue": queue,
                "channel": channel,
                "agent_id": agent,
                "talk_s": round(rng.lognormvariate(5.3, 0.6), 1),
                "hold_s": round(rng.expovariate(1 / 20), 1) if rng.random() < 0.3 else 0.0,
                "acw_s": round(rng.uniform(10, 120), 1),
            }
        else:
            agent = rng.choice(agents)
            key, etype = agent, "agent.state_changed"
            data = {
                "agent_id": agent,
                "state": rng.choice(AGENT_STATES),
                "queues": agent_queues[agent],
            }
        envelope = {
            "specversion": "1.0",
            "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "type": etype,
            "time": iso(ts_ms),
            "source": "bench",
            "data": data,
        }
        yield key, envelope, ts_ms


def build_records(n: int, seed: int = 42) -> list[Record]:
    """Serialise ``n`` generated events into Kafka records (orjson, UTF-8 keys)."""
    return [
        Record(key.encode(), orjson.dumps(env), ts) for key, env, ts in generate_events(n, seed)
    ]


def partition_for(key: bytes, partitions: int) -> int:
    """Partition like the Java client's default partitioner (murmur2 of the key)."""
    return int(murmur2(key) & 0x7FFFFFFF) % partitions


async def produce_records(
    bootstrap: str,
    topic: str,
    records: Sequence[Record],
    *,
    batch_bytes: int = 1 << 20,
) -> dict[str, Any]:
    """Write ``records`` to ``topic`` in large per-partition batches; return timing figures.

    Each partition is filled by its own task so the four partitions' requests overlap;
    aiokafka keeps at most one in-flight batch per partition, so this is the natural limit.
    """
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks=1,
        linger_ms=0,
        max_batch_size=batch_bytes,
        max_request_size=batch_bytes * 2,
        enable_idempotence=False,
    )
    await producer.start()
    try:
        partitions = sorted(await producer.partitions_for(topic))
        by_partition: dict[int, list[Record]] = {p: [] for p in partitions}
        for rec in records:
            by_partition[partitions[partition_for(rec.key, len(partitions))]].append(rec)

        async def fill(partition: int, recs: list[Record]) -> int:
            futures: list[asyncio.Future[Any]] = []
            batch = producer.create_batch()
            for rec in recs:
                while (
                    batch.append(key=rec.key, value=rec.value, timestamp=rec.timestamp_ms) is None
                ):
                    if not batch.record_count():
                        raise ValueError(f"a record does not fit in batch_bytes={batch_bytes}")
                    futures.append(await producer.send_batch(batch, topic, partition=partition))
                    batch = producer.create_batch()
            if batch.record_count():
                futures.append(await producer.send_batch(batch, topic, partition=partition))
            await asyncio.gather(*futures)
            return len(futures)

        t0 = time.perf_counter()
        batches = await asyncio.gather(*(fill(p, r) for p, r in by_partition.items()))
        seconds = time.perf_counter() - t0
    finally:
        await producer.stop()
    return {
        "records": len(records),
        "bytes": sum(len(r.value) + len(r.key) for r in records),
        "batches": sum(batches),
        "per_partition": {str(p): len(r) for p, r in by_partition.items()},
        "seconds": round(seconds, 3),
        "events_per_s": round(len(records) / seconds) if seconds else None,
    }


def type_mix(records: Sequence[Record]) -> dict[str, int]:
    """Count events per ``type`` (for the results file, to document the mix)."""
    counts: dict[str, int] = {}
    for rec in records:
        etype = orjson.loads(rec.value)["type"]
        counts[etype] = counts.get(etype, 0) + 1
    return dict(sorted(counts.items()))


def main() -> None:
    """CLI: produce N events to an existing topic (``python -m benchmarks.events``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    records = build_records(args.n, args.seed)
    print(orjson.dumps(asyncio.run(produce_records(args.bootstrap, args.topic, records))).decode())


if __name__ == "__main__":
    main()
