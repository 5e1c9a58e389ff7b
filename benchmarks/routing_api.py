"""Routing read API under concurrent load: requests/s and latency percentiles.

``python -m benchmarks.routing_api [--queues 100] [--seconds 10]`` starts a Redis server,
writes the scripted routing scenario (streams/testing/routing_scenario.py) for ``--queues`` queues
into it through the real aggregation core and RedisStore, runs ``ccmon exporter`` as a
subprocess (``python -m streams.cli exporter``, snapshot topic off, no broker needed) with
the routing snapshots refreshed in the background every 500 ms, then, for each
concurrency level, keeps that many requests in flight from this process (aiohttp, one
connection per in-flight request) for ``--seconds`` (closed loop: throughput at
saturation), then sends requests at fixed rates with up to 64 in flight (open loop:
latency at a given load, counted from each request's scheduled send time):

* ``queue``: GET /api/v1/routing/queues/{queue}, a different queue each time;
* ``all``: GET /api/v1/routing/queues (every queue in one body);
* ``queue+token``: the per-queue request with a bearer token set on the server.

Latency is measured in this client from just before the request to the end of the body,
so it includes the client's own event-loop time; client and server share the machine's
cores. Figures go to benchmarks/results/routing_api.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from benchmarks.freshness import ccmon_process, percentile, wait_listening
from benchmarks.local_redis import redis_server
from benchmarks.run import machine_facts
from metrics.config.queues import QueuesConfig
from metrics.core.aggregator import Aggregator
from metrics.core.panes import pane_start
from metrics.store.redis import RedisStore
from streams.decode import decode
from streams.localservers import free_port
from streams.testing.events import raw
from streams.testing.routing_scenario import scenario

REPO_ROOT = Path(__file__).resolve().parent.parent
MIN = 60_000
TOKEN = "bench-token-0123456789abcdef"


def fill(redis_url: str, prefix: str, queues: int) -> int:
    """Write the scenario for `queues` queues, timed so that 'now' is the wall clock."""
    now = int(time.time() * 1000)
    base = pane_start(now) - 14 * MIN
    events, _ = scenario(base)
    aggregator = Aggregator(QueuesConfig())
    count = 0
    for q in range(queues):
        name = f"q{q:04d}"
        for event in events:
            event = orjson.loads(orjson.dumps(event))
            event["id"] = f"{name}-{event['id']}"
            data = event["data"]
            if "queue" in data:
                data["queue"] = name
                data["contact_id"] = f"{name}-{data['contact_id']}"
            else:
                data["queues"] = [name]
                data["agent_id"] = f"{name}-{data['agent_id']}"
            aggregator.apply(decode(raw(event), 1 << 16))
            count += 1
    store = RedisStore.from_url(redis_url, prefix=prefix)
    store.flush(aggregator.drain(), now)
    return count


def _summary(latencies: list[float], elapsed: float, errors: int) -> dict[str, Any]:
    return {
        "requests": len(latencies),
        "errors": errors,
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "latency_ms": {
            "p50": round(percentile(latencies, 50), 3),
            "p90": round(percentile(latencies, 90), 3),
            "p99": round(percentile(latencies, 99), 3),
            "max": round(max(latencies), 3),
        },
    }


async def _open_level(
    url_of: Any, rate: float, max_in_flight: int, seconds: float, headers: dict[str, str]
) -> dict[str, Any]:
    """Requests sent at a fixed rate; latency counted from each request's scheduled time,
    so a stalled server cannot hide its queue (no coordinated omission)."""
    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=max_in_flight)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        await asyncio.gather(*(session.get(url_of(i)) for i in range(max_in_flight)))

        async def one(i: int, due: float) -> None:
            nonlocal errors
            async with session.get(url_of(i)) as response:
                await response.read()
                if response.status != 200:
                    errors += 1
            latencies.append((time.perf_counter() - due) * 1000)

        tasks = []
        start = time.perf_counter()
        total = int(rate * seconds)
        for i in range(total):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i, due)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    return {"offered_per_s": rate, "max_in_flight": max_in_flight} | _summary(
        latencies, elapsed, errors
    )


async def _level(
    url_of: Any, concurrency: int, seconds: float, headers: dict[str, str]
) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        deadline = time.perf_counter() + seconds
        counter = iter(range(1 << 62))

        async def loop() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                url = url_of(next(counter))
                started = time.perf_counter()
                async with session.get(url) as response:
                    await response.read()
                    if response.status != 200:
                        errors += 1
                latencies.append((time.perf_counter() - started) * 1000)

        # Warm the connections, then measure.
        await asyncio.gather(*(session.get(url_of(i)) for i in range(concurrency)))
        started = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {"concurrency": concurrency} | _summary(latencies, elapsed, errors)


def _index(base: str) -> Callable[[int], str]:
    return lambda i: base


def _per_queue(base: str, queues: int) -> Callable[[int], str]:
    return lambda i: f"{base}/q{i % queues:04d}"


async def _repeated(run: Callable[[], Awaitable[dict[str, Any]]], times: int) -> dict[str, Any]:
    """Run a level `times` times; keep every run and the median of each percentile.

    The machine is shared, so single runs' tails vary with what else runs; the median
    over repeats is the figure quoted.
    """
    runs = []
    for _ in range(times):
        row = await run()
        print(row, file=sys.stderr)
        runs.append(row)
    return combined(runs)


def combined(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Runs of one level: every run, and the median of each percentile and of requests/s."""
    keys = ("p50", "p90", "p99", "max")
    median = {k: statistics.median(r["latency_ms"][k] for r in runs) for k in keys}
    first = {k: v for k, v in runs[0].items() if k in ("concurrency", "offered_per_s")}
    return first | {
        "requests_per_s_median": statistics.median(r["requests_per_s"] for r in runs),
        "latency_ms_median": median,
        "runs": runs,
    }


