"""The Faust app and its wiring, nothing else.

Faust owns the process: start-up, signals, graceful shutdown and logging. Events are
consumed in batches by an aiokafka consumer running as a Faust service, because Faust's
per-event stream machinery caps one worker near 9-10k events/s here (see
docs/performance.md); the batch loop keeps at-least-once, commit-after-flush semantics
at over three times that, with all of ccmon's work included.

An error the consumer cannot recover from stops the Faust worker and the process exits
non-zero (see streams/faults.py) after one log line, so a supervisor restarts it; Faust's
own crash flag would leave a process that is up but consumes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from pathlib import Path

import faust
import mode
from faust.app.base import BootStrategy
from mode import Service
from mode.utils.futures import maybe_cancel
from prometheus_client import CollectorRegistry

from metrics.config.queues import QueuesConfig
from metrics.exposition.runtime import register_runtime_metrics
from metrics.store.redis import RedisStore
from streams.connections import KafkaRefused, kafka_options, kafka_refusal
from streams.faults import exit_status
from streams.health import WorkerMetrics
from streams.healthserver import HealthServer, Readiness
from streams.kafka import run_consumer
from streams.settings import Settings

__all__ = ["create_app"]

log = logging.getLogger(__name__)


class _BatchBoot(BootStrategy):
    """Start Faust without its own consumer, producer, leader assignor and tables.

    ccmon has no Faust agents: an idle Faust consumer would still join a group of its
    own (for its leader-assignor topic), which costs a rebalance round at every start,
    and Faust's producer would end the start with a traceback when the broker is away
    (ccmon's own clients wait for it instead).
    """

    enable_kafka_consumer = False
    enable_kafka_producer = False


class _App(faust.App):
    BootStrategy = _BatchBoot


class _NoCrashBanner(logging.Filter):
    """Drops mode's "We experienced a crash!" line after ccmon logged why it exits."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "We experienced a crash" not in record.getMessage()


def _worker_of(app: faust.App) -> mode.Worker | None:
    """The mode Worker running `app` (the root of its service tree), if any."""
    node = app.beacon
    while node.parent is not None:
        node = node.parent
    return node.data if isinstance(node.data, mode.Worker) else None


def _exit_worker(app: faust.App, status: int) -> None:
    """Stop the worker running `app` and make its process exit with `status`.

    mode's Worker re-raises its `crash_reason` once the loop is shut down; a SystemExit
    there passes through its `exiting()` guard, so the status reaches the process.
    """
    worker = _worker_of(app)
    if worker is None:  # not under a Worker (tests driving the app directly)
        raise SystemExit(status)
    worker.crash_reason = SystemExit(status)
    # mode announces the re-raise as a crash; our own line has said what happened.
    logging.getLogger("faust.worker").addFilter(_NoCrashBanner())
    if worker._signal_stop_future is None:  # a signal may already be stopping it

        async def shutdown() -> None:
            await worker.stop()
            maybe_cancel(worker._starting_fut)

        worker._signal_stop_time = worker.loop.time()
        worker._signal_stop_future = asyncio.ensure_future(shutdown())


def _credentials(settings: Settings) -> faust.types.auth.CredentialsT | None:
    """Faust's view of CCMON_KAFKA_*: its own consumer and producer are off (see
    _BatchBoot), but whatever Faust opens must speak the same protocol as ccmon's clients."""
    try:
        options = kafka_options(settings)
    except KafkaRefused:
        return None  # unloadable TLS files: the consumer's start reports them (exit 2)
    protocol = settings.kafka_security_protocol
    if protocol in ("SASL_PLAINTEXT", "SASL_SSL"):
        return faust.SASLCredentials(
            username=options["sasl_plain_username"],
            password=options["sasl_plain_password"],
            ssl_context=options.get("ssl_context"),
            mechanism=settings.kafka_sasl_mechanism,
        )
    if protocol == "SSL":
        return faust.SSLCredentials(options["ssl_context"])
    return None


async def _consume(
    settings: Settings,
    queues: QueuesConfig,
    store: RedisStore,
    metrics: WorkerMetrics,
    stop: asyncio.Event,
    readiness: Readiness,
) -> None:
    """The batch consumer, after a check that a secured broker accepts the settings: a
    wrong password or untrusted certificate ends the worker (exit 2) instead of retrying."""
    if settings.kafka_security_protocol != "PLAINTEXT":
        refusal = await kafka_refusal(settings)
        if refusal is not None:
            raise KafkaRefused(refusal)
    await run_consumer(settings, queues, store, metrics, stop, readiness)


def create_app(settings: Settings, queues: QueuesConfig) -> faust.App:
    """A Faust app whose one service consumes the events topic into Redis."""
    app = _App(
        f"{settings.group_id}-worker",
        broker=[f"kafka://{b.strip()}" for b in settings.brokers.split(",")],
        broker_credentials=_credentials(settings),
        # Health is served by streams.healthserver in threads of its own, off the loop.
        web_enabled=False,
        topic_allow_declare=False,
        topic_replication_factor=1,
        store="memory://",
        # Faust wants a data directory even without tables; keep it out of the cwd.
        datadir=Path(tempfile.gettempdir()) / f"ccmon-{settings.group_id}",
    )

    class ConsumerService(Service):
        """Runs the batch consumer until the worker stops, then flushes and commits."""

        def __post_init__(self) -> None:
            self._stop_event = asyncio.Event()
            self._task: asyncio.Task[None] | None = None
            self._health: HealthServer | None = None
            self.readiness = Readiness(settings.ready_flush_age_s)

        async def on_start(self) -> None:
            registry = CollectorRegistry()
            register_runtime_metrics(registry)
            metrics = WorkerMetrics.create(registry)
            if settings.worker_metrics_port:
                port = settings.worker_metrics_port
                self._health = HealthServer(port, registry, self.readiness).start()
                log.info("worker health on :%d (/healthz, /readyz, /metrics)", port)
            # Kafka and Redis are awaited inside the task: start-up never blocks here.
            store = settings.redis_store(queues)
            self._task = asyncio.create_task(
                _consume(settings, queues, store, metrics, self._stop_event, self.readiness)
            )
            self._task.add_done_callback(self._on_done)

        def _on_done(self, task: asyncio.Task[None]) -> None:
            self.readiness.alive = False
            error = None if task.cancelled() else task.exception()
            if error is None:
                return
            status, line = exit_status(error)
            log.critical("%s (exit status %d)", line, status)
            log.debug("the consumer's error", exc_info=error)
            self._stop_event.set()
            _exit_worker(app, status)

        async def on_stop(self) -> None:
            self._stop_event.set()
            if self._task is not None and not self._task.done():
                # Shielded: a second signal must not cut the final flush and commit short.
                await asyncio.shield(self._task)
            if self._health is not None:
                self._health.stop()

    app.service(ConsumerService)
    return app
