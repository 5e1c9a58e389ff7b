"""The fault runs, each sized by its caller: the bounded tests (CI) and the soak (full size).

Each run produces traffic (valid days mixed with bad records), lets a real worker read it
while a fault happens (servers of the run's own stalled with SIGSTOP, restarted, killed,
or a Toxiproxy between the worker and the broker or Redis), and returns `Figures`: what
was sent, applied and dead-lettered, and how many cells differ from one clean pass
through the in-memory twin (the goal is 0). `benchmarks/faults.py` runs them at full size.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from metrics.clock import wall_ms
from metrics.core.panes import PANE_MS
from metrics.store.base import AggregateStore
from metrics.store.memory import InMemoryStore
from metrics.store.redis import RedisStore
from streams.consume import Pipeline
from streams.health import WorkerMetrics
from streams.localservers import (
    ManagedProcess,
    find_redis_binary,
    find_tansu_binary,
    free_port,
    kafka_api_versions,
    redis_ping,
)
from streams.outbox import InMemoryOutbox
from streams.settings import Settings
from streams.testing.events import outcome, yesterday_ms
from tests.integration.pipeline_helpers import create_topics, dump, keyed, read_records
from tests.integration.pipeline_helpers import settings_for as _settings_for
from tests.integration.test_crash_recovery import start_worker
from tests.integration.test_worker import QUEUES, worker
from tests.integration.test_worker_faults import (
    DAY,
    SALT,
    T0,
    Values,
    _ms,
    _Rec,
    fuzzed_mix,
    malformed,
    produce_all,
)
from tests.servers.toxiproxy import Toxiproxy
from tests.traffic import messy_stream

#: Settings every fault run shares: a small outbox (fetching pauses), quick retries.
FAULT_SETTINGS: dict[str, Any] = {
    "outbox_max_records": 500,
    "max_batch": 500,
    "delivery_max_backoff_s": 1.0,
    "ready_flush_age_s": 5.0,
}


@dataclass
class Figures:
    """What one fault run sent, applied and dead-lettered, and how it compares."""

    fault: str
    sent: int
    applied: int
    dead_lettered: int
    bad: int
    #: bad records that are not in the dead-letter topic (must be 0)
    letters_missing: int
    #: panes, intervals, live figures and totals that differ from one clean pass
    differing: int
    #: the worker process ended on its own during the run (must be False)
    worker_exited: bool = False
    #: /readyz statuses seen during the fault, and the last one after it
    ready_during: list[int] = field(default_factory=list)
    ready_after: int = 0
    #: times the worker found the store had lost its data (and rebuilt from the log)
    store_lost: int = 0
    #: faults that struck while records were still to be applied (else they proved little)
    mid_run: int = 0
    #: the first few differing cells, to see where a difference lies
    differing_sample: list[str] = field(default_factory=list)
    note: str = ""
    seconds: float = 0.0

    @property
    def exact(self) -> bool:
        return self.differing == 0 and self.letters_missing == 0 and not self.worker_exited


def fault_settings(brokers: str, redis_url: str, **overrides: Any) -> Settings:
    return _settings_for(brokers, redis_url, **{**FAULT_SETTINGS, **overrides})


def cells_differing(got: dict[Any, Any], want: dict[Any, Any]) -> int:
    """How many cells (one counter of one pane, interval, live figure or total) differ."""
    return len(differing_cells(got, want))


def differing_cells(got: dict[Any, Any], want: dict[Any, Any]) -> list[str]:
    """The cells that differ, each as "series field index/key: got != want"."""

    def flat(data: dict[Any, Any]) -> dict[tuple[Any, ...], Any]:
        out: dict[tuple[Any, ...], Any] = {}
        for series, fields in data.items():
            for name, value in fields.items():
                if isinstance(value, list):
                    for i, cell in enumerate(value):
                        for key, x in cell.items():
                            out[(series, name, i, key)] = x
                elif isinstance(value, dict):
                    for key, x in value.items():
                        out[(series, name, key)] = x
                else:
                    out[(series, name)] = value
        return out

    a, b = flat(got), flat(want)
    return sorted(
        f"{k}: {a.get(k)} != {b.get(k)}" for k in a.keys() | b.keys() if a.get(k) != b.get(k)
    )


# --- servers of the run's own -------------------------------------------------------------


class OwnRedis:
    """A valkey-server of the run's own; with `aof`, `appendonly yes`, `appendfsync always`."""

    def __init__(self, work_dir: Path, aof: bool = False, port: int | None = None) -> None:
        found = find_redis_binary()
        assert found is not None, "no valkey-server/redis-server (the demo extra ships one)"
        self.binary = found[0]
        self.work_dir, self.aof, self.port = work_dir, aof, port or free_port()
        self.process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int:
        assert self.process is not None and self.process.pid is not None
        return self.process.pid

    def start(self) -> str:
        data = self.work_dir / f"redis-{self.port}"
        data.mkdir(parents=True, exist_ok=True)
        persist = ["--appendonly", "yes", "--appendfsync", "always"] if self.aof else []
        argv = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        argv += ["--save", "", "--appendonly", "no", *persist, "--dir", str(data)]
        self.process = ManagedProcess("valkey", argv, self.work_dir / "valkey.log")
        self.process.start()
        self.process.wait_ready(
            lambda: redis_ping("127.0.0.1", self.port), timeout_s=30, what="valkey"
        )
        return self.url

    def kill(self) -> None:
        """SIGKILL: no shutdown save; only what AOF already holds survives."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGCONT)
                os.kill(self.pid, signal.SIGKILL)
            self.process.stop()
            self.process = None


@contextlib.contextmanager
def own_tansu(log_dir: Path, advertised_port: int | None = None) -> Iterator[ManagedProcess]:
    """A Tansu of the run's own; with `advertised_port`, clients are sent to that port
    (a proxy in front of it) after their first metadata request."""
    direct = free_port()
    front = advertised_port or direct
    process = ManagedProcess(
        "tansu",
        [find_tansu_binary(), "broker", "--listener-url", f"tcp://127.0.0.1:{direct}"]
        + ["--advertised-listener-url", f"tcp://127.0.0.1:{front}"]
        + ["--storage-engine", "memory://tansu/"],
        log_dir / "tansu.log",
        env={"NO_COLOR": "1", "TANSU_DIRECT_PORT": str(direct)},
        stop_signal=signal.SIGKILL,
    )
    process.start()
    try:
        process.wait_ready(
            lambda: bool(kafka_api_versions("127.0.0.1", direct)), timeout_s=30, what="Tansu"
        )
        yield process
    finally:
        if process.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGCONT)
        process.stop()


def direct_port(tansu: ManagedProcess) -> int:
    assert tansu.env is not None
    return int(tansu.env["TANSU_DIRECT_PORT"])


async def stall(pid: int, seconds: float, probe: Callable[[], int] | None = None) -> list[int]:
    """SIGSTOP `pid` for `seconds`, then SIGCONT; the probe's answers every 0.5 s meanwhile."""
    seen: list[int] = []
    os.kill(pid, signal.SIGSTOP)
    try:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if probe is not None:
                seen.append(await asyncio.to_thread(probe))
            await asyncio.sleep(min(0.5, max(left, 0)))
    finally:
        os.kill(pid, signal.SIGCONT)
    return seen


