"""Memory over a long run: worker and exporter RSS across >= 10 simulated days at speed.

``python -m benchmarks.memory [--scenario deploy/scenarios/large-centre.yaml] [--days 10]``
starts a local Tansu broker and a Redis server, one ``ccmon worker`` and one
``ccmon exporter`` (real subprocesses, production defaults; ``CCMON_BACKFILL_S`` opens the
history so the whole run is kept), then runs the scenario for ``--days`` whole days ending
now (the simulator repeats its shifts and profiles every day) and produces it as a
catch-up at full speed, one simulated day at a time. After each day is in Redis the
exporter is scraped (``/metrics``, ``GET /api/v1/queues``, one queue) a few times, then
the RSS of both processes (psutil) and Redis's ``used_memory`` are sampled. The slope is
the least-squares fit in MB per simulated day over the days after the first (the first
fills the caches and the state TTLs). Figures go to benchmarks/results/memory.json.

``--soak-s S`` then keeps reading the exporter once a second for S seconds of wall clock
and samples its RSS every 30 s (its growth per hour, apart from the simulated days).

``--tracemalloc`` runs the worker in this process instead (``streams.kafka.run_consumer``)
with tracemalloc on, and adds the ten allocation sites of streams/ and metrics/ (the
simulator left out) that grew most between day 2 and the last day, or the two days
``--snapshot-days`` names: the question to ask when a slope is not flat.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import redis
from aiokafka import AIOKafkaProducer
from prometheus_client import CollectorRegistry

from benchmarks.local_redis import redis_server
from benchmarks.run import machine_facts
from benchmarks.scaleout import broker, redis_pid
from benchmarks.workers import ServiceProcess, env_of
from metrics.config.queues import QueuesConfig
from metrics.store.redis import RedisStore
from streams.health import WorkerMetrics
from streams.kafka import run_consumer
from streams.localservers import free_port
from streams.producers.sim.model import Simulation
from streams.producers.sim.scenario import load_scenario
from streams.settings import Settings
from streams.topics import ensure_topics

REPO_ROOT = Path(__file__).resolve().parent.parent
DAY_S = 86_400
MB = 1 << 20
#: scrapes of /metrics and the read API after each simulated day
SCRAPES_PER_DAY = 3


def _relative(path: Path) -> str:
    """A path inside the repository as relative to it, so results files stay portable."""
    path = path.resolve()
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


def slope_mb_per_day(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of (day, MB) points; None with fewer than two."""
    if len(points) < 2:
        return None
    days, mbs = zip(*points, strict=True)
    return round(statistics.linear_regression(days, mbs).slope, 3)


def days_of(scenario_path: str, days: int, now: dt.datetime) -> Iterator[list[tuple[str, bytes]]]:
    """The scenario over `days` whole days ending at the start of today (UTC), one list of
    (key, JSON) per simulated day."""
    scenario = load_scenario(scenario_path)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - dt.timedelta(days=days)
    sim = Simulation(scenario, start, duration_s=days * DAY_S, run_id=f"mem{uuid.uuid4().hex[:6]}")
    start_ms = round(start.timestamp() * 1000)
    day, batch = 0, list[tuple[str, bytes]]()
    for t, key, event in sim.events():
        while t >= start_ms + (day + 1) * DAY_S * 1000 and day < days - 1:
            yield batch
            day, batch = day + 1, []
        batch.append((key, orjson.dumps(event)))
    yield batch


async def produce(settings: Settings, values: list[tuple[str, bytes]]) -> dict[str, int]:
    """Send one day's events keyed as the contract says; the last offset per partition."""
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.brokers, linger_ms=20, max_batch_size=1 << 20
    )
    await producer.start()
    try:
        futures = [
            await producer.send(settings.events_topic, value=v, key=k.encode()) for k, v in values
        ]
        acks = await asyncio.gather(*futures)
    finally:
        await producer.stop()
    last: dict[str, int] = {}
    for ack in acks:
        tp = f"{ack.topic}:{ack.partition}"
        last[tp] = max(last.get(tp, -1), ack.offset)
    return last


@contextlib.asynccontextmanager
async def in_process_worker(settings: Settings) -> AsyncIterator[None]:
    """The worker's consumer loop in this process (for tracemalloc)."""
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_consumer(
            settings,
            QueuesConfig(),
            settings.redis_store(),
            WorkerMetrics.create(CollectorRegistry()),
            stop,
        )
    )
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)


