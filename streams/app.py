"""The Faust app and its wiring, nothing else.

Faust owns the process: start-up, signals, graceful shutdown and logging. Events are
consumed in batches by an aiokafka consumer running as a Faust service, because Faust's
per-event stream machinery caps one worker near 9-10k events/s here (see
docs/performance.md); the batch loop keeps at-least-once, commit-after-flush semantics
at over three times that, with all of ccmon's work included.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from pathlib import Path

import faust
from faust.app.base import BootStrategy
from mode import Service
from prometheus_client import CollectorRegistry, start_http_server

from metrics.config.queues import QueuesConfig
from streams.health import WorkerMetrics
from streams.kafka import run_consumer
from streams.settings import Settings
from streams.topics import ensure_topics

__all__ = ["create_app"]

log = logging.getLogger(__name__)


class _BatchBoot(BootStrategy):
    """Start Faust without its own consumer, leader assignor and tables.

    ccmon has no Faust agents: an idle Faust consumer would still join a group of its
    own (for its leader-assignor topic), which costs a rebalance round at every start.
    """

    enable_kafka_consumer = False


class _App(faust.App):
    BootStrategy = _BatchBoot


def create_app(settings: Settings, queues: QueuesConfig) -> faust.App:
    """A Faust app whose one service consumes the events topic into Redis."""
    app = _App(
        f"{settings.group_id}-worker",
        broker=[f"kafka://{b.strip()}" for b in settings.brokers.split(",")],
        # Health is served by prometheus_client in its own thread, off the event loop.
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

        async def on_start(self) -> None:
            registry = CollectorRegistry()
            metrics = WorkerMetrics.create(registry)
            if settings.worker_metrics_port:
                start_http_server(settings.worker_metrics_port, registry=registry)
                log.info("worker health metrics on :%d/metrics", settings.worker_metrics_port)
            if settings.create_topics:
                await ensure_topics(settings)
            store = settings.redis_store(queues)
            self._task = asyncio.create_task(
                run_consumer(settings, queues, store, metrics, self._stop_event)
            )
            self._task.add_done_callback(self._on_done)

        def _on_done(self, task: asyncio.Task[None]) -> None:
            error = None if task.cancelled() else task.exception()
            if error is not None:
                log.error("consumer stopped", exc_info=error)
                self._stop_event.set()
                app._crash(error)  # let Faust shut the worker down

        async def on_stop(self) -> None:
            self._stop_event.set()
            if self._task is not None and not self._task.done():
                # Shielded: a second signal must not cut the final flush and commit short.
                await asyncio.shield(self._task)

    app.service(ConsumerService)
    return app