# --- a worker process ---------------------------------------------------------------------


class WorkerProcess:
    """`ccmon worker` as a subprocess with the run's settings; its health port polled."""

    def __init__(self, settings: Settings, work_dir: Path) -> None:
        self.settings, self.work_dir = settings, work_dir
        self.port = settings.worker_metrics_port
        self.log = work_dir / "worker.log"
        repo = str(Path(__file__).resolve().parents[2])
        self.env = dict(os.environ, PYTHONPATH=repo)
        for name, value in settings.as_dict(plaintext_secrets=True).items():
            if value is not None:
                self.env[f"CCMON_{name.upper()}"] = str(value)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        self.proc = start_worker(self.env, self.work_dir, self.log)
        return self

    def exited(self) -> bool:
        return self.proc is not None and self.proc.poll() is not None

    def _get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()
        except OSError:
            return 0, ""

    def ready(self) -> int:
        return self._get("/readyz")[0]

    def metric(self, name: str) -> float:
        """The sum of a sample over all its labels (0 when not exported)."""
        _, text = self._get("/metrics")
        return sum(
            s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
            if s.name == name
        )

    async def until_ready(self, timeout_s: float = 60) -> int:
        deadline = time.monotonic() + timeout_s
        while (status := await asyncio.to_thread(self.ready)) != 200:
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        return status

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(60)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