def top_growth(first: tracemalloc.Snapshot, last: tracemalloc.Snapshot) -> list[dict[str, Any]]:
    """The ten lines of streams/ and metrics/ whose allocations grew most."""
    keep = [
        tracemalloc.Filter(True, str(REPO_ROOT / "streams" / "*")),
        tracemalloc.Filter(True, str(REPO_ROOT / "metrics" / "*")),
    ]
    producers = tracemalloc.Filter(False, str(REPO_ROOT / "streams" / "producers" / "*"))
    keep.append(producers)  # the simulator feeding the run is not the worker
    diff = last.filter_traces(keep).compare_to(first.filter_traces(keep), "lineno")
    return [
        {
            "where": f"{s.traceback[0].filename.removeprefix(str(REPO_ROOT) + '/')}:"
            f"{s.traceback[0].lineno}",
            "size_mb": round(s.size / MB, 3),
            "growth_mb": round(s.size_diff / MB, 3),
            "blocks": s.count,
        }
        for s in diff[:10]
    ]


async def scrape(session: aiohttp.ClientSession, base: str) -> dict[str, int]:
    """One round of the exporter's reads; the bytes of each answer."""
    sizes = {}
    for path in ("/metrics", "/api/v1/queues", "/api/v1/queues/support"):
        async with session.get(base + path) as response:
            sizes[path] = len(await response.read())
    return sizes


def key_breakdown(client: redis.Redis, prefix: str) -> dict[str, dict[str, float]]:
    """Keys and their MEMORY USAGE by kind (``<prefix>:<kind>:...``): what the store holds."""
    out: dict[str, dict[str, float]] = {}
    batch: list[bytes] = []

    def measure() -> None:
        pipe = client.pipeline(transaction=False)
        for key in batch:
            pipe.memory_usage(key)
        for key, used in zip(batch, pipe.execute(), strict=True):
            kind = key.decode(errors="replace").removeprefix(prefix + ":").split(":", 1)[0]
            row = out.setdefault(kind, {"keys": 0, "mb": 0.0})
            row["keys"] += 1
            row["mb"] += (used or 0) / MB
        batch.clear()

    for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        batch.append(key)
        if len(batch) >= 1000:
            measure()
    measure()
    return {k: {"keys": v["keys"], "mb": round(v["mb"], 2)} for k, v in sorted(out.items())}


async def soak(
    session: aiohttp.ClientSession, base: str, exporter: ServiceProcess, seconds: float
) -> dict[str, Any]:
    """Wall-clock soak: every second one round of reads, the exporter's RSS every 30 s."""
    samples: list[dict[str, float]] = []
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        await scrape(session, base)
        if not samples or elapsed - samples[-1]["s"] >= 30:
            samples.append({"s": round(elapsed), "rss_mb": round(exporter.rss_bytes() / MB, 2)})
        await asyncio.sleep(1.0)
    hours = [(x["s"] / 3600, x["rss_mb"]) for x in samples]
    return {"seconds": seconds, "samples": samples, "slope_mb_per_hour": slope_mb_per_day(hours)}


