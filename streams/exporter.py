"""The exporter process, wired in one place: /metrics, the read API, the wall board, routing.

One process serves everything (role ``all``), or two split the work (``api`` and
``metrics``, docs/performance.md#one-queues-read-under-concurrent-load): a scrape's render
then never holds the interpreter lock while a routing system's one-queue read waits.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable
from typing import Literal

from aiohttp import web
from prometheus_client import CollectorRegistry

from metrics.clock import wall_ms
from metrics.config.queues import QueuesConfig
from metrics.core.agent_views import directory_infos
from metrics.exposition.agents import AgentCollector
from metrics.exposition.queues import AggregateCollector
from metrics.exposition.routing import RoutingCollector
from metrics.exposition.runtime import register_runtime_metrics
from metrics.exposition.text import ExpositionRegistry
from metrics.routing.cache import RoutingCache
from metrics.store.base import AggregateStore
from metrics.store.redis import RedisStore
from metrics.web.api import make_app
from metrics.web.routing import add_routing, run_refresh
from metrics.web.scrape import make_metrics_app
from metrics.web.server import ServerOptions, serving
from streams.settings import Settings
from streams.snapshots import publishing

__all__ = [
    "READ_SWITCH_INTERVAL_S",
    "Role",
    "exporter_app",
    "install_routing_feed",
    "run_exporter",
    "server_options",
]

#: the interpreter's thread switch interval in a process serving reads (Python's is 5 ms)
READ_SWITCH_INTERVAL_S = 0.001

#: what one exporter process serves (CCMON_EXPORTER_ROLE, ``ccmon exporter --role``)
Role = Literal["all", "api", "metrics"]


def install_routing_feed(
    app: web.Application,
    registry: CollectorRegistry,
    store: AggregateStore,
    queues: QueuesConfig,
    settings: Settings,
    clock_ms: Callable[[], int] = wall_ms,
    gauges: bool = True,
) -> RoutingCache:
    """Routing API, routing gauges (unless not `gauges`) and (if enabled) the snapshot
    topic, on one cache."""
    cache = _routing_cache(store, queues, settings, clock_ms)
    if gauges:
        registry.register(RoutingCollector(cache))
    if settings.publish_snapshots:
        # Before add_routing's refresh task, so the first refresh is already published.
        app.cleanup_ctx.append(publishing(cache, settings))
    token = settings.api_token
    add_routing(app, cache, token if token and token.get_secret_value() else None)
    return cache


def _routing_cache(
    store: AggregateStore, queues: QueuesConfig, settings: Settings, clock_ms: Callable[[], int]
) -> RoutingCache:
    # Refreshes run in their own process (their own store connection): building the
    # snapshots of many queues would otherwise hold this process's GIL while requests
    # wait (p99 rose from ~3 ms to 30-40 ms at 100 queues, benchmarks/routing_api.py).
    factory = settings.redis_store if isinstance(store, RedisStore) else None
    return RoutingCache(store, queues, clock_ms, settings.routing_refresh_ms, factory)


def exporter_app(
    store: AggregateStore,
    queues: QueuesConfig,
    settings: Settings,
    clock_ms: Callable[[], int] = wall_ms,
    role: Role | None = None,
) -> web.Application:
    """The exporter application of one role (default CCMON_EXPORTER_ROLE) on one registry.

    ``all``: queue families, read API, routing feed, wall board. ``api``: the same without
    the queue and routing families (its /metrics has this process's own metrics only).
    ``metrics``: /metrics (queue, agent and routing families) and /healthz only.
    """
    role = settings.exporter_role if role is None else role
    registry = ExpositionRegistry()  # /metrics takes the collector's cached text
    register_runtime_metrics(registry)
    queue_store: AggregateStore | None = None
    if isinstance(store, RedisStore):
        store.mirror_reads()  # reads re-read only the keys the server reports changed
        if role != "metrics":
            # The one-queue read on its own mirror: it never waits for the mirror's lock
            # while an all-queues read or a scrape reads every key through the other.
            queue_store = settings.redis_store()
            queue_store.mirror_reads()
    if role != "api":
        windows = settings.exported_window_list()
        registry.register(AggregateCollector(store, queues, clock_ms=clock_ms, windows=windows))
        registry.register(AgentCollector(store, queues, clock_ms=clock_ms))
    if role == "metrics":
        app = make_metrics_app(store, queues, registry, clock_ms)
        cache = _routing_cache(store, queues, settings, clock_ms)
        registry.register(RoutingCollector(cache))
        run_refresh(app, cache)
        return app
    directory = directory_infos(settings.agents(queues))
    app = make_app(store, queues, registry, clock_ms, directory, queue_store)
    install_routing_feed(app, registry, store, queues, settings, clock_ms, gauges=role == "all")
    return app


def server_options(settings: Settings) -> ServerOptions:
    """The HTTP server's bounds: idle and header timeout, connection cap, access log."""
    return ServerOptions(
        idle_timeout_s=settings.exporter_idle_timeout_s,
        max_connections=settings.exporter_max_connections,
        access_log=settings.exporter_access_log,
    )


def run_exporter(
    settings: Settings, queues: QueuesConfig, port: int | None = None, role: Role | None = None
) -> None:
    """Serve the exporter's `role` (default CCMON_EXPORTER_ROLE) on CCMON_EXPORTER_HOST and
    `port` (default CCMON_EXPORTER_PORT) until SIGINT or SIGTERM."""
    port = settings.exporter_port if port is None else port
    role = settings.exporter_role if role is None else role
    if role != "metrics":
        # A thread wanting the interpreter lock waits up to this long for a busy one (the
        # scrape's render, an all-queues read): 5 ms by default, several times a request.
        sys.setswitchinterval(READ_SWITCH_INTERVAL_S)
    app = exporter_app(settings.redis_store(), queues, settings, role=role)
    asyncio.run(_serve(app, settings, port, role))


async def _serve(app: web.Application, settings: Settings, port: int, role: Role) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    host = settings.exporter_host
    async with serving(app, host, port, server_options(settings)) as bound:
        print(f"ccmon exporter ({role}) on http://{host}:{bound}", flush=True)
        await stop.wait()