# --- traffic, waiting and comparing -------------------------------------------------------


async def clean_pass(settings: Settings, values: Values) -> tuple[InMemoryStore, InMemoryOutbox]:
    """One pass through the in-memory twin, configured like the worker's Redis store (its
    retention, dedupe horizon, state TTL); forwarded records are consumed after."""
    store = InMemoryStore(
        retention_ms=settings.retention_s * 1000,
        dedupe_horizon_ms=settings.dedupe_horizon_s * 1000,
        state_ttl_ms=settings.state_ttl_s * 1000,
    )
    outbox = InMemoryOutbox()

    async def commit(_: dict[str, int]) -> None:
        return None

    pipeline = Pipeline(
        settings, QUEUES, store, outbox, WorkerMetrics.create(CollectorRegistry()), commit
    )
    await pipeline.process([_Rec(i, k, v) for i, (k, v) in enumerate(values)])
    await pipeline.flush_all()
    back = [_Rec(len(values) + i, k, v) for i, (k, v) in enumerate(outbox.forwarded)]
    await pipeline.process(back)
    await pipeline.flush_all()
    return store, outbox


def mixed(contacts: int, bad: int, seed: int, start_ms: int = T0) -> tuple[Values, Values]:
    """(all records, the bad ones): a valid day with malformed records spread through it."""
    good = keyed(messy_stream(start_ms, contacts=contacts, seed=seed))
    wrong = malformed(bad, seed=seed + 1)
    rng = random.Random(seed)
    out = list(good)
    for record in wrong:
        out.insert(rng.randrange(len(out) + 1), record)
    return out, wrong


def read_after(values: Values, at_least_ms: int) -> int:
    """A read time at or after every event of `values`, a whole pane: as the exporter reads.

    A store trims the live sets at its newest event time, so a read taken before the
    newest event would count waits the worker has rightly let go (the full-size catch-up
    runs 51 minutes past its last day).
    """
    newest = max(_ms(orjson.loads(value)["time"]) for _, value in values)
    return max(at_least_ms, newest - newest % PANE_MS + PANE_MS)


def backlog(days: int, contacts: int, customers: int) -> Values:
    """`days` of messy traffic ending yesterday, each handled contact with an outcome
    naming one of `customers` customers (so repeat contacts happen).

    Keep `customers` at a tenth of the daily contacts or more: a customer with more than
    100 contacts within the retention goes over the per-customer cap, and the counts of
    its oldest kept contacts may then depend on arrival order (docs/customer-experience.md).
    """
    rng = random.Random(days)
    out: Values = []
    start = yesterday_ms() - (days - 1) * DAY + 8 * 3_600_000
    for day in range(days):
        events = messy_stream(start + day * DAY, contacts=contacts, seed=100 + day)
        for event in list(events):
            if event["type"] == "contact.answered" and rng.random() < 0.6:
                data = event["data"]
                at = _ms(event["time"]) + rng.randrange(60_000, 600_000)
                resolved = rng.random() < 0.7
                cust = f"cust-{rng.randrange(customers)}"
                events.append(
                    outcome(
                        at,
                        data["contact_id"],
                        resolved,
                        data["queue"],
                        data["channel"],
                        customer_id=cust,
                    )
                )
        out += keyed(events)
    return out


async def applied_records(store: AggregateStore) -> int:
    """Records the store has applied, over all partitions (offsets + 1, summed)."""
    return sum(o + 1 for o in (await asyncio.to_thread(store.load_offsets)).values())


async def until_applied(
    store: AggregateStore,
    records: int,
    timeout_s: float,
    also: Callable[[], bool] = lambda: False,
) -> None:
    """Until the store has applied `records` records; stops early when `also()` is true."""
    deadline = time.monotonic() + timeout_s
    while (got := await applied_records(store)) < records:
        if time.monotonic() > deadline or also():
            raise AssertionError(f"{got} of {records} records applied within {timeout_s} s")
        await asyncio.sleep(0.2)


