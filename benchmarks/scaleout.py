"""Scale-out: events/s of 1, 2 and 4 real ``ccmon worker`` processes in one group.

``python -m benchmarks.scaleout [--workers 1,2,4] [--n 200000] [--partitions 4]`` starts a
local Tansu broker (unless ``--bootstrap``) and a Redis server (``benchmarks.local_redis``),
builds the events of ``benchmarks.run`` once, and for each worker count: creates a fresh
topic, starts that many ``ccmon worker`` subprocesses (production defaults, a fresh group
and key prefix), waits until the group's split is complete and has held for two session
timeouts, then produces the N events at full speed and times from the first send until
the store's applied offsets cover every record (the N-th event is in Redis). Per-worker
CPU seconds (psutil) over the same span, the broker's, Redis's and this process's, and the
machine's busy share, show where the cores went. Figures go to
benchmarks/results/scaleout.json; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import psutil
import redis

from benchmarks.broker import create_topic
from benchmarks.events import build_records, produce_records
from benchmarks.local_redis import redis_server
from benchmarks.run import busy_share, machine_facts, system_cpu_seconds
from benchmarks.runners._common import SESSION_TIMEOUT_MS
from benchmarks.workers import ServiceProcess, env_of, wait_for_split
from metrics.store.redis import RedisStore
from streams.localservers import LocalTansu
from streams.settings import Settings

REPO_ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def broker(bootstrap: str | None, log_dir: Path) -> Iterator[tuple[str, int | None]]:
    """``(bootstrap, broker pid or None)``: the given broker, or a local Tansu."""
    if bootstrap:
        yield bootstrap, None
        return
    tansu = LocalTansu(log_dir)
    started = tansu.start()
    try:
        yield started, tansu.process.pid if tansu.process else None
    finally:
        tansu.stop()


def cpu_of(pid: int | None) -> float | None:
    if pid is None:
        return None
    with contextlib.suppress(psutil.Error):
        times = psutil.Process(pid).cpu_times()
        return float(times.user + times.system)
    return None


async def one_count(
    workers: int, args: argparse.Namespace, bootstrap: str, url: str, pids: dict[str, int | None]
) -> dict[str, Any]:
    """Start `workers` workers on a fresh topic, produce, time until every event is stored."""
    run_id = uuid.uuid4().hex[:8]
    settings = Settings(
        brokers=bootstrap,
        redis_url=url,
        events_topic=f"scaleout-{run_id}",
        deadletter_topic=f"scaleout-dead-{run_id}",
        group_id=f"scaleout-{run_id}",
        redis_prefix=f"scaleout-{run_id}",
        create_topics=False,
        worker_metrics_port=0,
        session_timeout_ms=SESSION_TIMEOUT_MS,
        topic_partitions=args.partitions,
    )
    await create_topic(bootstrap, settings.events_topic, args.partitions)
    await create_topic(bootstrap, settings.deadletter_topic, args.partitions)
    log_dir = Path(tempfile.mkdtemp(prefix=f"ccmon-scaleout-{workers}-"))
    env = env_of(settings)
    procs = [ServiceProcess("worker", f"worker{i}", env, log_dir) for i in range(workers)]
    store = RedisStore.from_url(url, prefix=settings.redis_prefix)
    try:
        split = await wait_for_split(
            procs, args.partitions, timeout_s=120, settle_s=2 * SESSION_TIMEOUT_MS / 1000
        )
        records = build_records(args.n, args.seed)
        cpu0 = {p.name: p.cpu_seconds() for p in procs}
        other0 = {name: cpu_of(pid) for name, pid in pids.items()}
        machine0 = system_cpu_seconds()
        started = time.perf_counter()
        produced = await produce_records(bootstrap, settings.events_topic, records)
        wanted = {
            f"{settings.events_topic}:{p}": count - 1
            for p, count in produced["per_partition"].items()
            if count
        }
        while True:
            for p in procs:
                p.check_alive()
            if await asyncio.to_thread(store.load_offsets) == wanted:
                break
            await asyncio.sleep(0.02)
        seconds = time.perf_counter() - started
        machine1 = system_cpu_seconds()
        cpu = {p.name: round(p.cpu_seconds() - cpu0[p.name], 3) for p in procs}
        others: dict[str, float | None] = {}
        for name, pid in pids.items():
            before, after = other0[name], cpu_of(pid)
            others[name] = round(after - before, 3) if before is not None and after else None
    finally:
        for p in procs:
            p.stop()
        store.client.close()
    return {
        "workers": workers,
        "partitions": args.partitions,
        "split": split,
        "events": args.n,
        "seconds": round(seconds, 3),
        "events_per_s": round(args.n / seconds),
        "producer_seconds": produced["seconds"],
        "worker_cpu_seconds": cpu,
        "worker_cpu_share": {k: round(v / seconds, 3) for k, v in cpu.items()},
        "events_per_worker_cpu_s": round(args.n / sum(cpu.values())) if sum(cpu.values()) else None,
        "other_cpu_seconds": others,
        "machine_busy_share": busy_share(machine0, machine1),
        "log_dir": str(log_dir),
    }


def redis_pid(url: str) -> int | None:
    with contextlib.suppress(redis.RedisError):
        return int(redis.Redis.from_url(url).info("server")["process_id"])
    return None


async def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {
        "benchmark": "scaleout",
        "started_at": datetime.now(UTC).isoformat(),
        "machine": machine_facts(),
        "command": " ".join(["python -m benchmarks.scaleout", *sys.argv[1:]]),
        "runs": [],
    }
    log_dir = Path(tempfile.mkdtemp(prefix="ccmon-scaleout-"))
    with broker(args.bootstrap, log_dir) as (bootstrap, broker_pid), redis_server() as (url, _):
        pids = {"broker": broker_pid, "redis": redis_pid(url), "bench": os.getpid()}
        for count in (int(w) for w in args.workers.split(",")):
            run = await one_count(count, args, bootstrap, url, pids)
            results["runs"].append(run)
            print(orjson.dumps(run).decode(), file=sys.stderr, flush=True)
    one = results["runs"][0]["events_per_s"]
    results["speedup_to_first"] = {
        str(r["workers"]): round(r["events_per_s"] / one, 2) for r in results["runs"]
    }
    results["load_avg_at_end"] = list(os.getloadavg())
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="1,2,4", help="worker counts, comma-separated")
    parser.add_argument("--n", type=int, default=200_000, help="events per worker count")
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--bootstrap", help="HOST:PORT of an existing broker (default: Tansu)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "benchmarks/results/scaleout.json")
    args = parser.parse_args(argv)
    results = asyncio.run(run(args))
    args.out.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2) + b"\n")
    for r in results["runs"]:
        print(
            f"{r['workers']} worker(s): {r['events_per_s']:>8,} events/s  "
            f"cpu share per worker {r['worker_cpu_share']}  machine busy {r['machine_busy_share']}"
        )
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
