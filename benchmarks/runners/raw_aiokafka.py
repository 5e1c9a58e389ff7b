"""Ceiling: a plain aiokafka consumer doing ``getmany`` batches and ``orjson.loads`` per value.

Nothing a stream framework adds (per-event tasks, offset bookkeeping per record, windows,
state) happens here, so this is the upper bound for Python consuming this topic; the other
runners are reported as a fraction of it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer

from benchmarks.runners._common import (
    HEARTBEAT_INTERVAL_MS,
    SESSION_TIMEOUT_MS,
    Clock,
    cli,
    fresh_group,
    result,
)


async def consume(bootstrap: str, topic: str, n: int) -> dict[str, Any]:
    """Consume ``n`` records from the start of ``topic`` in a fresh group; time the batch loop."""
    clock = Clock()
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=fresh_group("raw"),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=SESSION_TIMEOUT_MS,
        heartbeat_interval_ms=HEARTBEAT_INTERVAL_MS,
        max_partition_fetch_bytes=4 << 20,
        fetch_max_bytes=64 << 20,
    )
    await consumer.start()
    processed = 0
    batches = 0
    types: dict[str, int] = {}
    try:
        while processed < n:
            got = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            if not got:
                continue
            clock.seen_first()
            batches += 1
            for records in got.values():
                for record in records:
                    event = orjson.loads(record.value)
                    etype = event["type"]
                    types[etype] = types.get(etype, 0) + 1
                processed += len(records)
        clock.seen_last()
        await consumer.commit()
    finally:
        await consumer.stop()
    return result(n, processed, clock, batches=batches, types=dict(sorted(types.items())))


def run(bootstrap: str, topic: str, n: int) -> dict[str, Any]:
    """Run the raw consumer to ``n`` events and return its figures."""
    return asyncio.run(consume(bootstrap, topic, n))


if __name__ == "__main__":
    cli(run)