async def compare(
    fault: str,
    settings: Settings,
    values: Values,
    bad: Values,
    store: AggregateStore,
    applied: float,
    span: tuple[int, int] = (T0, T0 + DAY),
    letters_expected: int | None = None,
) -> Figures:
    """Figures of a finished run: the store and dead-letter topic against a clean pass."""
    count = len(bad) if letters_expected is None else letters_expected
    letters = await read_records(
        settings.brokers, settings.deadletter_topic, count, timeout_s=60, grace_ms=1000
    )
    expected, _ = await clean_pass(settings, values)
    got = await asyncio.to_thread(dump, store, *span)
    want = dump(expected, *span)
    cells = differing_cells(got, want)
    return Figures(
        fault=fault,
        sent=len(values),
        applied=int(applied),
        dead_lettered=len(letters),
        bad=len(bad),
        letters_missing=len({v for _, v in bad} - {r.value for r in letters}),
        differing=len(cells),
        differing_sample=cells[:20],
    )


def _timed(run: Callable[..., Awaitable[Figures]]) -> Callable[..., Awaitable[Figures]]:
    async def wrapped(*args: Any, **kwargs: Any) -> Figures:
        started = time.monotonic()
        figures = await run(*args, **kwargs)
        figures.seconds = round(time.monotonic() - started, 1)
        return figures

    wrapped.__name__ = run.__name__
    wrapped.__doc__ = run.__doc__
    return wrapped


# --- the runs -----------------------------------------------------------------------------


@_timed
async def redis_stalled(
    brokers: str, work_dir: Path, stall_s: float, contacts: int, bad: int
) -> Figures:
    """A Redis of the run's own stopped (SIGSTOP) for `stall_s` mid-run, while the second
    half of the traffic is produced; then continued (SIGCONT)."""
    redis = OwnRedis(work_dir)
    url = redis.start()
    settings = fault_settings(brokers, url, worker_metrics_port=free_port())
    await create_topics(settings)
    values, wrong = mixed(contacts, bad, seed=61)
    half = len(values) // 2
    await produce_all(settings, values[:half])
    store = RedisStore.from_url(url, prefix=settings.redis_prefix)
    proc = WorkerProcess(settings, work_dir).start()
    try:
        await until_applied(store, half, 120, also=proc.exited)
        mid_run = 1  # the second half is produced during the stall
        seen, _ = await asyncio.gather(
            stall(redis.pid, stall_s, proc.ready), produce_all(settings, values[half:])
        )
        await until_applied(store, len(values), 180, also=proc.exited)
        after = await proc.until_ready()
        applied = proc.metric("ccmon_events_applied_total")
        exited = proc.exited()
    finally:
        proc.stop()
    figures = await compare("redis stalled", settings, values, wrong, store, applied)
    redis.kill()
    figures.worker_exited, figures.ready_during, figures.ready_after = exited, seen, after
    figures.mid_run = mid_run
    figures.note = f"{stall_s:.0f} s SIGSTOP"
    return figures


