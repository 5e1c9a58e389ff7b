"""A year of history for one queue: long interval reads through the read API, and the
bytes a year of hourly and daily rollups costs.

``python -m benchmarks.rollups [--reads 50]`` starts a Redis server, fills 366 days of one
queue (``sales``, voice) through RedisStore's real flush (one Lua call per simulated day,
a busy synthetic pane every 15 minutes: every 15-minute interval, hour and day of the year
gets data), with a pane retention of 32 days so that the last month of 15-minute intervals
is kept, then times through the real exporter app (aiohttp, loopback HTTP, this process):

* ``month_30m``: ``GET .../intervals?size=30`` over the last 31 days (1,488 rows from
  2,976 15-minute buckets);
* ``year_1d``: ``size=1d`` over the last 366 days (366 rows from daily rollups);
* ``week_1h_last_year``: ``size=1h`` over the same week 52 weeks back (168 rows).

Latency is taken in this client to the end of the body (median, p99 of ``--reads``
sequential reads after two warm-up reads; ``first_read_ms`` is the first, cold read: no
row rendered yet, no group parsed; like the others, to the end of the body, not parsed).
``month_30m_live`` is the month read again after each flush of a pane of now (traffic
flowing: today's intervals change between reads). The
month read's ``parts`` (no HTTP) split a cold and a warm read into the store read, the
rows and the JSON body. Memory: ``MEMORY USAGE`` of every p60 and p1d key of the queue,
summed. ``month_30m_cold``: the month read as the first read of a new exporter app,
``--cold-reads`` times (median of the cold read). Figures go to
benchmarks/results/rollups.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import redis
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry

from benchmarks.local_redis import redis_server
from metrics.config.queues import QueueConfig, QueuesConfig
from metrics.core.panes import DAY_MS, INTERVAL_MS, day_start
from metrics.core.reads import BucketRequest
from metrics.core.rollups import plan_intervals
from metrics.core.update import Update
from metrics.fields import AGENT_TIME_FIELD, hist_field
from metrics.store.redis import RedisStore
from metrics.web.api import make_app
from metrics.web.interval_rows import IntervalRows

REPO_ROOT = Path(__file__).resolve().parent.parent
SERIES = ("sales", "voice")
DAYS = 366
GOAL_MS = 100.0


def busy_pane(i: int) -> tuple[dict[str, int], dict[str, int]]:
    """Sums and maxima of the `i`-th busy 15 minutes (about 30 contacts): every contact
    counter, the agent times and a wait histogram, values of a real centre's size."""
    n = 25 + i % 11
    sums = {
        "queued": n,
        "answered": n - 3,
        "answered_within_t": n - 7,
        "abandoned": 3,
        "abandoned_within_t": 1,
        "short_abandoned": 1,
        "flowed_out": 1,
        "callbacks": 1,
        "wait_answered_sum_ms": 412_345 + i,
        "wait_abandoned_sum_ms": 98_765 + i,
        "handled": n - 4,
        "talk_ms": 6_543_210 + i,
        "hold_ms": 345_678,
        "acw_ms": 987_654,
        "agent_slots_ms": 10_800_000,
        "agent_busy_slots_ms": 8_100_000 + i,
        **{name: 2_700_000 + i for name in AGENT_TIME_FIELD.values()},
        **{hist_field("answered", le * 1000): 2 + i % 5 for le in (5, 10, 20, 30, 60, 120)},
        **{hist_field("abandoned", le * 1000): 1 for le in (5, 20, 60)},
    }
    return sums, {"wait_answered_max_ms": 95_000 + i, "wait_abandoned_max_ms": 61_000}


