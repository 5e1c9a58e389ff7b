"""The application of ``ccmon exporter --role metrics``: only /metrics and /healthz.

Prometheus scrapes this process; the read API runs in another (``--role api``), so a
scrape's render never holds the interpreter lock while a routing read waits.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from prometheus_client import CollectorRegistry

from metrics.config.queues import QueuesConfig
from metrics.store.base import AggregateStore
from metrics.web.api import ReadApi
from metrics.web.errors import json_errors

__all__ = ["make_metrics_app"]


def make_metrics_app(
    store: AggregateStore,
    queues: QueuesConfig,
    registry: CollectorRegistry,
    clock_ms: Callable[[], int],
) -> web.Application:
    """/metrics (the registry's exposition) and /healthz (the store's ping), as make_app
    serves them; every other path is a JSON 404."""
    api = ReadApi(store, queues, registry, clock_ms)
    app = web.Application(middlewares=[json_errors])
    app.router.add_get("/metrics", api.metrics)
    app.router.add_get("/healthz", api.healthz)
    return app