@_timed
async def broker_stalled(
    redis_url: str, work_dir: Path, stall_s: float, contacts: int, bad: int
) -> Figures:
    """A Tansu of the run's own stopped (SIGSTOP) for `stall_s` once a quarter of the
    records are applied (dead letters and offsets commits in flight); then continued."""
    with own_tansu(work_dir) as tansu:
        brokers = f"127.0.0.1:{direct_port(tansu)}"
        settings = fault_settings(brokers, redis_url, worker_metrics_port=free_port())
        await create_topics(settings)
        values, wrong = mixed(contacts, bad, seed=71)
        await produce_all(settings, values)
        store = RedisStore.from_url(redis_url, prefix=settings.redis_prefix)
        proc = WorkerProcess(settings, work_dir).start()
        try:
            await until_applied(store, len(values) // 4, 120, also=proc.exited)
            assert tansu.pid is not None
            mid_run = await applied_records(store) < len(values)
            seen = await stall(tansu.pid, stall_s, proc.ready)
            await until_applied(store, len(values), 240, also=proc.exited)
            after = await proc.until_ready()
            applied = proc.metric("ccmon_events_applied_total")
            exited = proc.exited()
        finally:
            proc.stop()
        figures = await compare("broker stalled", settings, values, wrong, store, applied)
    figures.worker_exited, figures.ready_during, figures.ready_after = exited, seen, after
    figures.mid_run = int(mid_run)
    figures.note = f"{stall_s:.0f} s SIGSTOP"
    return figures


@_timed
async def through_toxiproxy(
    toxi: Toxiproxy,
    redis_url: str,
    work_dir: Path,
    contacts: int,
    bad: int,
    latency_ms: int = 200,
    jitter_ms: int = 50,
    hold_s: float = 3.0,
) -> Figures:
    """Every connection of the worker to the broker and to Redis through Toxiproxy, with
    `latency_ms` ± `jitter_ms` both ways all along; once a third is applied, connections
    reset (reset_peer) on both for `hold_s`; at two thirds, all data dropped (timeout) on
    both for `hold_s` (the toxic's removal closes those connections)."""
    front = free_port()
    with own_tansu(work_dir, advertised_port=front) as tansu:
        toxi.proxy("kafka", f"127.0.0.1:{direct_port(tansu)}", listen_port=front)
        redis_port = toxi.proxy("redis", redis_url.split("//")[1].split("/")[0])
        settings = fault_settings(
            f"127.0.0.1:{front}",
            f"redis://127.0.0.1:{redis_port}/0",
            worker_metrics_port=free_port(),
            producer_request_timeout_ms=2000,
        )
        await create_topics(settings)
        values, wrong = mixed(contacts, bad, seed=81)
        await produce_all(settings, values)
        for proxy in ("kafka", "redis"):
            for stream in ("upstream", "downstream"):
                toxi.add(proxy, "latency", stream, latency=latency_ms // 2, jitter=jitter_ms // 2)
        store = RedisStore.from_url(redis_url, prefix=settings.redis_prefix)
        proc = WorkerProcess(settings, work_dir).start()
        mid_run = 0
        try:
            for share, kind in ((3, "reset_peer"), (3 / 2, "timeout")):
                await until_applied(store, int(len(values) / share), 180, proc.exited)
                mid_run += await applied_records(store) < len(values)
                added = [(p, toxi.add(p, kind, "upstream", timeout=0)) for p in ("kafka", "redis")]
                await asyncio.sleep(hold_s)
                for proxy, toxic in added:
                    toxi.remove(proxy, toxic)
            await until_applied(store, len(values), 240, also=proc.exited)
            applied = proc.metric("ccmon_events_applied_total")
            exited = proc.exited()
        finally:
            proc.stop()
        figures = await compare("toxiproxy", settings, values, wrong, store, applied)
    figures.worker_exited, figures.mid_run = exited, mid_run
    figures.note = (
        f"latency {latency_ms} ± {jitter_ms} ms; resets {hold_s:.0f} s; data dropped {hold_s:.0f} s"
    )
    return figures


@_timed
async def redis_restarted(brokers: str, work_dir: Path, aof: bool, contacts: int) -> Figures:
    """A Redis of the run's own killed (SIGKILL) once half the records are applied and
    started again on the same port and directory, while the second half is produced."""
    redis = OwnRedis(work_dir, aof=aof)
    url = redis.start()
    settings = fault_settings(brokers, url, worker_metrics_port=free_port())
    await create_topics(settings)
    values, wrong = mixed(contacts, 0, seed=91)
    half = len(values) // 2
    await produce_all(settings, values[:half])
    store = RedisStore.from_url(url, prefix=settings.redis_prefix)
    proc = WorkerProcess(settings, work_dir).start()
    try:
        await until_applied(store, half, 120, also=proc.exited)
        redis.kill()
        redis = OwnRedis(work_dir, aof=aof, port=redis.port)
        redis.start()
        await produce_all(settings, values[half:])
        await until_applied(store, len(values), 240, also=proc.exited)
        lost = proc.metric("ccmon_store_data_lost_total")
        applied = proc.metric("ccmon_events_applied_total")
        exited = proc.exited()
    finally:
        proc.stop()
    fault = "redis restarted, AOF always" if aof else "redis restarted, no persistence"
    figures = await compare(fault, settings, values, wrong, store, applied)
    redis.kill()
    figures.worker_exited, figures.store_lost = exited, int(lost)
    figures.note = "SIGKILL, then started on the same port and directory"
    return figures


@_timed
async def killed_during_backlog(
    brokers: str, redis_url: str, work_dir: Path, contacts: int, kills: int
) -> Figures:
    """The worker process SIGKILLed `kills` times at random moments of a backlog, then
    one last worker runs it to the end."""
    settings = fault_settings(
        brokers, redis_url, worker_metrics_port=free_port(), session_timeout_ms=6000
    )
    await create_topics(settings)
    values, wrong = mixed(contacts, contacts // 2, seed=101)
    await produce_all(settings, values)
    store = RedisStore.from_url(redis_url, prefix=settings.redis_prefix)
    rng = random.Random(kills)
    mid_run = 0
    for _ in range(kills):
        if await applied_records(store) == len(values):
            break
        proc = WorkerProcess(settings, work_dir).start()
        before = await applied_records(store)
        with contextlib.suppress(AssertionError):
            await until_applied(store, before + 1, 60, also=proc.exited)
        await asyncio.sleep(rng.uniform(0, 1.0))
        proc.kill()
        mid_run += await applied_records(store) < len(values)
    proc = WorkerProcess(settings, work_dir).start()
    try:
        await until_applied(store, len(values), 600, also=proc.exited)
        applied = proc.metric("ccmon_events_applied_total")
    finally:
        proc.stop()
    figures = await compare("SIGKILL during a backlog", settings, values, wrong, store, applied)
    figures.mid_run = mid_run
    figures.note = f"{mid_run} of {kills} kills mid-run; applied: by the last worker"
    return figures


async def _in_process(
    fault: str,
    settings: Settings,
    values: Values,
    wrong: Values,
    records: int,
    span: tuple[int, int],
    timeout_s: float,
    letters_expected: int | None = None,
) -> Figures:
    """Run the worker's consumer in this process until `records` are applied; compare."""
    await create_topics(settings)
    await produce_all(settings, values)
    store = settings.redis_store(QUEUES)
    async with worker(settings) as registry:
        await until_applied(store, records, timeout_s)
    applied = registry.get_sample_value("ccmon_events_applied_total") or 0.0
    return await compare(fault, settings, values, wrong, store, applied, span, letters_expected)


@_timed
async def every_event_twice(brokers: str, redis_url: str, contacts: int) -> Figures:
    """Every record produced twice (the second copy after the whole first pass)."""
    settings = fault_settings(brokers, redis_url)
    once, wrong = mixed(contacts, contacts // 4, seed=111)
    values = once + once
    figures = await _in_process(
        "every event twice",
        settings,
        values,
        wrong,
        len(values),
        (T0, T0 + DAY),
        600,
        letters_expected=2 * len(wrong),
    )
    figures.note = "applied counts each event once; the copies are ignored as duplicates"
    return figures


@_timed
async def fuzzed(brokers: str, redis_url: str, count: int) -> Figures:
    """The fuzzed mix of test_worker_faults (cut-short JSON, random bytes, unknown types,
    over 64 KiB, future-dated, empty) around `count // 4` contacts."""
    settings = fault_settings(brokers, redis_url)
    values = fuzzed_mix(count, seed=121, now_ms=wall_ms())
    _, clean = await clean_pass(settings, values)
    wrong: Values = [(None, letter.value) for letter in clean.letters]
    return await _in_process(
        "fuzzed events", settings, values, wrong, len(values), (T0, T0 + DAY), 900
    )


@_timed
async def catch_up(brokers: str, redis_url: str, days: int, contacts: int) -> Figures:
    """`days` of traffic produced at once with the customer-id salt set (an outage's
    catch-up): every handled contact's outcome forwarded and counted."""
    # A retention longer than the backlog, so no day of it is too late to apply.
    settings = fault_settings(
        brokers,
        redis_url,
        customer_id_salt=SALT,
        max_batch=2000,
        retention_s=(days + 2) * DAY // 1000,
    )
    values = backlog(days, contacts, customers=max(300, contacts // 10))
    _, clean = await clean_pass(settings, values)
    span = (yesterday_ms() - (days - 1) * DAY, read_after(values, yesterday_ms() + DAY))
    records = len(values) + len(clean.forwarded)
    figures = await _in_process(
        f"{days}-day catch-up, salt set", settings, values, [], records, span, 3600
    )
    figures.note = f"{len(clean.forwarded)} customer.contact records forwarded and applied"
    return figures


@contextlib.asynccontextmanager
async def toxiproxy_of_own(work_dir: Path, binary: str) -> AsyncIterator[Toxiproxy]:
    proxy = Toxiproxy(binary, work_dir).start()
    try:
        yield proxy
    finally:
        proxy.stop()