def fill(store: RedisStore, first_day: int, now_ms: int) -> int:
    """One flush per day, one pane per 15-minute interval; returns the panes written."""
    panes = 0
    for day in range(DAYS):
        update = Update()
        start = first_day + day * DAY_MS
        for i in range(DAY_MS // INTERVAL_MS):
            pane = start + i * INTERVAL_MS + 7 * 60_000
            if pane > now_ms:
                break
            # the pane's number in the year: no two days alike, as in a real centre (the
            # store sums each distinct group of quarter hours once; days repeated would hide it)
            sums, maxes = busy_pane(day * (DAY_MS // INTERVAL_MS) + i)
            for name, value in sums.items():
                update.add((*SERIES, pane), name, value)
            for name, value in maxes.items():
                update.add_max((*SERIES, pane), name, value)
            panes += 1
        update.mark_offset("events:0", day)
        store.flush(update, now_ms)
    return panes


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def time_reads(
    client: TestClient[Any, Any],
    params: dict[str, str],
    reads: int,
    before_each: Callable[[], None] = lambda: None,
) -> dict[str, Any]:
    url = "/api/v1/queues/sales/intervals"
    rows = 0
    first = 0.0
    for _ in range(2):  # warm-up, the first one cold
        t0 = time.perf_counter()
        response = await client.get(url, params=params)
        assert response.status == 200, await response.text()
        raw = await response.read()
        first = first or (time.perf_counter() - t0) * 1000  # to the end of the body, unparsed
        rows = len(orjson.loads(raw)["channels"]["voice"])
    took, cpu = [], []
    size = 0
    for _ in range(reads):
        before_each()
        t0, c0 = time.perf_counter(), time.process_time()
        response = await client.get(url, params=params)
        body = await response.read()
        took.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        size = len(body)
    took.sort()
    p99 = took[min(len(took) - 1, round(0.99 * (len(took) - 1)))]
    return {
        "rows": rows,
        "body_bytes": size,
        "first_read_ms": round(first, 2),
        "min_ms": round(took[0], 2),
        "median_ms": round(statistics.median(took), 2),
        "p99_ms": round(p99, 2),
        "max_ms": round(took[-1], 2),
        # this process's CPU per read (app, client and redis-py; not the Redis server's):
        # what a read costs when the shared cores are not busy with other work
        "cpu_median_ms": round(statistics.median(cpu), 2),
        "goal_ms": GOAL_MS,
        "within_goal": statistics.median(took) <= GOAL_MS,
    }


def parts(
    url: str, store: RedisStore, queues: QueuesConfig, today: int, now: int, reads: int
) -> dict[str, dict[str, float]]:
    """Medians of the month read's parts without HTTP: the store read of the 2,976
    buckets, the rows (window figures, rendered), the JSON body; cold (a new store and
    new rows each read: nothing parsed or rendered before) and warm (the same ones)."""
    plan = plan_intervals(30, today - 30 * DAY_MS, today + DAY_MS, ZoneInfo("UTC"))
    request = [BucketRequest(SERIES, plan.level, plan.buckets, plan.per)]
    cfg = queues.get("sales")
    out = {}
    for kind in ("cold", "warm"):
        took: dict[str, list[float]] = {"store_read_ms": [], "rows_ms": [], "json_ms": []}
        reader, rendered = store, IntervalRows()
        for _ in range(reads):
            if kind == "cold":
                reader, rendered = fresh_store(url), IntervalRows()
                reader.ping()  # connected before the clock starts
            t0 = time.perf_counter()
            (summed,) = reader.read_buckets(request, now)
            t1 = time.perf_counter()
            rows = rendered.render(SERIES, plan, summed, cfg, now)
            t2 = time.perf_counter()
            orjson.dumps({"channels": {"voice": rows}}, option=orjson.OPT_NON_STR_KEYS)
            t3 = time.perf_counter()
            for name, ms in zip(took, (t1 - t0, t2 - t1, t3 - t2), strict=True):
                took[name].append(ms * 1000)
            if reader is not store:
                reader.client.close()
        out[kind] = {name: round(statistics.median(values), 2) for name, values in took.items()}
    return out


async def cold_reads(
    url: str, queues: QueuesConfig, clock: list[int], params: dict[str, str], reads: int
) -> dict[str, Any]:
    """The month read as the first read of a new exporter app (a new store and new rows:
    nothing read, parsed or rendered before), `reads` times: the cold read, not one sample."""
    took = []
    for _ in range(reads):
        store = fresh_store(url)
        store.ping()
        app = make_app(store, queues, CollectorRegistry(), clock_ms=lambda: clock[0])
        async with TestClient(TestServer(app)) as client:
            t0 = time.perf_counter()
            response = await client.get("/api/v1/queues/sales/intervals", params=params)
            assert response.status == 200, await response.text()
            await response.read()
            took.append((time.perf_counter() - t0) * 1000)
        store.client.close()
    return {
        "reads": reads,
        "min_ms": round(min(took), 2),
        "median_ms": round(statistics.median(took), 2),
        "max_ms": round(max(took), 2),
        "goal_ms": GOAL_MS,
        "within_goal": statistics.median(took) <= GOAL_MS,
    }


def fresh_store(url: str) -> RedisStore:
    return RedisStore.from_url(
        url, prefix="bench-rollups", retention_ms=32 * DAY_MS, rollup_retention_ms=396 * DAY_MS
    )


def live_flush(store: RedisStore, clock: list[int]) -> Callable[[], None]:
    """A flush of one contact queued and answered in the pane of now (the clock moves on a
    second each time): what a worker does between two reads while traffic flows."""

    def flush() -> None:
        clock[0] += 1000
        update = Update()
        pane = clock[0] - clock[0] % 60_000
        for name in ("queued", "answered", "answered_within_t", "handled"):
            update.add((*SERIES, pane), name, 1)
        update.add((*SERIES, pane), "talk_ms", 120_000)
        update.mark_offset("events:0", DAYS + clock[0])
        store.flush(update, clock[0])

    return flush


def rollup_bytes(client: redis.Redis, prefix: str) -> dict[str, Any]:
    """MEMORY USAGE of the queue's hourly and daily rollups, summed per level."""
    out: dict[str, Any] = {}
    for level in ("p60", "p1d"):
        keys = list(client.scan_iter(f"{prefix}:{level}:sales|voice:*", count=1000))
        used = sum(int(client.memory_usage(k, samples=0) or 0) for k in keys)
        out[level] = {"keys": len(keys), "bytes": used, "bytes_per_key": round(used / len(keys))}
    out["total_bytes_per_series_year"] = out["p60"]["bytes"] + out["p1d"]["bytes"]
    return out


async def run(args: argparse.Namespace) -> dict[str, Any]:
    now = int(time.time() * 1000)
    today = day_start(now)
    first_day = today - (DAYS - 1) * DAY_MS
    with redis_server() as (url, label):
        store = fresh_store(url)
        store.client.flushdb()
        t0 = time.perf_counter()
        panes = fill(store, first_day, now)
        fill_s = time.perf_counter() - t0
        queues = QueuesConfig(queues=(QueueConfig(name="sales"),))
        clock = [now]
        app = make_app(store, queues, CollectorRegistry(), clock_ms=lambda: clock[0])
        last_year = today - 52 * 7 * DAY_MS
        reads = {
            "month_30m": {
                "size": "30",
                "from": iso(today - 30 * DAY_MS),
                "to": iso(today + DAY_MS),
            },
            "year_1d": {"size": "1d", "from": iso(first_day), "to": iso(today + DAY_MS)},
            "week_1h_last_year": {
                "size": "1h",
                "from": iso(last_year - 6 * DAY_MS),
                "to": iso(last_year + DAY_MS),
            },
        }
        async with TestClient(TestServer(app)) as client:
            timed = {name: await time_reads(client, q, args.reads) for name, q in reads.items()}
            timed["month_30m"]["parts"] = parts(url, store, queues, today, now, args.reads)
            timed["month_30m_live"] = await time_reads(
                client, reads["month_30m"], args.reads, live_flush(store, clock)
            )
        timed["month_30m_cold"] = await cold_reads(
            url, queues, clock, reads["month_30m"], args.cold_reads
        )
        memory = rollup_bytes(store.client, store.prefix)
        version = store.client.info("server").get("valkey_version") or store.client.info(
            "server"
        ).get("redis_version")
    return {
        "load_avg_at_end": list(os.getloadavg()),
        "redis": f"{label} ({version})",
        "series": "sales|voice",
        "days_filled": DAYS,
        "panes_written": panes,
        "fill_seconds": round(fill_s, 2),
        "reads_per_figure": args.reads,
        "reads": timed,
        "rollup_memory": memory,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=50, help="timed reads per figure")
    parser.add_argument("--cold-reads", type=int, default=9, help="cold month reads (new app)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "benchmarks/results/rollups.json")
    args = parser.parse_args(argv)
    results = asyncio.run(run(args))
    args.out.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2) + b"\n")
    print(orjson.dumps(results, option=orjson.OPT_INDENT_2).decode())
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
