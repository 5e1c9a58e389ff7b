"""Mirrored one-queue reads under concurrency, with and without a shared change check.

Every mirrored read first makes sure the server's change notifications are in (a PING on
the tracking connection, under the mirror's lock). A read that waited for the lock while
another read's PING was sent can use that one (`Tracking.SHARE_PINGS`). This fills 200
queues through the real core and flush (benchmarks.scrape), then runs `threads` threads,
each doing the store calls of one `GET /api/v1/queues/{queue}` (series, the queue's snapshot
read, the agents' states) back to back, with sharing on and off in turn, in the same
process and on the same server, and a third way with each request's calls in one
`reading()` block (one check a request, as the read API makes them). Writes go on
meanwhile (a flush every 100 ms), so the mirror has changes to take. Latency per request;
`benchmarks/results/mirror-ping.json`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import statistics
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.local_redis import redis_server
from benchmarks.scrape import Writer, contacts, fill, queue_name
from metrics.config.queues import QueuesConfig
from metrics.core.views import snapshot_request
from metrics.store.redis import RedisStore
from metrics.store.tracking import Tracking

RESULTS = Path(__file__).resolve().parent / "results" / "mirror-ping.json"
#: each read its own PING; a PING shared by the reads waiting for it; and shared with one
#: reading() block a request (one check of the server's changes for its three calls)
MODES = ("own", "shared", "shared, one block a request")


def _requests(
    reader: RedisStore, queues: QueuesConfig, n: int, seed: int, block: bool
) -> list[float]:
    """`n` one-queue requests' store calls, latency in ms; with `block`, each request's
    calls in one reading() block, as the read API makes them."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        queue = queue_name(rng.randrange(200))
        started = time.perf_counter()
        now = int(time.time() * 1000)
        with reader.reading() if block else contextlib.nullcontext():
            series = [s for s in reader.series() if s[0] == queue]
            reader.read([snapshot_request(s, now, queues.get(queue)) for s in series], now)
            reader.agent_states()
        out.append((time.perf_counter() - started) * 1000)
    return out


def _round(
    reader: RedisStore, queues: QueuesConfig, threads: int, n: int, block: bool
) -> list[float]:
    found: list[list[float]] = [[] for _ in range(threads)]

    def work(i: int) -> None:
        found[i] = _requests(reader, queues, n, i, block)

    pool = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return [x for part in found for x in part]


def _summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "requests": len(ordered),
        "p50_ms": round(statistics.median(ordered), 3),
        "p90_ms": round(ordered[int(0.9 * len(ordered))], 3),
        "p99_ms": round(ordered[int(0.99 * len(ordered))], 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--requests", type=int, default=300, help="per thread and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    queues = QueuesConfig()
    with redis_server() as (url, label):
        writer_store = RedisStore.from_url(url, prefix="ping")
        writer = Writer(writer_store, queues)
        now = int(time.time() * 1000)
        fill(writer, 200, now, random.Random(1))
        reader = RedisStore.from_url(url, prefix="ping")
        reader.mirror_reads()
        stop = threading.Event()

        def keep_writing() -> None:
            rng = random.Random(2)
            while not stop.is_set():
                q = queue_name(rng.randrange(200))
                writer.flush(contacts(q, int(time.time() * 1000) - 60_000, rng, "live", 2))
                stop.wait(0.1)

        background = threading.Thread(target=keep_writing)
        background.start()
        _round(reader, queues, args.threads, 50, False)  # warm the mirror
        times: dict[str, list[float]] = {mode: [] for mode in MODES}
        try:
            for _ in range(args.rounds):
                for mode in MODES:
                    Tracking.SHARE_PINGS = mode != "own"
                    block = mode == "shared, one block a request"
                    times[mode] += _round(reader, queues, args.threads, args.requests, block)
        finally:
            Tracking.SHARE_PINGS = True
            stop.set()
            background.join()
    result: dict[str, Any] = {
        "benchmark": "mirror-ping",
        "redis": label,
        "threads": args.threads,
        "queues": 200,
        "modes": {mode: _summary(t) for mode, t in times.items()},
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["modes"], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
