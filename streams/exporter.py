"""The exporter process, wired in one place: /metrics, the read API, the wall board, routing."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

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
from metrics.web.routing import add_routing
from metrics.web.server import ServerOptions, serving
from streams.settings import Settings
from streams.snapshots import publishing

__all__ = ["exporter_app", "install_routing_feed", "run_exporter", "server_options"]


def install_routing_feed(
    app: web.Application,
    registry: CollectorRegistry,
    store: AggregateStore,
    queues: QueuesConfig,
    settings: Settings,
    clock_ms: Callable[[], int] = wall_ms,
) -> RoutingCache:
    """Routing API, routing gauges and (if enabled) the snapshot topic, on one cache."""
    # Refreshes run in their own process (their own store connection): building the
    # snapshots of many queues would otherwise hold this process's GIL while requests
    # wait (p99 rose from ~3 ms to 30-40 ms at 100 queues, benchmarks/routing_api.py).
    factory = settings.redis_store if isinstance(store, RedisStore) else None
    cache = RoutingCache(store, queues, clock_ms, settings.routing_refresh_ms, factory)
    registry.register(RoutingCollector(cache))
    if settings.publish_snapshots:
        # Before add_routing's refresh task, so the first refresh is already published.
        app.cleanup_ctx.append(publishing(cache, settings))
    token = settings.api_token
    add_routing(app, cache, token if token and token.get_secret_value() else None)
    return cache


def exporter_app(
    store: AggregateStore,
    queues: QueuesConfig,
    settings: Settings,
    clock_ms: Callable[[], int] = wall_ms,
) -> web.Application:
    """The whole exporter application on one registry: queue families, API, routing feed."""
    registry = ExpositionRegistry()  # /metrics takes the collector's cached text
    register_runtime_metrics(registry)
    if isinstance(store, RedisStore):
        store.mirror_reads()  # reads re-read only the keys the server reports changed
    windows = settings.exported_window_list()
    registry.register(AggregateCollector(store, queues, clock_ms=clock_ms, windows=windows))
    registry.register(AgentCollector(store, queues, clock_ms=clock_ms))
    directory = directory_infos(settings.agents(queues))
    app = make_app(store, queues, registry, clock_ms, directory)
    install_routing_feed(app, registry, store, queues, settings, clock_ms)
    return app


def server_options(settings: Settings) -> ServerOptions:
    """The HTTP server's bounds: idle and header timeout, connection cap, access log."""
    return ServerOptions(
        idle_timeout_s=settings.exporter_idle_timeout_s,
        max_connections=settings.exporter_max_connections,
        access_log=settings.exporter_access_log,
    )


def run_exporter(settings: Settings, queues: QueuesConfig, port: int | None = None) -> None:
    """Serve the exporter on CCMON_EXPORTER_HOST and `port` (default CCMON_EXPORTER_PORT)
    until SIGINT or SIGTERM."""
    port = settings.exporter_port if port is None else port
    app = exporter_app(settings.redis_store(), queues, settings)
    asyncio.run(_serve(app, settings, port))


async def _serve(app: web.Application, settings: Settings, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    host = settings.exporter_host
    async with serving(app, host, port, server_options(settings)) as bound:
        print(f"ccmon exporter on http://{host}:{bound}", flush=True)
        await stop.wait()
