"""The HTTP ingest: events/s accepted, and latency from request to broker ack at a rate.

``python -m benchmarks.ingest [--seconds 10] [--batch 50] [--rate 5000] [--bootstrap H:P]
[--label apache-kafka] [--idempotence] [--out FILE]``
starts a memory-only Tansu broker (or uses ``--bootstrap``), creates a 4-partition events
topic, runs ``ccmon ingest`` as a subprocess (``python -m streams.cli ingest``, a bearer
token set, acks=all), then from this process (aiohttp):

* closed loop: ``--concurrency`` clients each POST arrays of ``--batch`` events back to back
  for ``--seconds``: events/s accepted (every answer must be 200);
* open loop: requests of ``--batch`` events scheduled at ``--rate`` events/s, and single
  events (one a request) at ``--single-rate`` requests/s, up to 64 in flight; latency is
  from each request's scheduled send time to the end of its answer, and the ingest answers
  only after the broker acknowledged every event of the request.

Client, ingest and broker share the machine's cores. Event times are now (nothing ages).
Figures go to benchmarks/results/ingest.json (``--out``).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from benchmarks.broker import create_topic
from benchmarks.freshness import broker_for, ccmon_process, percentile, wait_listening
from benchmarks.run import machine_facts
from streams.localservers import free_port
from streams.testing.events import contact, iso

REPO_ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-ingest-0123456789abcdef"
MAX_IN_FLIGHT = 64
QUEUES = ("sales", "support", "billing", "retention")


def events(prefix: str) -> Iterator[dict[str, Any]]:
    """contact.queued events timed now, a new contact each (spread over 4 queues)."""
    for n in itertools.count():
        now = int(time.time() * 1000)
        event = contact("contact.queued", now, f"{prefix}-{n}", queue=QUEUES[n % 4])
        event["id"] = f"{prefix}-{n}"
        event["time"] = iso(now)
        yield event


def body(source: Iterator[dict[str, Any]], batch: int) -> bytes:
    return orjson.dumps([next(source) for _ in range(batch)])


def summary(values_ms: list[float]) -> dict[str, float]:
    return {
        "count": len(values_ms),
        **{f"p{q}": round(percentile(values_ms, q), 2) for q in (50, 90, 99)},
        "max": round(max(values_ms), 2),
    }


async def closed_loop(
    session: aiohttp.ClientSession, url: str, batch: int, concurrency: int, seconds: float
) -> dict[str, Any]:
    """Clients posting back to back: events/s accepted."""
    source = events(f"c{uuid.uuid4().hex[:6]}")
    accepted, failed = 0, 0
    end = time.monotonic() + seconds

    async def client() -> None:
        nonlocal accepted, failed
        while time.monotonic() < end:
            async with session.post(url, data=body(source, batch)) as response:
                await response.read()
                if response.status == 200:
                    accepted += batch
                else:
                    failed += 1

    started = time.monotonic()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    elapsed = time.monotonic() - started
    return {
        "batch": batch,
        "concurrency": concurrency,
        "seconds": round(elapsed, 2),
        "events_accepted": accepted,
        "failed_requests": failed,
        "events_per_s": round(accepted / elapsed),
    }


async def open_loop(
    session: aiohttp.ClientSession, url: str, batch: int, requests_per_s: float, seconds: float
) -> dict[str, Any]:
    """Requests at a fixed rate; latency from the scheduled send to the end of the answer."""
    source = events(f"o{uuid.uuid4().hex[:6]}")
    latencies: list[float] = []
    failed = 0
    slots = asyncio.Semaphore(MAX_IN_FLIGHT)
    interval = 1.0 / requests_per_s

    async def one(scheduled: float) -> None:
        nonlocal failed
        async with slots:
            async with session.post(url, data=body(source, batch)) as response:
                await response.read()
            if response.status == 200:
                latencies.append((time.monotonic() - scheduled) * 1000)
            else:
                failed += 1

    tasks = []
    start = time.monotonic()
    for n in range(int(seconds * requests_per_s)):
        scheduled = start + n * interval
        if (delay := scheduled - time.monotonic()) > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(scheduled)))
    await asyncio.gather(*tasks)
    elapsed = time.monotonic() - start
    return {
        "batch": batch,
        "target_events_per_s": round(requests_per_s * batch),
        "achieved_events_per_s": round(len(latencies) * batch / elapsed),
        "failed_requests": failed,
        "latency_ms": summary(latencies) if latencies else None,
    }


async def measure(args: argparse.Namespace, port: int) -> dict[str, Any]:
    url = f"http://127.0.0.1:{port}/ingest/v1/events"
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=MAX_IN_FLIGHT)
    async with aiohttp.ClientSession(headers=headers, connector=connector) as session:
        await open_loop(session, url, args.batch, 20, 1.0)  # warm-up: connections, metadata
        closed = await closed_loop(session, url, args.batch, args.concurrency, args.seconds)
        batched = await open_loop(session, url, args.batch, args.rate / args.batch, args.seconds)
        single = await open_loop(session, url, 1, args.single_rate, args.seconds)
    return {"closed_loop": closed, "open_loop_batched": batched, "open_loop_single": single}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase")
    parser.add_argument("--batch", type=int, default=50, help="events per request")
    parser.add_argument("--concurrency", type=int, default=8, help="closed-loop clients")
    parser.add_argument("--rate", type=float, default=5000.0, help="open loop, events/s")
    parser.add_argument("--single-rate", type=float, default=500.0, help="single events/s")
    parser.add_argument("--bootstrap", help="HOST:PORT of an existing broker (default: Tansu)")
    parser.add_argument("--label", default="tansu", help="the broker's name in the report")
    parser.add_argument(
        "--idempotence", action="store_true", help="CCMON_INGEST_IDEMPOTENCE=true (not on Tansu)"
    )
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "benchmarks/results/ingest.json")
    args = parser.parse_args(argv)

    log_dir = Path(tempfile.mkdtemp(prefix="bench-ingest-logs-"))
    started = datetime.now(UTC)
    topic = f"ingest-events-{uuid.uuid4().hex[:8]}"
    with broker_for(args.bootstrap, log_dir) as (bootstrap, _, broker_info):
        asyncio.run(create_topic(bootstrap, topic, 4))
        port = free_port()
        env = {
            "CCMON_BROKERS": bootstrap,
            "CCMON_EVENTS_TOPIC": topic,
            "CCMON_CREATE_TOPICS": "false",
            "CCMON_INGEST_HOST": "127.0.0.1",
            "CCMON_INGEST_TOKENS": f"bench:{TOKEN}",
            "CCMON_INGEST_MAX_CONNECTIONS": "1000",
            "CCMON_INGEST_IDEMPOTENCE": "true" if args.idempotence else "false",
        }
        print(f"broker {bootstrap}; logs {log_dir}", flush=True)
        with ccmon_process("ingest", ["ingest", "--port", str(port)], env, log_dir) as ingest:
            wait_listening(ingest, port, 30.0)
            figures = asyncio.run(measure(args, port))
    report = {
        "started_at": started.isoformat(),
        "command": "make bench-ingest",
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "broker": {**broker_info, "label": args.label},
        "machine": machine_facts(),
        **figures,
        "load_avg_at_end": list(os.getloadavg()),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")
    c, b, s = figures["closed_loop"], figures["open_loop_batched"], figures["open_loop_single"]
    print(f"closed loop: {c['events_per_s']:,} events/s accepted ({c['failed_requests']} failed)")
    for name, fig in (("batched", b), ("single", s)):
        lat = fig["latency_ms"] or {}
        print(
            f"open loop {name}: {fig['achieved_events_per_s']:,}/{fig['target_events_per_s']:,} "
            f"events/s, ms p50 {lat.get('p50')} p99 {lat.get('p99')} "
            f"({fig['failed_requests']} failed)"
        )
    print(f"report: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
