"""The exporter process, wired in one place: /metrics, the read API, the wall board, routing."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from prometheus_client import CollectorRegistry

from metrics.clock import wall_ms
from metrics.config.queues import QueuesConfig
from metrics.exposition.queues import AggregateCollector
from metrics.exposition.routing import RoutingCollector
from metrics.routing.cache import RoutingCache
from metrics.store.base import AggregateStore
from metrics.store.redis import RedisStore
from metrics.web.api import make_app
from metrics.web.routing import add_routing
from streams.settings import Settings
from streams.snapshots import publishing

__all__ = ["exporter_app", "install_routing_feed", "run_exporter"]


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
    registry = CollectorRegistry()
    registry.register(AggregateCollector(store, queues, clock_ms=clock_ms))
    app = make_app(store, queues, registry, clock_ms)
    install_routing_feed(app, registry, store, queues, settings, clock_ms)
    return app


def run_exporter(settings: Settings, queues: QueuesConfig, port: int | None = None) -> None:
    """Serve the exporter on CCMON_EXPORTER_HOST and `port` (default CCMON_EXPORTER_PORT)."""
    port = settings.exporter_port if port is None else port
    web.run_app(
        exporter_app(settings.redis_store(), queues, settings),
        host=settings.exporter_host,
        port=port,
        print=lambda _: print(f"ccmon exporter on http://{settings.exporter_host}:{port}"),
    )