async def wait_applied(
    store: RedisStore, wanted: dict[str, int], procs: list[ServiceProcess]
) -> None:
    while await asyncio.to_thread(store.load_offsets) != wanted:
        for p in procs:
            p.check_alive()
        await asyncio.sleep(0.1)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {
        "benchmark": "memory",
        "started_at": datetime.now(UTC).isoformat(),
        "machine": machine_facts(),
        "command": " ".join(["python -m benchmarks.memory", *sys.argv[1:]]),
        "scenario": _relative(Path(args.scenario)),
        "days": args.days,
        "worker": "in-process (tracemalloc)" if args.tracemalloc else "subprocess",
        "samples": [],
    }
    log_dir = Path(tempfile.mkdtemp(prefix="ccmon-memory-"))
    run_id = uuid.uuid4().hex[:8]
    with broker(args.bootstrap, log_dir) as (bootstrap, _), redis_server() as (url, _label):
        port = free_port()
        settings = Settings(
            brokers=bootstrap,
            redis_url=url,
            events_topic=f"memory-{run_id}",
            deadletter_topic=f"memory-dead-{run_id}",
            snapshots_topic=f"memory-snapshots-{run_id}",
            group_id=f"memory-{run_id}",
            redis_prefix=f"memory-{run_id}",
            worker_metrics_port=0,
            exporter_host="127.0.0.1",
            exporter_port=port,
            session_timeout_ms=6000,
            backfill_s=(args.days + 1) * DAY_S,
        )
        await ensure_topics(settings)
        env = env_of(settings)
        procs: list[ServiceProcess] = []
        if not args.tracemalloc:
            procs.append(ServiceProcess("worker", "worker", env, log_dir))
        procs.append(ServiceProcess("exporter", "exporter", env, log_dir))
        worker_ctx = in_process_worker(settings) if args.tracemalloc else contextlib.nullcontext()
        store = RedisStore.from_url(url, prefix=settings.redis_prefix)
        info = redis.Redis.from_url(url)
        snapshots: list[tracemalloc.Snapshot] = []
        snapshot_days = (
            tuple(int(d) for d in args.snapshot_days.split(","))
            if args.snapshot_days
            else (2, args.days)
        )
        results["tracemalloc_snapshot_days"] = list(snapshot_days) if args.tracemalloc else None
        if args.tracemalloc:
            tracemalloc.start(1)
        base = f"http://127.0.0.1:{port}"
        wanted: dict[str, int] = {}
        started = time.perf_counter()
        try:
            async with worker_ctx, aiohttp.ClientSession() as session:
                for _ in range(600):  # the exporter answers once it has started
                    with contextlib.suppress(aiohttp.ClientError):
                        await scrape(session, base)
                        break
                    procs[-1].check_alive()
                    await asyncio.sleep(0.1)
                now = dt.datetime.now(dt.UTC)
                for day, values in enumerate(days_of(args.scenario, args.days, now), start=1):
                    for tp, offset in (await produce(settings, values)).items():
                        wanted[tp] = max(wanted.get(tp, -1), offset)
                    await wait_applied(store, wanted, procs)
                    sizes: dict[str, int] = {}
                    for _ in range(SCRAPES_PER_DAY):
                        sizes = await scrape(session, base)
                    sample: dict[str, Any] = {
                        "day": day,
                        "events": len(values),
                        "elapsed_s": round(time.perf_counter() - started, 1),
                        "exporter_rss_mb": round(procs[-1].rss_bytes() / MB, 2),
                        "redis_used_mb": round(int(info.info("memory")["used_memory"]) / MB, 2),
                        "metrics_bytes": sizes.get("/metrics"),
                    }
                    if args.tracemalloc:
                        current, _peak = tracemalloc.get_traced_memory()
                        sample["worker_traced_mb"] = round(current / MB, 2)
                        if day in snapshot_days:
                            snapshots.append(tracemalloc.take_snapshot())
                    else:
                        sample["worker_rss_mb"] = round(procs[0].rss_bytes() / MB, 2)
                    results["samples"].append(sample)
                    print(orjson.dumps(sample).decode(), file=sys.stderr, flush=True)
                results["redis_keys"] = key_breakdown(info, settings.redis_prefix)
                if args.soak_s:
                    results["exporter_soak"] = await soak(session, base, procs[-1], args.soak_s)
        finally:
            for p in procs:
                p.stop()
            store.client.close()
        results["redis_pid"] = redis_pid(url)
    samples = results["samples"]
    steady = [s for s in samples if s["day"] >= 2]
    worker_key = "worker_traced_mb" if args.tracemalloc else "worker_rss_mb"
    results["slope_mb_per_day"] = {
        name: slope_mb_per_day([(s["day"], s[key]) for s in steady])
        for name, key in (
            ("worker", worker_key),
            ("exporter", "exporter_rss_mb"),
            ("redis", "redis_used_mb"),
        )
    }
    # The worker's state cache is bounded (streams.consume.CACHE_LIMIT entries, then dropped
    # after a full flush), so its RSS climbs until the first drop and is flat after: the
    # second half of the run shows the steady state.
    late = samples[len(samples) // 2 :]
    results["slope_mb_per_day_second_half"] = {
        name: slope_mb_per_day([(s["day"], s[key]) for s in late])
        for name, key in (("worker", worker_key), ("exporter", "exporter_rss_mb"))
    }
    results["peak_mb"] = {
        name: max(s[key] for s in samples)
        for name, key in (("worker", worker_key), ("exporter", "exporter_rss_mb"))
    }
    results["events_per_day"] = round(statistics.mean(s["events"] for s in samples))
    if len(snapshots) == 2:
        results["tracemalloc_top_growth"] = top_growth(*snapshots)
    results["log_dir"] = str(log_dir)
    results["load_avg_at_end"] = list(os.getloadavg())
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=str(REPO_ROOT / "deploy/scenarios/large-centre.yaml"))
    parser.add_argument("--days", type=int, default=10, help="simulated days (>= 3)")
    parser.add_argument("--bootstrap", help="HOST:PORT of an existing broker (default: Tansu)")
    parser.add_argument("--tracemalloc", action="store_true", help="worker in-process, traced")
    parser.add_argument(
        "--snapshot-days", default="", help="with --tracemalloc: the two days compared (2,DAYS)"
    )
    parser.add_argument(
        "--soak-s", type=float, default=0, help="then read the exporter this long (wall clock)"
    )
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "benchmarks/results/memory.json")
    args = parser.parse_args(argv)
    if args.days < 3:
        parser.error("--days must be at least 3 (the slope skips the first day)")
    results = asyncio.run(run(args))
    args.out.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2) + b"\n")
    print(f"slope MB per simulated day: {results['slope_mb_per_day']}")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
