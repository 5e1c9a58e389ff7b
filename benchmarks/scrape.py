"""`/metrics` and `GET /api/v1/queues` at 100 and 1,000 queues, before and after the caches.

``python -m benchmarks.scrape [--queues 100,1000] [--scrapes 20] [--changed 0.1]`` starts a
Redis server and, for each queue count, writes a dozen voice contacts per queue in the
last hour and four more earlier today (queued, answered, wrapped up; one abandoned and one
still waiting per queue) through the real aggregation core and ``RedisStore.flush``. Then
it serves the exporter's HTTP application twice, side by side in this process:

* ``before``: the read API and a plain ``CollectorRegistry`` over a plain ``RedisStore``,
  as the exporter was wired before (every scrape reads every key and renders every sample);
* ``after``: the wiring of ``streams.exporter.exporter_app`` (mirrored store reads,
  ``ExpositionRegistry``, exported windows) without the routing feed.

Both apps run on a clock that advances 15 s (a Prometheus scrape interval) before each
scrape, so a quarter of the scrapes start a new minute and move every rolling window. Before
each scrape, new events for ``--changed`` of the queues are flushed through the store, as a
live centre's worker would. Each scrape and each read is one HTTP request from this process
(aiohttp), timed to the end of the body. Figures go to benchmarks/results/scrape.json; the
benchmark asserts no times, only that both apps serve the same samples.

Then the one-queue read ``GET /api/v1/queues/{queue}`` is measured under concurrent load
over the same keys, side by side: the exporter as wired before the split, and real
``ccmon exporter`` processes as one (``--role all``) and as two (``--role api`` and
``--role metrics``) (``benchmarks.queue_read``; ``--one-queue-seconds 0`` skips it,
``--one-queue-only`` skips the scrapes instead).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import re
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from aiohttp import web
from prometheus_client import CollectorRegistry

from benchmarks.freshness import percentile
from benchmarks.local_redis import redis_server
from benchmarks.queue_read import measure as measure_one_queue
from benchmarks.run import machine_facts
from metrics.config.queues import QueuesConfig
from metrics.core.aggregator import Aggregator
from metrics.exposition.queues import AggregateCollector
from metrics.exposition.text import ExpositionRegistry
from metrics.store.redis import RedisStore
from metrics.web.api import make_app
from streams.decode import decode
from streams.localservers import free_port
from streams.testing.events import contact, wrapup

REPO_ROOT = Path(__file__).resolve().parent.parent
S, MIN, HOUR = 1000, 60_000, 3_600_000
SCRAPE_INTERVAL_MS = 15 * S
#: the lines of the scrape-duration gauge differ between any two scrapes
_DURATION = re.compile(rb"^ccmon_exporter_scrape_duration_seconds .*$", re.MULTILINE)


def queue_name(i: int) -> str:
    return f"q{i:04d}"


def contacts(queue: str, base: int, rng: random.Random, tag: str, n: int) -> list[dict[str, Any]]:
    """`n` contacts of one queue: queued, answered after 5-40 s, wrapped up 2-6 min later;
    the first is abandoned instead, the last still waiting."""
    events: list[dict[str, Any]] = []
    for i in range(n):
        cid = f"{queue}-{tag}-{i}"
        t = base + rng.randint(0, 50 * MIN)
        events.append(contact("contact.queued", t, cid, queue=queue))
        if i == n - 1:
            continue
        wait = rng.randint(5, 40) * S
        if i == 0:
            events.append(contact("contact.abandoned", t + wait, cid, queue=queue))
            continue
        events.append(contact("contact.answered", t + wait, cid, queue=queue))
        talk = rng.randint(60, 300)
        events.append(wrapup(t + wait + talk * S, cid, talk=talk, hold=5, acw=20, queue=queue))
    return events


class Writer:
    """The worker's side: the real core and the real store flush, one partition per batch."""

    def __init__(self, store: RedisStore, queues: QueuesConfig) -> None:
        self.store, self.queues = store, queues
        self.aggregator = Aggregator(queues)
        self.offset = 0

    def flush(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            self.aggregator.apply(decode(orjson.dumps(event), 1 << 16))
        update = self.aggregator.drain()
        update.mark_offset("bench:0", self.offset)
        self.offset += len(events)
        update.mark_offset("bench:0", self.offset - 1)
        self.store.flush(update, int(time.time() * 1000))


def fill(writer: Writer, queues: int, now: int, rng: random.Random) -> int:
    """A dozen contacts per queue in the last hour and four earlier today."""
    events: list[dict[str, Any]] = []
    for q in range(queues):
        name = queue_name(q)
        events += contacts(name, now - HOUR, rng, "hour", 12)
        events += contacts(name, now - 4 * HOUR, rng, "today", 4)
        if len(events) > 20_000:
            writer.flush(events)
            events = []
    writer.flush(events)
    return writer.offset


def apps(
    url: str, prefix: str, queues: QueuesConfig, clock: Callable[[], int], windows: tuple[str, ...]
) -> dict[str, web.Application]:
    """The exporter's HTTP application wired before and after the caches."""
    plain = RedisStore.from_url(url, prefix=prefix)
    registry = CollectorRegistry()
    registry.register(AggregateCollector(plain, queues, clock_ms=clock))
    mirrored = RedisStore.from_url(url, prefix=prefix)
    mirrored.mirror_reads()
    fast = ExpositionRegistry()
    fast.register(AggregateCollector(mirrored, queues, clock_ms=clock, windows=windows))
    return {
        "before": make_app(plain, queues, registry, clock),
        "after": make_app(mirrored, queues, fast, clock),
    }


async def timed_get(session: aiohttp.ClientSession, url: str) -> tuple[float, bytes]:
    started = time.perf_counter()
    async with session.get(url) as response:
        body = await response.read()
        assert response.status == 200, (url, response.status)
    return (time.perf_counter() - started) * 1000, body


def _summary(times: list[float]) -> dict[str, float]:
    return {
        "median_ms": round(percentile(times, 50), 2),
        "p90_ms": round(percentile(times, 90), 2),
        "max_ms": round(max(times), 2),
    }


async def measure(
    url: str, queues_count: int, args: argparse.Namespace, windows: tuple[str, ...]
) -> dict[str, Any]:
    """Fill a fresh prefix, then scrape and read both apps after each batch of new events."""
    rng = random.Random(queues_count)
    prefix = f"bench-scrape-{os.getpid()}-{queues_count}-{len(windows)}"
    queues = QueuesConfig()
    writer = Writer(RedisStore.from_url(url, prefix=prefix), queues)
    start = int(time.time() * 1000)
    now = [start]
    events = fill(writer, queues_count, start, rng)
    out: dict[str, Any] = {"queues": queues_count, "events_written": events}
    if args.one_queue_seconds > 0 and len(windows) == 4:
        out["one_queue_read"] = await measure_one_queue(
            url, prefix, queue_name, queues_count, args.one_queue_seconds, args.one_queue_repeat
        )
    if args.one_queue_only:
        return out
    served = apps(url, prefix, queues, lambda: now[0], windows)
    runners, bases = [], {}
    for name, app in served.items():
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        runners.append(runner)
        bases[name] = f"http://127.0.0.1:{port}"
    times: dict[str, dict[str, list[float]]] = {
        name: {"metrics": [], "queues": []} for name in served
    }
    body = b""
    changed = max(1, round(queues_count * args.changed))
    try:
        async with aiohttp.ClientSession() as session:
            for i in range(args.scrapes + 1):  # the first (cold) scrape is reported apart
                now[0] = start + i * SCRAPE_INTERVAL_MS
                if i:
                    picked = rng.sample(range(queues_count), changed)
                    batch = [
                        e
                        for q in picked
                        for e in contacts(queue_name(q), now[0] - 2 * MIN, rng, f"s{i}", 2)
                    ]
                    writer.flush(batch)
                bodies = {}
                for name, base in bases.items():
                    if name == "before" and (i > args.before_scrapes or len(windows) < 4):
                        continue  # the slow app serves fewer scrapes, and every window
                    ms, bodies[name] = await timed_get(session, f"{base}/metrics")
                    read_ms, _ = await timed_get(session, f"{base}/api/v1/queues")
                    if i == 0:
                        out[f"{name}_cold"] = {"metrics_ms": ms, "queues_ms": read_ms}
                    else:
                        times[name]["metrics"].append(ms)
                        times[name]["queues"].append(read_ms)
                if "before" in bodies:
                    same = _DURATION.sub(b"", bodies["before"]) == _DURATION.sub(
                        b"", bodies["after"]
                    )
                    assert same, "the two apps served different samples"
                body = bodies["after"]
    finally:
        for runner in runners:
            await runner.cleanup()
    samples = sum(1 for line in body.split(b"\n") if line and not line.startswith(b"#"))
    mine = [line for line in body.split(b"\n") if b'queue="q0000"' in line]
    per_window = {w: sum(1 for line in mine if f'window="{w}"'.encode() in line) for w in windows}
    out |= {
        "changed_queues_per_scrape": changed,
        "scrape_interval_simulated_s": SCRAPE_INTERVAL_MS / 1000,
        "exported_windows": list(windows),
        "metrics_bytes": len(body),
        "samples": samples,
        "samples_per_queue": len(mine),
        "samples_per_queue_by_window": per_window,
    }
    for name, kinds in times.items():
        if not kinds["metrics"]:
            continue
        out[name] = {
            "scrapes": len(kinds["metrics"]),
            "metrics": _summary(kinds["metrics"]),
            "api_queues": _summary(kinds["queues"]),
        }
    return out


async def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {
        "benchmark": "scrape",
        "started_at": datetime.now(UTC).isoformat(),
        "machine": machine_facts(),
        "gc_thresholds": list(gc.get_threshold()),
        "command": " ".join(["python -m benchmarks.scrape", *sys.argv[1:]]),
        "runs": [],
    }
    every = ("5m", "15m", "60m", "today")
    with redis_server() as (url, label):
        results["redis"] = label
        for count in (int(q) for q in args.queues.split(",")):
            results["runs"].append(await measure(url, count, args, every))
            print(orjson.dumps(results["runs"][-1]).decode(), file=sys.stderr)
        if args.windows and not args.one_queue_only:
            chosen = tuple(args.windows.split(","))
            count = max(int(q) for q in args.queues.split(","))
            results["runs"].append(await measure(url, count, args, chosen))
            print(orjson.dumps(results["runs"][-1]).decode(), file=sys.stderr)
    results["load_avg_at_end"] = list(os.getloadavg())
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queues", default="100,1000", help="queue counts, comma-separated")
    parser.add_argument("--scrapes", type=int, default=20, help="timed scrapes per count")
    parser.add_argument(
        "--before-scrapes", type=int, default=8, help="of which the 'before' app also serves"
    )
    parser.add_argument(
        "--changed", type=float, default=0.1, help="share of queues with new events per scrape"
    )
    parser.add_argument(
        "--windows", default="15m,today", help="an extra run with these exported windows"
    )
    parser.add_argument(
        "--gc-thresholds",
        default="",
        help="cyclic-GC thresholds for this process, e.g. 100000,50,1000 (default: Python's)",
    )
    parser.add_argument(
        "--one-queue-seconds",
        type=float,
        default=5.0,
        help="seconds per load level of the one-queue read (0: not measured)",
    )
    parser.add_argument("--one-queue-repeat", type=int, default=2, help="runs per load level")
    parser.add_argument(
        "--one-queue-only", action="store_true", help="only the one-queue read, no scrapes"
    )
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "benchmarks/results/scrape.json")
    args = parser.parse_args(argv)
    if args.gc_thresholds:
        gc.set_threshold(*(int(t) for t in args.gc_thresholds.split(",")))
    results = asyncio.run(run(args))
    args.out.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2) + b"\n")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