@contextlib.contextmanager
def exporter(redis_url: str, prefix: str, token: str | None, log_dir: Path) -> Iterator[int]:
    port = free_port()
    env = {
        "CCMON_REDIS_URL": redis_url,
        "CCMON_REDIS_PREFIX": prefix,
        "CCMON_PUBLISH_SNAPSHOTS": "false",
        "CCMON_EXPORTER_HOST": "127.0.0.1",
        "CCMON_ROUTING_REFRESH_MS": "500",
    }
    if token:
        env["CCMON_API_TOKEN"] = token
    with ccmon_process(f"exporter-{port}", ["exporter", "--port", str(port)], env, log_dir) as p:
        wait_listening(p, port, 30)
        yield port


async def run(args: argparse.Namespace) -> dict[str, Any]:
    levels = [int(c) for c in args.concurrency.split(",")]
    rates = [float(r) for r in args.rates.split(",")]
    results: dict[str, Any] = {
        "benchmark": "routing_api",
        "started_at": datetime.now(UTC).isoformat(),
        "queues": args.queues,
        "seconds_per_level": args.seconds,
        "machine": machine_facts(),
        "runs": {},
    }
    with redis_server() as (redis_url, redis_label), tempfile.TemporaryDirectory() as tmp:
        results["redis"] = redis_label
        prefix = f"bench-routing-{os.getpid()}"
        results["events_written"] = fill(redis_url, prefix, args.queues)
        for token in (None, TOKEN):
            with exporter(redis_url, prefix, token, Path(tmp)) as port:
                base = f"http://127.0.0.1:{port}/api/v1/routing/queues"
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                await asyncio.sleep(1.0)  # first background refresh
                one = await _level(_index(base), 1, 0.5, headers)
                assert one["errors"] == 0, "routing API answered with errors"
                kinds: dict[str, Any] = (
                    {"queue": _per_queue(base, args.queues), "all": _index(base)}
                    if token is None
                    else {"queue+token": _per_queue(base, args.queues)}
                )
                for kind, url_of in kinds.items():
                    closed = [
                        await _repeated(
                            functools.partial(_level, url_of, c, args.seconds, headers),
                            args.repeat,
                        )
                        for c in levels
                    ]
                    results["runs"][kind] = closed
                    opened = [
                        await _repeated(
                            functools.partial(_open_level, url_of, r, 64, args.seconds, headers),
                            args.repeat,
                        )
                        for r in rates
                    ]
                    results["runs"][f"{kind}@rate"] = opened
    results["load_avg_at_end"] = list(os.getloadavg())
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queues", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--repeat", type=int, default=3, help="runs per level (median quoted)")
    parser.add_argument("--concurrency", default="1,8,32", help="closed-loop levels")
    parser.add_argument("--rates", default="500,1000,2000", help="open-loop requests/s")
    parser.add_argument(
        "--out", type=Path, default=REPO_ROOT / "benchmarks/results/routing_api.json"
    )
    args = parser.parse_args(argv)
    results = asyncio.run(run(args))
    args.out.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2) + b"\n")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
