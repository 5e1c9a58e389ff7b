"""The ingest process, wired in one place: tokens, vendor sources, the producer, the server."""

from __future__ import annotations

import asyncio
import logging
import signal

from prometheus_client import CollectorRegistry

from metrics.exposition.runtime import register_runtime_metrics
from metrics.web.server import ServerOptions, serving
from streams.ingest.app import ingest_app
from streams.ingest.producer import KafkaProducer
from streams.ingest.tokens import Tokens, parse_tokens
from streams.settings import Settings
from streams.sources.registry import source_mappers

__all__ = ["load_tokens", "run_ingest", "server_options"]

log = logging.getLogger("ccmon.ingest")


def load_tokens(settings: Settings) -> Tokens:
    """CCMON_INGEST_TOKENS (or the file CCMON_INGEST_TOKENS_FILE names); TokenError."""
    token = settings.ingest_tokens
    return parse_tokens(token.get_secret_value() if token is not None else "")


def server_options(settings: Settings) -> ServerOptions:
    """The ingest's HTTP bounds: idle and header timeout, connection cap."""
    return ServerOptions(
        idle_timeout_s=settings.ingest_idle_timeout_s,
        max_connections=settings.ingest_max_connections,
        access_log=False,  # the counters by route, status and token say who sent what
    )


def run_ingest(settings: Settings, tokens: Tokens, port: int | None = None) -> None:
    """Serve the ingest on CCMON_INGEST_HOST and `port` (default CCMON_INGEST_PORT) until
    SIGINT or SIGTERM."""
    asyncio.run(_serve(settings, tokens, settings.ingest_port if port is None else port))


async def _serve(settings: Settings, tokens: Tokens, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if tokens.pairs:
        log.info("ingest: tokens %s", ", ".join(tokens.names))
    else:
        log.warning("ingest: CCMON_INGEST_TOKENS is unset: /ingest/v1/events is open to anyone")
    sources = source_mappers(settings)
    log.info("ingest: vendor sources: %s", ", ".join(sorted(sources)) or "none")
    registry = CollectorRegistry()
    register_runtime_metrics(registry)
    producer = KafkaProducer(settings)
    await producer.start()
    app = ingest_app(settings, producer, tokens, sources, registry)
    try:
        host = settings.ingest_host
        async with serving(app, host, port, server_options(settings)) as bound:
            log.info("ccmon ingest on http://%s:%d", host, bound)
            await stop.wait()
    finally:
        await producer.stop()
